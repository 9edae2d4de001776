"""Issue 17 §4 and §6: what the gate reads of a backend's message is capped.

`proxy.maxMessageSize` caps one SSE event the gate parses and one non-SSE body it reads.
The hostile backend (tests/servers/hostile_backend.py) sends an event that never ends
(8 KiB every 2 ms, no blank line) on three paths that parse events: the filtered
streamable pass-through, a streamable client bridged to a legacy SSE backend, and the
filtered legacy pass-through. Each stream ends with an error for its own client, another
client's calls go on meanwhile, and the gate's resident memory (a `mcp-gate serve`
process, read from /proc) stays within a few caps however much the backend sent.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest

from tests.fixtures.gate import gate_process, make_config, remote, running_gate
from tests.fixtures.mcp_servers import RunningServer
from tests.fixtures.process_table import resident_kib
from tests.fixtures.proxy_probes import read_event
from tests.fixtures.stdio_backends import ALICE, ALICE_TOKEN, TWO_PRINCIPALS

CAP_BYTES = 1024 * 1024
ROUNDS = 4
# Each round holds three capped events at once, and Python keeps some of what it frees;
# the backend sends 12 MiB over the rounds. (Measured: 1 to 2 MiB of growth.)
RSS_GROWTH_LIMIT_KIB = 8 * 1024
STREAM_END_SECONDS = 30.0
HEADERS = {
    **ALICE,
    "Content-Type": "application/json",
    "Accept": "application/json, text/event-stream",
}
ENDLESS_CALL = {"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {"name": "endless"}}
SAFE_CALL = {"jsonrpc": "2.0", "id": 6, "method": "tools/call", "params": {"name": "safe"}}
INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}


@pytest.fixture(scope="module")
def gate(
    hostile_backend: RunningServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    """A gate process with a 1 MiB cap and the three parsing paths, plus a plain server."""
    filtered = {"toolFilter": {"mode": "block", "list": ["secret_tool"]}}
    auth = [{"type": "bearer", "tokens": [ALICE_TOKEN]}]
    hostile = hostile_backend.url
    document = {
        "proxy": {"maxMessageSize": CAP_BYTES},
        "mcpServers": {
            "events": {
                "transportType": "streamable-http",
                "url": f"{hostile}/mcp?sse=1",
                "options": filtered,
            },
            "bridged": {"transportType": "sse", "url": f"{hostile}/sse?endless=1"},
            "legacy": {
                "transportType": "sse",
                "url": f"{hostile}/sse?endless=1",
                "options": filtered,
            },
            "plain": {"transportType": "streamable-http", "url": f"{hostile}/mcp"},
        },
    }
    for server in document["mcpServers"].values():
        server["serviceAuths"] = auth
    with gate_process(document, tmp_path_factory.mktemp("gate")) as running:
        yield running


async def _post(http: aiohttp.ClientSession, url: str, message: object) -> tuple[int, bytes]:
    async with (
        asyncio.timeout(STREAM_END_SECONDS),
        http.post(url, json=message, headers=HEADERS) as response,
    ):
        return response.status, await response.read()


async def _filtered_passthrough(http: aiohttp.ClientSession, gate: RunningServer) -> dict:
    """The endless answer on the filtered pass-through: the stream ends with an error."""
    status, body = await _post(http, f"{gate.url}/events/mcp", ENDLESS_CALL)
    assert status == 200
    return json.loads(body.decode().split("data: ")[-1])


async def _bridged(http: aiohttp.ClientSession, gate: RunningServer) -> dict:
    """A streamable client on the SSE backend: its session ends, its request gets an error."""
    status, body = await _post(http, f"{gate.url}/bridged/mcp", INITIALIZE)
    assert status == 200
    text = body.decode()
    return json.loads(text.split("data: ")[-1] if "data: " in text else text)


async def _legacy(http: aiohttp.ClientSession, gate: RunningServer) -> str:
    """The filtered legacy pass-through: after the endpoint event, the stream ends."""
    headers = {**ALICE, "Accept": "text/event-stream"}
    async with http.get(f"{gate.url}/legacy/sse", headers=headers) as stream:
        endpoint = await read_event(stream)
        with pytest.raises(EOFError):
            await read_event(stream, STREAM_END_SECONDS)
    return endpoint["event"]


async def _plain_calls(http: aiohttp.ClientSession, gate: RunningServer, count: int) -> list[int]:
    return [(await _post(http, f"{gate.url}/plain/mcp", SAFE_CALL))[0] for _ in range(count)]


async def _endless_bytes(http: aiohttp.ClientSession, hostile: RunningServer) -> int:
    async with http.get(f"{hostile.url}/__calls") as response:
        return (await response.json())["endless_bytes"]


async def test_an_event_without_end_ends_each_stream_with_an_error_and_memory_stays_bounded(
    gate: RunningServer, hostile_backend: RunningServer
) -> None:
    """Issue 17 §4 (policy: `proxy.maxMessageSize`): past the cap, the pass-through's POST
    stream ends with a JSON-RPC error for its request, the bridged session's request gets
    one too, the legacy stream ends; a plain client is served throughout; the gate's RSS
    grows by a bounded amount while the backend sent many caps' worth."""
    async with aiohttp.ClientSession() as http:
        await _plain_calls(http, gate, 3)  # warm: connections, code paths, allocator
        rss_before, sent_before = (
            resident_kib(gate.pid),
            await _endless_bytes(http, hostile_backend),
        )
        for _ in range(ROUNDS):
            passthrough, bridged, legacy, plain = await asyncio.gather(
                _filtered_passthrough(http, gate),
                _bridged(http, gate),
                _legacy(http, gate),
                _plain_calls(http, gate, 5),
            )
            assert passthrough["id"] == 5
            assert (
                passthrough["error"]["message"] == f"backend an SSE event exceeds {CAP_BYTES} bytes"
            )
            assert bridged["id"] == 1
            assert bridged["error"] == {"code": -32000, "message": "backend session closed"}
            assert legacy == "endpoint"
            assert plain == [200] * 5
        rss_after, sent_after = resident_kib(gate.pid), await _endless_bytes(http, hostile_backend)
    assert sent_after - sent_before >= 3 * ROUNDS * CAP_BYTES
    assert rss_after - rss_before <= RSS_GROWTH_LIMIT_KIB


@pytest.fixture
async def small_cap_gate(hostile_backend: RunningServer) -> AsyncIterator[str]:
    """An in-process gate whose cap is 64 KiB: pass-through and bridged, no filter."""
    servers = {
        "go": remote(
            "go", "streamable-http", f"{hostile_backend.url}/mcp", service_auths=TWO_PRINCIPALS
        ),
    }
    async with running_gate(make_config(servers, max_message_bytes=64 * 1024)) as running:
        yield running.base_url


@pytest.mark.parametrize(("size", "status"), [(60 * 1024, 200), (70 * 1024, 502)])
async def test_a_json_body_over_the_cap_is_a_502_on_the_passthrough(
    small_cap_gate: str, size: int, status: int
) -> None:
    """Issue 17 §6 (policy): a non-SSE body is read whole, so it is capped like requests
    are; over the cap the client gets a plain 502, never a JSON-RPC body it could take
    for the backend's."""
    call = {
        "jsonrpc": "2.0",
        "id": 2,
        "method": "tools/call",
        "params": {"name": "big", "arguments": {"size_bytes": size}},
    }
    async with aiohttp.ClientSession() as http:
        got, body = await _post(http, f"{small_cap_gate}/go/mcp", call)
    assert got == status
    if status == 502:
        assert body.startswith(b"502 Bad Gateway: backend 'go' response body over 65536 bytes")


async def test_a_json_body_over_the_cap_is_an_error_for_its_request_on_a_bridged_session(
    small_cap_gate: str,
) -> None:
    """Issue 17 §6: a bridged channel reads at most the cap of a JSON answer; the request
    gets a JSON-RPC error and the session answers the next call."""
    headers = {**ALICE, "Accept": "text/event-stream"}
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{small_cap_gate}/go/sse", headers=headers) as stream,
    ):
        endpoint = small_cap_gate + (await read_event(stream))["data"]
        for message in (
            INITIALIZE,
            {
                "jsonrpc": "2.0",
                "id": 2,
                "method": "tools/call",
                "params": {"name": "big", "arguments": {"size_bytes": 70 * 1024}},
            },
            SAFE_CALL,
        ):
            assert (await _post(http, endpoint, message))[0] == 202
        replies = [json.loads((await read_event(stream))["data"]) for _ in range(3)]
    assert [r["id"] for r in replies] == [1, 2, 6]
    assert replies[1]["error"]["message"] == "backend response body exceeds 65536 bytes"
    assert replies[2]["result"]["content"][0]["text"] == "safe"
