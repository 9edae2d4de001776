"""The `Store` contract (mcp_gate/store/protocols.py), run against every store.

Each test runs on `MemoryStore` and on `RedisStore` against every Redis topology the gate
supports, each a real deployment started by the fixtures: a plain redis-server; one over
TLS where the gate logs in as an ACL user with only the rights docs/redis.md lists; a
primary with a replica behind three Sentinels; a Redis Cluster of three primaries.
Time never passes by sleeping: the memory store's clock is advanced, and on Redis every
TTL under the test's key prefix is shortened by the same amount (PEXPIRE; a TTL that
reaches zero deletes the key, exactly as Redis expiry does), and the deadlines a lease set
keeps as sorted-set scores (docs/redis.md) move back by it too.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from mcp_gate.store import MemoryStore, Store
from mcp_gate.store.redis import RedisStore
from tests.fixtures.redis_server import RedisDeployment

CONCURRENT_CALLS = 50


class FakeClock:
    """A monotonic clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class StoreUnderTest:
    store: Store
    advance: Callable[[float], Awaitable[None]]


# Which fixture starts each Redis deployment (tests/fixtures/redis_*.py).
REDIS_DEPLOYMENTS = {
    "redis": "redis_server",
    "redis_tls_acl": "redis_tls_server",
    "redis_sentinel": "redis_sentinel",
    "redis_cluster": "redis_cluster",
}


async def _shorten_redis_ttls(raw: Redis | RedisCluster, prefix: str, seconds: float) -> None:
    async for key in raw.scan_iter(match=f"{prefix}*"):  # every node's keys, in a cluster
        if await raw.type(key) == b"zset":
            leases = await raw.zrange(key, 0, -1, withscores=True)
            await raw.zadd(key, {m: score - seconds * 1000 for m, score in leases})
        remaining_ms = await raw.pttl(key)
        if remaining_ms > 0:
            await raw.pexpire(key, remaining_ms - round(seconds * 1000))  # <= 0 deletes


@pytest.fixture(params=["memory", *REDIS_DEPLOYMENTS])
async def subject(
    request: pytest.FixtureRequest, redis_key_prefix: str
) -> AsyncIterator[StoreUnderTest]:
    if request.param == "memory":
        clock = FakeClock()

        async def advance_clock(seconds: float) -> None:
            clock.now += seconds

        store = MemoryStore(clock=clock)
        yield StoreUnderTest(store, advance_clock)
        await store.close()
        return
    deployment: RedisDeployment = request.getfixturevalue(REDIS_DEPLOYMENTS[request.param])
    redis_store = RedisStore(deployment.store_config(redis_key_prefix))
    admin: list[Redis | RedisCluster] = []  # made on first use: a cluster client is costly

    async def advance_ttls(seconds: float) -> None:
        if not admin:
            admin.append(deployment.admin_client())
        await _shorten_redis_ttls(admin[0], redis_key_prefix, seconds)

    yield StoreUnderTest(redis_store, advance_ttls)
    await redis_store.close()
    for client in admin:
        await client.aclose()


@pytest.fixture
def store(subject: StoreUnderTest) -> Store:
    return subject.store


async def test_put_then_get_returns_the_value(store: Store) -> None:
    """Contract: a written value reads back."""
    await store.put("client", "c1", b'{"name": "x"}')
    assert await store.get("client", "c1") == b'{"name": "x"}'


async def test_get_of_an_absent_key_returns_none(store: Store) -> None:
    """Contract: absent is None, not an error."""
    assert await store.get("client", "nobody") is None


async def test_binary_values_round_trip_byte_exact(store: Store) -> None:
    """Contract: values are bytes, every byte value and the empty value survive unchanged."""
    every_byte = bytes(range(256)) * 4
    await store.put("blob", "all", every_byte)
    await store.put("blob", "empty", b"")
    assert await store.get("blob", "all") == every_byte
    assert await store.get("blob", "empty") == b""


async def test_keys_with_any_characters_round_trip(store: Store) -> None:
    """Contract: keys are opaque strings; colons, spaces and non-ASCII name distinct entries."""
    keys = ["a:b", "a", "b", "a b", "ключ", "a:b:c"]
    for index, key in enumerate(keys):
        await store.put("item", key, str(index).encode())
    assert [await store.get("item", key) for key in keys] == [b"0", b"1", b"2", b"3", b"4", b"5"]


async def test_same_key_under_two_kinds_names_two_entries(store: Store) -> None:
    """Contract: kinds are separate namespaces."""
    await store.put("access_token", "d1", b"access")
    await store.put("refresh_token", "d1", b"refresh")
    await store.delete("access_token", "d1")
    assert await store.get("access_token", "d1") is None
    assert await store.get("refresh_token", "d1") == b"refresh"


@pytest.mark.parametrize("kind", ["", "Code", "a:b", "with space", "x" * 33])
async def test_malformed_kind_is_rejected(store: Store, kind: str) -> None:
    """Policy: kinds are short lowercase names, so `<kind>:<key>` is never ambiguous."""
    with pytest.raises(ValueError, match="kind"):
        await store.get(kind, "k")


@pytest.mark.parametrize("ttl", [0, -1.0])
async def test_non_positive_ttl_is_rejected(store: Store, ttl: float) -> None:
    """Policy: a TTL is positive or None; zero would mean "already gone"."""
    with pytest.raises(ValueError, match="ttl_seconds"):
        await store.put("code", "c", b"v", ttl_seconds=ttl)


async def test_put_replaces_the_value_and_its_expiry(store: Store) -> None:
    """Contract: put overwrites; a put without TTL leaves an entry that never expires."""
    await store.put("grant", "g", b"old", ttl_seconds=30)
    await store.put("grant", "g", b"new")
    assert await store.get("grant", "g") == b"new"
    assert await store.ttl("grant", "g") is None


async def test_entry_is_gone_once_its_ttl_has_passed(subject: StoreUnderTest) -> None:
    """Contract: an entry lives ttl_seconds from its write, then is gone."""
    store = subject.store
    await store.put("code", "c", b"v", ttl_seconds=60)
    await subject.advance(30)
    assert await store.get("code", "c") == b"v"
    await subject.advance(30)
    assert await store.get("code", "c") is None


async def test_ttl_reports_the_seconds_left(subject: StoreUnderTest) -> None:
    """Contract: ttl() is the time left, None when absent or without expiry."""
    store = subject.store
    await store.put("code", "c", b"v", ttl_seconds=60)
    await store.put("client", "forever", b"v")
    await subject.advance(20)
    remaining = await store.ttl("code", "c")
    assert remaining is not None
    assert 39 < remaining <= 40
    assert await store.ttl("client", "forever") is None
    assert await store.ttl("client", "absent") is None


async def test_sub_second_ttl_is_honoured(subject: StoreUnderTest) -> None:
    """Contract: TTLs are float seconds; 0.25 s is not rounded to whole seconds."""
    store = subject.store
    await store.put("state", "s", b"v", ttl_seconds=0.25)
    remaining = await store.ttl("state", "s")
    assert remaining is not None
    assert 0 < remaining <= 0.25
    await subject.advance(0.25)
    assert await store.get("state", "s") is None


async def test_put_new_writes_only_when_absent(store: Store) -> None:
    """Contract: put_new is set-if-absent and says whether it wrote."""
    assert await store.put_new("lock", "l", b"me", ttl_seconds=10) is True
    assert await store.put_new("lock", "l", b"you", ttl_seconds=10) is False
    assert await store.get("lock", "l") == b"me"


async def test_put_new_succeeds_again_after_the_entry_expired(subject: StoreUnderTest) -> None:
    """Contract: an expired entry is absent for put_new too (a crashed lock holder)."""
    store = subject.store
    assert await store.put_new("lock", "l", b"crashed", ttl_seconds=10)
    await subject.advance(10)
    assert await store.put_new("lock", "l", b"next", ttl_seconds=10)
    assert await store.get("lock", "l") == b"next"


async def test_concurrent_put_new_has_exactly_one_winner(store: Store) -> None:
    """Contract: of concurrent put_new calls on one key, exactly one writes."""
    results = await asyncio.gather(
        *(
            store.put_new("once", "k", str(i).encode(), ttl_seconds=10)
            for i in range(CONCURRENT_CALLS)
        )
    )
    assert results.count(True) == 1
    winner = results.index(True)
    assert await store.get("once", "k") == str(winner).encode()


async def test_take_returns_the_value_once(store: Store) -> None:
    """Contract: take reads and deletes; a second take finds nothing (single-use codes)."""
    await store.put("code", "c", b"grant-1", ttl_seconds=60)
    assert await store.take("code", "c") == b"grant-1"
    assert await store.take("code", "c") is None
    assert await store.get("code", "c") is None


async def test_concurrent_takes_give_the_value_to_exactly_one(store: Store) -> None:
    """Contract (RFC 6749 §4.1.2: a code is used once): 50 concurrent takes, one value."""
    await store.put("code", "c", b"grant-1", ttl_seconds=60)
    results = await asyncio.gather(*(store.take("code", "c") for _ in range(CONCURRENT_CALLS)))
    assert [r for r in results if r is not None] == [b"grant-1"]


async def test_take_of_an_expired_entry_returns_none(subject: StoreUnderTest) -> None:
    """Contract: an expired code cannot be taken."""
    store = subject.store
    await store.put("code", "c", b"v", ttl_seconds=5)
    await subject.advance(5)
    assert await store.take("code", "c") is None


async def test_delete_removes_the_entry_and_ignores_absent_keys(store: Store) -> None:
    """Contract: delete is idempotent."""
    await store.put("consent", "u:c", b"yes")
    await store.delete("consent", "u:c")
    await store.delete("consent", "u:c")
    assert await store.get("consent", "u:c") is None


async def test_delete_if_equal_deletes_only_a_matching_value(store: Store) -> None:
    """Contract: a lock is released only by its holder."""
    await store.put_new("lock", "l", b"holder-a", ttl_seconds=10)
    assert await store.delete_if_equal("lock", "l", b"holder-b") is False
    assert await store.get("lock", "l") == b"holder-a"
    assert await store.delete_if_equal("lock", "l", b"holder-a") is True
    assert await store.get("lock", "l") is None
    assert await store.delete_if_equal("lock", "l", b"holder-a") is False


async def test_incr_counts_within_the_window_and_restarts_after(subject: StoreUnderTest) -> None:
    """Contract: the first increment opens a window; later ones do not extend it."""
    store = subject.store
    assert [await store.incr("rate", "ip", ttl_seconds=60) for _ in range(3)] == [1, 2, 3]
    await subject.advance(40)
    assert await store.incr("rate", "ip", ttl_seconds=60) == 4
    assert await store.get("rate", "ip") == b"4"
    await subject.advance(20)
    assert await store.incr("rate", "ip", ttl_seconds=60) == 1


async def test_concurrent_incr_loses_no_increment(store: Store) -> None:
    """Contract: incr is atomic; 50 concurrent increments count to 50."""
    results = await asyncio.gather(
        *(store.incr("rate", "k", ttl_seconds=60) for _ in range(CONCURRENT_CALLS))
    )
    assert sorted(results) == list(range(1, CONCURRENT_CALLS + 1))


async def _take(store: Store, now: float, key: str = "alice") -> float:
    return await store.take_token("bucket", key, capacity=3, refill_seconds=60, now=now)


async def test_take_token_empties_the_bucket_then_names_the_wait(store: Store) -> None:
    """Contract: a full bucket gives `capacity` tokens; then the wait until the next one
    (capacity 3 per 60 s: one token every 20 s)."""
    now = 1_700_000_000.0
    taken = [await _take(store, now) for _ in range(3)]
    refused = await _take(store, now + 5)
    assert taken == [0.0, 0.0, 0.0]
    assert refused == pytest.approx(15.0, abs=0.01)


async def test_take_token_refills_with_time_up_to_capacity(store: Store) -> None:
    """Contract: tokens come back at capacity / refill_seconds, never beyond capacity."""
    now = 1_700_000_000.0
    for _ in range(3):
        await _take(store, now)
    after_one_refill = await _take(store, now + 20)
    empty_again = await _take(store, now + 20)
    much_later = [await _take(store, now + 10_000) for _ in range(4)]
    assert after_one_refill == 0.0
    assert empty_again > 0
    assert much_later[:3] == [0.0, 0.0, 0.0]
    assert much_later[3] > 0


async def test_take_token_buckets_are_per_key(store: Store) -> None:
    """Contract: one key's empty bucket does not limit another key."""
    now = 1_700_000_000.0
    for _ in range(3):
        await _take(store, now)
    assert await _take(store, now, "alice") > 0
    assert await _take(store, now, "bob") == 0.0


async def test_concurrent_take_token_hands_out_exactly_capacity(store: Store) -> None:
    """Contract: take_token is atomic; of 50 concurrent takes from a bucket of 10, exactly
    10 get a token."""
    now = 1_700_000_000.0
    waits = await asyncio.gather(
        *(
            store.take_token("bucket", "shared", capacity=10, refill_seconds=3600, now=now)
            for _ in range(CONCURRENT_CALLS)
        )
    )
    assert sum(1 for wait in waits if wait == 0.0) == 10


async def test_ping_answers_when_the_store_is_up(store: Store) -> None:
    """Contract: ping returns quietly when the store works (readiness)."""
    await store.ping()


async def test_lease_add_counts_each_member_once(store: Store) -> None:
    """Contract: a lease set holds distinct members; renewing one does not add another."""
    assert await store.lease_add("quota", "u", "s1", ttl_seconds=30)
    assert await store.lease_add("quota", "u", "s2", ttl_seconds=30)
    assert await store.lease_add("quota", "u", "s1", ttl_seconds=30)
    assert await store.lease_count("quota", "u") == 2
    assert await store.lease_count("quota", "nobody") == 0


async def test_lease_add_refuses_a_new_member_at_the_limit(store: Store) -> None:
    """Contract: with a limit, a new member waits for a free place; a renewal never does."""
    for member in ("s1", "s2"):
        assert await store.lease_add("quota", "u", member, ttl_seconds=30, limit=2)
    assert await store.lease_add("quota", "u", "s3", ttl_seconds=30, limit=2) is False
    assert await store.lease_add("quota", "u", "s2", ttl_seconds=30, limit=2) is True
    await store.lease_remove("quota", "u", "s1")
    assert await store.lease_add("quota", "u", "s3", ttl_seconds=30, limit=2) is True
    assert await store.lease_count("quota", "u") == 2


async def test_concurrent_lease_adds_never_overshoot_the_limit(store: Store) -> None:
    """Contract: lease_add with a limit is atomic; 50 concurrent adds, limit 5, 5 win."""
    results = await asyncio.gather(
        *(
            store.lease_add("quota", "u", f"s{i}", ttl_seconds=30, limit=5)
            for i in range(CONCURRENT_CALLS)
        )
    )
    assert results.count(True) == 5
    assert await store.lease_count("quota", "u") == 5


async def test_a_lease_not_renewed_lapses_alone(subject: StoreUnderTest) -> None:
    """Contract: each member lives until its own deadline (a dead replica's sessions lapse)."""
    store = subject.store
    await store.lease_add("quota", "u", "short", ttl_seconds=10)
    await store.lease_add("quota", "u", "long", ttl_seconds=100)
    await subject.advance(20)
    assert await store.lease_count("quota", "u") == 1
    assert await store.lease_add("quota", "u", "next", ttl_seconds=10, limit=2)
    await subject.advance(90)
    assert await store.lease_count("quota", "u") == 0


async def test_lease_remove_of_an_absent_member_is_quiet(store: Store) -> None:
    """Contract: dropping a member twice, or from an empty set, is fine."""
    await store.lease_add("quota", "u", "s1", ttl_seconds=30)
    await store.lease_remove("quota", "u", "s1")
    await store.lease_remove("quota", "u", "s1")
    await store.lease_remove("quota", "nobody", "s1")
    assert await store.lease_count("quota", "u") == 0
