"""Streams carried on the client's socket once established (mcp_gate/spliced_streams.py),
seen from the client: what the head says, how the body is framed and ends, what happens
to the connection, the backend's request and the access line. Against the gate as `serve`
runs it (its own sites), a real echo backend and real aiohttp clients or raw sockets."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from structlog.testing import capture_logs

from mcp_gate.appkeys import SESSIONS
from tests.fixtures.gate import make_config, remote, running_gate
from tests.fixtures.mcp_clients import sse_client
from tests.fixtures.mcp_servers import (
    RunningServer,
    run_echo_headers_server,
    run_hostile_backend,
)
from tests.fixtures.proxy_probes import read_event

HTTP_TIMEOUT = aiohttp.ClientTimeout(total=20)
ACCEPT_SSE = {"Accept": "text/event-stream"}
# The backend counts as stopped when it sent less than this in a second (it drips 8 KiB
# every 2 ms while it can).
ENDLESS_STILL_BYTES = 64 * 1024
# What the sockets between the backend and the client can hold on loopback (Linux sizes
# TCP buffers up to a few MiB each, four of them here), and the gate's own read-ahead.
STREAM_BUFFERS_BYTES = 48 * 1024 * 1024


@pytest.fixture
def own_echo(server_log_dir: Path) -> Iterator[RunningServer]:
    """An echo server of this test alone, so its stream counts are this test's."""
    with run_echo_headers_server(server_log_dir) as server:
        yield server


async def _stream_counts(http: aiohttp.ClientSession, echo: RunningServer, closed: int) -> dict:
    async with http.get(f"{echo.url}/__echo/streams", params={"closed_at_least": closed}) as r:
        return await r.json()


async def test_a_stream_ends_whole_and_its_connection_with_it(own_echo: RunningServer) -> None:
    """RFC 9112 §9.6: the head says `Connection: close`, every event arrives, the chunked
    body ends with its last chunk (no payload error), and the client's next request, on a
    new connection, is answered."""
    url = f"{own_echo.url}/stream?events=3&interval_ms=50"
    config = make_config({"s": remote("s", "streamable-http", url)})
    async with (
        running_gate(config) as gate,
        aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as http,
    ):
        async with http.get(gate.url("/s/mcp"), headers=ACCEPT_SSE) as stream:
            assert stream.status == 200
            assert stream.headers["Connection"] == "close"
            assert stream.headers["Content-Type"] == "text/event-stream"
            assert stream.headers["X-Content-Type-Options"] == "nosniff"
            body = (await stream.content.read()).decode()
        ticks = [
            json.loads(line[len("data: ") :]) for line in body.splitlines()[3:] if "data" in line
        ]
        assert body.startswith("event: request\n")
        assert ticks == [{"n": 1}, {"n": 2}, {"n": 3}]
        async with http.get(gate.url("/s/mcp"), headers=ACCEPT_SSE) as again:
            assert (await again.content.read()).decode().count("event: tick") == 3


async def test_an_http10_client_gets_the_stream_unchunked(own_echo: RunningServer) -> None:
    """RFC 9112 §6.3 (8): without chunked coding (HTTP/1.0) the body ends when the gate
    closes the connection; the events arrive as the backend sent them."""
    url = f"{own_echo.url}/stream?events=2&interval_ms=50"
    config = make_config({"s": remote("s", "streamable-http", url)})
    async with running_gate(config) as gate:
        reader, writer = await asyncio.open_connection("127.0.0.1", gate.port)
        writer.write(b"GET /s/mcp HTTP/1.0\r\nAccept: text/event-stream\r\n\r\n")
        async with asyncio.timeout(20):
            answer = await reader.read(-1)  # to EOF
        writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 200 ")
    assert b"transfer-encoding" not in head.lower()
    assert body.startswith(b"event: request\n")
    assert body.count(b"event: tick") == 2
    assert body.endswith(b'data: {"n": 2}\n\n')


async def test_a_client_leaving_a_stream_ends_the_backends_and_is_logged_499(
    own_echo: RunningServer,
) -> None:
    """MCP transports: closing the stream is cancellation. The backend's stream closes at
    once, and the stream's one access line, written when it ends, says 499."""
    url = f"{own_echo.url}/stream?events=0&hold=1"
    config = make_config({"held": remote("held", "streamable-http", url)})
    async with (
        running_gate(config) as gate,
        aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as http,
    ):
        with capture_logs() as logs:
            async with http.get(gate.url("/held/mcp"), headers=ACCEPT_SSE) as stream:
                await read_event(stream)
                assert [e for e in logs if e["event"] == "request_finished"] == []
            counts = await _stream_counts(http, own_echo, closed=1)
            for _ in range(100):
                lines = [e for e in logs if e["event"] == "request_finished"]
                if lines:
                    break
                await asyncio.sleep(0.02)
    assert counts["closed"] == 1
    assert [(line["path"], line["status"]) for line in lines] == [("/held/mcp", 499)]


async def test_a_bridged_session_lives_as_long_as_its_spliced_stream(
    py_streamable_server: RunningServer,
) -> None:
    """A legacy SSE client of a bridged server (the official Python SDK's client and
    server): tool calls answered on the stream after it was spliced off; the session ends
    when the client closes its stream, not when the stream's handler returned."""
    config = make_config({"py": remote("py", "streamable-http", py_streamable_server.url)})
    async with running_gate(config) as gate:
        async with sse_client(gate.url("/py/sse")) as client:
            for text in ("one", "two"):
                result = await client.call_tool("echo", {"text": text})
                assert result.content[0].text == text  # type: ignore[union-attr]
            assert len(gate.app[SESSIONS]) == 1
        for _ in range(100):
            if len(gate.app[SESSIONS]) == 0:
                break
            await asyncio.sleep(0.02)
        assert len(gate.app[SESSIONS]) == 0


async def _endless_bytes(http: aiohttp.ClientSession, hostile: RunningServer) -> int:
    async with http.get(f"{hostile.url}/__calls") as response:
        return (await response.json())["endless_bytes"]


async def test_a_client_that_stops_reading_stops_the_backend(server_log_dir: Path) -> None:
    """Flow control holds on a spliced stream: a client that stops reading makes the gate
    stop reading the backend, whose writes then wait (a backend sending 4 MB/s for ever,
    tests/servers/hostile_backend.py `?endless=1`), instead of the gate holding all it
    sends. What is in flight stays within the sockets' buffers."""
    with run_hostile_backend(server_log_dir) as hostile:
        url = f"{hostile.url}/sse?endless=1"
        config = make_config({"legacy": remote("legacy", "sse", url)})
        async with (
            running_gate(config) as gate,
            aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as http,
        ):
            reader, writer = await asyncio.open_connection("127.0.0.1", gate.port)
            writer.write(
                b"GET /legacy/sse HTTP/1.1\r\nHost: gate\r\nAccept: text/event-stream\r\n\r\n"
            )
            head = await reader.readuntil(b"\r\n\r\n")  # and nothing more is read
            assert head.startswith(b"HTTP/1.1 200 ")
            sent = [await _endless_bytes(http, hostile)]
            async with asyncio.timeout(60):
                while len(sent) < 3 or sent[-1] - sent[-3] > ENDLESS_STILL_BYTES:
                    await asyncio.sleep(0.5)
                    sent.append(await _endless_bytes(http, hostile))
            writer.close()
    assert sent[-1] < STREAM_BUFFERS_BYTES
