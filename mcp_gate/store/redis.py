"""The Redis store: the `Store` contract on the Redis shared by every gate replica.

Owns the Redis key schema `<keyPrefix>v1:<kind>:<key>` (built here and nowhere else; in
docs/redis.md), the bound on connections in use, and the translation of every Redis
failure into `StorageUnavailableError`. Which servers it talks to, and how (standalone,
Sentinel, Cluster; ACL) belongs to `redis_topology.py`, TLS to `redis_tls.py`: these three
are the only modules that import `redis`.

Needs Redis >= 6.2 (GETDEL). Every command and script touches exactly one key, so in a
Redis Cluster each runs on one hash slot (Redis Cluster specification §Keys distribution
model) without hash tags. The URL and passwords are never logged, put in an error or
shown in a repr.

Recovery: commands are not retried (a retried INCR or SET NX could apply twice); a broken
connection is dropped from the pool, and the next command opens a fresh one (to the
current primary, or the node that now owns the slot), so the store works again as soon as
Redis answers, without a gate restart.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import cast

from redis.exceptions import RedisClusterException, RedisError

from mcp_gate.config.model import RedisConfig
from mcp_gate.errors import StorageUnavailableError
from mcp_gate.store.protocols import verify_kind, verify_ttl
from mcp_gate.store.redis_topology import RedisLimits, connect_redis

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

# A token bucket in one key, "<tokens> <updated at, ms>": refill for the time elapsed
# (never negative: replicas' clocks differ a little), then take one if there is one.
# Returns the wait in ms as a string (Lua numbers become integers in replies), "0" if taken.
_BUCKET_TAKE = """
local capacity = tonumber(ARGV[1])
local refill_ms = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local tokens, updated = capacity, now
local stored = redis.call('GET', KEYS[1])
if stored then
  local space = string.find(stored, ' ', 1, true)
  if space then
    tokens = tonumber(string.sub(stored, 1, space - 1)) or capacity
    updated = tonumber(string.sub(stored, space + 1)) or now
  end
end
local elapsed = math.max(now - updated, 0)
tokens = math.min(capacity, tokens + elapsed * capacity / refill_ms)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = (1 - tokens) * refill_ms / capacity
end
redis.call('SET', KEYS[1], string.format('%.6f %.3f', tokens, math.max(now, updated)),
  'PX', math.ceil(refill_ms) + 1000)
return string.format('%.3f', wait)
"""


# Lease sets are sorted sets: member → deadline (ms on the server's clock, so every replica
# agrees on it). Expired members go first; the key lives as long as its longest lease.
_SERVER_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

_LEASE_ADD = (
    _SERVER_NOW
    + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local limit = tonumber(ARGV[3])
if limit > 0 and not redis.call('ZSCORE', KEYS[1], ARGV[1])
    and redis.call('ZCARD', KEYS[1]) >= limit then
  return 0
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIRE', KEYS[1], math.max(1, tonumber(last[2]) - now))
return 1
"""
)

_LEASE_COUNT = (
    _SERVER_NOW
    + """
return redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')
"""
)


def _milliseconds(ttl_seconds: float) -> int:
    return max(1, math.ceil(ttl_seconds * 1000))


@contextmanager
def _unavailable_on_error() -> Iterator[None]:
    # policy: every Redis failure, including OOM / READONLY / NOPERM replies, fails closed.
    try:
        yield
    except (RedisError, RedisClusterException, OSError) as exc:
        raise StorageUnavailableError(f"redis: {type(exc).__name__}: {exc}") from exc


class RedisStore:
    """`Store` on Redis, as `config` describes it: `RedisStore(config)` or `from_config`."""

    def __init__(
        self,
        config: RedisConfig,
        *,
        connect_timeout_seconds: float = REDIS_CONNECT_TIMEOUT_SECONDS,
        command_timeout_seconds: float = REDIS_COMMAND_TIMEOUT_SECONDS,
        max_connections: int = REDIS_MAX_CONNECTIONS,
    ) -> None:
        limits = RedisLimits(connect_timeout_seconds, command_timeout_seconds, max_connections)
        self._connection = connect_redis(config, limits)
        self._redis = self._connection.commands
        self._prefix = f"{config.key_prefix}{KEY_SCHEMA_VERSION}:"
        # Each call holds one connection at a time, so this bounds every pool (and every
        # cluster node's) to max_connections, and makes a burst wait instead of failing.
        self._slots = asyncio.Semaphore(max_connections)
        self._delete_if_equal = self._redis.register_script(_DELETE_IF_EQUAL)
        self._incr_in_window = self._redis.register_script(_INCR_IN_WINDOW)
        self._take_token = self._redis.register_script(_BUCKET_TAKE)
        self._lease_add = self._redis.register_script(_LEASE_ADD)
        self._lease_count = self._redis.register_script(_LEASE_COUNT)

    @classmethod
    def from_config(cls, config: RedisConfig) -> RedisStore:
        return cls(config)

    def __repr__(self) -> str:
        return f"RedisStore({self._connection.where!r}, key_prefix={self._prefix!r})"

    @asynccontextmanager
    async def _command(self) -> AsyncIterator[None]:
        """Hold a connection slot for one call, and turn any Redis failure into a 503."""
        try:
            wait = REDIS_POOL_WAIT_SECONDS if self._slots.locked() else None
            async with asyncio.timeout(wait):
                await self._slots.acquire()
        except TimeoutError:
            raise StorageUnavailableError(
                f"redis: no connection free within {REDIS_POOL_WAIT_SECONDS} s"
            ) from None
        try:
            with _unavailable_on_error():
                yield
        finally:
            self._slots.release()

    def _key(self, kind: str, key: str) -> str:
        verify_kind(kind)
        return f"{self._prefix}{kind}:{key}"

    async def get(self, kind: str, key: str) -> bytes | None:
        async with self._command():
            return cast(bytes | None, await self._redis.get(self._key(kind, key)))

    async def put(
        self, kind: str, key: str, value: bytes, *, ttl_seconds: float | None = None
    ) -> None:
        verify_ttl(ttl_seconds)
        px = None if ttl_seconds is None else _milliseconds(ttl_seconds)
        async with self._command():
            await self._redis.set(self._key(kind, key), value, px=px)

    async def put_new(self, kind: str, key: str, value: bytes, *, ttl_seconds: float) -> bool:
        verify_ttl(ttl_seconds)
        async with self._command():
            written = await self._redis.set(
                self._key(kind, key), value, px=_milliseconds(ttl_seconds), nx=True
            )
        return bool(written)

    async def take(self, kind: str, key: str) -> bytes | None:
        async with self._command():
            return cast(bytes | None, await self._redis.getdel(self._key(kind, key)))

    async def delete(self, kind: str, key: str) -> None:
        async with self._command():
            await self._redis.delete(self._key(kind, key))

    async def delete_if_equal(self, kind: str, key: str, value: bytes) -> bool:
        async with self._command():
            deleted = await self._delete_if_equal(keys=[self._key(kind, key)], args=[value])
        return bool(deleted)

    async def incr(self, kind: str, key: str, *, ttl_seconds: float) -> int:
        verify_ttl(ttl_seconds)
        async with self._command():
            count = await self._incr_in_window(
                keys=[self._key(kind, key)], args=[_milliseconds(ttl_seconds)]
            )
        return int(count)

    async def take_token(
        self, kind: str, key: str, *, capacity: int, refill_seconds: float, now: float
    ) -> float:
        verify_ttl(refill_seconds)
        args = [capacity, refill_seconds * 1000, now * 1000]
        async with self._command():
            wait_ms = await self._take_token(keys=[self._key(kind, key)], args=args)
        return float(wait_ms) / 1000

    async def ttl(self, kind: str, key: str) -> float | None:
        async with self._command():
            milliseconds = await self._redis.pttl(self._key(kind, key))
        return None if milliseconds < 0 else milliseconds / 1000  # -2 absent, -1 no expiry

    async def lease_add(
        self, kind: str, key: str, member: str, *, ttl_seconds: float, limit: int = 0
    ) -> bool:
        verify_ttl(ttl_seconds)
        async with self._command():
            added = await self._lease_add(
                keys=[self._key(kind, key)], args=[member, _milliseconds(ttl_seconds), limit]
            )
        return bool(added)

    async def lease_remove(self, kind: str, key: str, member: str) -> None:
        async with self._command():
            await self._redis.zrem(self._key(kind, key), member)

    async def lease_count(self, kind: str, key: str) -> int:
        async with self._command():
            count = await self._lease_count(keys=[self._key(kind, key)], args=[])
        return int(count)

    async def ping(self) -> None:
        async with self._command():
            await self._connection.ping()

    async def close(self) -> None:
        with _unavailable_on_error():
            await self._connection.close()
