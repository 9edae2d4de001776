"""An HTTP/1.1 client for the gate's pass-through to backends (issue 10, "a lean upstream").

Pooled keep-alive connections per origin on `asyncio.Protocol` and `httptools` (llhttp),
TLS through `ssl`, bodies streamed as they arrive with backpressure, and errors on the
gate's `BackendError` tree. The aiohttp client stays where it is the right tool (IdP, CIMD,
service OAuth); this one carries the bytes of MCP requests and their responses.

    async with Client(PoolSettings(), timeouts=Timeouts(connect_seconds=5)) as http:
        async with await http.request("POST", url, headers=pairs, body=data) as response:
            async for chunk in response:
                ...

Modules: `target` (URL → origin, request target, Host), `request` (the request head),
`connection` (one connection, its parser), `exchange` (one response head, its framing),
`body` (one body, backpressure), `response`, `pool` (one origin's connections), `client`
(origin → pool, the one retry), `errors`.
"""

from mcp_gate.http1.client import IDEMPOTENT_METHODS, Client, Timeouts
from mcp_gate.http1.errors import (
    MalformedResponseError,
    ResponseTooLargeError,
    UpstreamConnectError,
    UpstreamConnectionLostError,
    UpstreamTimeoutError,
)
from mcp_gate.http1.pool import OriginPool, PoolSettings
from mcp_gate.http1.request import Headers
from mcp_gate.http1.response import Response
from mcp_gate.http1.target import Origin, parse_url

__all__ = [
    "IDEMPOTENT_METHODS",
    "Client",
    "Headers",
    "MalformedResponseError",
    "Origin",
    "OriginPool",
    "PoolSettings",
    "Response",
    "ResponseTooLargeError",
    "Timeouts",
    "UpstreamConnectError",
    "UpstreamConnectionLostError",
    "UpstreamTimeoutError",
    "parse_url",
]
