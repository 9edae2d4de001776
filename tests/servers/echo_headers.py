"""A plain HTTP server (not MCP) that echoes every request back, started by the test suite.

Run: `python tests/servers/echo_headers.py --port N [--host 127.0.0.1]`.

Any method on any path answers 200 with JSON `{"method", "path", "query", "headers",
"raw_headers", "body"}`: `query` maps each name to its list of values, `headers` maps
lower-cased names to values (repeats joined by ", "), `raw_headers` keeps the received order
and spelling as `[name, value]` pairs. Query knobs, for proving a proxy's forwarding rules:

- `status=N` answers with status N (same JSON body);
- `header=Name:value` (repeatable) adds that response header;
- on a GET whose `Accept` lists `text/event-stream`, the answer is an SSE stream instead:
  one `event: request` carrying the echo JSON, then `events=N` (default 3) `event: tick`
  events, one every `interval_ms` (default 100), numbered by `id:` from Last-Event-ID + 1
  (so a resumed stream continues), each with `data: {"n": <id>}`; `hold=1` keeps the stream
  open afterwards until the client goes away. The paced events let a test tell streaming
  from buffering. `endpoint=URL` first sends a legacy-SSE `event: endpoint` naming URL.

`GET /__echo/streams` is the one reserved path: JSON `{"open": n, "closed": m}` counts SSE
streams, so a test can prove that a client disconnect closed the upstream stream too. With
`?closed_at_least=N` it answers once `closed` reaches N (or after `COUNTS_WAIT_SECONDS`), so
the test waits on an event rather than polling.

It must not know anything about the gate; tests own its lifecycle (tests/fixtures/mcp_servers.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from aiohttp import web

DEFAULT_EVENTS = 3
DEFAULT_INTERVAL_MS = 100
STREAMS_PATH = "/__echo/streams"
COUNTS_WAIT_SECONDS = 10.0  # longest a long-poll of the stream counts is held
STREAM_COUNTS = web.AppKey("stream_counts", dict[str, int])
STREAMS_CHANGED = web.AppKey("streams_changed", asyncio.Condition)


async def _describe(request: web.Request) -> dict[str, Any]:
    body = await request.read()
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return {
        "method": request.method,
        "path": request.path,
        "query": {name: request.query.getall(name) for name in request.query},
        "headers": headers,
        "raw_headers": [
            [name.decode("latin-1"), value.decode("latin-1")] for name, value in request.raw_headers
        ],
        "body": body.decode("utf-8", errors="replace"),
    }


def _extra_headers(request: web.Request) -> dict[str, str]:
    extra: dict[str, str] = {}
    for spec in request.query.getall("header", []):
        name, _, value = spec.partition(":")
        extra[name.strip()] = value.strip()
    return extra


def _sse_event(event: str, data: str, event_id: int | None = None) -> bytes:
    lines = [f"id: {event_id}"] if event_id is not None else []
    lines += [f"event: {event}", f"data: {data}"]
    return ("\n".join(lines) + "\n\n").encode()


async def _stream(request: web.Request, echo: dict[str, Any]) -> web.StreamResponse:
    events = int(request.query.get("events", DEFAULT_EVENTS))
    interval_seconds = int(request.query.get("interval_ms", DEFAULT_INTERVAL_MS)) / 1000
    last_event_id = int(request.headers.get("Last-Event-ID", "0") or 0)
    response = web.StreamResponse(
        status=int(request.query.get("status", 200)),
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            **_extra_headers(request),
        },
    )
    counts = request.app[STREAM_COUNTS]
    counts["open"] += 1
    try:
        await response.prepare(request)
        if "endpoint" in request.query:
            await response.write(_sse_event("endpoint", request.query["endpoint"]))
        await response.write(_sse_event("request", json.dumps(echo)))
        for event_id in range(last_event_id + 1, last_event_id + 1 + events):
            await asyncio.sleep(interval_seconds)  # policy: pacing is what this server is for
            await response.write(_sse_event("tick", json.dumps({"n": event_id}), event_id))
        if request.query.get("hold") == "1":
            await asyncio.Event().wait()  # ends when the client disconnects (handler_cancellation)
        await response.write_eof()
        return response
    finally:
        changed = request.app[STREAMS_CHANGED]
        async with changed:
            counts["open"] -= 1
            counts["closed"] += 1
            changed.notify_all()


async def stream_counts(request: web.Request) -> web.Response:
    counts = request.app[STREAM_COUNTS]
    wanted = int(request.query.get("closed_at_least", 0))
    changed = request.app[STREAMS_CHANGED]
    try:
        async with asyncio.timeout(COUNTS_WAIT_SECONDS), changed:
            await changed.wait_for(lambda: counts["closed"] >= wanted)
    except TimeoutError:
        pass
    return web.json_response(counts)


async def echo(request: web.Request) -> web.StreamResponse:
    description = await _describe(request)
    if request.method == "GET" and "text/event-stream" in request.headers.get("Accept", ""):
        return await _stream(request, description)
    return web.json_response(
        description, status=int(request.query.get("status", 200)), headers=_extra_headers(request)
    )


def build_app() -> web.Application:
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app[STREAM_COUNTS] = {"open": 0, "closed": 0}
    app[STREAMS_CHANGED] = asyncio.Condition()
    app.router.add_get(STREAMS_PATH, stream_counts)
    app.router.add_route("*", "/{tail:.*}", echo)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    web.run_app(build_app(), host=args.host, port=args.port, print=None, handler_cancellation=True)


if __name__ == "__main__":
    main()
