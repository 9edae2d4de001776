"""Issue 17 §1: the tool filter against a backend that reads JSON the way Go does.

The backend (tests/servers/hostile_backend.py: no Go toolchain runs here, so a Python
program speaks Go's documented `encoding/json` behaviour) matches keys case-insensitively
with Go's folds and keeps the last duplicate: a body the gate read as a call of `safe`
could run `secret_tool` there. The gate refuses every body two parsers could read
differently (HTTP 400, JSON-RPC -32600, on every front) and, for a filtered server,
forwards its own parse serialised again. The proof that the blocked tool never ran is the
backend's own record of the tools it ran.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from mcp_gate.config.model import ServerConfig, ServerOptions, ToolFilter
from tests.fixtures.gate import RunningGate, make_config, remote, running_gate
from tests.fixtures.mcp_servers import RunningServer, hostile_stdio_command
from tests.fixtures.proxy_probes import read_event
from tests.fixtures.stdio_backends import (
    ALICE,
    TWO_PRINCIPALS,
    RawSession,
    allow,
    block,
    raw_http,
    stdio_server,
)

SECRET = "secret_tool"
FILTERS = pytest.mark.parametrize(
    "tool_filter", [block(SECRET), allow("safe")], ids=["block", "allow"]
)
# The issue's three shapes, and their kin.
SHAPES = {
    "case-variant-beside-the-key": '{"jsonrpc":"2.0","id":3,"method":"tools/call",'
    '"params":{"name":"safe","Name":"secret_tool"}}',
    "case-variants-only": '{"jsonrpc":"2.0","id":4,"Method":"tools/call",'
    '"Params":{"NAME":"secret_tool"}}',
    "long-s-params": '{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"safe"},'
    '"param\\u017f":{"name":"secret_tool"}}',
    "repeated-key": '{"jsonrpc":"2.0","id":6,"method":"tools/call",'
    '"params":{"name":"safe","name":"secret_tool"}}',
    "kelvin-sign-in-a-batch": '[{"jsonrpc":"2.0","id":7,"method":"ping","Method":"tools/call",'
    '"params":{"name":"secret_tool","tas\\u212a":{}}}]',
}
FRONTS = ["passthrough", "legacy-passthrough", "stdio-bridge", "sse-bridge", "legacy-bridge"]
HUGE_INTEGER = b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"n":' + b"7" * 5000 + b"}}"


def _servers(hostile: RunningServer, record: Path, tool_filter: ToolFilter | None) -> dict:
    options = ServerOptions(tool_filter=tool_filter)
    command, args = hostile_stdio_command(record)
    auth: dict[str, Any] = {"options": options, "service_auths": TWO_PRINCIPALS}
    servers: dict[str, ServerConfig] = {
        "go": remote("go", "streamable-http", f"{hostile.url}/mcp", **auth),
        "gosse": remote("gosse", "sse", f"{hostile.url}/sse", **auth),
        "gostdio": stdio_server("gostdio", command, args, options=options),
    }
    return servers


@asynccontextmanager
async def _gate(
    hostile: RunningServer, record: Path, tool_filter: ToolFilter | None = None
) -> AsyncIterator[RunningGate]:
    async with running_gate(make_config(_servers(hostile, record, tool_filter))) as gate:
        yield gate


async def _calls(http: aiohttp.ClientSession, hostile: RunningServer) -> list[str]:
    async with http.get(f"{hostile.url}/__calls") as response:
        return (await response.json())["calls"]


async def _post(
    http: aiohttp.ClientSession, url: str, body: bytes, session_id: str | None = None
) -> tuple[int, Any]:
    headers = {**ALICE, "Content-Type": "application/json", "Accept": "application/json"}
    if session_id:
        headers["Mcp-Session-Id"] = session_id
    async with http.post(url, data=body, headers=headers) as response:
        is_json = response.content_type == "application/json"
        return response.status, await response.json() if is_json else None


@asynccontextmanager
async def _front(
    http: aiohttp.ClientSession, gate: RunningGate, front: str
) -> AsyncIterator[tuple[str, str | None]]:
    """Where a client of `front` POSTs its messages: (url, session id), with the session
    (or the legacy stream) open for as long as the block runs."""
    if front in ("legacy-passthrough", "legacy-bridge"):
        name = "gosse" if front == "legacy-passthrough" else "go"
        headers = {**ALICE, "Accept": "text/event-stream"}
        async with http.get(gate.url(f"/{name}/sse"), headers=headers) as stream:
            event = await read_event(stream)
            assert event["event"] == "endpoint"
            yield gate.url(event["data"]), None
        return
    name = {"passthrough": "go", "stdio-bridge": "gostdio", "sse-bridge": "gosse"}[front]
    session = RawSession(http, gate.url(f"/{name}/mcp"), ALICE)
    await session.initialize()
    yield session.url, session.session_id


async def _ran_through_gate(
    http: aiohttp.ClientSession, hostile: RunningServer, record: Path, front: str
) -> list[str]:
    """Tools run since the gate started: stdio children record to the file, the HTTP
    backend counts for the whole test session (so the caller takes a difference)."""
    if front == "stdio-bridge":
        return record.read_text().splitlines() if record.exists() else []  # noqa: ASYNC240
    return await _calls(http, hostile)


async def test_the_hostile_backend_runs_the_blocked_tool_when_asked_directly(
    hostile_backend: RunningServer,
) -> None:
    """The test backend is as hostile as Go: without the gate, each shape runs `secret_tool`
    (so the tests below would fail if the gate let one through)."""
    async with raw_http() as http:
        before = len(await _calls(http, hostile_backend))
        for shape in list(SHAPES.values())[:4]:
            status, _ = await _post(http, f"{hostile_backend.url}/mcp", shape.encode())
            assert status == 200
        ran = (await _calls(http, hostile_backend))[before:]
    assert ran == [SECRET] * 4


@FILTERS
@pytest.mark.parametrize("front", FRONTS)
@pytest.mark.parametrize("shape", sorted(SHAPES))
async def test_a_body_that_parsers_read_differently_is_refused_on_every_front(
    hostile_backend: RunningServer,
    tmp_path: Path,
    front: str,
    shape: str,
    tool_filter: ToolFilter,
) -> None:
    """Issue 17 §1 (RFC 7493 §2.3; Go's case-insensitive keys): 400 with JSON-RPC -32600,
    and the blocked tool never runs, on pass-through and bridged fronts alike."""
    record = tmp_path / "stdio-calls.txt"
    async with _gate(hostile_backend, record, tool_filter) as gate, raw_http() as http:
        before = len(await _ran_through_gate(http, hostile_backend, record, front))
        async with _front(http, gate, front) as (url, session_id):
            status, reply = await _post(http, url, SHAPES[shape].encode(), session_id)
            safe_status, _ = await _post(
                http, url, _call("safe", request_id=99).encode(), session_id
            )
        ran = (await _ran_through_gate(http, hostile_backend, record, front))[before:]
    assert status == 400
    assert reply["error"]["code"] == -32600
    assert safe_status in (200, 202)
    assert ran == ["safe"]


def _call(name: str, request_id: int = 1) -> str:
    params = {"name": name, "arguments": {}}
    return json.dumps(
        {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params}
    )


@pytest.mark.parametrize("front", FRONTS)
async def test_an_integer_of_5000_digits_from_a_client_is_a_parse_error_on_every_front(
    hostile_backend: RunningServer, tmp_path: Path, front: str
) -> None:
    """Issue 17 §1: Python's int() refuses 5,000 digits with ValueError, which must become
    JSON-RPC 2.0 §5.1's parse error (HTTP 400, -32700), never a 500."""
    record = tmp_path / "stdio-calls.txt"
    async with (
        _gate(hostile_backend, record, block(SECRET)) as gate,
        raw_http() as http,
        _front(http, gate, front) as (url, session_id),
    ):
        status, reply = await _post(http, url, HUGE_INTEGER, session_id)
    assert status == 400
    assert reply["error"]["code"] == -32700


@pytest.mark.parametrize(
    ("server", "expected"),
    [("filtered", "canonical"), ("open", "as-sent")],
)
async def test_a_filtered_server_gets_the_gates_parse_and_an_unfiltered_one_the_bytes_sent(
    echo_headers_server: RunningServer, server: str, expected: str
) -> None:
    """Issue 17 §1: where a filter decides, the backend reads what the filter read (the
    message serialised again); without one the pass-through forwards the body unchanged."""
    sent = (
        b'{"jsonrpc":"2.0", "id":1, "method":"tools/call",'
        b' "params":{"na\\u006de":"safe", "arguments":{"q":"caf\\u00e9"}}}'
    )
    servers = {
        "filtered": remote(
            "filtered",
            "streamable-http",
            f"{echo_headers_server.url}/mcp",
            options=ServerOptions(tool_filter=block(SECRET)),
        ),
        "open": remote("open", "streamable-http", f"{echo_headers_server.url}/mcp"),
    }
    async with running_gate(make_config(servers)) as gate, raw_http() as http:
        status, echoed = await _post(http, gate.url(f"/{server}/mcp"), sent)
    assert status == 200
    canonical = (
        '{"jsonrpc":"2.0","id":1,"method":"tools/call",'
        '"params":{"name":"safe","arguments":{"q":"café"}}}'
    )
    assert echoed["body"] == (canonical if expected == "canonical" else sent.decode())
