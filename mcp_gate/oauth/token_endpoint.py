"""The token endpoint's grants and the revocation endpoint, over the grant store.

- `authorization_code` (OAuth 2.1 §4.1.3): the code is taken once; a second presentation
  revokes the grant it issued (RFC 6749 §4.1.2, OAuth 2.1 §4.1.3); client, redirect URI,
  PKCE verifier (RFC 7636 §4.6) and resource (RFC 8707 §2.2) must match what was authorized.
- `refresh_token` (OAuth 2.1 §4.3): rotated on every use (MCP authorization §Token Theft:
  MUST for public clients). A used refresh token presented again within
  `REFRESH_REUSE_GRACE_SECONDS` is a concurrent refresh and gets the very answer its
  rotation got (kept sealed under the old token for the window), so a replay inside the
  window never forks the grant into a second live token chain; later, it is a stolen token
  replayed, and the whole grant is revoked (RFC 9700 §4.14.2).
- `client_credentials` (RFC 6749 §4.4) and the tokens of a workload's token exchange
  (RFC 8693; `token_exchange.py` decides who): one access token bound to one resource like
  a user's (RFC 8707), no refresh token (RFC 6749 §4.4.3: SHOULD NOT; the machine asks
  again), backed by a grant of its own kind (`client`, `workload`) that lives as long as
  the token, so revocation and the bearer check work as for users.
- revocation (RFC 7009 §2.1): either token revokes its grant, hence every token of it.
- revalidation: a refresh re-checks the user's account at the IdP when it is due
  (revalidation.py); a refused account ends the grant (`invalid_grant`).
Client authentication happens before these are called (clients.py).
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import structlog

from mcp_gate.audit import Audit, AuditEvent
from mcp_gate.crypto.aead import open_under_token, seal_under_token
from mcp_gate.crypto.digest import new_token, secrets_equal
from mcp_gate.errors import CryptoError
from mcp_gate.oauth.access_tokens import AccessTokens
from mcp_gate.oauth.errors import InvalidGrant, InvalidTarget, UnauthorizedClient
from mcp_gate.oauth.grants import GrantStore
from mcp_gate.oauth.models import Client, Grant, GrantKind, RefreshToken
from mcp_gate.oauth.pkce import verify_verifier
from mcp_gate.oauth.resources import ResourceIndex, canonical_uri
from mcp_gate.oauth.revalidation import AccountRefusedError, GrantRevalidation
from mcp_gate.oauth.scopes import ServerScopes
from mcp_gate.principal import Principal

log = structlog.get_logger()

# policy: clients that refresh twice at once (the MCP Inspector documents such races) both
# succeed, with the same tokens, when the second comes within this window of the first.
REFRESH_REUSE_GRACE_SECONDS = 10.0
_SUCCESSOR_AAD = b"mcp-gate refresh successor v1"


class TokenService:
    def __init__(
        self,
        grants: GrantStore,
        access_tokens: AccessTokens,
        resources: ResourceIndex,
        *,
        access_ttl_seconds: float,
        refresh_ttl_seconds: float,
        revalidation: GrantRevalidation | None = None,
        clock: Callable[[], float] = time.time,
        scopes: ServerScopes | None = None,
        audit: Audit | None = None,
    ) -> None:
        self._scopes = scopes or ServerScopes()
        self._audit = audit or Audit()
        self._grants = grants
        self._revalidation = revalidation
        self._access = access_tokens
        self._resources = resources
        self._access_ttl = access_ttl_seconds
        self.refresh_ttl_seconds = refresh_ttl_seconds
        self._clock = clock

    async def for_client(
        self, client: Client, resource: str | None, scope: str | None
    ) -> dict[str, Any]:
        """RFC 6749 §4.4.2-3: a token for an authenticated client allowed this grant."""
        if "client_credentials" not in client.grant_types:
            raise UnauthorizedClient("this client may not use the client_credentials grant")
        if client.token_endpoint_auth_method == "none":  # noqa: S105 - a method name
            # RFC 6749 §4.4: "MUST only be used by confidential clients".
            raise UnauthorizedClient("client_credentials needs a confidential client")
        return await self._issue_machine(
            "client", client.client_id, client.client_id, resource, scope
        )

    async def for_workload(
        self, principal: str, client_id: str, resource: str | None, scope: str | None
    ) -> dict[str, Any]:
        """A token for a workload whose subject token `token_exchange.py` accepted."""
        return await self._issue_machine("workload", principal, client_id, resource, scope)

    async def _issue_machine(
        self, kind: GrantKind, subject: str, client_id: str, resource: str | None, scope: str | None
    ) -> dict[str, Any]:
        canonical, server = self._resources.resolve(resource)  # RFC 8707 §2
        lifetime = int(self._access_ttl)
        principal = (
            Principal.client(client_id)
            if kind == "client"
            else Principal.workload(subject, client_id=client_id)
        )
        # A machine gets an extra scope only if the server's `scopes` rule names it.
        granted = self._scopes.granted(server, self._scopes.requested(server, scope), principal)
        grant = self.new_grant(
            subject=subject,
            email="",
            client_id=client_id,
            resource=canonical,
            server=server,
            scope=granted,
            kind=kind,
            lifetime_seconds=lifetime,
        )
        await self._grants.save_grant(grant, now=grant.created_at)
        self._audit_grant("token_issued", grant, "client_credentials" if kind == "client" else kind)
        return {
            "access_token": self._access.issue(grant, lifetime),
            "token_type": "Bearer",
            "expires_in": lifetime,
            "scope": grant.scope,
        }

    def new_grant(
        self,
        *,
        subject: str,
        email: str,
        client_id: str,
        resource: str,
        server: str,
        scope: str,
        kind: GrantKind = "user",
        lifetime_seconds: float | None = None,
        redirect_uri: str = "",
        groups: tuple[str, ...] = (),
    ) -> Grant:
        """A user's grant lives `refreshTokenTtl`; a machine's as long as its one token."""
        now = self._clock()
        lifetime = self.refresh_ttl_seconds if lifetime_seconds is None else lifetime_seconds
        return Grant(
            id=secrets.token_urlsafe(18),
            subject=subject,
            email=email,
            client_id=client_id,
            resource=resource,
            server=server,
            scope=scope,
            created_at=now,
            expires_at=now + lifetime,
            kind=kind,
            redirect_uri=redirect_uri,
            groups=groups,
        )

    async def exchange_code(
        self,
        client: Client,
        code: str,
        redirect_uri: str | None,
        code_verifier: str | None,
        resource: str | None,
    ) -> dict[str, Any]:
        record = await self._grants.take_code(code)
        if record is None:
            replayed_grant = await self._grants.grant_of_used_code(code)
            if replayed_grant is not None:
                await self._grants.revoke_grant(replayed_grant)
                log.warning("authorization_code_replayed", client_id=client.client_id)
            raise InvalidGrant("the authorization code is invalid, expired or already used")
        if not secrets_equal(record.client_id, client.client_id):
            raise InvalidGrant("the authorization code was issued to another client")
        # OAuth 2.1 §4.1.3: redirect_uri must match when it was sent with the request.
        if redirect_uri is not None and redirect_uri != record.redirect_uri:
            raise InvalidGrant("redirect_uri does not match the authorization request")
        verify_verifier(code_verifier, record.code_challenge)
        self._check_resource(resource, record.resource)
        grant = await self._grants.load_grant(record.grant_id)
        if grant is None:
            raise InvalidGrant("the authorization was revoked")
        issued = await self._issue(grant)
        self._audit_grant("token_issued", grant, "authorization_code")
        return issued

    def _audit_grant(self, event: AuditEvent, grant: Grant, grant_type: str) -> None:
        self._audit.emit(
            event,
            principal=grant.subject
            if grant.kind == "workload"
            else f"{grant.kind}:{grant.subject}",
            email=grant.email or None,
            client_id=grant.client_id,
            server=grant.server,
            scope=grant.scope,
            grant=grant.id[:8],
            grant_type=grant_type,
        )

    async def refresh(
        self, client: Client, refresh_token: str, resource: str | None
    ) -> dict[str, Any]:
        record = await self._grants.load_refresh(refresh_token)
        if record is None or not secrets_equal(record.client_id, client.client_id):
            raise InvalidGrant("the refresh token is invalid or expired")
        grant = await self._grants.load_grant(record.grant_id)
        if grant is None:
            raise InvalidGrant("the authorization was revoked")
        self._check_resource(resource, grant.resource)
        if record.used_at is None:
            grant = await self._revalidate(grant)
            issued = await self._issue(grant)
            kept = {**issued, "issued_at": self._clock()}
            sealed = seal_under_token(refresh_token, json.dumps(kept).encode(), _SUCCESSOR_AAD)
            ttl = REFRESH_REUSE_GRACE_SECONDS
            if await self._grants.save_successor(refresh_token, sealed, ttl_seconds=ttl):
                now = self._clock()
                await self._grants.save_refresh(
                    refresh_token, replace(record, used_at=now), now=now
                )
                self._audit_grant("token_refreshed", grant, "refresh_token")
                return issued
            # Another request rotated this token a moment ago: ours was never handed out.
            await self._grants.delete_refresh(issued["refresh_token"])
        return await self._successor_within_grace(client, grant, refresh_token, record)

    async def _revalidate(self, grant: Grant) -> Grant:
        """The grant after its account's re-check at the IdP (revalidation.py), saved when
        the IdP changed its email or groups; InvalidGrant, the grant ended, if refused."""
        if self._revalidation is None or grant.kind != "user":
            return grant
        try:
            checked = await self._revalidation.check(grant)
        except AccountRefusedError as exc:
            await self._grants.revoke_grant(grant.id)
            log.warning("grant_revoked", grant=grant.id[:8], reason=f"revalidation: {exc.reason}")
            self._audit.emit(
                "token_revoked",
                principal=f"user:{grant.subject}",
                email=grant.email or None,
                client_id=grant.client_id,
                grant=grant.id[:8],
                by="revalidation",
                reason=exc.reason,
            )
            raise InvalidGrant("the account is no longer allowed; sign in again") from None
        if checked != grant:
            await self._grants.save_grant(checked, now=self._clock())
        return checked

    async def _successor_within_grace(
        self, client: Client, grant: Grant, refresh_token: str, record: RefreshToken
    ) -> dict[str, Any]:
        """The answer the rotation of this used token gave, while the grace lasts; after
        it, the token is a replay and the grant goes (RFC 9700 §4.14.2)."""
        now = self._clock()
        late = record.used_at is not None and now - record.used_at > REFRESH_REUSE_GRACE_SECONDS
        kept = None if late else await self._load_successor(refresh_token)
        if kept is None:
            await self._grants.revoke_grant(grant.id)
            log.warning("refresh_token_reused", client_id=client.client_id, grant=grant.id[:8])
            self._audit_grant("refresh_token_reused", grant, "refresh_token")
            raise InvalidGrant("the refresh token was already used; the grant is revoked")
        log.warning(
            "refresh_token_reused_within_grace", client_id=client.client_id, grant=grant.id[:8]
        )
        elapsed = now - float(kept.pop("issued_at"))
        # The same access token, a little older: its expires_in stays accurate.
        kept["expires_in"] = max(int(kept["expires_in"] - elapsed), 1)
        return kept

    async def _load_successor(self, refresh_token: str) -> dict[str, Any] | None:
        sealed = await self._grants.load_successor(refresh_token)
        if sealed is None:
            return None
        try:
            kept: dict[str, Any] = json.loads(
                open_under_token(refresh_token, sealed, _SUCCESSOR_AAD)
            )
        except (CryptoError, ValueError):
            return None
        return kept

    async def revoke(self, client: Client, token: str) -> None:
        """Revoke the grant of a token of this client (the bearer cache hears of it through
        `GrantStore.on_revoke`). RFC 7009 §2.2: an unknown or foreign token is not an error."""
        grant_id: str | None = None
        claims = self._access.parse(token)
        if claims is not None and secrets_equal(claims.client_id, client.client_id):
            grant_id = claims.grant_id
        else:
            record = await self._grants.load_refresh(token)
            if record is not None and secrets_equal(record.client_id, client.client_id):
                grant_id = record.grant_id
        if grant_id is not None:
            await self._grants.revoke_grant(grant_id)
            log.info("grant_revoked", client_id=client.client_id, grant=grant_id[:8])
            self._audit.emit("token_revoked", client_id=client.client_id, grant=grant_id[:8])

    def _check_resource(self, requested: str | None, granted: str) -> None:
        # RFC 8707 §2.2: the token request may name the resource; it must be the one granted.
        if requested and canonical_uri(requested) != granted:
            server = self._resources.server_of(requested)
            if server is None or self._resources.server_of(granted) != server:
                raise InvalidTarget("resource differs from the one authorized")

    async def _issue(self, grant: Grant) -> dict[str, Any]:
        now = self._clock()
        lifetime = int(min(self._access_ttl, grant.expires_at - now))
        if lifetime <= 0:
            raise InvalidGrant("the authorization has expired")
        refresh_token = new_token()
        await self._grants.save_last_used(grant, now=now)
        await self._grants.save_refresh(
            refresh_token,
            RefreshToken(grant_id=grant.id, client_id=grant.client_id, expires_at=grant.expires_at),
            now=now,
        )
        return {
            "access_token": self._access.issue(grant, lifetime),
            "token_type": "Bearer",
            "expires_in": lifetime,  # always, and true: Python clients refresh by it
            "refresh_token": refresh_token,
            "scope": grant.scope,
        }
