"""The Redis store: the `Store` contract on a Redis server shared by every gate replica.

Owns the Redis key schema `<keyPrefix>v1:<kind>:<key>` (built here and nowhere else), the
connection pool and its timeouts, and the translation of every Redis failure into
`StorageUnavailableError`. It is the only module that imports `redis`.

Needs Redis >= 6.2 (GETDEL). Single server only: `redis://`, `rediss://` (TLS) and
`unix://` URLs, with a password in the URL if any. Sentinel and Cluster are out of scope.
The URL carries the password, so it is never logged, put in an error or shown in a repr.

Recovery: commands are not retried (a retried INCR or SET NX could apply twice); a broken
connection is dropped from the pool, and the next command opens a fresh one, so the store
works again as soon as Redis answers, without a gate restart.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import cast
from urllib.parse import urlsplit

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from mcp_gate.config.model import RedisConfig
from mcp_gate.errors import StorageUnavailableError
from mcp_gate.store.protocols import verify_kind, verify_ttl

KEY_SCHEMA_VERSION = "v1"
DEFAULT_KEY_PREFIX = "mcp-gate:"
# A down or unroutable Redis must turn into a 503 fast, not hold requests for the OS default.
REDIS_CONNECT_TIMEOUT_SECONDS = 1.0
# Every command here is O(1); an answer slower than this means Redis is in trouble.
REDIS_COMMAND_TIMEOUT_SECONDS = 2.0
# policy: a bounded pool; under a burst, requests queue this long for a connection.
REDIS_MAX_CONNECTIONS = 64
REDIS_POOL_WAIT_SECONDS = 2.0

# Compare and delete in one step: release a lock only if it still holds our value.
_DELETE_IF_EQUAL = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

# Count in a window: the first increment (or a counter without expiry) starts the window.
_INCR_IN_WINDOW = """
local count = redis.call('INCR', KEYS[1])
if redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return count
"""


def describe_url(url: str) -> str:
    """The URL without credentials or query, safe for logs: `redis://host:6379/0`."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def _milliseconds(ttl_seconds: float) -> int:
    return max(1, math.ceil(ttl_seconds * 1000))


@contextmanager
def _unavailable_on_error() -> Iterator[None]:
    # policy: every Redis failure, including OOM / READONLY / MISCONF replies, fails closed.
    try:
        yield
    except (RedisError, OSError) as exc:
        raise StorageUnavailableError(f"redis: {type(exc).__name__}: {exc}") from exc


class RedisStore:
    """`Store` on Redis. Build with `RedisStore(url, key_prefix=...)` or `from_config`."""

    def __init__(
        self,
        url: str,
        *,
        key_prefix: str = DEFAULT_KEY_PREFIX,
        connect_timeout_seconds: float = REDIS_CONNECT_TIMEOUT_SECONDS,
        command_timeout_seconds: float = REDIS_COMMAND_TIMEOUT_SECONDS,
        max_connections: int = REDIS_MAX_CONNECTIONS,
    ) -> None:
        self._where = describe_url(url)
        self._prefix = f"{key_prefix}{KEY_SCHEMA_VERSION}:"
        pool = BlockingConnectionPool.from_url(
            url,
            max_connections=max_connections,
            timeout=REDIS_POOL_WAIT_SECONDS,
            socket_connect_timeout=connect_timeout_seconds,
            socket_timeout=command_timeout_seconds,
            retry=Retry(NoBackoff(), 0),
            client_name="mcp-gate",
        )
        self._redis = Redis.from_pool(pool)
        self._delete_if_equal = self._redis.register_script(_DELETE_IF_EQUAL)
        self._incr_in_window = self._redis.register_script(_INCR_IN_WINDOW)

    @classmethod
    def from_config(cls, config: RedisConfig) -> RedisStore:
        return cls(config.url.reveal(), key_prefix=config.key_prefix)

    def __repr__(self) -> str:
        return f"RedisStore({self._where!r}, key_prefix={self._prefix!r})"

    def _key(self, kind: str, key: str) -> str:
        verify_kind(kind)
        return f"{self._prefix}{kind}:{key}"

    async def get(self, kind: str, key: str) -> bytes | None:
        with _unavailable_on_error():
            return cast(bytes | None, await self._redis.get(self._key(kind, key)))

    async def put(
        self, kind: str, key: str, value: bytes, *, ttl_seconds: float | None = None
    ) -> None:
        verify_ttl(ttl_seconds)
        px = None if ttl_seconds is None else _milliseconds(ttl_seconds)
        with _unavailable_on_error():
            await self._redis.set(self._key(kind, key), value, px=px)

    async def put_new(self, kind: str, key: str, value: bytes, *, ttl_seconds: float) -> bool:
        verify_ttl(ttl_seconds)
        with _unavailable_on_error():
            written = await self._redis.set(
                self._key(kind, key), value, px=_milliseconds(ttl_seconds), nx=True
            )
        return bool(written)

    async def take(self, kind: str, key: str) -> bytes | None:
        with _unavailable_on_error():
            return cast(bytes | None, await self._redis.getdel(self._key(kind, key)))

    async def delete(self, kind: str, key: str) -> None:
        with _unavailable_on_error():
            await self._redis.delete(self._key(kind, key))

    async def delete_if_equal(self, kind: str, key: str, value: bytes) -> bool:
        with _unavailable_on_error():
            deleted = await self._delete_if_equal(keys=[self._key(kind, key)], args=[value])
        return bool(deleted)

    async def incr(self, kind: str, key: str, *, ttl_seconds: float) -> int:
        verify_ttl(ttl_seconds)
        with _unavailable_on_error():
            count = await self._incr_in_window(
                keys=[self._key(kind, key)], args=[_milliseconds(ttl_seconds)]
            )
        return int(count)

    async def ttl(self, kind: str, key: str) -> float | None:
        with _unavailable_on_error():
            milliseconds = await self._redis.pttl(self._key(kind, key))
        return None if milliseconds < 0 else milliseconds / 1000  # -2 absent, -1 no expiry

    async def ping(self) -> None:
        with _unavailable_on_error():
            await self._redis.ping()

    async def close(self) -> None:
        with _unavailable_on_error():
            await self._redis.aclose()
