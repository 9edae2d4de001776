"""Who owns each MCP session: session id → the principal that opened it, and the replica.

Every session the gate serves has a binding: pass-through sessions (the backend mints the
id: `Mcp-Session-Id`, or the gate-minted key of a legacy `endpoint`) and bridged ones (the
gate mints it, mcp_sessions.py). The principal that opened it is the only one who may use
it; anyone else gets 404 (MCP 2025-11-25 security best practices §Session Hijacking). The
replica that opened it holds its live state (the child, the upstream stream, the bridge),
so every other replica relays its requests there (web/session_relay.py).
Records live in the store so replicas share them; a bounded local cache spares the store a
round trip per request, which is safe because a binding never changes once written.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from mcp_gate.crypto.digest import token_digest
from mcp_gate.principal import Principal
from mcp_gate.store.protocols import Store
from mcp_gate.store.records import from_json, to_json

_KIND = "mcp_session"
# policy: a pass-through session unused for a day is forgotten; its client gets 404 and
# re-initializes, as MCP transports §Session Management prescribes for expired sessions.
BINDING_TTL_SECONDS = 24 * 3600.0
_CACHE_ENTRIES = 10_000


@dataclass(frozen=True, slots=True)
class Binding:
    owner: str
    # Where the session's messages go upstream (legacy SSE: the backend's endpoint URL).
    target: str = ""
    # The id of the replica that holds the session (cluster/replica.py).
    replica: str = ""


class SessionBindings:
    def __init__(self, store: Store, replica_id: str = "") -> None:
        self._store = store
        self.replica_id = replica_id
        # (server, session id) → binding; the ids stay in this process's memory only.
        self._cache: OrderedDict[tuple[str, str], Binding] = OrderedDict()

    @staticmethod
    def _key(server: str, session_id: str) -> str:
        # Session ids are bearer-like; only their digest is stored.
        return f"{server}:{token_digest(session_id)}"

    async def bind(
        self, server: str, session_id: str, principal: Principal, target: str = ""
    ) -> None:
        binding = Binding(principal.id, target, self.replica_id)
        await self._store.put(
            _KIND, self._key(server, session_id), to_json(binding), ttl_seconds=BINDING_TTL_SECONDS
        )
        self._remember((server, session_id), binding)

    def is_local(self, binding: Binding) -> bool:
        return binding.replica == self.replica_id

    async def lookup(self, server: str, session_id: str, principal: Principal) -> Binding | None:
        """The binding, only when this principal opened the session; else None (→ 404)."""
        binding = self._cache.get((server, session_id))
        if binding is None:
            stored = await self._store.get(_KIND, self._key(server, session_id))
            binding = from_json(Binding, stored)
            if binding is None:
                return None
            self._remember((server, session_id), binding)
        return binding if binding.owner == principal.id else None

    def known_owner(self, server: str, session_id: str, principal: Principal) -> bool:
        """Whether this process already knows the principal opened the session (no store
        read); False means "ask `is_owner`", not "not the owner"."""
        binding = self._cache.get((server, session_id))
        return binding is not None and binding.owner == principal.id

    async def is_owner(self, server: str, session_id: str, principal: Principal) -> bool:
        return await self.lookup(server, session_id, principal) is not None

    async def forget(self, server: str, session_id: str) -> None:
        self._cache.pop((server, session_id), None)
        await self._store.delete(_KIND, self._key(server, session_id))

    def _remember(self, key: tuple[str, str], binding: Binding) -> None:
        self._cache[key] = binding
        self._cache.move_to_end(key)
        while len(self._cache) > _CACHE_ENTRIES:
            self._cache.popitem(last=False)
