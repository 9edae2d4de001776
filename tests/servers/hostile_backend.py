"""A hostile MCP backend, written for the gate's tests: it reads JSON the way Go does, and
misbehaves on request.

Run: `python tests/servers/hostile_backend.py --port N [--redirect-to URL]` (HTTP), or
`python tests/servers/hostile_backend.py --transport stdio --record FILE` (one session on
stdin/stdout; every tool that runs is appended to FILE, one name a line).

**Reading JSON like Go's `encoding/json`** (the parser of mcp-go and of the Go SDK before
v1.3.1, the differential of GHSA-wvj2-96wp-fq3f): a struct field matches an object key
exactly or case-insensitively under Go's folding (ASCII case, `\u017f` → `S`, `\u212a` →
`K`), and when several keys match one field the last one wins. So `{"name":"safe",
"Name":"secret_tool"}` calls `secret_tool` here. Messages are read field by field: the
message's `method`, `id`, `params`, then `params.name` and `params.arguments`. A batch
array is answered message by message. Invalid UTF-8 becomes U+FFFD, as in Go. No real Go
program can run in the test environment; this one speaks the documented behaviour.

Tools (`tools/list` lists the first two): `safe` and `secret_tool` (each returns its name;
a test blocks `secret_tool` at the gate and then asserts it never ran), `huge_number` (a
result holding an integer of 5,000 digits), `big(size_bytes)` (a text of that size),
`endless` (an answer that never ends: on an SSE reply, one event that grows by 8 KiB every
2 ms and never gets its blank line). `x/tools` answers with a `tools` list too (a result
that is not a `tools/list` answer).

HTTP endpoints:
- `POST /mcp`: streamable HTTP; `initialize` mints an `Mcp-Session-Id` (never checked).
  Answers are JSON, or SSE when the URL has `?sse=1` (`&cut=1`: the answer's event ends
  with the stream, without its blank line).
- `GET /mcp`: with `Last-Event-ID`, a resumed stream replaying one `tools/list` answer
  (all tools) as event 2, then the end; with `--redirect-to`, a 302 there; else 405.
- `GET /sse`: legacy HTTP+SSE; the `endpoint` event names `/message/<session>?v=1` (the
  same query for every stream); `?endless=1` follows it with an event that never ends;
  `?endpoint=URL` names URL instead.
- `POST /message/<session>`: 202, the answer rides that session's stream; with
  `--redirect-to`, a 307 there instead.
- `GET /__calls`: `{"calls": [tool names that ran, in order], "endless_bytes": n}` (how
  many bytes of never-ending events went out).

It must not know anything about the gate; tests own its lifecycle.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

SECRET_TOOL = "secret_tool"
TOOLS = [
    {"name": name, "description": f"The {name} tool.", "inputSchema": {"type": "object"}}
    for name in ("safe", SECRET_TOOL)
]
HUGE_DIGITS = 5000
ENDLESS_CHUNK = b"x" * 8192
ENDLESS_PAUSE_SECONDS = 0.002
SESSION_HEADER = "Mcp-Session-Id"

_GO_SPECIAL_FOLDS = {"\u017f": "S", "\u212a": "K"}


def go_fold(key: str) -> str:
    """Go's `foldName`: ASCII upper case, and each rune to the smallest of its fold orbit."""
    folded = []
    for char in key:
        if char.isascii():
            folded.append(char.upper())
        else:
            folded.append(_GO_SPECIAL_FOLDS.get(char, min(char, char.upper(), char.lower())))
    return "".join(folded)


class GoObject:
    """A decoded JSON object, read as Go reads it into a struct."""

    def __init__(self, pairs: list[tuple[str, Any]]) -> None:
        self.pairs = pairs

    def field(self, name: str) -> Any:
        value = None
        for key, item in self.pairs:
            if key == name or go_fold(key) == go_fold(name):
                value = item  # the last matching key wins
        return value


def decode_like_go(body: bytes) -> Any:
    return json.loads(body.decode("utf-8", errors="replace"), object_pairs_hook=GoObject)


@dataclass
class Backend:
    redirect_to: str | None = None
    record: Path | None = None
    calls: list[str] = field(default_factory=list)
    endless_bytes: int = 0
    streams: dict[str, asyncio.Queue[bytes]] = field(default_factory=dict)

    def ran(self, tool: str) -> None:
        self.calls.append(tool)
        if self.record is not None:
            with self.record.open("a") as out:
                out.write(tool + "\n")

    def answer(self, message: Any) -> bytes | None:
        """The JSON text of the answer to one message (None for a notification)."""
        if not isinstance(message, GoObject):
            return None
        method, request_id = message.field("method"), message.field("id")
        if method is None or request_id is None:
            return None
        params = message.field("params")
        if method == "tools/call" and isinstance(params, GoObject):
            name = params.field("name")
            self.ran(str(name))
            if name == "huge_number":
                return _response(request_id, '{"content":[],"n":' + "9" * HUGE_DIGITS + "}")
            if name == "big":
                arguments = params.field("arguments")
                size = arguments.field("size_bytes") if isinstance(arguments, GoObject) else 0
                return _response(request_id, json.dumps(_text_result("y" * int(size or 0))))
            return _response(request_id, json.dumps(_text_result(str(name))))
        if method in ("tools/list", "x/tools"):
            return _response(request_id, json.dumps({"tools": TOOLS}))
        if method == "initialize":
            result = {
                "protocolVersion": "2025-11-25",
                "capabilities": {"tools": {}},
                "serverInfo": {"name": "hostile-backend", "version": "1"},
            }
            return _response(request_id, json.dumps(result))
        return _response(request_id, "{}")

    def answers(self, body: bytes) -> bytes | None:
        decoded = decode_like_go(body)
        if isinstance(decoded, list):
            replies = [a for a in (self.answer(m) for m in decoded) if a is not None]
            return b"[" + b",".join(replies) + b"]" if replies else None
        return self.answer(decoded)


def _response(request_id: Any, result_json: str) -> bytes:
    return f'{{"jsonrpc":"2.0","id":{json.dumps(request_id)},"result":{result_json}}}'.encode()


def _text_result(text: str) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": text}], "isError": False}


def _is_endless(body: bytes) -> bool:
    decoded = decode_like_go(body)
    params = decoded.field("params") if isinstance(decoded, GoObject) else None
    return isinstance(params, GoObject) and params.field("name") == "endless"


BACKEND = web.AppKey("backend", Backend)


async def _endless_event(backend: Backend, response: web.StreamResponse) -> None:
    """One event that grows for ever and never gets its blank line."""
    await response.write(b"event: message\ndata: ")
    while True:
        await response.write(ENDLESS_CHUNK)
        backend.endless_bytes += len(ENDLESS_CHUNK)
        await asyncio.sleep(ENDLESS_PAUSE_SECONDS)  # policy: a slow drip, as the issue's


async def post_mcp(request: web.Request) -> web.StreamResponse:
    backend = request.app[BACKEND]
    body = await request.read()
    headers = {SESSION_HEADER: secrets.token_hex(8)}
    sse = request.query.get("sse") == "1"
    if sse and _is_endless(body):
        backend.ran("endless")
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", **headers})
        await response.prepare(request)
        await _endless_event(backend, response)
    reply = backend.answers(body)
    if reply is None:
        return web.Response(status=202, headers=headers)
    if not sse:
        return web.Response(body=reply, content_type="application/json", headers=headers)
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", **headers})
    await response.prepare(request)
    end = b"" if request.query.get("cut") == "1" else b"\n\n"
    await response.write(b"id: 1\nevent: message\ndata: " + reply + end)
    await response.write_eof()
    return response


async def get_mcp(request: web.Request) -> web.StreamResponse:
    backend = request.app[BACKEND]
    if "Last-Event-ID" in request.headers:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        replay = _response(7, json.dumps({"tools": TOOLS}))
        await response.write(b"id: 2\nevent: message\ndata: " + replay + b"\n\n")
        await response.write_eof()
        return response
    if backend.redirect_to:
        raise web.HTTPFound(backend.redirect_to)
    return web.Response(status=405, headers={"Allow": "POST"})


async def open_sse(request: web.Request) -> web.StreamResponse:
    backend = request.app[BACKEND]
    session = secrets.token_hex(8)
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    backend.streams[session] = queue
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    endpoint = request.query.get("endpoint", f"/message/{session}?v=1")
    try:
        await response.write(f"event: endpoint\ndata: {endpoint}\n\n".encode())
        if request.query.get("endless") == "1":
            await _endless_event(backend, response)
        while True:
            await response.write(await queue.get())
    finally:
        del backend.streams[session]


async def post_message(request: web.Request) -> web.StreamResponse:
    backend = request.app[BACKEND]
    if backend.redirect_to:
        raise web.HTTPTemporaryRedirect(backend.redirect_to)
    queue = backend.streams.get(request.match_info["session"])
    if queue is None:
        return web.Response(status=404, text="unknown session")
    reply = backend.answers(await request.read())
    if reply is not None:
        queue.put_nowait(b"event: message\ndata: " + reply + b"\n\n")
    return web.Response(status=202, text="Accepted")


async def calls(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    return web.json_response({"calls": backend.calls, "endless_bytes": backend.endless_bytes})


def build_app(backend: Backend) -> web.Application:
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app[BACKEND] = backend
    app.router.add_post("/mcp", post_mcp)
    app.router.add_get("/mcp", get_mcp)
    app.router.add_get("/sse", open_sse)
    app.router.add_post("/message/{session}", post_message)
    app.router.add_get("/__calls", calls)
    return app


def serve_stdio(backend: Backend) -> None:
    for line in sys.stdin.buffer:
        if not line.strip():
            continue
        reply = backend.answers(line)
        if reply is not None:
            sys.stdout.buffer.write(reply + b"\n")
            sys.stdout.buffer.flush()


def main() -> None:
    sys.set_int_max_str_digits(0)  # Go reads numbers of any length
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transport", choices=["http", "stdio"], default="http")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--redirect-to", default=None)
    parser.add_argument("--record", type=Path, default=None)
    args = parser.parse_args()
    backend = Backend(redirect_to=args.redirect_to, record=args.record)
    if args.transport == "stdio":
        serve_stdio(backend)
        return
    web.run_app(
        build_app(backend), host=args.host, port=args.port, print=None, handler_cancellation=True
    )


if __name__ == "__main__":
    main()
