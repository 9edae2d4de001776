"""Issue 17 §1 and §5: the tool filter against a backend that answers to leak or to crash.

The backend is tests/servers/hostile_backend.py: it lists `safe` and `secret_tool` on
`tools/list`, answers `x/tools` with the same list, replays a `tools/list` answer on a
resumed GET stream, and answers `huge_number` with an integer of 5,000 digits (which
Python's json refuses with a ValueError). The gate blocks `secret_tool`: its name must not
reach the client whatever request a list answers, and no backend message may crash a
front (a 500, a dead stream for other requests, a dead session).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest

from mcp_gate.config.model import ServerConfig, ServerOptions
from tests.fixtures.gate import RunningGate, make_config, remote, running_gate
from tests.fixtures.mcp_servers import RunningServer
from tests.fixtures.proxy_probes import read_event
from tests.fixtures.stdio_backends import ALICE, TWO_PRINCIPALS, RawSession, block, raw_http

SECRET = "secret_tool"
# A reply that never comes must not hold a test longer than this.
REPLY_WAIT_SECONDS = 10.0


def _request(method: str, request_id: int, params: dict | None = None) -> dict:
    message: dict = {"jsonrpc": "2.0", "id": request_id, "method": method}
    if params is not None:
        message["params"] = params
    return message


def _call(name: str, request_id: int) -> dict:
    return _request("tools/call", request_id, {"name": name, "arguments": {}})


@asynccontextmanager
async def _gate(hostile: RunningServer) -> AsyncIterator[RunningGate]:
    """`go` (JSON answers), `gosse-answers` (SSE answers) and `gosse` (legacy SSE) on the
    hostile backend, each blocking `secret_tool`."""
    fields: dict = {
        "options": ServerOptions(tool_filter=block(SECRET)),
        "service_auths": TWO_PRINCIPALS,
    }
    servers: dict[str, ServerConfig] = {
        "go": remote("go", "streamable-http", f"{hostile.url}/mcp", **fields),
        "goevents": remote("goevents", "streamable-http", f"{hostile.url}/mcp?sse=1", **fields),
        "gocut": remote("gocut", "streamable-http", f"{hostile.url}/mcp?sse=1&cut=1", **fields),
        "gosse": remote("gosse", "sse", f"{hostile.url}/sse", **fields),
    }
    async with running_gate(make_config(servers)) as gate:
        yield gate


async def _post(http: aiohttp.ClientSession, url: str, message: object, **headers: str):
    all_headers = {
        **ALICE,
        "Content-Type": "application/json",
        "Accept": "application/json, text/event-stream",
        **headers,
    }
    async with http.post(url, data=json.dumps(message), headers=all_headers) as response:
        return response.status, response.content_type, await response.read()


async def test_a_batch_whose_requests_share_an_id_is_refused_and_leaks_nothing(
    hostile_backend: RunningServer,
) -> None:
    """Issue 17 §5 (JSON-RPC 2.0 §6: a batch's answers are told apart by id): 400 -32600,
    the backend never asked, no tool named."""
    batch = [_request("ping", 9), _request("tools/list", 9)]
    async with _gate(hostile_backend) as gate, raw_http() as http:
        status, _, body = await _post(http, gate.url("/go/mcp"), batch)
    assert status == 400
    assert json.loads(body)["error"]["code"] == -32600
    assert b"safe" not in body
    assert SECRET.encode() not in body


@pytest.mark.parametrize("server", ["go", "goevents"], ids=["json", "sse"])
@pytest.mark.parametrize("method", ["tools/list", "x/tools"])
async def test_every_result_holding_a_tool_list_is_filtered(
    hostile_backend: RunningServer, server: str, method: str
) -> None:
    """Issue 17 §5: whatever request a result answers, a `tools` list in it loses the
    blocked tool, in a JSON body and on an SSE reply alike."""
    async with _gate(hostile_backend) as gate, raw_http() as http:
        status, content_type, body = await _post(
            http, gate.url(f"/{server}/mcp"), _request(method, 4)
        )
    assert status == 200
    text = body.decode()
    data = text.split("data: ", 1)[1] if content_type == "text/event-stream" else text
    assert [t["name"] for t in json.loads(data)["result"]["tools"]] == ["safe"]


async def test_an_event_cut_off_by_the_end_of_the_stream_is_not_relayed(
    hostile_backend: RunningServer,
) -> None:
    """Issue 17 §5 (WHATWG HTML §9.2.6: an event without its blank line at the end of the
    stream is discarded): the filter could not read it whole, so it is not relayed raw."""
    async with _gate(hostile_backend) as gate, raw_http() as http:
        status, _, body = await _post(http, gate.url("/gocut/mcp"), _request("tools/list", 4))
    assert status == 200
    assert SECRET.encode() not in body


async def test_a_resumed_stream_replaying_a_tools_list_answer_is_filtered(
    hostile_backend: RunningServer,
) -> None:
    """Issue 17 §5 (MCP transports §Resumability: a GET with Last-Event-ID replays what the
    client missed): the replayed answer is filtered like a live one."""
    headers = {**ALICE, "Accept": "text/event-stream", "Last-Event-ID": "1"}
    async with (
        _gate(hostile_backend) as gate,
        raw_http() as http,
        http.get(gate.url("/go/mcp"), headers=headers) as stream,
    ):
        event = await read_event(stream)
    assert event["id"] == "2"
    assert [t["name"] for t in json.loads(event["data"])["result"]["tools"]] == ["safe"]


async def test_an_unreadable_json_answer_on_a_filtered_server_is_a_502(
    hostile_backend: RunningServer,
) -> None:
    """Issue 17 §1: a backend body the filter cannot read (an integer of 5,000 digits) is a
    malformed backend message: a plain 502 (policy: never a 500, nor the raw body)."""
    async with _gate(hostile_backend) as gate, raw_http() as http:
        status, _, body = await _post(http, gate.url("/go/mcp"), _call("huge_number", 5))
        after, _, _ = await _post(http, gate.url("/go/mcp"), _call("safe", 6))
    assert status == 502
    assert b"9999" not in body
    assert after == 200


async def test_an_unreadable_event_on_a_filtered_stream_is_dropped_and_the_stream_goes_on(
    hostile_backend: RunningServer,
) -> None:
    """Issue 17 §1: on the legacy pass-through, an event the filter cannot read is not
    relayed; the events after it are."""
    headers = {**ALICE, "Accept": "text/event-stream"}
    async with (
        _gate(hostile_backend) as gate,
        raw_http() as http,
        http.get(gate.url("/gosse/sse"), headers=headers) as stream,
    ):
        endpoint = gate.url((await read_event(stream))["data"])
        assert (await _post(http, endpoint, _call("huge_number", 1)))[0] == 202
        assert (await _post(http, endpoint, _call("safe", 2)))[0] == 202
        event = await read_event(stream)
    assert json.loads(event["data"])["id"] == 2


@pytest.mark.parametrize("server", ["go", "goevents"], ids=["json", "sse"])
async def test_an_unreadable_answer_on_a_bridged_session_is_an_error_for_its_request(
    hostile_backend: RunningServer, server: str
) -> None:
    """Issue 17 §1: a bridged channel (legacy client, streamable backend) that cannot read
    the backend's answer gives its request a JSON-RPC error; the session goes on."""
    headers = {**ALICE, "Accept": "text/event-stream"}
    async with (
        _gate(hostile_backend) as gate,
        raw_http() as http,
        http.get(gate.url(f"/{server}/sse"), headers=headers) as stream,
    ):
        endpoint = gate.url((await read_event(stream))["data"])
        assert (await _post(http, endpoint, _request("initialize", 1, {})))[0] == 202
        assert json.loads((await read_event(stream))["data"])["id"] == 1
        assert (await _post(http, endpoint, _call("huge_number", 2)))[0] == 202
        refused = json.loads((await read_event(stream))["data"])
        assert (await _post(http, endpoint, _call("safe", 3)))[0] == 202
        answered = json.loads((await read_event(stream))["data"])
    assert refused["id"] == 2
    assert refused["error"]["code"] == -32603
    assert answered["id"] == 3
    assert answered["result"]["content"][0]["text"] == "safe"


async def test_an_unreadable_event_from_an_sse_backend_leaves_the_bridged_session_working(
    hostile_backend: RunningServer,
) -> None:
    """Issue 17 §1: the SSE channel drops an event it cannot read (it cannot tell whose
    answer it was); the session and its other requests go on."""
    async with _gate(hostile_backend) as gate, raw_http() as http:
        session = RawSession(http, gate.url("/gosse/mcp"), ALICE)
        await session.initialize()
        lost = asyncio.create_task(session.call_tool("huge_number"))
        try:
            async with asyncio.timeout(REPLY_WAIT_SECONDS):
                answer = await session.call_tool("safe")
        finally:
            lost.cancel()
            await asyncio.gather(lost, return_exceptions=True)
    assert answer["result"]["content"][0]["text"] == "safe"
