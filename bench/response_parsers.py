"""The two llhttp bindings at hand, timed on the response the gate relays most.

`python -m bench.response_parsers`: one keep-alive connection's worth of the echo backend's
`tools/call` answer (JSON, Content-Length, an `Mcp-Session-Id`), parsed over and over into
what a relay needs (status, a case-insensitive header multidict, the body bytes):
- `httptools`, as `mcp_gate/http1` drives it (callbacks, `exchange.py`'s CIMultiDict);
- aiohttp's own C parser (`aiohttp._http_parser.HttpResponseParser`), which also builds
  a `StreamReader` for each body, as its client does.
Prints Markdown: microseconds per response, the best of interleaved rounds.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable

import httptools
from aiohttp._http_parser import HttpResponseParser as AiohttpResponseParser
from aiohttp.base_protocol import BaseProtocol
from multidict import CIMultiDict, CIMultiDictProxy

from bench.echo_mcp import answer, echo_call

# The echo backend's own answer to the benchmark's `tools/call`, as backend.py encodes it.
_BODY = json.dumps(answer(echo_call(7)), separators=(",", ":")).encode()
RESPONSE = (
    b"HTTP/1.1 200 OK\r\n"
    b"Content-Type: application/json; charset=utf-8\r\n"
    b"Mcp-Session-Id: 6c0f3f6d2b7e4a6c9d1e2f3a4b5c6d7e\r\n"
    b"Content-Length: %d\r\n"
    b"Date: Wed, 02 Dec 2026 00:00:00 GMT\r\n"
    b"Server: Python/3.11 aiohttp/3.14.5\r\n"
    b"\r\n%s"
) % (len(_BODY), _BODY)
RESPONSES_PER_ROUND = 20_000
ROUNDS = 9


class _HttptoolsRelay:
    """The callbacks `mcp_gate.http1.connection` gives httptools, minus the socket."""

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.raw: list[tuple[bytes, bytes]] = []
        self.chunks: list[bytes] = []
        self.completed = 0

    def on_message_begin(self) -> None:
        self.raw = []
        self.chunks = []

    def on_status(self, reason: bytes) -> None:
        pass

    def on_header(self, name: bytes, value: bytes) -> None:
        self.raw.append((name, value))

    def on_headers_complete(self) -> None:
        headers: CIMultiDict[str] = CIMultiDict(
            (name.decode("ascii", "surrogateescape"), value.decode("utf-8", "surrogateescape"))
            for name, value in self.raw
        )
        self.head = (self.parser.get_status_code(), CIMultiDictProxy(headers))

    def on_body(self, chunk: bytes) -> None:
        self.chunks.append(chunk)

    def on_message_complete(self) -> None:
        self.completed += 1


def _time_httptools(loop: asyncio.AbstractEventLoop) -> float:
    relay = _HttptoolsRelay()
    started = time.perf_counter()
    for _ in range(RESPONSES_PER_ROUND):
        relay.parser.feed_data(RESPONSE)
    elapsed = time.perf_counter() - started
    assert relay.completed == RESPONSES_PER_ROUND
    return elapsed


def _time_aiohttp(loop: asyncio.AbstractEventLoop) -> float:
    parser = AiohttpResponseParser(BaseProtocol(loop), loop, 2**16)
    started = time.perf_counter()
    for _ in range(RESPONSES_PER_ROUND):
        messages, _, _ = parser.feed_data(RESPONSE)
        message, payload = messages[0]
        payload.read_nowait()
    elapsed = time.perf_counter() - started
    assert message.code == 200
    assert message.headers["Content-Length"] == str(len(_BODY))
    return elapsed


def compare_parsers() -> str:
    loop = asyncio.new_event_loop()
    timers: dict[str, Callable[[asyncio.AbstractEventLoop], float]] = {
        f"httptools {httptools.__version__} (mcp_gate/http1)": _time_httptools,
        "aiohttp._http_parser (the aiohttp client's)": _time_aiohttp,
    }
    try:
        best = dict.fromkeys(timers, float("inf"))
        for _ in range(ROUNDS):  # interleaved, so a busy moment hits both alike
            for name, timer in timers.items():
                best[name] = min(best[name], timer(loop))
    finally:
        loop.close()
    rows = [
        f"| {name} | {seconds * 1e6 / RESPONSES_PER_ROUND:.2f} |" for name, seconds in best.items()
    ]
    return (
        f"Parsing one {len(RESPONSE)}-byte JSON response (best of {ROUNDS} rounds of "
        f"{RESPONSES_PER_ROUND:,}):\n\n| parser | µs per response |\n|---|---|\n"
        + "\n".join(rows)
        + "\n"
    )


if __name__ == "__main__":
    print(compare_parsers())
