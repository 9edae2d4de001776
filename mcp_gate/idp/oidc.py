"""The gate as an OIDC relying party: authorization code flow with PKCE (OIDC Core 1.0 §3.1).

Owns the authorization request (§3.1.2.1, RFC 7636 §4.3), the token request (§3.1.3.1,
RFC 6749 §4.1.3, RFC 7636 §4.5), and the chain that turns its answer into an allowed
Identity: header → key from the JWKS → signature → claims (§3.1.3.7) → allowlist.
Provider-specific request parameters and accepted issuers come from the builder (see
`google.py`). It keeps no IdP token: the access and refresh tokens are dropped unread.
Never forwards anything an MCP client sent, such as its RFC 8707 `resource` (reference
§2.9 item 46): this leg has its own client_id, state, nonce and PKCE.
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Mapping
from typing import Literal
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import aiohttp

from mcp_gate.config.model import Secret
from mcp_gate.idp.allowlist import verify_identity_allowed
from mcp_gate.idp.discovery import ProviderDiscovery, ProviderMetadata
from mcp_gate.idp.errors import IdpError, IdTokenInvalidError, LoginRefusedError
from mcp_gate.idp.id_token import (
    parse_id_token_header,
    parse_identity,
    verify_id_token_claims,
    verify_id_token_signature,
)
from mcp_gate.idp.identity import Identity
from mcp_gate.idp.jwks import Clock, JwksCache
from mcp_gate.idp.upstream import post_form

BASE_SCOPES = ("openid", "email", "profile")  # OIDC Core 1.0 §3.1.2.1, §5.4
# An OAuth error code as RFC 6749 §5.2 allows it; anything else is not echoed into logs.
_ERROR_CODE = re.compile(r"[\x20-\x21\x23-\x5b\x5d-\x7e]{1,64}")


class OidcProvider:
    """One OpenID Provider found by discovery, and our confidential client at it."""

    def __init__(
        self,
        *,
        kind: Literal["google", "oidc"],
        issuer: str,
        discovery_url: str,
        client_id: str,
        client_secret: Secret,
        redirect_uri: str,
        allowed_domains: tuple[str, ...],
        allowed_emails: tuple[str, ...] = (),
        http: aiohttp.ClientSession,
        extra_scopes: tuple[str, ...] = (),
        extra_authorization_params: Mapping[str, str] | None = None,
        extra_issuers: frozenset[str] = frozenset(),
        email_claim: str = "email",
        clock: Clock = time.time,
    ) -> None:
        self.kind = kind
        self.issuer = issuer
        self.redirect_uri = redirect_uri
        self.client_id = client_id
        self._client_secret = client_secret
        self.allowed_domains = allowed_domains
        self.allowed_emails = allowed_emails
        self.scopes = tuple(dict.fromkeys(BASE_SCOPES + extra_scopes))
        self._extra_params = dict(extra_authorization_params or {})
        self._issuers = frozenset({issuer}) | extra_issuers
        self.email_claim = email_claim
        self._http = http
        self._clock = clock
        self._discovery = ProviderDiscovery(http, discovery_url, issuer)
        self._jwks = JwksCache(http, clock=clock)

    def __repr__(self) -> str:
        return f"OidcProvider(kind={self.kind!r}, issuer={self.issuer!r})"

    async def build_authorization_url(self, *, state: str, nonce: str, code_challenge: str) -> str:
        """Where to send the browser to sign in (OIDC Core 1.0 §3.1.2.1)."""
        metadata = await self._discovery.load()
        params = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": " ".join(self.scopes),
            "state": state,
            "nonce": nonce,
            "code_challenge": code_challenge,  # RFC 7636 §4.3
            "code_challenge_method": "S256",
            **self._extra_params,
        }
        return _add_query(metadata.authorization_endpoint, params)

    async def exchange_code(self, *, code: str, code_verifier: str, nonce: str) -> Identity:
        """Redeem the callback's code; the verified, allowed Identity or an error.

        Raises `IdpError` when the IdP fails, `LoginRefusedError` (and its subclass
        `IdTokenInvalidError`) when the login is refused.
        """
        metadata = await self._discovery.load()
        id_token = await self._request_id_token(metadata, code, code_verifier)
        header = parse_id_token_header(id_token)
        key = await self._jwks.find_key(metadata.jwks_uri, header.kid, header.kty)
        if key is None:
            raise IdTokenInvalidError("key_unknown")
        claims = verify_id_token_signature(id_token, header, key)
        verify_id_token_claims(
            claims,
            # The document's spelling of the issuer (a trailing slash: discovery.py).
            issuers=self._issuers | {metadata.issuer},
            client_id=self.client_id,
            nonce=nonce,
            now=self._clock(),
        )
        identity = parse_identity(claims, self.issuer, email_claim=self.email_claim)
        verify_identity_allowed(identity, self.allowed_domains, self.kind, self.allowed_emails)
        return identity

    async def _request_id_token(
        self, metadata: ProviderMetadata, code: str, code_verifier: str
    ) -> str:
        form = {
            "grant_type": "authorization_code",  # RFC 6749 §4.1.3
            "code": code,
            "redirect_uri": self.redirect_uri,
            "code_verifier": code_verifier,  # RFC 7636 §4.5
        }
        headers = {"Accept": "application/json"}
        secret = self._client_secret.reveal()
        methods = metadata.token_endpoint_auth_methods
        if "client_secret_basic" in methods:
            # RFC 6749 §2.3.1: both parts form-urlencoded before base64.
            pair = f"{quote(self.client_id, safe='')}:{quote(secret, safe='')}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        elif "client_secret_post" in methods:
            form |= {"client_id": self.client_id, "client_secret": secret}
        else:
            raise IdpError(
                "discovery_invalid",
                "token endpoint supports neither client_secret_basic nor client_secret_post",
            )

        status, body = await post_form(self._http, metadata.token_endpoint, form, headers)
        error = body.get("error") if body is not None else None
        if status == 400 and error == "invalid_grant":  # RFC 6749 §5.2
            raise LoginRefusedError(
                "code_rejected",
                "This sign-in has expired or was already used. Start the sign-in again.",
            )
        if status != 200 or body is None:
            shown = error if isinstance(error, str) and _ERROR_CODE.fullmatch(error) else None
            raise IdpError(
                "token_request_failed", f"token endpoint answered HTTP {status}, error={shown}"
            )
        id_token = body.get("id_token")  # OIDC Core 1.0 §3.1.3.3: REQUIRED
        if not isinstance(id_token, str):
            raise IdpError("token_request_failed", "token response has no id_token")
        return id_token


def _add_query(url: str, params: Mapping[str, str]) -> str:
    """`url` with `params` appended to any query it already has (OIDC Core 1.0 §3.1.2.1)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query, quote_via=quote)))
