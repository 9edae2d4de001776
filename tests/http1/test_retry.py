"""A backend that closes kept-alive connections: the one retry, only where it is safe.

RFC 9112 §9.3.1: a client must expect a kept-alive connection to close under it. RFC 9110
§9.2.2: idempotent requests may be retried automatically, a proxy MUST NOT retry
non-idempotent ones, and a retry is never retried. A request that never left the gate (its
write failed at once on a reset connection) is sent again whatever its method. A raw server
stands in for the backend: real servers do not close on cue.
"""

from __future__ import annotations

import asyncio

import pytest

from mcp_gate.http1 import Client, Origin, UpstreamConnectionLostError
from tests.http1.conftest import BODY_TIMEOUT_SECONDS
from tests.http1.raw_server import (
    RawPeer,
    RawServer,
    Script,
    answer_every_request,
    raw_server,
    response,
)

WAIT_SECONDS = 5.0


async def _read(http: Client, method: str, url: str, **kw: object) -> bytes:
    answer = await http.request(method, url, **kw)  # type: ignore[arg-type]
    return await answer.read(max_bytes=1024, timeout_seconds=BODY_TIMEOUT_SECONDS)


def _origin(server: RawServer) -> Origin:
    return Origin("http", "127.0.0.1", server.port)


def _retried(http: Client, server: RawServer) -> int:
    pool = http.pool(_origin(server))
    assert pool is not None
    return pool.retried_requests


def answer_once_then_close(sending: bytes = b"") -> Script:
    """Connection 0 answers once, reads the next request, sends `sending` and closes."""

    async def script(peer: RawPeer) -> None:
        if peer.index > 0:
            await answer_every_request(peer)
            return
        if await peer.read_request() is not None:
            await peer.send(response(body=b"first"))
            await peer.read_request()
            if sending:
                await peer.send(sending)
            peer.close()

    return script


drop_the_second_request = answer_once_then_close()


async def test_idle_connection_the_backend_closed_is_never_used(http: Client):
    """RFC 9112 §9.3.1: a connection whose EOF arrived while idle is dropped, not written to."""

    async def close_after_one(peer: RawPeer) -> None:
        if await peer.read_request() is not None:
            await peer.send(response(body=b"first"))
            peer.close()

    async with raw_server(close_after_one) as server:
        assert await _read(http, "POST", server.url("/")) == b"first"
        pool = http.pool(_origin(server))
        assert pool is not None
        (kept,) = pool.connections
        await asyncio.wait_for(kept.closed, WAIT_SECONDS)  # the client saw the backend close
        assert pool.idle_connections == 0
        assert await _read(http, "POST", server.url("/")) == b"first"
    assert _retried(http, server) == 0
    assert [request.connection for request in server.requests] == [0, 1]


async def test_get_met_by_a_close_on_a_reused_connection_is_retried_once(http: Client):
    """RFC 9110 §9.2.2: an idempotent request may be retried after the connection failed."""
    async with raw_server(drop_the_second_request) as server:
        assert await _read(http, "GET", server.url("/")) == b"first"
        assert await _read(http, "GET", server.url("/")) == b"ok"
    assert _retried(http, server) == 1
    assert [request.connection for request in server.requests] == [0, 0, 1]


async def test_post_met_by_a_close_on_a_reused_connection_is_not_retried(http: Client):
    """RFC 9110 §9.2.2: "A proxy MUST NOT automatically retry non-idempotent requests"."""
    async with raw_server(drop_the_second_request) as server:
        assert await _read(http, "POST", server.url("/")) == b"first"
        with pytest.raises(UpstreamConnectionLostError) as raised:
            await _read(http, "POST", server.url("/"), body=b'{"method":"tools/call"}')
    assert raised.value.status == 502
    assert _retried(http, server) == 0
    assert [request.connection for request in server.requests] == [0, 0]
    assert server.connections == 1


async def test_post_the_caller_declares_idempotent_is_retried(http: Client):
    """RFC 9110 §9.2.2: a client that knows a request is idempotent may retry it."""
    async with raw_server(drop_the_second_request) as server:
        assert await _read(http, "POST", server.url("/")) == b"first"
        body = b'{"method":"tools/list"}'
        assert await _read(http, "POST", server.url("/"), body=body, idempotent=True) == b"ok"
    assert [request.connection for request in server.requests] == [0, 0, 1]


async def test_post_whose_write_failed_on_a_reset_connection_is_sent_on_a_fresh_one(
    http: Client,
):
    """RFC 9110 §9.2.2 ("some means to detect that the original request was never applied")."""

    async def answer_then_hold(peer: RawPeer) -> None:
        if peer.index > 0:
            await answer_every_request(peer)
        elif await peer.read_request() is not None:
            await peer.send(response(body=b"first"))
            await peer.server.release.wait()

    async with raw_server(answer_then_hold) as server:
        assert await _read(http, "POST", server.url("/")) == b"first"
        pool = http.pool(_origin(server))
        assert pool is not None
        (kept,) = pool.connections
        server.peers[0].reset()
        await asyncio.sleep(0)  # the backend's socket closes; the client has not looked yet
        assert kept.is_usable()
        assert await _read(http, "POST", server.url("/"), body=b"once") == b"ok"
    assert _retried(http, server) == 1
    assert [(request.connection, request.body) for request in server.requests] == [
        (0, b""),
        (1, b"once"),
    ]


async def test_a_failed_retry_is_not_retried_again(http: Client):
    """RFC 9110 §9.2.2: "A client SHOULD NOT automatically retry a failed automatic retry"."""

    async def drop_everything_after_the_first(peer: RawPeer) -> None:
        if peer.index == 0:
            await drop_the_second_request(peer)
        elif await peer.read_request() is not None:
            peer.close()

    async with raw_server(drop_everything_after_the_first) as server:
        assert await _read(http, "GET", server.url("/")) == b"first"
        with pytest.raises(UpstreamConnectionLostError):
            await _read(http, "GET", server.url("/"))
    assert [request.connection for request in server.requests] == [0, 0, 1]


async def test_close_on_a_fresh_connection_is_not_retried(http: Client):
    """Policy: a new connection that closes unanswered is a failing backend, not a race."""

    async def drop(peer: RawPeer) -> None:
        if await peer.read_request() is not None:
            peer.close()

    async with raw_server(drop) as server:
        with pytest.raises(UpstreamConnectionLostError) as raised:
            await _read(http, "GET", server.url("/"))
    assert raised.value.response_started is False
    assert server.connections == 1


async def test_close_after_part_of_a_response_is_not_retried(http: Client):
    """RFC 9110 §9.2.2: retries are for requests answered with nothing at all."""

    half_an_answer = answer_once_then_close(b"HTTP/1.1 200 OK\r\nContent-Le")
    async with raw_server(half_an_answer) as server:
        assert await _read(http, "GET", server.url("/")) == b"first"
        with pytest.raises(UpstreamConnectionLostError) as raised:
            await _read(http, "GET", server.url("/"))
    assert raised.value.response_started is True
    assert server.connections == 1
