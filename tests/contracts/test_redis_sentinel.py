"""The Redis store behind Sentinel: it finds the primary through the sentinels, follows a
failover without a restart (failing closed only while there is no primary), and logs in to
sentinels and data nodes with their own passwords, never showing either.

The setups are real (tests/fixtures/redis_sentinel.py): a primary, a replica and three
sentinels; the failover tests kill the primary with SIGKILL, as a lost machine would.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from redis.asyncio import Redis

from mcp_gate.config.model import Secret
from mcp_gate.errors import StorageUnavailableError
from mcp_gate.store.redis import RedisStore
from tests.fixtures.ports import free_port
from tests.fixtures.redis_sentinel import (
    DATA_PASSWORD,
    SENTINEL_PASSWORD,
    RedisSentinelSetup,
    replicated,
)
from tests.fixtures.redis_server import until_served


async def test_store_finds_the_primary_through_the_sentinels(
    redis_sentinel: RedisSentinelSetup, redis_key_prefix: str
) -> None:
    """Policy (docs/redis.md, Sentinel): with `sentinels` and `masterName`, writes go to the
    primary."""
    store = RedisStore(redis_sentinel.store_config(redis_key_prefix))
    await store.put("grant", "g", b"on the primary")
    admin = redis_sentinel.admin_client()
    assert admin.connection_pool.connection_kwargs["port"] == redis_sentinel.primary.port
    assert await admin.get(f"{redis_key_prefix}v1:grant:g") == b"on the primary"
    await admin.aclose()
    await store.close()


async def test_db_selects_the_primarys_database(
    redis_sentinel: RedisSentinelSetup, redis_key_prefix: str
) -> None:
    """Policy: with sentinels, `db` picks the database (a URL would carry it as its path)."""
    store = RedisStore(replace(redis_sentinel.store_config(redis_key_prefix), db=3))
    await store.put("grant", "g", b"in db 3")
    for db, expected in ((0, None), (3, b"in db 3")):
        admin = Redis(port=redis_sentinel.primary_port(), password=DATA_PASSWORD, db=db)
        assert await admin.get(f"{redis_key_prefix}v1:grant:g") == expected
        await admin.aclose()
    await store.close()


async def test_store_follows_a_failover_without_a_restart(
    private_redis_sentinel: RedisSentinelSetup, redis_key_prefix: str
) -> None:
    """Policy (docs/redis.md, When Redis fails): the primary killed, the same store fails closed
    (503) until the sentinels promote the replica, then works there with what was written before."""
    setup = private_redis_sentinel
    store = RedisStore(setup.store_config(redis_key_prefix))
    await store.put("grant", "g", b"written before")
    assert await store.incr("rate", "r", ttl_seconds=600) == 1
    await replicated(setup)
    setup.primary.kill()
    value, failures = await until_served(lambda: store.get("grant", "g"))
    assert value == b"written before"
    assert failures  # the store saw the switch, and reported it as unavailable storage
    assert all(isinstance(failure, StorageUnavailableError) for failure in failures)
    assert setup.primary_port() == setup.replica.port
    # Every kind of call works on the new primary, scripts included.
    assert await store.incr("rate", "r", ttl_seconds=600) == 2
    assert await store.put_new("lock", "l", b"me", ttl_seconds=60)
    assert await store.delete_if_equal("lock", "l", b"me")
    assert await store.take("grant", "g") == b"written before"
    await store.ping()
    await store.close()


async def test_store_skips_a_sentinel_that_does_not_answer(
    redis_sentinel: RedisSentinelSetup, redis_key_prefix: str
) -> None:
    """Policy: any listed sentinel may be down; the others name the primary."""
    config = redis_sentinel.store_config(redis_key_prefix)
    nobody = ("127.0.0.1", free_port(other_than=tuple(port for _, port in config.sentinels)))
    store = RedisStore(replace(config, sentinels=(nobody, *config.sentinels)))
    await store.put("grant", "g", b"v")
    assert await store.get("grant", "g") == b"v"
    await store.close()


@pytest.mark.parametrize("wrong", ["password", "sentinel_password"])
async def test_wrong_password_fails_closed_and_is_never_shown(
    redis_sentinel: RedisSentinelSetup, redis_key_prefix: str, wrong: str
) -> None:
    """Policy: a refused login (data node or sentinel) is a 503, its text free of secrets."""
    config = replace(redis_sentinel.store_config(redis_key_prefix), **{wrong: Secret("wrong-0")})
    store = RedisStore(config)
    with pytest.raises(StorageUnavailableError) as caught:
        await store.get("grant", "g")
    for secret in ("wrong-0", DATA_PASSWORD, SENTINEL_PASSWORD):
        assert secret not in str(caught.value)
        assert secret not in repr(store)
    await store.close()
