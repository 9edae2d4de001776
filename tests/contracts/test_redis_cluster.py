"""The Redis store on a Redis Cluster: every call runs on one hash slot, the keys spread
over every primary, readiness asks each of them, and a node that goes away and comes back
is followed without a restart.

The clusters are real (tests/fixtures/redis_cluster.py): three primaries over TLS, with
the gate logged in as an ACL user. The store contract itself runs on the shared cluster in
test_store_contract.py.
"""

from __future__ import annotations

import pytest
from redis.crc import key_slot

from mcp_gate.errors import StorageUnavailableError
from mcp_gate.store.redis import RedisStore
from tests.fixtures.redis_cluster import PRIMARIES, RedisClusterSetup
from tests.fixtures.redis_server import RedisServer, until_served

KEYS_PER_KIND = 20


async def _slot_owners(cluster: RedisClusterSetup) -> dict[int, int]:
    """Slot → port of the primary that serves it, as the cluster says."""
    admin = cluster.admin_client()
    owners = {
        slot: primary["primary"][1]
        for (first, last), primary in (await admin.cluster_slots()).items()
        for slot in range(first, last + 1)
    }
    await admin.aclose()
    return owners


async def test_keys_spread_over_every_primary(
    redis_cluster: RedisClusterSetup, redis_key_prefix: str
) -> None:
    """Policy (docs/redis.md §Key schema): no hash tag pins the gate's keys to one
    slot, so they shard over every primary (Redis Cluster specification §Hash tags)."""
    store = RedisStore(redis_cluster.store_config(redis_key_prefix))
    for kind in ("grant", "access_token", "code"):
        for index in range(KEYS_PER_KIND):
            await store.put(kind, f"{index:04x}", b"v", ttl_seconds=60)
    counts = []
    for node in redis_cluster.nodes:
        admin = redis_cluster.node_admin_client(node)
        counts.append(len([key async for key in admin.scan_iter(match=f"{redis_key_prefix}*")]))
        await admin.aclose()
    await store.close()
    assert sum(counts) == 3 * KEYS_PER_KIND
    assert len(counts) == PRIMARIES
    assert all(count > 0 for count in counts), counts


def _key_on(owners: dict[int, int], node: RedisServer, prefix: str, kind: str) -> str:
    """A key whose entry (`<prefix>v1:<kind>:<key>`) lives on `node`."""
    return next(
        key
        for key in (f"k{index}" for index in range(10_000))
        if owners[key_slot(f"{prefix}v1:{kind}:{key}".encode())] == node.port
    )


async def test_a_stopped_primary_fails_its_slots_and_readiness_until_it_returns(
    private_redis_cluster: RedisClusterSetup, redis_key_prefix: str
) -> None:
    """Policy (docs/redis.md, When Redis fails): a primary down fails closed (503) for its slots and
    for /ready, the other shards keep working, and the same store works again once it returns."""
    cluster = private_redis_cluster
    owners = await _slot_owners(cluster)
    down, up = cluster.nodes[0], cluster.nodes[1]
    on_down = _key_on(owners, down, redis_key_prefix, "code")
    on_up = _key_on(owners, up, redis_key_prefix, "code")
    store = RedisStore(cluster.store_config(redis_key_prefix))
    await store.put("code", on_down, b"kept", ttl_seconds=600)
    await store.ping()
    down.stop()  # SIGTERM: the node saves its cluster config, and will rejoin
    with pytest.raises(StorageUnavailableError):
        await store.get("code", on_down)
    with pytest.raises(StorageUnavailableError):
        await store.ping()
    await store.put("code", on_up, b"elsewhere", ttl_seconds=600)
    assert await store.take("code", on_up) == b"elsewhere"
    down.start()
    _, failures = await until_served(lambda: store.put("code", on_down, b"after"))
    assert all(isinstance(failure, StorageUnavailableError) for failure in failures)
    assert await store.take("code", on_down) == b"after"
    assert await store.incr("rate", on_down, ttl_seconds=60) == 1
    await store.ping()
    await store.close()
