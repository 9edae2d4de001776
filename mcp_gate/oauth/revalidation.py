"""Revalidation: at a refresh, re-check the user's account at the IdP, at most every
`proxy.auth.revalidateInterval`.

A login's `Identity.renewal` (an OIDC refresh token, GitHub's access token) is kept, sealed
(AES-256-GCM, crypto/aead.py, bound to the grant id), in one `upstream` record per grant,
with when it was last checked. When the grant's refresh token is used and the interval
has passed, the provider re-checks the account with it (`IdentityProvider.revalidate`):
- refused (the IdP revoked the upstream grant, the account is gone or disabled, or the
  user is no longer allowed: domain, org, team) → the grant ends, the refresh answers
  `invalid_grant` (RFC 6749 §5.2) and the client must send the user to log in again;
- allowed → the grant takes the identity's current email and groups (so the next access
  token carries them), and the renewal the IdP rotated to is kept;
- the IdP cannot be asked (down, timing out) → policy: the refresh goes on and the next
  refresh asks again; an IdP outage must not log every user out.
A grant without a renewal (an IdP that gave no refresh token) is not revalidated.
Knows nothing of HTTP; the IdP is reached through the `AccountChecker` it is given.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Protocol

import structlog

from mcp_gate.crypto.aead import Sealer
from mcp_gate.errors import CryptoError
from mcp_gate.idp.errors import IdpError, LoginRefusedError
from mcp_gate.idp.identity import Identity, Revalidated
from mcp_gate.oauth.models import Grant
from mcp_gate.store.protocols import Store

log = structlog.get_logger()

UPSTREAM_KIND = "upstream"
_AAD_PREFIX = b"mcp-gate upstream renewal v1\x00"
DEFAULT_REVALIDATE_SECONDS = 3600.0


class AccountChecker(Protocol):
    async def revalidate(self, renewal: str, subject: str) -> Revalidated: ...


class AccountRefusedError(Exception):
    """The IdP refused the account at revalidation; `reason` is the stable code."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class GrantRevalidation:
    def __init__(
        self,
        store: Store,
        sealer: Sealer,
        checker: AccountChecker,
        *,
        interval_seconds: float = DEFAULT_REVALIDATE_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._sealer = sealer
        self._checker = checker
        self._interval = interval_seconds
        self._clock = clock

    async def remember(self, grant: Grant, identity: Identity) -> None:
        """Keep the login's renewal with the new grant (nothing when there is none)."""
        if identity.renewal:
            await self._save(grant, identity.renewal, self._clock())

    async def check(self, grant: Grant) -> Grant:
        """The grant as it stands after a re-check, if one is due; AccountRefusedError
        when the IdP refused the account (the caller ends the grant)."""
        record = await self._load(grant)
        now = self._clock()
        if record is None or now - record[1] < self._interval:
            return grant
        try:
            answer = await self._checker.revalidate(record[0], grant.subject)
        except LoginRefusedError as exc:
            log.warning("grant_revalidation_refused", grant=grant.id[:8], reason=exc.reason)
            raise AccountRefusedError(exc.reason) from None
        except IdpError as exc:
            log.warning("grant_revalidation_failed", grant=grant.id[:8], reason=exc.reason)
            return grant
        await self._save(grant, answer.renewal, now)
        log.info("grant_revalidated", grant=grant.id[:8])
        identity = answer.identity
        if identity is None:
            return grant
        return replace(grant, email=identity.email, groups=identity.groups)

    def _aad(self, grant: Grant) -> bytes:
        return _AAD_PREFIX + grant.id.encode()

    async def _save(self, grant: Grant, renewal: str, checked_at: float) -> None:
        record = json.dumps({"renewal": renewal, "checked_at": checked_at}).encode()
        sealed = self._sealer.seal(record, self._aad(grant))
        ttl = max(grant.expires_at - self._clock(), 1.0)
        await self._store.put(UPSTREAM_KIND, grant.id, sealed, ttl_seconds=ttl)

    async def _load(self, grant: Grant) -> tuple[str, float] | None:
        sealed = await self._store.get(UPSTREAM_KIND, grant.id)
        if sealed is None:
            return None
        try:
            record = json.loads(self._sealer.open(sealed, self._aad(grant)))
            return str(record["renewal"]), float(record["checked_at"])
        except (CryptoError, ValueError, KeyError, TypeError):
            return None  # sealed under a retired key, or altered: nothing to check with
