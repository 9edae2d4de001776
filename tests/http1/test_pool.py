"""Keep-alive connections per origin: reused, bounded, closed when idle or when told to.

Connections are counted on the server side: the aiohttp shapes server records each
request's client port, the raw server counts accepted connections.
"""

from __future__ import annotations

import asyncio

import pytest

from mcp_gate.http1 import (
    Client,
    PoolSettings,
    Timeouts,
    UpstreamConnectionLostError,
    UpstreamTimeoutError,
)
from tests.http1.conftest import BODY_TIMEOUT_SECONDS, TEST_TIMEOUTS, ShapesServer
from tests.http1.raw_server import RawPeer, answer_every_request, raw_server, response

CLOSE_WAIT_SECONDS = 5.0  # longest a test waits to see the client close a connection


async def _get(http: Client, url: str) -> bytes:
    response = await http.request("GET", url)
    return await response.read(max_bytes=1 << 20, timeout_seconds=BODY_TIMEOUT_SECONDS)


async def test_sequential_requests_share_one_connection(http: Client, shapes: ShapesServer):
    """RFC 9112 §9.3: HTTP/1.1 connections persist; ten requests in a row use one."""
    for _ in range(10):
        await _get(http, shapes.url("/json"))
    assert len(shapes.state.peer_ports) == 10
    assert shapes.state.connections == 1


async def test_concurrent_requests_use_a_connection_each_and_reuse_them(
    http: Client, shapes: ShapesServer
):
    """RFC 9112 §9.3.2 (no pipelining): 8 at once take 8 connections; the next 8 reuse them."""
    for _ in range(2):
        await asyncio.gather(*(_get(http, shapes.url("/json")) for _ in range(8)))
    assert len(shapes.state.peer_ports) == 16
    assert shapes.state.connections == 8


async def test_response_with_connection_close_is_not_reused(http: Client, shapes: ShapesServer):
    """RFC 9112 §9.6: after `Connection: close` the next request opens a new connection."""
    assert await _get(http, shapes.url("/close")) == b"last one"
    await _get(http, shapes.url("/json"))
    assert shapes.state.connections == 2


async def test_http10_body_delimited_by_close_is_read_to_the_end(http: Client):
    """RFC 9112 §6.3 (8), §9.3: an HTTP/1.0 body without length ends at EOF; never reused."""

    async def http10(peer: RawPeer) -> None:
        if await peer.read_request() is not None:
            await peer.send(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end")
            peer.close()

    async with raw_server(http10) as server:
        first = await http.request("GET", server.url("/"))
        assert (first.version, first.content_length) == ("1.0", None)
        body = await first.read(max_bytes=1024, timeout_seconds=BODY_TIMEOUT_SECONDS)
        assert body == b"until the end"
        assert await _get(http, server.url("/")) == b"until the end"
    assert server.connections == 2


async def test_idle_connection_is_closed_after_the_idle_timeout():
    """Policy (pool.py): an unused connection is closed after `idle_timeout_seconds`."""
    closed = asyncio.Event()

    async def observe(peer: RawPeer) -> None:
        await answer_every_request(peer)  # returns when the client closes the connection
        closed.set()

    settings = PoolSettings(idle_timeout_seconds=0.2)
    async with Client(settings, timeouts=TEST_TIMEOUTS) as http, raw_server(observe) as server:
        await _get(http, server.url("/"))
        await asyncio.wait_for(closed.wait(), CLOSE_WAIT_SECONDS)
        await _get(http, server.url("/"))
    assert server.connections == 2


async def test_keep_alive_timeout_hint_closes_the_connection_before_the_backend_would(
    http: Client,
):
    """Policy (pool.py): `Keep-Alive: timeout=1` (Node.js sends 5) is honoured with 1 s to spare."""

    async def hinted(peer: RawPeer) -> None:
        while await peer.read_request() is not None:
            await peer.send(response(headers=("Keep-Alive: timeout=1",)))

    async with raw_server(hinted) as server:
        await _get(http, server.url("/"))
        await _get(http, server.url("/"))
    assert server.connections == 2


async def test_max_connections_makes_extra_requests_wait_for_a_free_one():
    """Policy: with `max_connections=2`, 6 concurrent requests share 2 connections."""
    settings = PoolSettings(max_connections=2)
    async with (
        Client(settings, timeouts=TEST_TIMEOUTS) as http,
        raw_server(answer_every_request) as server,
    ):
        bodies = await asyncio.gather(*(_get(http, server.url("/")) for _ in range(6)))
    assert bodies == [b"ok"] * 6
    assert server.connections == 2


async def test_waiting_for_a_busy_pool_is_bounded_by_the_connect_timeout():
    """Policy: a request that finds every allowed connection busy fails as a 504 in time."""

    async def hold(peer: RawPeer) -> None:
        if await peer.read_request() is not None:
            await peer.server.release.wait()

    settings = PoolSettings(max_connections=1)
    timeouts = Timeouts(connect_seconds=0.2, headers_seconds=None)
    async with Client(settings, timeouts=timeouts) as http, raw_server(hold) as server:
        busy = asyncio.create_task(http.request("GET", server.url("/")))
        await asyncio.wait_for(server.request_arrived.wait(), CLOSE_WAIT_SECONDS)
        with pytest.raises(UpstreamTimeoutError) as raised:
            await http.request("GET", server.url("/"))
        busy.cancel()
        await asyncio.gather(busy, return_exceptions=True)
    assert (raised.value.phase, raised.value.status) == ("pool", 504)


async def test_idle_connections_beyond_max_idle_are_closed():
    """Policy: at most `max_idle` connections are kept; 4 at once leave 2 for reuse."""
    settings = PoolSettings(max_idle=2)
    async with (
        Client(settings, timeouts=TEST_TIMEOUTS) as http,
        raw_server(answer_every_request) as server,
    ):
        await asyncio.gather(*(_get(http, server.url("/")) for _ in range(4)))
        await asyncio.gather(*(_get(http, server.url("/")) for _ in range(4)))
    assert server.connections == 6


async def test_closing_the_client_closes_every_connection_idle_or_busy():
    """Policy (cleanup): `close()` leaves no socket open, mid-response ones included."""
    closed: list[int] = []

    async def answer_or_hold(peer: RawPeer) -> None:
        while (request := await peer.read_request()) is not None:
            if request.request_line.startswith("GET /hold"):
                await peer.send(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf")
                await peer.wait_for_client_close()
                break
            await peer.send(response())
        closed.append(peer.index)
        if len(closed) == 2:
            all_closed.set()

    all_closed = asyncio.Event()
    http = Client(timeouts=TEST_TIMEOUTS)
    async with raw_server(answer_or_hold) as server:
        await asyncio.gather(_get(http, server.url("/")), _get(http, server.url("/")))
        held = await http.request("GET", server.url("/hold"))  # one busy, one idle
        await http.close()
        await asyncio.wait_for(all_closed.wait(), CLOSE_WAIT_SECONDS)
        with pytest.raises(UpstreamConnectionLostError):
            await held.read(max_bytes=1024, timeout_seconds=BODY_TIMEOUT_SECONDS)
        with pytest.raises(RuntimeError, match="closed"):
            await http.request("GET", server.url("/"))
    assert sorted(closed) == [0, 1]
