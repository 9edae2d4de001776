"""The benchmark's HTTP MCP backend: the echo server (`echo_mcp.py`) over aiohttp.

`python -m bench.backend --port N` serves, on 127.0.0.1:
- streamable HTTP at `/mcp` (MCP 2025-11-25 transports §Streamable HTTP): `initialize`
  mints an `Mcp-Session-Id`; later requests must carry a known one (404 otherwise, 400
  when missing); every answer is a JSON body; notifications get 202; GET gets 405 (no
  standalone stream, which the transport allows); DELETE ends the session.
- legacy HTTP+SSE (MCP 2024-11-05): `GET /sse` opens a stream whose first event,
  `endpoint`, names `/messages?session_id=<hex>`; POSTs there answer 202 and put the
  answer on that stream.
- `GET /stats`: how many legacy streams are open, for the idle-streams scenario.

It runs in its own process and logs nothing per request: it should cost as little as
possible, so that what the benchmark sees is the path in front of it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
from dataclasses import dataclass, field

from aiohttp import web

from bench.echo_mcp import answer

SESSION_HEADER = "Mcp-Session-Id"
_JSON = "application/json"


@dataclass
class EchoBackend:
    sessions: set[str] = field(default_factory=set)
    # legacy session id → the events waiting to go out on its stream
    streams: dict[str, asyncio.Queue[bytes]] = field(default_factory=dict)


BACKEND = web.AppKey("backend", EchoBackend)


def _message_of(body: bytes) -> dict[str, object] | None:
    try:
        message = json.loads(body)
    except ValueError:
        return None
    return message if isinstance(message, dict) else None


async def post_mcp(request: web.Request) -> web.StreamResponse:
    state = request.app[BACKEND]
    message = _message_of(await request.read())
    if message is None:
        return web.Response(status=400, text="one JSON-RPC message per POST")
    session = request.headers.get(SESSION_HEADER)
    if message.get("method") == "initialize":
        session = secrets.token_hex(16)
        state.sessions.add(session)
    elif session is None:
        return web.Response(status=400, text="missing Mcp-Session-Id")
    elif session not in state.sessions:
        return web.Response(status=404, text="unknown session")
    reply = answer(message)
    if reply is None:
        return web.Response(status=202)
    body = json.dumps(reply, separators=(",", ":")).encode()
    return web.Response(body=body, content_type=_JSON, headers={SESSION_HEADER: session})


async def delete_mcp(request: web.Request) -> web.StreamResponse:
    request.app[BACKEND].sessions.discard(request.headers.get(SESSION_HEADER, ""))
    return web.Response(status=200)


async def get_mcp(_: web.Request) -> web.StreamResponse:
    return web.Response(status=405, headers={"Allow": "POST, DELETE"})


async def open_sse(request: web.Request) -> web.StreamResponse:
    state = request.app[BACKEND]
    session = secrets.token_hex(16)
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    state.streams[session] = queue
    try:
        await response.write(f"event: endpoint\ndata: /messages?session_id={session}\n\n".encode())
        while True:
            await response.write(await queue.get())
    finally:
        del state.streams[session]


async def post_message(request: web.Request) -> web.StreamResponse:
    queue = request.app[BACKEND].streams.get(request.query.get("session_id", ""))
    if queue is None:
        return web.Response(status=404, text="unknown session")
    message = _message_of(await request.read())
    if message is None:
        return web.Response(status=400, text="one JSON-RPC message per POST")
    reply = answer(message)
    if reply is not None:
        data = json.dumps(reply, separators=(",", ":"))
        queue.put_nowait(f"event: message\ndata: {data}\n\n".encode())
    return web.Response(status=202, text="Accepted")


async def stats(request: web.Request) -> web.StreamResponse:
    return web.json_response({"sse_streams": len(request.app[BACKEND].streams)})


def build_app() -> web.Application:
    app = web.Application()
    app[BACKEND] = EchoBackend()
    app.router.add_post("/mcp", post_mcp)
    app.router.add_get("/mcp", get_mcp)
    app.router.add_delete("/mcp", delete_mcp)
    app.router.add_get("/sse", open_sse)
    app.router.add_post("/messages", post_message)
    app.router.add_get("/stats", stats)
    return app


async def serve(port: int) -> None:
    # handler_cancellation: a client that leaves ends its stream handler at once.
    runner = web.AppRunner(build_app(), access_log=None, handler_cancellation=True)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port, backlog=4096).start()
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    asyncio.run(serve(parser.parse_args().port))


if __name__ == "__main__":
    main()
