"""Checking a gate access token on an MCP request (the resource-server side).

MCP authorization §Token Handling: the token must be ours, unexpired, and issued for this
server (its audience; a token of server A is refused on server B, RFC 8707 / RFC 9068 §4).
Its grant must still exist, or it was revoked. That last check is the only storage read,
and its positive answers are cached for `GRANT_CACHE_SECONDS`: a revocation made by this
process takes effect at once, one made by another replica within that delay.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from mcp_gate.oauth.access_tokens import AccessClaims, AccessTokens
from mcp_gate.oauth.grants import GrantStore
from mcp_gate.oauth.resources import ResourceIndex
from mcp_gate.principal import Principal

# policy: how stale another replica's view of a revocation may be.
GRANT_CACHE_SECONDS = 5.0
_GRANT_CACHE_ENTRIES = 50_000


def principal_of(claims: AccessClaims) -> Principal:
    """Whom a verified access token acts for, by the kind of its grant."""
    if claims.kind == "client":
        return Principal.client(claims.client_id)
    if claims.kind == "workload":
        return Principal.workload(claims.subject, client_id=claims.client_id)
    return Principal.user(claims.subject, claims.email or None, client_id=claims.client_id)


class GateTokenVerifier:
    """Implements `web.bearer_auth.AccessTokenVerifier` for the gate's own tokens."""

    def __init__(
        self,
        access_tokens: AccessTokens,
        grants: GrantStore,
        resources: ResourceIndex,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._access = access_tokens
        self._grants = grants
        self._resources = resources
        self._clock = clock
        self._alive: OrderedDict[str, float] = OrderedDict()
        grants.on_revoke(self.forget)

    async def verify(self, token: str, server: str) -> Principal | None:
        verified = await self.verify_with_scopes(token, server)
        return verified[0] if verified is not None else None

    async def verify_with_scopes(
        self, token: str, server: str
    ) -> tuple[Principal, frozenset[str]] | None:
        """Whom a live token of `server` acts for, and the scopes it holds (RFC 6749 §3.3)."""
        claims = self._access.parse(token)
        if claims is None or self._resources.server_of(claims.resource) != server:
            return None
        if not await self._grant_alive(claims.grant_id, claims.subject):
            return None
        return principal_of(claims), frozenset(claims.scope.split())

    async def introspect(self, token: str, resource: str) -> AccessClaims | None:
        """The claims of a live access token issued for exactly `resource` (RFC 7662 §2.2:
        anything else is inactive for the resource server that asks), else None."""
        claims = self._access.parse(token)
        if claims is None or claims.resource != resource:
            return None
        if not await self._grant_alive(claims.grant_id, claims.subject):
            return None
        return claims

    async def _grant_alive(self, grant_id: str, subject: str) -> bool:
        now = self._clock()
        checked = self._alive.get(grant_id)
        if checked is not None and now - checked < GRANT_CACHE_SECONDS:
            return True
        grant = await self._grants.load_grant(grant_id)
        if grant is None or grant.subject != subject:
            self._alive.pop(grant_id, None)
            return False
        self._alive[grant_id] = now
        self._alive.move_to_end(grant_id)
        while len(self._alive) > _GRANT_CACHE_ENTRIES:
            self._alive.popitem(last=False)
        return True

    def forget(self, grant_id: str) -> None:
        """Drop a revoked grant from the cache so this process refuses it at once."""
        self._alive.pop(grant_id, None)
