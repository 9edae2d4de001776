"""Who is calling an MCP route: service credentials, a gate access token, or nobody.

Order for a server: its `serviceAuths` (static bearer tokens or basic credentials, for
machines; compared in constant time), then, when OAuth is on, a gate access token for this
server's resource (RFC 6750 §2.1 header only: MCP authorization §Token Requirements forbids
tokens in the query). A server with neither is open. Failures raise `Unauthorized`, which
carries the RFC 6750 §3 challenge; with OAuth on it names the protected-resource metadata
(RFC 9728 §5.1) so MCP clients can discover the gate's authorization server.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Protocol

from aiohttp import web

from mcp_gate.config.model import ServerConfig
from mcp_gate.crypto.digest import secrets_equal
from mcp_gate.principal import ANONYMOUS, Principal


class AccessTokenVerifier(Protocol):
    """Checks a gate access token for one resource: whom it acts for and its scopes; None
    when it is not valid."""

    async def verify_with_scopes(
        self, token: str, server: str
    ) -> tuple[Principal, frozenset[str]] | None: ...

    def verified_now(self, token: str, server: str) -> tuple[Principal, frozenset[str]] | None:
        """The same answer where it needs no await; None when only the above can tell."""
        ...


# What a caller proved: who it is, and the scopes its token holds (none without a token).
Authenticated = tuple[Principal, frozenset[str]]
_NO_SCOPES: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ChallengeInfo:
    """What a 401 tells an MCP client about the OAuth side: the metadata URL of the
    resource it called (the streamable or the legacy front) and the scope to ask for."""

    mcp_metadata_url: str
    sse_metadata_url: str
    scope: str


class Unauthorized(Exception):
    def __init__(self, challenges: list[str], description: str) -> None:
        self.challenges = challenges
        self.description = description
        super().__init__(description)

    def to_response(self) -> web.Response:
        error = "invalid_token" if "invalid_token" in self.challenges[0] else "unauthorized"
        return web.json_response(
            {"error": error, "error_description": self.description},
            status=401,
            headers={"WWW-Authenticate": ", ".join(self.challenges)},
        )


def _credentials(request: web.Request) -> tuple[str, str]:
    scheme, _, value = request.headers.get("Authorization", "").strip().partition(" ")
    return scheme.lower(), value.strip()


def _match_service_auth(server: ServerConfig, scheme: str, value: str) -> str | None:
    """The principal name of the serviceAuths credential that matches, comparing every one
    in full. Each token is its own principal, so two machines never share MCP sessions."""
    matched: str | None = None
    for index, auth in enumerate(server.service_auths):
        if auth.type == "bearer" and scheme == "bearer":
            for token_index, token in enumerate(auth.tokens):
                if secrets_equal(value, token.reveal()) and matched is None:
                    matched = auth.principal_name(server.name, index, token_index)
        elif auth.type == "basic" and scheme == "basic":
            try:
                user, _, password = base64.b64decode(value, validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                continue
            expected = auth.password.reveal() if auth.password else ""
            # `&` not `and`: both comparisons always run.
            if (secrets_equal(user, auth.username) & secrets_equal(password, expected)) and (
                matched is None
            ):
                matched = auth.principal_name(server.name, index, 0)
    return matched


class Authenticator:
    def __init__(
        self,
        *,
        verifier: AccessTokenVerifier | None = None,
        challenge: dict[str, ChallengeInfo] | None = None,
    ) -> None:
        self._verifier = verifier
        self._challenge = challenge or {}

    @property
    def oauth_enabled(self) -> bool:
        return self._verifier is not None

    def is_open(self, server: ServerConfig) -> bool:
        return not server.service_auths and not self.oauth_enabled

    def known(self, request: web.Request, server: ServerConfig) -> Authenticated | None:
        """Who calls, where that is known without a store read: an open server, a
        `serviceAuths` credential, a gate token whose grant was checked within the cache
        delay (bearer.py). None: `verify` decides (and raises Unauthorized, a 401 with the
        challenge, for what it refuses)."""
        if self.is_open(server):
            return ANONYMOUS, _NO_SCOPES
        scheme, value = _credentials(request)
        if value and server.service_auths:
            name = _match_service_auth(server, scheme, value)
            if name is not None:
                return Principal.service(name), _NO_SCOPES
        if self._verifier is not None and scheme == "bearer" and value:
            return self._verifier.verified_now(value, server.name)
        return None

    async def verify(self, request: web.Request, server: ServerConfig) -> Authenticated:
        """What `known` could not tell: a gate token checked against the store, or the
        refusal. (Asked only after `known`: it does not look again for what that finds.)"""
        scheme, value = _credentials(request)
        if self._verifier is not None and scheme == "bearer" and value:
            verified = await self._verifier.verify_with_scopes(value, server.name)
            if verified is not None:
                return verified
            raise Unauthorized(
                self._challenges(request, server, bad_token=True), "invalid or expired token"
            )
        description = "invalid credentials" if value else "authentication required"
        raise Unauthorized(self._challenges(request, server, bad_token=bool(value)), description)

    def scope_challenge(
        self, request: web.Request, server: ServerConfig, scopes: list[str], description: str
    ) -> web.Response:
        """HTTP 403 `insufficient_scope` naming every scope the operation needs (MCP
        2025-11-25 authorization §Scope Challenge Handling; RFC 6750 §3.1)."""
        params = ['error="insufficient_scope"', f'scope="{" ".join(scopes)}"']
        info = self._challenge.get(server.name)
        if info is not None:
            params.append(f'resource_metadata="{self._metadata_url(request, info)}"')
        params.append(f'error_description="{description}"')
        return web.json_response(
            {"error": "insufficient_scope", "error_description": description},
            status=403,
            headers={"WWW-Authenticate": "Bearer " + ", ".join(params)},
        )

    @staticmethod
    def _metadata_url(request: web.Request, info: ChallengeInfo) -> str:
        legacy = request.path.endswith(("/sse", "/message"))
        return info.sse_metadata_url if legacy else info.mcp_metadata_url

    def _challenges(
        self, request: web.Request, server: ServerConfig, *, bad_token: bool
    ) -> list[str]:
        info = self._challenge.get(server.name)
        if info is not None:
            metadata_url = self._metadata_url(request, info)
            # MCP authorization §Protected Resource Metadata Discovery; RFC 6750 §3.1.
            params = [f'resource_metadata="{metadata_url}"', f'scope="{info.scope}"']
            if bad_token:
                params.insert(0, 'error="invalid_token"')
            bearer = "Bearer " + ", ".join(params)
        else:
            bearer = 'Bearer realm="mcp-gate"'
            if bad_token:
                bearer += ', error="invalid_token"'
        challenges = [bearer]
        if any(a.type == "basic" for a in server.service_auths):
            challenges.append('Basic realm="mcp-gate"')
        return challenges
