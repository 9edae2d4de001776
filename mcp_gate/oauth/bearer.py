"""Checking a gate access token on an MCP request (the resource-server side).

MCP authorization §Token Handling: the token must be ours, unexpired, and issued for this
server (its audience; a token of server A is refused on server B, RFC 8707 / RFC 9068 §4).
Its grant must still exist and no revocation mark may cover it (grants.py), or it was
revoked. That check is the only storage read, and its positive answers are cached for
`proxy.auth.revocationCheckInterval` (default `GRANT_CACHE_SECONDS`): a revocation made by
this process takes effect at once, one made by another replica (or `mcp-gate revoke`)
within that delay; 0 checks at every request. A refused token whose grant a mark covers
is announced to the `on_principal_revoked` listeners (the session registry closes that
principal's MCP sessions and stdio children). When a grant was last used is written on a
cache miss, at most every `LAST_USED_WRITE_SECONDS` per grant and process (/my/apps).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from mcp_gate.oauth.access_tokens import VERIFIED_CACHE_ENTRIES, AccessClaims, AccessTokens
from mcp_gate.oauth.grants import GrantStore
from mcp_gate.oauth.resources import ResourceIndex
from mcp_gate.principal import Principal

# policy: how stale another replica's view of a revocation may be.
GRANT_CACHE_SECONDS = 5.0
_GRANT_CACHE_ENTRIES = 50_000
# policy: "last used" on /my/apps is accurate to a minute, for one store write a minute.
LAST_USED_WRITE_SECONDS = 60.0


def principal_of(claims: AccessClaims) -> Principal:
    """Whom a verified access token acts for, by the kind of its grant."""
    if claims.kind == "client":
        return Principal.client(claims.client_id)
    if claims.kind == "workload":
        return Principal.workload(claims.subject, client_id=claims.client_id)
    return Principal.user(
        claims.subject, claims.email or None, client_id=claims.client_id, groups=claims.groups
    )


class GateTokenVerifier:
    """Implements `web.bearer_auth.AccessTokenVerifier` for the gate's own tokens."""

    def __init__(
        self,
        access_tokens: AccessTokens,
        grants: GrantStore,
        resources: ResourceIndex,
        *,
        cache_seconds: float = GRANT_CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._access = access_tokens
        self._grants = grants
        self._resources = resources
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._wall_clock = wall_clock
        self._alive: OrderedDict[str, float] = OrderedDict()
        self._used_written: dict[str, float] = {}
        # token → whom it acts for and its scopes: derived from its claims alone, so made
        # once per token rather than on every request (each check above still runs).
        self._acting_for: dict[str, tuple[Principal, frozenset[str]]] = {}
        self._principal_listeners: list[Callable[[Principal], None]] = []
        grants.on_revoke(self.forget)

    def on_principal_revoked(self, listener: Callable[[Principal], None]) -> None:
        """Call `listener(principal)` when a token is refused because `mcp-gate revoke`
        (a revocation mark) ended its grant."""
        self._principal_listeners.append(listener)

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
        if not self._known_alive(claims.grant_id) and not await self._grant_alive(
            claims.grant_id, claims.subject
        ):
            if await self._grants.marks.is_revoked(
                email=claims.email, client_id=claims.client_id, began_at=claims.issued_at
            ):
                for listener in self._principal_listeners:
                    listener(principal_of(claims))
            return None
        return self._whom(token, claims)

    def verified_now(self, token: str, server: str) -> tuple[Principal, frozenset[str]] | None:
        """`verify_with_scopes`'s answer where it needs no store read: a live token of
        `server` whose grant was found within the cache delay. None means "ask
        `verify_with_scopes`", not "refused" (a method, not a coroutine: the common case
        of every MCP request costs no await)."""
        claims = self._access.parse(token)
        if (
            claims is None
            or not self._known_alive(claims.grant_id)
            or self._resources.server_of(claims.resource) != server
        ):
            return None
        return self._whom(token, claims)

    def _whom(self, token: str, claims: AccessClaims) -> tuple[Principal, frozenset[str]]:
        known = self._acting_for.get(token)
        if known is None:
            known = principal_of(claims), frozenset(claims.scope.split())
            if len(self._acting_for) >= VERIFIED_CACHE_ENTRIES:
                self._acting_for.pop(next(iter(self._acting_for)))  # the oldest
            self._acting_for[token] = known
        return known

    async def introspect(self, token: str, resource: str) -> AccessClaims | None:
        """The claims of a live access token issued for exactly `resource` (RFC 7662 §2.2:
        anything else is inactive for the resource server that asks), else None."""
        claims = self._access.parse(token)
        if claims is None or claims.resource != resource:
            return None
        if not await self._grant_alive(claims.grant_id, claims.subject):
            return None
        return claims

    def _known_alive(self, grant_id: str) -> bool:
        """The grant was found within the cache delay: no store read needed."""
        checked = self._alive.get(grant_id)
        return checked is not None and self._clock() - checked < self._cache_seconds

    async def _grant_alive(self, grant_id: str, subject: str) -> bool:
        if self._known_alive(grant_id):
            return True
        now = self._clock()
        grant = await self._grants.load_grant(grant_id)
        if grant is None or grant.subject != subject:
            self._alive.pop(grant_id, None)
            return False
        written = self._used_written.get(grant_id)
        if written is None or now - written >= LAST_USED_WRITE_SECONDS:
            self._used_written[grant_id] = now
            if len(self._used_written) > _GRANT_CACHE_ENTRIES:
                self._used_written.pop(next(iter(self._used_written)))
            await self._grants.save_last_used(grant, now=self._wall_clock())
        self._alive[grant_id] = now
        self._alive.move_to_end(grant_id)
        while len(self._alive) > _GRANT_CACHE_ENTRIES:
            self._alive.popitem(last=False)
        return True

    def forget(self, grant_id: str) -> None:
        """Drop a revoked grant from the cache so this process refuses it at once."""
        self._alive.pop(grant_id, None)
