"""TLS to Redis: whom the store trusts, the client certificate it shows, and one SSL context
shared by all the connections of a store.

redis-py makes an SSL context for each new connection, and `ssl.create_default_context()`
reads the system's trust store every time: tens of milliseconds of CPU on the event loop
per connection, seconds when a pool fills up after a start or a failover. Here a store
makes its context once (at its first TLS connection; a CA file that cannot be read fails
that connection, and is read again at the next) and every connection reuses it.

Owns the TLS options of `RedisTls`; knows nothing of topologies (`redis_topology.py`).
"""

from __future__ import annotations

from typing import Any

from redis.asyncio.connection import RedisSSLContext, SSLConnection

from mcp_gate.config.model import RedisTls


def ssl_options(tls: RedisTls) -> dict[str, Any]:
    """redis-py's `ssl_*` options, for clients that make their own context per connection
    (the few connections to sentinels)."""
    return {
        "ssl_ca_certs": tls.ca_file,  # in addition to the system's trust store
        "ssl_certfile": tls.cert_file,
        "ssl_keyfile": tls.key_file,
        "ssl_cert_reqs": "none" if tls.insecure_skip_verify else "required",
        "ssl_check_hostname": not tls.insecure_skip_verify,
    }


def shared_context_connection(base: type[SSLConnection], tls: RedisTls) -> type[SSLConnection]:
    """`base` (redis-py's TLS connection, or Sentinel's) with one SSL context for all."""
    options = ssl_options(tls)
    shared = RedisSSLContext(
        ca_certs=options["ssl_ca_certs"],
        certfile=options["ssl_certfile"],
        keyfile=options["ssl_keyfile"],
        cert_reqs=options["ssl_cert_reqs"],
        check_hostname=options["ssl_check_hostname"],
    )

    class SharedContextConnection(base):  # type: ignore[valid-type,misc]
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.ssl_context = shared

    return SharedContextConnection
