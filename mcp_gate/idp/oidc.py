"""The gate as an OIDC relying party: authorization code flow with PKCE (OIDC Core 1.0 §3.1).

Owns the authorization request (§3.1.2.1, RFC 7636 §4.3), the token request (§3.1.3.1,
RFC 6749 §4.1.3, RFC 7636 §4.5), and the chain that turns its answer into an allowed
Identity: header → key from the JWKS → signature → claims (§3.1.3.7) → allowlist.
Provider-specific request parameters and accepted issuers come from the builder (see
`google.py`). Of the IdP's tokens it keeps only the refresh token, handed out as the
identity's `renewal`; `revalidate` later refreshes it (OIDC Core 1.0 §12) to re-check the
account: a refused refresh, another subject, or an identity no longer allowed refuses.
Never forwards anything an MCP client sent, such as its RFC 8707 `resource` (OIDC
providers refuse or ignore it): this leg has its own client_id, state, nonce and PKCE.
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Literal, Protocol
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import aiohttp

from mcp_gate.config.model import Secret
from mcp_gate.idp.allowlist import verify_identity_allowed
from mcp_gate.idp.discovery import ProviderDiscovery, ProviderMetadata
from mcp_gate.idp.errors import IdpError, IdTokenInvalidError, LoginRefusedError, RefusalReason
from mcp_gate.idp.id_token import (
    parse_id_token_header,
    parse_identity,
    verify_id_token_claims,
    verify_id_token_signature,
)
from mcp_gate.idp.identity import Identity, Revalidated
from mcp_gate.idp.jwks import Clock, JwksCache
from mcp_gate.idp.upstream import post_form

BASE_SCOPES = ("openid", "email", "profile")  # OIDC Core 1.0 §3.1.2.1, §5.4
# An OAuth error code as RFC 6749 §5.2 allows it; anything else is not echoed into logs.
_ERROR_CODE = re.compile(r"[\x20-\x21\x23-\x5b\x5d-\x7e]{1,64}")


class GroupsSource(Protocol):
    """Where a provider whose tokens carry no groups reads them (google_groups.py)."""

    async def load_groups(self, email: str) -> tuple[str, ...]: ...


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
        groups_claim: str = "",
        groups_source: GroupsSource | None = None,
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
        self.groups_claim = groups_claim
        self._groups_source = groups_source
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
        form = {
            "grant_type": "authorization_code",  # RFC 6749 §4.1.3
            "code": code,
            "redirect_uri": self.redirect_uri,
            "code_verifier": code_verifier,  # RFC 7636 §4.5
        }
        body = await self._token_request(metadata, form, refused="code_rejected")
        id_token = body.get("id_token")  # OIDC Core 1.0 §3.1.3.3: REQUIRED
        if not isinstance(id_token, str):
            raise IdpError("token_request_failed", "token response has no id_token")
        identity = await self._allowed_identity(metadata, id_token, nonce)
        refresh_token = body.get("refresh_token")
        renewal = refresh_token if isinstance(refresh_token, str) else ""
        return replace(identity, renewal=renewal)

    async def revalidate(self, renewal: str, subject: str) -> Revalidated:
        """Refresh the kept refresh token (RFC 6749 §6, OIDC Core 1.0 §12): the account as
        the IdP sees it now; `LoginRefusedError` when it refuses or the user may no longer
        enter, `IdpError` when it cannot be asked."""
        metadata = await self._discovery.load()
        form = {"grant_type": "refresh_token", "refresh_token": renewal}
        body = await self._token_request(metadata, form, refused="upstream_refused")
        rotated = body.get("refresh_token")
        kept = rotated if isinstance(rotated, str) and rotated else renewal
        id_token = body.get("id_token")  # OIDC Core 1.0 §12.2: MAY be returned
        if not isinstance(id_token, str):
            return Revalidated(None, kept)
        identity = await self._allowed_identity(metadata, id_token, None)
        if identity.subject != subject:  # §12.2: its sub MUST be the same
            raise LoginRefusedError("subject_changed", "The account is not the one that signed in.")
        return Revalidated(identity, kept)

    async def _allowed_identity(
        self, metadata: ProviderMetadata, id_token: str, nonce: str | None
    ) -> Identity:
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
        identity = parse_identity(
            claims, self.issuer, email_claim=self.email_claim, groups_claim=self.groups_claim
        )
        verify_identity_allowed(identity, self.allowed_domains, self.kind, self.allowed_emails)
        if self._groups_source is not None:
            identity = replace(
                identity, groups=await self._groups_source.load_groups(identity.email)
            )
        return identity

    async def _token_request(
        self, metadata: ProviderMetadata, form: dict[str, str], *, refused: RefusalReason
    ) -> dict[str, object]:
        """POST to the token endpoint with our client authentication; its JSON answer."""
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
                refused,
                "This sign-in has expired or was already used. Start the sign-in again.",
            )
        if status != 200 or body is None:
            shown = error if isinstance(error, str) and _ERROR_CODE.fullmatch(error) else None
            raise IdpError(
                "token_request_failed", f"token endpoint answered HTTP {status}, error={shown}"
            )
        return body


def _add_query(url: str, params: Mapping[str, str]) -> str:
    """`url` with `params` appended to any query it already has (OIDC Core 1.0 §3.1.2.1)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query, quote_via=quote)))
