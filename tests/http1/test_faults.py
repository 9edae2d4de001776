"""Broken backends: each failure is a clear 502/504 error for that one request.

Issue 10: "a backend that closes pooled connections, answers with a malformed status line,
or stalls mid-body gets a 502/504 for that request only". A raw server (or, for silence,
`silent_backend`) stands in for the backend: real servers do not misbehave on cue.
"""

from __future__ import annotations

import asyncio

import pytest

from mcp_gate.errors import BackendTimeoutError, BackendUnavailableError
from mcp_gate.http1 import (
    Client,
    MalformedResponseError,
    Response,
    Timeouts,
    UpstreamConnectError,
    UpstreamConnectionLostError,
    UpstreamTimeoutError,
)
from tests.fixtures.ports import free_port
from tests.fixtures.proxy_probes import silent_backend
from tests.http1.conftest import BODY_TIMEOUT_SECONDS, TEST_TIMEOUTS
from tests.http1.raw_server import RawPeer, answer_every_request, raw_server, response

STALL_TIMEOUT_SECONDS = 0.3  # how long a test lets a stalled exchange run before it fails


def _sends(data: bytes, *, then_close: bool = True):
    async def script(peer: RawPeer) -> None:
        if await peer.read_request() is not None:
            await peer.send(data)
            if then_close:
                peer.close()
            else:
                await peer.server.release.wait()

    return script


async def _read(http: Client, url: str) -> bytes:
    answer = await http.request("GET", url)
    return await answer.read(max_bytes=1 << 20, timeout_seconds=BODY_TIMEOUT_SECONDS)


@pytest.mark.parametrize(
    "garbage",
    [
        b"HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n",
        b"HTXP/1.1 200 OK\r\n\r\n",
        b"SSH-2.0-OpenSSH_9.6\r\n",
        b"HTTP/1.1 200 OK\r\nBad Header Line\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        b"HTTP/1.1 200 OK\r\nX-Nul: a\x00b\r\nContent-Length: 0\r\n\r\n",
    ],
    ids=["status-code", "protocol", "not-http", "header-line", "two-lengths", "nul-in-value"],
)
async def test_malformed_response_is_a_502(http: Client, garbage: bytes):
    """RFC 9112 §4, §5, §6.3: a response llhttp refuses is a malformed-response 502."""
    async with raw_server(_sends(garbage, then_close=False)) as server:
        with pytest.raises(MalformedResponseError) as raised:
            await _read(http, server.url("/"))
    assert raised.value.status == 502
    assert "not an HTTP/1.x response" in raised.value.reason


async def test_response_head_over_the_limit_is_malformed(http: Client):
    """Policy (exchange.py): a response head over 64 KiB is refused, not buffered."""
    huge = b"HTTP/1.1 200 OK\r\n" + b"X-Filler: " + b"a" * 70_000 + b"\r\n\r\n"
    async with raw_server(_sends(huge, then_close=False)) as server:
        with pytest.raises(MalformedResponseError, match="over 64 KiB"):
            await _read(http, server.url("/"))


async def test_switching_protocols_is_malformed(http: Client):
    """Policy: the gate never asks for an upgrade, so a 101 cannot be relayed."""
    upgrade = b"HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: h2c\r\n\r\n"
    async with raw_server(_sends(upgrade, then_close=False)) as server:
        with pytest.raises(MalformedResponseError, match="switched protocols"):
            await _read(http, server.url("/"))


async def test_stall_mid_body_times_out_that_request_while_another_succeeds(http: Client):
    """Issue 10: a body that stops mid-way is a 504 for its request; others are unaffected."""

    async def stall_the_first(peer: RawPeer) -> None:
        if peer.index > 0:
            await answer_every_request(peer)
        elif await peer.read_request() is not None:
            await peer.send(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b")
            await peer.server.release.wait()

    async with raw_server(stall_the_first) as server:
        stalled = await http.request("GET", server.url("/stall"))
        reading = asyncio.create_task(
            stalled.read(max_bytes=1024, timeout_seconds=STALL_TIMEOUT_SECONDS)
        )
        assert await _read(http, server.url("/other")) == b"ok"
        with pytest.raises(UpstreamTimeoutError) as raised:
            await reading
    assert (raised.value.phase, raised.value.status) == ("body", 504)
    assert isinstance(raised.value, BackendTimeoutError)
    assert server.connections == 2


async def test_backend_that_never_answers_hits_the_headers_timeout():
    """Policy (the server's `timeout`): no response head in time is a 504."""
    timeouts = Timeouts(connect_seconds=5, headers_seconds=STALL_TIMEOUT_SECONDS)
    async with Client(timeouts=timeouts) as http, silent_backend() as url:
        with pytest.raises(UpstreamTimeoutError) as raised:
            await http.request("POST", f"{url}/mcp", body=b"{}")
    assert (raised.value.phase, raised.value.status) == ("headers", 504)


async def test_per_request_timeouts_override_the_clients(http: Client):
    """Policy: each backend brings its own `timeout`; a request's Timeouts win."""
    quick = Timeouts(connect_seconds=5, headers_seconds=STALL_TIMEOUT_SECONDS)
    async with silent_backend() as url:
        with pytest.raises(UpstreamTimeoutError):
            await http.request("GET", url, timeouts=quick)


@pytest.mark.parametrize(
    "truncated",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
    ],
    ids=["content-length", "chunked"],
)
async def test_connection_lost_mid_body_is_a_502(http: Client, truncated: bytes):
    """RFC 9112 §8: a body cut short by the close is incomplete, never passed off as whole."""
    async with raw_server(_sends(truncated)) as server:
        with pytest.raises(UpstreamConnectionLostError, match="mid-body") as raised:
            await _read(http, server.url("/"))
    assert raised.value.status == 502


async def test_streamed_body_cut_short_raises_after_what_arrived(http: Client):
    """RFC 9112 §8: a streaming reader gets every byte that came, then the error."""
    truncated = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"
    async with raw_server(_sends(truncated)) as server:
        chunks: list[bytes] = []
        async with await http.request("GET", server.url("/")) as answer:
            with pytest.raises(UpstreamConnectionLostError):
                await _collect(answer, chunks)
    assert chunks == [b"hello"]


async def _collect(answer: Response, chunks: list[bytes]) -> None:
    async for chunk in answer:
        chunks.append(chunk)


async def test_connection_refused_is_a_connect_error(http: Client):
    """Design §5 (a backend down means 502 for that server): refused is a connect error."""
    with pytest.raises(UpstreamConnectError, match="refused") as raised:
        await http.request("GET", f"http://127.0.0.1:{free_port()}/", server="notion")
    assert raised.value.server == "notion"
    assert isinstance(raised.value, BackendUnavailableError)


async def test_informational_responses_are_skipped(http: Client):
    """RFC 9110 §15.2: 1xx responses precede the final one, which is what the caller gets."""
    answers = b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" + response(body=b"final")
    async with raw_server(_sends(answers, then_close=False)) as server:
        answer = await http.request("GET", server.url("/"))
        assert answer.status == 200
        assert "Link" not in answer.headers
        body = await answer.read(max_bytes=1024, timeout_seconds=BODY_TIMEOUT_SECONDS)
    assert body == b"final"


async def test_bytes_after_a_complete_response_make_the_connection_unfit(http: Client):
    """RFC 9112 §9.3: bytes answering no request mean the connection is out of step."""

    async def one_and_extra(peer: RawPeer) -> None:
        while await peer.read_request() is not None:
            await peer.send(response(body=b"ok") + b"HTTP/1.1 200 OK\r\n")

    async with raw_server(one_and_extra) as server:
        assert await _read(http, server.url("/")) == b"ok"
        assert await _read(http, server.url("/")) == b"ok"
    assert server.connections == 2


async def test_response_before_the_request_body_was_read_stands(http: Client):
    """RFC 9112 §9.5 (a server may answer early and close): the early answer is returned."""

    async def refuse_early(peer: RawPeer) -> None:
        await peer.reader.readuntil(b"\r\n\r\n")
        await peer.send(response("413 Content Too Large", b"too big", ("Connection: close",)))
        peer.reset()

    async with raw_server(refuse_early) as server:
        answer = await http.request("POST", server.url("/"), body=b"x" * (8 << 20))
        assert answer.status == 413


async def test_timeouts_default_to_the_clients(http: Client):
    """Policy: the test client's own bounds are what a request without Timeouts gets."""
    assert TEST_TIMEOUTS.headers_seconds == 5.0
    async with raw_server(answer_every_request) as server:
        assert await _read(http, server.url("/")) == b"ok"
