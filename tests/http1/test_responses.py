"""Responses in the shapes backends send, from a real aiohttp server: whole, chunked, SSE, big.

What a relay needs from each: status, reason and every header as sent (repeats kept, names
case-insensitive), bodies whole under a cap or chunk by chunk as they arrive, and SSE
events with no buffering in between.
"""

from __future__ import annotations

import asyncio
import hashlib
import json

import pytest

from mcp_gate.errors import BackendUnavailableError
from mcp_gate.http1 import Client, ResponseTooLargeError
from tests.http1.conftest import BODY_TIMEOUT_SECONDS, MAX_BODY_BYTES, ShapesServer
from tests.http1.raw_server import RawPeer, raw_server
from tests.http1.shapes_server import SSE_EVENTS, pattern

MIB = 1024 * 1024
EVENT_WAIT_SECONDS = 5.0


async def _json(http: Client, method: str, url: str, **kwargs: object) -> dict:
    response = await http.request(method, url, **kwargs)  # type: ignore[arg-type]
    assert response.status == 200
    return json.loads(await response.read(max_bytes=MAX_BODY_BYTES, timeout_seconds=5))


async def test_json_response_arrives_whole_with_status_reason_and_headers(
    http: Client, shapes: ShapesServer
):
    """RFC 9112 §4, §6.3: status line, header fields and a Content-Length body."""
    response = await http.request("GET", shapes.url("/json?a=1&b=two"))
    assert (response.status, response.reason) == (200, "OK")
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    body = await response.read(max_bytes=4096, timeout_seconds=BODY_TIMEOUT_SECONDS)
    assert response.content_length == len(body)
    assert json.loads(body)["path_qs"] == "/json?a=1&b=two"


async def test_repeated_response_header_is_kept_in_a_case_insensitive_multidict(
    http: Client, shapes: ShapesServer
):
    """RFC 9110 §5.3: a field sent twice is two lines; names compare case-insensitively."""
    response = await http.request("GET", shapes.url("/repeated"))
    assert response.headers.getall("x-repeat") == ["a", "b"]
    assert response.headers.getall("X-REPEAT") == ["a", "b"]
    await response.read(max_bytes=4096, timeout_seconds=BODY_TIMEOUT_SECONDS)


async def test_chunked_body_is_read_whole_and_streamed_in_order(http: Client, shapes: ShapesServer):
    """RFC 9112 §7.1: a chunked body, read whole or chunk by chunk, arrives complete."""
    whole = await http.request("GET", shapes.url("/chunked?chunks=50"))
    assert whole.headers["Transfer-Encoding"] == "chunked"
    expected = b"".join(b"%05d:" % i + b"x" * 994 for i in range(50))
    assert await whole.read(max_bytes=MIB, timeout_seconds=BODY_TIMEOUT_SECONDS) == expected
    async with await http.request("GET", shapes.url("/chunked?chunks=50")) as streamed:
        assert b"".join([chunk async for chunk in streamed]) == expected


async def test_sse_event_arrives_before_the_backend_sends_the_next(
    http: Client, shapes: ShapesServer
):
    """MCP 2025-11-25 transports §Streamable HTTP (SSE streamed without buffering): each event is
    readable as it is sent."""
    async with await http.request(
        "GET", shapes.url("/sse"), headers={"Accept": "text/event-stream"}
    ) as response:
        assert response.headers["Content-Type"] == "text/event-stream"
        received = b""
        for index in range(SSE_EVENTS):
            event = f'id: {index}\nevent: tick\ndata: {{"n": {index}}}\n\n'.encode()
            async with asyncio.timeout(EVENT_WAIT_SECONDS):
                while not received.endswith(event):
                    received += await anext(response)
            # The backend sends the next event only once it is told to, after this read.
            assert shapes.state.sse_events_sent == index + 1
            shapes.state.next_event.set()
        assert [chunk async for chunk in response] == []


async def test_several_mib_go_up_and_come_back_intact(http: Client, shapes: ShapesServer):
    """Policy (large tool results and uploads): 8 MiB each way, byte for byte."""
    upload = pattern(8 * MIB)
    digest = await _json(http, "POST", shapes.url("/digest"), body=upload)
    assert digest == {"sha256": hashlib.sha256(upload).hexdigest(), "bytes": 8 * MIB}
    response = await http.request("GET", shapes.url(f"/big?bytes={8 * MIB}"))
    data = await response.read(max_bytes=MAX_BODY_BYTES, timeout_seconds=BODY_TIMEOUT_SECONDS)
    assert data == pattern(8 * MIB)


async def test_content_length_over_the_cap_is_refused_before_reading(
    http: Client, shapes: ShapesServer
):
    """Policy: a body read whole has a cap; a larger Content-Length fails at once, as a 502."""
    response = await http.request("GET", shapes.url(f"/big?bytes={2 * MIB}"))
    with pytest.raises(ResponseTooLargeError) as raised:
        await response.read(max_bytes=MIB, timeout_seconds=BODY_TIMEOUT_SECONDS)
    assert isinstance(raised.value, BackendUnavailableError)
    assert raised.value.status == 502


async def test_chunked_body_over_the_cap_is_refused(http: Client, shapes: ShapesServer):
    """Policy: a chunked body has no length to check first; it fails once it passes the cap."""
    response = await http.request("GET", shapes.url("/chunked?chunks=100"))
    with pytest.raises(ResponseTooLargeError):
        await response.read(max_bytes=10_000, timeout_seconds=BODY_TIMEOUT_SECONDS)


async def test_redirect_is_returned_not_followed(http: Client, shapes: ShapesServer):
    """Policy (proxy/upstream.py): a 3xx goes back to the caller; nothing follows Location."""
    response = await http.request("GET", shapes.url("/redirect"))
    assert response.status == 302
    assert response.headers["Location"] == "/json"
    await response.read(max_bytes=4096, timeout_seconds=BODY_TIMEOUT_SECONDS)
    assert len(shapes.state.peer_ports) == 1


async def test_head_and_204_responses_have_no_body(http: Client, shapes: ShapesServer):
    """RFC 9110 §9.3.2, §15.3.5: a HEAD response and a 204 end with their head."""
    head = await http.request("HEAD", shapes.url("/json"))
    assert head.status == 200
    assert int(head.headers["Content-Length"]) > 0
    assert await head.read(max_bytes=0, timeout_seconds=BODY_TIMEOUT_SECONDS) == b""
    empty = await http.request("GET", shapes.url("/nocontent"))
    assert empty.status == 204
    assert await empty.read(max_bytes=0, timeout_seconds=BODY_TIMEOUT_SECONDS) == b""


async def test_header_bytes_that_are_not_utf8_come_back_as_the_same_bytes(http: Client):
    """RFC 9110 §5.5 obs-text: a field value may hold any byte above 0x7F. It is decoded as
    the aiohttp client decodes it (UTF-8, surrogateescape), so a relay that encodes it the
    same way sends the backend's bytes on, and the fields around it are not disturbed."""
    values = [b"caf\xc3\xa9", b"\xff\xfe raw", b"ends in a cut \xc3", b"plain"]
    head = b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-%d: %s\r\n" % (i, v) for i, v in enumerate(values))
    async with raw_server(_answers(head + b"Content-Length: 2\r\n\r\nok")) as server:
        answer = await http.request("GET", server.url("/"))
        assert await answer.read(max_bytes=16, timeout_seconds=BODY_TIMEOUT_SECONDS) == b"ok"
    decoded = [answer.headers[f"X-{i}"] for i in range(len(values))]
    assert decoded[0] == "café"
    assert [v.encode("utf-8", "surrogateescape") for v in decoded] == values
    assert list(answer.headers)[: len(values)] == [f"X-{i}" for i in range(len(values))]


def _answers(data: bytes):
    async def script(peer: RawPeer) -> None:
        while await peer.read_request() is not None:
            await peer.send(data)

    return script
