"""Streamed bodies: bounded memory for a slow reader, and an early close that reaches upstream.

MCP 2026-07-28 streamable HTTP: a client closing its stream is cancellation, so when the
gate's client goes away the backend must see its request's connection close at once; a
connection mid-body is never reused. A raw server stands in for the backend where the test
needs to see, on the server side, the moment the client closed.
"""

from __future__ import annotations

import asyncio
import gc

from mcp_gate.http1 import Client, PoolSettings, Response
from tests.http1.conftest import BODY_TIMEOUT_SECONDS, MAX_BODY_BYTES, TEST_TIMEOUTS
from tests.http1.raw_server import RawPeer, RawServer, answer_every_request, raw_server
from tests.http1.shapes_server import pattern

WAIT_SECONDS = 5.0
HIGH_WATER_BYTES = 256 * 1024
SOCKET_READ_BYTES = 256 * 1024  # the most one read of asyncio or uvloop hands a protocol
STREAM_BYTES = 64 * 1024 * 1024  # more than loopback socket buffers can hold


def first_stream_then_answer(server_closed: asyncio.Event):
    """Connection 0 sends part of a long body and waits for the client to close; others 200."""

    async def script(peer: RawPeer) -> None:
        if peer.index > 0:
            await answer_every_request(peer)
        elif await peer.read_request() is not None:
            await peer.send(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n")
            await peer.send(b"data: 1\n\n")
            await peer.wait_for_client_close()
            server_closed.set()

    return script


async def _first_chunk(http: Client, server: RawServer) -> Response:
    response = await http.request("GET", server.url("/stream"))
    assert await asyncio.wait_for(anext(response), WAIT_SECONDS) == b"data: 1\n\n"
    return response


async def _reused_after(http: Client, server: RawServer) -> None:
    response = await http.request("GET", server.url("/next"))
    assert await response.read(max_bytes=1024, timeout_seconds=BODY_TIMEOUT_SECONDS) == b"ok"
    assert server.connections == 2  # the interrupted connection was not reused


async def test_closing_a_response_mid_body_closes_its_upstream_connection(http: Client):
    """MCP 2026-07-28 (closing the stream cancels): close() ends the upstream request now."""
    server_closed = asyncio.Event()
    async with raw_server(first_stream_then_answer(server_closed)) as server:
        response = await _first_chunk(http, server)
        response.close()
        await asyncio.wait_for(server_closed.wait(), WAIT_SECONDS)
        await _reused_after(http, server)


async def test_cancelled_reader_closes_its_upstream_connection(http: Client):
    """MCP 2026-07-28: a handler cancelled mid-stream (its client left) cancels upstream too."""
    server_closed = asyncio.Event()
    reading = asyncio.Event()

    async def relay(server: RawServer) -> None:
        async with await http.request("GET", server.url("/stream")) as response:
            async for _ in response:
                reading.set()

    async with raw_server(first_stream_then_answer(server_closed)) as server:
        task = asyncio.create_task(relay(server))
        await asyncio.wait_for(reading.wait(), WAIT_SECONDS)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await asyncio.wait_for(server_closed.wait(), WAIT_SECONDS)
        await _reused_after(http, server)


async def test_dropped_response_closes_its_upstream_connection(http: Client):
    """Policy (response.py): a response dropped unclosed does not hold its connection."""
    server_closed = asyncio.Event()
    async with raw_server(first_stream_then_answer(server_closed)) as server:
        await _first_chunk(http, server)  # and dropped
        gc.collect()
        await asyncio.wait_for(server_closed.wait(), WAIT_SECONDS)


async def test_request_cancelled_before_the_head_closes_its_connection(http: Client):
    """MCP 2026-07-28: cancelling while the backend works on the request closes it."""
    server_closed = asyncio.Event()

    async def hold(peer: RawPeer) -> None:
        if await peer.read_request() is not None:
            await peer.wait_for_client_close()
            server_closed.set()

    async with raw_server(hold) as server:
        task = asyncio.create_task(http.request("POST", server.url("/mcp"), body=b"{}"))
        await asyncio.wait_for(server.request_arrived.wait(), WAIT_SECONDS)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await asyncio.wait_for(server_closed.wait(), WAIT_SECONDS)


async def test_fully_streamed_response_returns_its_connection_to_the_pool(http: Client):
    """RFC 9112 §9.3: a response read to its end leaves the connection ready for the next."""
    async with raw_server(answer_every_request) as server:
        async with await http.request("GET", server.url("/")) as response:
            assert [chunk async for chunk in response] == [b"ok"]
        again = await http.request("GET", server.url("/"))
        assert await again.read(max_bytes=1024, timeout_seconds=BODY_TIMEOUT_SECONDS) == b"ok"
    assert server.connections == 1


async def test_slow_reader_pauses_the_backend_and_memory_stays_bounded():
    """Policy (body.py): past the high-water mark reading pauses; the body still arrives whole."""

    async def flood(peer: RawPeer) -> None:
        if await peer.read_request() is None:
            return
        await peer.send(f"HTTP/1.1 200 OK\r\nContent-Length: {STREAM_BYTES}\r\n\r\n".encode())
        block = pattern(1024 * 1024)
        for _ in range(STREAM_BYTES // len(block)):
            await peer.send(block)
        await peer.server.release.wait()

    settings = PoolSettings(high_water_bytes=HIGH_WATER_BYTES)
    async with Client(settings, timeouts=TEST_TIMEOUTS) as http, raw_server(flood) as server:
        response = await http.request("GET", server.url("/"))
        async with asyncio.timeout(WAIT_SECONDS):
            # No event says "the transport stopped reading"; this bounded poll watches for it.
            while not response.reading_paused:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        assert response.buffered_bytes <= HIGH_WATER_BYTES + SOCKET_READ_BYTES
        body = await response.read(max_bytes=MAX_BODY_BYTES, timeout_seconds=WAIT_SECONDS * 6)
    assert len(body) == STREAM_BYTES
    assert body[: 1024 * 1024] == pattern(1024 * 1024)
    assert body[-1024 * 1024 :] == pattern(1024 * 1024)
