"""A misbehaving backend on the pass-through: a 502 or 504 for that request only.

Issue 10 (the lean upstream): a backend that closes its kept-alive connections, answers
with a malformed status line, or stalls mid-body fails the request it was serving, with a
plain 502 / 504 naming the server (MCP transports: a backend failure is never dressed as
JSON-RPC), while the gate keeps serving that server's other requests. The backend is a
raw TCP server (tests/http1/raw_server.py) whose every byte the test writes.
"""

from __future__ import annotations

import asyncio

import aiohttp

from tests.fixtures.gate import make_config, remote, running_gate
from tests.http1.raw_server import RawPeer, raw_server, response

CALL = b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"}}'
HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
OK = response(
    body=b'{"jsonrpc":"2.0","id":1,"result":{}}', headers=("Content-Type: application/json",)
)
# The server's `timeout` in these tests: a stalled body fails after it.
TIMEOUT_SECONDS = 0.5


async def _post(gate_url: str) -> tuple[int, str]:
    timeout = aiohttp.ClientTimeout(total=10)
    async with (
        aiohttp.ClientSession(timeout=timeout) as http,
        http.post(gate_url, data=CALL, headers=HEADERS) as answer,
    ):
        return answer.status, await answer.text()


def _gate(url: str):
    server = remote("raw", "streamable-http", url, timeout_seconds=TIMEOUT_SECONDS)
    return running_gate(make_config({"raw": server}))


async def test_malformed_status_line_is_a_502_and_the_next_request_works():
    """RFC 9112 §4: a response llhttp refuses is a 502 for its request only."""

    async def garbage_then_fine(peer: RawPeer) -> None:
        if await peer.read_request() is None:
            return
        if peer.index == 0:
            await peer.send(b"HTTP/1.1 2x0 Nope\r\n\r\n")
            peer.close()
            return
        await peer.send(OK)
        while await peer.read_request() is not None:
            await peer.send(OK)

    async with raw_server(garbage_then_fine) as backend, _gate(backend.url("/mcp")) as gate:
        first = await _post(gate.url("/raw/mcp"))
        second = await _post(gate.url("/raw/mcp"))
    assert first[0] == 502
    assert first[1].startswith("502 Bad Gateway: backend 'raw'")
    assert second[0] == 200


async def test_backend_closing_its_kept_alive_connections_costs_no_request():
    """RFC 9112 §9.3.1: a kept-alive connection the backend closed while idle is never
    used again; every request of a client that pauses between them still succeeds."""

    async def one_answer_then_close(peer: RawPeer) -> None:
        if await peer.read_request() is not None:
            await peer.send(OK)
        peer.close()

    async with raw_server(one_answer_then_close) as backend, _gate(backend.url("/mcp")) as gate:
        statuses = []
        for _ in range(5):
            statuses.append((await _post(gate.url("/raw/mcp")))[0])

    assert statuses == [200] * 5
    assert backend.connections == 5


async def test_body_that_stalls_is_a_504_while_another_request_succeeds():
    """The server's `timeout` bounds a JSON body: a stall is a 504 for that request only."""

    async def stall_the_first(peer: RawPeer) -> None:
        if await peer.read_request() is None:
            return
        if peer.index == 0:
            await peer.send(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b'Content-Length: 100\r\n\r\n{"jsonrpc"'
            )
            await peer.server.release.wait()
            return
        await peer.send(OK)
        while await peer.read_request() is not None:
            await peer.send(OK)

    async with raw_server(stall_the_first) as backend, _gate(backend.url("/mcp")) as gate:
        stalled = asyncio.create_task(_post(gate.url("/raw/mcp")))
        async with asyncio.timeout(5):
            await backend.request_arrived.wait()
        other = await _post(gate.url("/raw/mcp"))
        stalled_status, stalled_text = await stalled
        backend.release.set()
    assert other[0] == 200
    assert stalled_status == 504
    assert stalled_text.startswith("504 Gateway Timeout: backend 'raw'")
