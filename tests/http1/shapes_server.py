"""A real aiohttp server answering in the shapes a backend normally uses, counting connections.

`/json` (any method) echoes the request as JSON; `/repeated` repeats a header; `/chunked`
sends a chunked body; `/sse` sends three SSE events, each only after the test allows it
(`state.next_event`), so a test can prove it read an event before the next one existed;
`/big?bytes=N` sends N bytes with a Content-Length; `POST /digest` answers the SHA-256 of
the body it read; `/redirect` is a 302; `/nocontent` a 204; `/close` answers and closes.
Every request records the client's port, so `state.connections` counts the connections
the client used.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field

from aiohttp import web

SSE_EVENTS = 3


@dataclass
class ShapesState:
    peer_ports: list[int] = field(default_factory=list)
    next_event: asyncio.Event = field(default_factory=asyncio.Event)
    sse_events_sent: int = 0

    @property
    def connections(self) -> int:
        return len(set(self.peer_ports))


STATE = web.AppKey("state", ShapesState)


def pattern(size: int) -> bytes:
    """`size` bytes that differ from one KiB to the next, so a misplaced chunk shows."""
    block = bytes(range(256)) * 4
    return b"".join(block[i % 256 :] + block[: i % 256] for i in range(size // 1024 + 1))[:size]


def _record(request: web.Request) -> None:
    peer = request.transport.get_extra_info("peername") if request.transport else None
    request.app[STATE].peer_ports.append(peer[1] if peer else -1)


async def json_echo(request: web.Request) -> web.Response:
    _record(request)
    body = await request.read()
    return web.json_response(
        {
            "method": request.method,
            "path_qs": request.path_qs,
            "raw_headers": [[k.decode(), v.decode()] for k, v in request.raw_headers],
            "body_bytes": len(body),
        }
    )


async def repeated(request: web.Request) -> web.Response:
    _record(request)
    response = web.Response(text="two of them")
    response.headers.add("X-Repeat", "a")
    response.headers.add("X-Repeat", "b")
    return response


async def chunked(request: web.Request) -> web.StreamResponse:
    _record(request)
    response = web.StreamResponse()  # no Content-Length: aiohttp sends it chunked
    await response.prepare(request)
    for index in range(int(request.query.get("chunks", "10"))):
        await response.write(b"%05d:" % index + b"x" * 994)
    await response.write_eof()
    return response


async def sse(request: web.Request) -> web.StreamResponse:
    _record(request)
    state = request.app[STATE]
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    for index in range(SSE_EVENTS):
        if index:
            await state.next_event.wait()
            state.next_event.clear()
        await response.write(f'id: {index}\nevent: tick\ndata: {{"n": {index}}}\n\n'.encode())
        state.sse_events_sent = index + 1
    await response.write_eof()
    return response


async def big(request: web.Request) -> web.Response:
    _record(request)
    return web.Response(body=pattern(int(request.query["bytes"])))


async def digest(request: web.Request) -> web.Response:
    _record(request)
    body = await request.read()
    return web.json_response({"sha256": hashlib.sha256(body).hexdigest(), "bytes": len(body)})


async def redirect(request: web.Request) -> web.Response:
    _record(request)
    raise web.HTTPFound("/json")


async def no_content(request: web.Request) -> web.Response:
    _record(request)
    return web.Response(status=204)


async def close_after(request: web.Request) -> web.Response:
    _record(request)
    response = web.Response(text="last one")
    response.force_close()
    return response


def build_app() -> web.Application:
    # Large request bodies are part of the shapes under test.
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app[STATE] = ShapesState()
    app.router.add_route("*", "/json", json_echo)
    app.router.add_get("/repeated", repeated)
    app.router.add_get("/chunked", chunked)
    app.router.add_get("/sse", sse)
    app.router.add_get("/big", big)
    app.router.add_post("/digest", digest)
    app.router.add_get("/redirect", redirect)
    app.router.add_get("/nocontent", no_content)
    app.router.add_get("/close", close_after)
    return app
