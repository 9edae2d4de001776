"""A replica's lease (mcp_gate/cluster/replica.py): alive while renewed, gone after."""

from __future__ import annotations

from mcp_gate.cluster.replica import LOCATE_CACHE_SECONDS, Replica
from mcp_gate.store import MemoryStore


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_replica_is_found_while_its_lease_lives_and_not_after() -> None:
    """DESIGN scale: an owner whose lease lapsed (hung, partitioned) is gone (→ 404)."""
    clock = Clock()
    store = MemoryStore(clock=clock)
    owner = Replica(store, "http://10.0.0.5:8081", lease_ttl_seconds=3.0, clock=clock)
    other = Replica(store, "http://10.0.0.6:8081", lease_ttl_seconds=3.0, clock=clock)
    await owner.start()
    assert await other.locate(owner.id) == "http://10.0.0.5:8081"
    owner._task.cancel()  # type: ignore[union-attr]  # it hangs: no more renewals
    clock.now += max(3.0, LOCATE_CACHE_SECONDS) + 0.1
    assert await other.locate(owner.id) is None


async def test_a_replica_that_withdraws_is_gone_at_once() -> None:
    """serve.py: a stopping replica deletes its lease first, so its sessions 404 elsewhere."""
    store = MemoryStore()
    owner = Replica(store, "http://10.0.0.5:8081")
    other = Replica(store, "http://10.0.0.6:8081")
    await owner.start()
    await owner.withdraw()
    assert await other.locate(owner.id) is None
    assert owner.draining


async def test_a_replica_alone_keeps_no_lease() -> None:
    """Without proxy.cluster nothing is written for the replica itself."""
    store = MemoryStore()
    alone = Replica(store)
    await alone.start()
    assert len(store) == 0
    await alone.withdraw()
