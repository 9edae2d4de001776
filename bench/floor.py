"""The floor of the gate's architecture: a bare forwarder on the same server and client.

`python -m bench.floor --port N --backend URL` serves `POST /mcp` on 127.0.0.1:N: it reads
the body, sends it to `URL` on the gate's own upstream client (`mcp_gate.http1`, pooled
keep-alive) with the MCP headers, and answers with the backend's status, content type,
session id and body. It runs on aiohttp's server and uvloop, as the gate does, and does
nothing else: no token check, no JSON-RPC parse, no session binding, no log line, no
metrics. Scenario 1 measures it beside the gate, so the table says how much of the gate's
cost is the architecture (two HTTP parses and writes per side in Python) and how much is
the gate's own work. Not a product: it would forward anything for anyone.
"""

from __future__ import annotations

import argparse
import asyncio

from aiohttp import web

from mcp_gate.http1 import Client, Timeouts
from mcp_gate.serve import event_loop_factory

_FORWARDED = frozenset({"accept", "content-type", "mcp-protocol-version", "mcp-session-id"})
_RETURNED = frozenset({"content-type", "mcp-session-id"})
_TIMEOUTS = Timeouts(connect_seconds=10, headers_seconds=10)
_MAX_BODY_BYTES = 1 << 24
CLIENT = web.AppKey("client", Client)


def floor_app(backend_url: str) -> web.Application:
    async def forward(request: web.Request) -> web.Response:
        body = await request.read()
        headers = [(k, v) for k, v in request.headers.items() if k.lower() in _FORWARDED]
        upstream = await request.app[CLIENT].request(
            "POST", backend_url, headers=headers, body=body, timeouts=_TIMEOUTS
        )
        async with upstream:
            data = await upstream.read(max_bytes=_MAX_BODY_BYTES, timeout_seconds=10)
            returned = {k: v for k, v in upstream.headers.items() if k.lower() in _RETURNED}
            return web.Response(status=upstream.status, body=data, headers=returned)

    async def client(app: web.Application):  # type: ignore[no-untyped-def]
        async with Client() as shared:
            app[CLIENT] = shared
            yield

    app = web.Application()
    app.cleanup_ctx.append(client)
    app.router.add_post("/mcp", forward)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.floor", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--backend", required=True, help="the backend's streamable HTTP URL")
    args = parser.parse_args()
    app = floor_app(args.backend)
    factory = event_loop_factory()
    loop = factory() if factory is not None else asyncio.new_event_loop()
    web.run_app(app, host="127.0.0.1", port=args.port, access_log=None, print=None, loop=loop)


if __name__ == "__main__":
    main()
