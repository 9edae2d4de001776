"""What only the memory store promises: expired entries do not pile up in memory."""

from __future__ import annotations

from mcp_gate.store import MemoryStore
from mcp_gate.store.memory import PURGE_INTERVAL_SECONDS


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_expired_entries_are_purged_without_being_read() -> None:
    """Policy: a periodic sweep bounds memory to live entries plus one purge interval."""
    clock = FakeClock()
    store = MemoryStore(clock=clock)
    for index in range(1000):
        await store.put("state", str(index), b"v", ttl_seconds=10)
    await store.put("client", "kept", b"v")
    assert len(store) == 1001
    clock.now += PURGE_INTERVAL_SECONDS
    await store.get("client", "kept")
    assert len(store) == 1


async def test_expired_entry_is_dropped_when_read() -> None:
    """Policy: reading an expired entry removes it at once (lazy expiry)."""
    clock = FakeClock()
    store = MemoryStore(clock=clock, purge_interval_seconds=3600)
    await store.put("state", "s", b"v", ttl_seconds=1)
    clock.now += 1
    assert await store.get("state", "s") is None
    assert len(store) == 0


async def test_repr_shows_no_values() -> None:
    """Policy: stored values (sealed or not) never appear in a repr."""
    store = MemoryStore()
    await store.put("user_token", "u", b"ntn_secret")
    assert "ntn_secret" not in repr(store)
