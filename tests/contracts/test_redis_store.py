"""What only the Redis store promises: its key schema, sharing between gate processes (on
every topology), URL forms and secrecy, and failing closed then recovering when Redis goes
away and comes back. Sentinel failover, Cluster and TLS have their own modules beside this."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from redis.asyncio import Redis

from mcp_gate.config.model import AuthConfig, IdpConfig, RedisConfig, Secret
from mcp_gate.errors import StorageUnavailableError
from mcp_gate.store import MemoryStore, open_store
from mcp_gate.store.redis import RedisStore
from mcp_gate.store.redis_topology import describe_url
from tests.contracts.test_store_contract import REDIS_DEPLOYMENTS
from tests.fixtures.redis_server import RedisDeployment, RedisServer

# A refused connection fails at once; this bound only leaves room for a loaded machine.
DOWN_FAILS_WITHIN_SECONDS = 1.0
# Any single test step that waits is cut off here instead of hanging the suite.
STEP_TIMEOUT_SECONDS = 10.0
FROZEN_COMMAND_TIMEOUT_SECONDS = 0.2
BURST_BOUND, BURST_CALLS = 4, 100


def _url_config(url: str, key_prefix: str = "mcp-gate:") -> RedisConfig:
    return RedisConfig(url=Secret(url), key_prefix=key_prefix)


@pytest.fixture(params=list(REDIS_DEPLOYMENTS))
def deployment(request: pytest.FixtureRequest) -> RedisDeployment:
    """Each Redis topology the gate supports, started by its fixture."""
    found: RedisDeployment = request.getfixturevalue(REDIS_DEPLOYMENTS[request.param])
    return found


@pytest.fixture
async def raw(redis_server: RedisServer) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_server.url)
    yield client
    await client.aclose()


@pytest.fixture
async def private_store(private_redis_server: RedisServer) -> AsyncIterator[RedisStore]:
    store = RedisStore(_url_config(private_redis_server.url, "private:"))
    yield store
    await store.close()


async def test_keys_follow_the_documented_schema(
    deployment: RedisDeployment, redis_key_prefix: str
) -> None:
    """Policy (docs/redis.md §Key schema): keys are `<keyPrefix>v1:<kind>:<key>`."""
    store = RedisStore(deployment.store_config(redis_key_prefix))
    admin = deployment.admin_client()
    await store.put("access_token", "ab12", b"record", ttl_seconds=60)
    assert await admin.get(f"{redis_key_prefix}v1:access_token:ab12") == b"record"
    await store.close()
    await admin.aclose()


async def test_from_config_uses_the_default_prefix(redis_server: RedisServer, raw: Redis) -> None:
    """Policy: keyPrefix defaults to `mcp-gate:`."""
    store = RedisStore.from_config(_url_config(redis_server.url))
    await store.put("probe", "default-prefix-test", b"v", ttl_seconds=60)
    assert await raw.get("mcp-gate:v1:probe:default-prefix-test") == b"v"
    await store.delete("probe", "default-prefix-test")
    await store.close()


async def test_stores_with_different_prefixes_do_not_see_each_other(
    redis_server: RedisServer, redis_key_prefix: str
) -> None:
    """Policy: two gates on one Redis with different keyPrefix values share nothing."""
    first = RedisStore(_url_config(redis_server.url, f"{redis_key_prefix}a:"))
    second = RedisStore(_url_config(redis_server.url, f"{redis_key_prefix}b:"))
    await first.put("grant", "g", b"first")
    assert await second.get("grant", "g") is None
    assert await second.put_new("grant", "g", b"second", ttl_seconds=60)
    assert await first.get("grant", "g") == b"first"
    await first.close()
    await second.close()


async def test_two_stores_on_one_prefix_share_entries_and_single_use(
    deployment: RedisDeployment, redis_key_prefix: str
) -> None:
    """Contract: gate replicas share state; a code taken by one replica is gone for all."""
    replica_a = RedisStore(deployment.store_config(redis_key_prefix))
    replica_b = RedisStore(deployment.store_config(redis_key_prefix))
    await replica_a.put("code", "c", b"grant-1", ttl_seconds=60)
    assert await replica_b.get("code", "c") == b"grant-1"
    takes = [replica.take("code", "c") for replica in (replica_a, replica_b) for _ in range(25)]
    results = await asyncio.gather(*takes)
    assert [r for r in results if r is not None] == [b"grant-1"]
    await replica_a.close()
    await replica_b.close()


async def test_burst_beyond_the_connection_bound_waits_instead_of_failing(
    deployment: RedisDeployment, redis_key_prefix: str
) -> None:
    """Policy: at most `max_connections` connections per server are in use; more calls at
    once wait for one (up to 2 s) rather than fail, on every topology."""
    store = RedisStore(deployment.store_config(redis_key_prefix), max_connections=BURST_BOUND)
    await store.put("code", "c", b"v", ttl_seconds=60)
    results = await asyncio.gather(*(store.get("code", "c") for _ in range(BURST_CALLS)))
    assert results == [b"v"] * BURST_CALLS
    await store.close()


async def test_unix_socket_url_works(redis_server: RedisServer, redis_key_prefix: str) -> None:
    """Policy: `unix://` URLs are accepted, for a Redis on the same host."""
    store = RedisStore(_url_config(redis_server.unix_url, redis_key_prefix))
    await store.put("probe", "k", b"over a socket")
    assert await store.get("probe", "k") == b"over a socket"
    await store.close()


async def test_password_in_the_url_authenticates_and_never_shows(tmp_path: Path) -> None:
    """Policy: the URL's password is used, and absent from repr and errors."""
    password = "s3cret-pa55word"
    with RedisServer(tmp_path, password=password) as server:
        store = RedisStore(_url_config(server.url))
        await store.put("probe", "k", b"v")
        assert await store.get("probe", "k") == b"v"
        assert password not in repr(store)
        assert password not in describe_url(server.url)
        wrong = RedisStore(_url_config(server.url.replace(password, "wrong-guess")))
        with pytest.raises(StorageUnavailableError) as caught:
            await wrong.get("probe", "k")
        assert "wrong-guess" not in str(caught.value)
        await wrong.close()
        await store.close()


async def test_open_store_opens_redis_when_configured(
    redis_server: RedisServer, redis_key_prefix: str
) -> None:
    """Contract: `storage: redis` gives a working Redis store, closed on exit."""
    config = AuthConfig(
        idp=IdpConfig(provider="dev"),
        storage="redis",
        redis=RedisConfig(url=Secret(redis_server.url), key_prefix=redis_key_prefix),
    )
    async with open_store(config) as store:
        assert isinstance(store, RedisStore)
        await store.ping()


async def test_open_store_defaults_to_memory() -> None:
    """Contract: no auth config, or `storage: memory`, gives the in-process store."""
    async with open_store(None) as store:
        assert isinstance(store, MemoryStore)
    async with open_store(AuthConfig(idp=IdpConfig(provider="dev"))) as store:
        assert isinstance(store, MemoryStore)


CALLS: dict[str, Callable[[RedisStore], Awaitable[object]]] = {
    "get": lambda s: s.get("code", "c"),
    "put": lambda s: s.put("code", "c", b"v", ttl_seconds=60),
    "put_new": lambda s: s.put_new("lock", "l", b"v", ttl_seconds=60),
    "take": lambda s: s.take("code", "c"),
    "delete": lambda s: s.delete("code", "c"),
    "delete_if_equal": lambda s: s.delete_if_equal("lock", "l", b"v"),
    "incr": lambda s: s.incr("rate", "r", ttl_seconds=60),
    "ttl": lambda s: s.ttl("code", "c"),
    "ping": lambda s: s.ping(),
}


@pytest.mark.parametrize("method", list(CALLS))
async def test_redis_down_fails_every_method_quickly_with_storage_unavailable(
    private_redis_server: RedisServer, private_store: RedisStore, method: str
) -> None:
    """Policy (docs/redis.md, When Redis fails): Redis down fails closed, fast, as
    StorageUnavailableError."""
    await private_store.ping()  # a pooled connection exists, and now goes stale
    private_redis_server.stop()
    started = time.monotonic()
    async with asyncio.timeout(STEP_TIMEOUT_SECONDS):
        with pytest.raises(StorageUnavailableError):
            await CALLS[method](private_store)
    assert time.monotonic() - started < DOWN_FAILS_WITHIN_SECONDS


async def test_store_works_again_by_itself_when_redis_returns(
    private_redis_server: RedisServer, private_store: RedisStore
) -> None:
    """Policy (docs/redis.md, When Redis fails): service resumes when Redis returns, with the same
    store object."""
    await private_store.incr("rate", "r", ttl_seconds=60)
    private_redis_server.stop()
    with pytest.raises(StorageUnavailableError):
        await private_store.get("code", "c")
    private_redis_server.start()
    async with asyncio.timeout(STEP_TIMEOUT_SECONDS):
        await private_store.put("code", "c", b"after", ttl_seconds=60)
        assert await private_store.take("code", "c") == b"after"
        assert await private_store.incr("rate", "r", ttl_seconds=60) == 1  # scripts reloaded
        assert await private_store.put_new("lock", "l", b"me", ttl_seconds=60)
        assert await private_store.delete_if_equal("lock", "l", b"me")


async def test_frozen_redis_fails_after_the_command_timeout_and_then_recovers(
    private_redis_server: RedisServer,
) -> None:
    """Policy: a Redis that accepts but never answers fails within the command timeout."""
    store = RedisStore(
        _url_config(private_redis_server.url),
        command_timeout_seconds=FROZEN_COMMAND_TIMEOUT_SECONDS,
    )
    await store.put("code", "c", b"v")
    private_redis_server.freeze()
    try:
        started = time.monotonic()
        async with asyncio.timeout(STEP_TIMEOUT_SECONDS):
            with pytest.raises(StorageUnavailableError):
                await store.get("code", "c")
        assert time.monotonic() - started < FROZEN_COMMAND_TIMEOUT_SECONDS + 1.0
    finally:
        private_redis_server.thaw()
    async with asyncio.timeout(STEP_TIMEOUT_SECONDS):
        assert await store.get("code", "c") == b"v"
    await store.close()
