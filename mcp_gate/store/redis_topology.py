"""Connecting to Redis as teams deploy it: one server, a primary behind Sentinel, or a Redis
Cluster; over TLS and with ACL credentials.

Owns turning a `RedisConfig` into a client that connects on demand, with the store's
timeouts and no command retries (a retried INCR or SET NX could apply twice), and a
description of where it points that is safe for logs (never a credential). Knows nothing of
keys or the `Store` contract: `redis.py` does; TLS options belong to `redis_tls.py`. These
three modules are the only code that imports `redis`.

How each topology follows change without a restart:
- standalone: a broken connection leaves the pool; the next command opens a new one.
- Sentinel: every new connection asks the sentinels for the current primary; after a
  failover the connections to the old one break (or answer READONLY, which redis-py turns
  into a broken connection), so commands fail until the sentinels name the new primary,
  then go there.
- Cluster: the slot map is read at the first command (CLUSTER SLOTS); a MOVED or ASK
  redirect is followed (the command was not run), a connection error re-reads the map at
  the next command. All our commands touch one key, so one slot (see docs/redis.md).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from redis.asyncio import ConnectionPool, Redis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.connection import SSLConnection, parse_url
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel, SentinelManagedSSLConnection
from redis.backoff import NoBackoff
from redis.driver_info import DriverInfo

from mcp_gate.config.model import RedisConfig, RedisTls, Secret
from mcp_gate.store.redis_tls import shared_context_connection, ssl_options

CLIENT_NAME = "mcp-gate"  # CLIENT LIST shows whose connections these are
# What redis-py tells the server about itself (CLIENT SETINFO), made once: left to it, every
# new connection reads the package's metadata from disk (~5 ms of event-loop CPU each).
_DRIVER_INFO = DriverInfo()


@dataclass(frozen=True)
class RedisLimits:
    connect_timeout_seconds: float
    command_timeout_seconds: float
    max_connections: int  # per server: one pool, or each cluster node's


@dataclass(frozen=True)
class RedisConnection:
    """The client the store sends commands to, where it points, and how to release it."""

    commands: Redis | RedisCluster
    where: str
    ping: Callable[[], Awaitable[object]]  # readiness: every primary answers
    close: Callable[[], Awaitable[None]]


def describe_url(url: str) -> str:
    """The URL without credentials or query, safe for logs: `redis://host:6379/0`."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def connect_redis(config: RedisConfig, limits: RedisLimits) -> RedisConnection:
    """The client for the configured topology; nothing is connected until the first command."""
    if config.sentinels:
        return _sentinel(config, limits)
    url = config.url.reveal()
    tls = config.tls
    if tls is None and urlsplit(url).scheme == "rediss":
        tls = RedisTls()  # the system's trust store, full verification
    options = _options(config.username, config.password, limits)
    if config.cluster:
        return _cluster(url, tls, options, limits)
    options.update(parse_url(url))  # as redis-py's from_url: the URL's own options win
    if tls is not None:
        options["connection_class"] = shared_context_connection(SSLConnection, tls)
    client = Redis.from_pool(ConnectionPool(max_connections=limits.max_connections, **options))
    return RedisConnection(client, describe_url(url), client.ping, client.aclose)


def _cluster(
    url: str, tls: RedisTls | None, options: dict[str, Any], limits: RedisLimits
) -> RedisConnection:
    if tls is not None:
        options.update(ssl_options(tls))
    cluster = _SlotRoutedCluster.from_url(
        url, max_connections=limits.max_connections, require_full_coverage=True, **options
    )
    if tls is not None:
        # RedisCluster takes no connection class: set it where it makes its nodes.
        connection_class = shared_context_connection(SSLConnection, tls)
        cluster.connection_kwargs["connection_class"] = connection_class
        for node in cluster.nodes_manager.startup_nodes.values():
            node.connection_class = connection_class

    async def ping_primaries() -> None:
        # A plain PING goes to one node; the store needs the primary of every shard.
        await cluster.ping(target_nodes=RedisCluster.PRIMARIES)

    return RedisConnection(cluster, f"cluster {describe_url(url)}", ping_primaries, cluster.aclose)


class _SlotRoutedCluster(RedisCluster):
    """RedisCluster that reads the slot map before its first command (and after each
    reset), not during it: redis-py routes the commands of a client without a map to any
    node, follows their MOVED answers, and after five of them closes every connection,
    the ones of other commands still waiting for their answers too."""

    async def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        await self.initialize()  # returns at once once the map is read
        return await super().execute_command(*args, **kwargs)


def _sentinel(config: RedisConfig, limits: RedisLimits) -> RedisConnection:
    primary = _options(config.username, config.password, limits)
    own = _options(config.sentinel_username, config.sentinel_password, limits)
    if config.tls is not None:
        # One TLS setting for both: a Redis server's TLS covers its sentinel port too.
        primary["connection_class"] = shared_context_connection(
            SentinelManagedSSLConnection, config.tls
        )
        own.update(ssl=True, **ssl_options(config.tls))
    sentinel = Sentinel(list(config.sentinels), sentinel_kwargs=own)
    client = sentinel.master_for(
        config.master_name, max_connections=limits.max_connections, db=config.db, **primary
    )

    async def close() -> None:
        await client.aclose()
        await sentinel.aclose()

    addresses = ",".join(f"{host}:{port}" for host, port in config.sentinels)
    where = f"sentinel {config.master_name} at {addresses}"
    return RedisConnection(client, where, client.ping, close)


def _options(username: str, password: Secret | None, limits: RedisLimits) -> dict[str, Any]:
    options: dict[str, Any] = {
        "socket_connect_timeout": limits.connect_timeout_seconds,
        "socket_timeout": limits.command_timeout_seconds,
        "retry": Retry(NoBackoff(), 0),
        "client_name": CLIENT_NAME,
        "driver_info": _DRIVER_INFO,
        "protocol": 2,  # RESP2: every Redis and managed service speaks it
    }
    if username:
        options["username"] = username
    if password is not None:
        options["password"] = password.reveal()
    return options
