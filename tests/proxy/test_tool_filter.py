"""`options.toolFilter` on every path: bridged stdio sessions, the streamable pass-through, the
legacy SSE pass-through; and the pure functions under them.

A filtered tool is missing from `tools/list` and its `tools/call` gets a JSON-RPC error
(-32602, MCP server/tools §Error Handling) without reaching the backend. The proof that it
never arrives: the blocked tool is `crash`, which would end the backend process; the
backend still answers afterwards, from the same process.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from mcp_gate.config.model import ServerConfig, ServerOptions, ServerPolicy, ToolFilter
from mcp_gate.policy.engine import Caller, PolicyEngine, ToolAccess
from mcp_gate.principal import ANONYMOUS
from mcp_gate.proxy.sse import SseParser
from mcp_gate.proxy.tool_filter import (
    INVALID_PARAMS,
    check_call,
    filter_event,
    filter_json_body,
    filter_response,
)
from tests.fixtures.gate import make_config, remote, running_gate
from tests.fixtures.mcp_clients import sse_client
from tests.fixtures.mcp_servers import run_py_server
from tests.fixtures.stdio_backends import (
    ALICE,
    RawSession,
    allow,
    block,
    py_stdio,
    raw_http,
    sdk_client,
)


def _view(tool_filter: ToolFilter) -> ToolAccess:
    """What every front judges with: a caller's view of a server with only this filter."""
    return PolicyEngine(ServerPolicy(), tool_filter).for_caller(Caller(ANONYMOUS))


BLOCK_FILTER = block("crash", "add")
BLOCK_CRASH = _view(BLOCK_FILTER)


def _call(name: str, request_id: object = 7) -> dict[str, object]:
    params = {"name": name, "arguments": {}}
    return {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params}


def _list_result(*names: str, request_id: object = 3) -> dict[str, object]:
    tools = [{"name": name, "inputSchema": {"type": "object"}} for name in names]
    return {"jsonrpc": "2.0", "id": request_id, "result": {"tools": tools, "nextCursor": "c2"}}


def test_check_call_in_block_mode_refuses_only_the_listed_tools() -> None:
    """Block mode: listed names get -32602 for their own id; others and non-calls pass."""
    refusal = check_call(BLOCK_CRASH, _call("crash"))
    assert refusal is not None
    assert refusal["id"] == 7
    assert refusal["error"]["code"] == INVALID_PARAMS
    assert "crash" in refusal["error"]["message"]
    assert check_call(BLOCK_CRASH, _call("echo")) is None
    assert check_call(BLOCK_CRASH, {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}) is None


def test_check_call_in_allow_mode_refuses_every_tool_not_listed() -> None:
    """Allow mode: only listed names pass; a call naming no tool is refused too."""
    only_echo = _view(allow("echo"))
    assert check_call(only_echo, _call("echo")) is None
    assert check_call(only_echo, _call("add")) is not None
    nameless = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {}}
    assert check_call(only_echo, nameless) is not None
    assert check_call(BLOCK_CRASH, nameless) is None  # the backend will refuse it itself


def test_filter_response_drops_filtered_tools_and_keeps_everything_else() -> None:
    """Only the `tools` array changes; the cursor, the id and the order stay."""
    filtered = filter_response(BLOCK_CRASH, _list_result("echo", "crash", "pid", "add"))
    assert [tool["name"] for tool in filtered["result"]["tools"]] == ["echo", "pid"]
    assert filtered["result"]["nextCursor"] == "c2"
    assert filtered["id"] == 3
    error = {"jsonrpc": "2.0", "id": 3, "error": {"code": -1, "message": "no"}}
    assert filter_response(BLOCK_CRASH, error) is error


def test_filter_response_drops_tools_and_lists_under_look_alike_keys() -> None:
    """Issue 17 §1: a tool whose keys fold to `name`, or a list under a key that folds to
    `tools` (`Tools`, `tool\u017f`), reads differently to Go clients: neither goes through."""
    message = _list_result("echo")
    message["result"]["Tools"] = [{"name": "crash"}]
    message["result"]["tools"].append({"name": "echo", "NAME": "crash"})
    filtered = filter_response(BLOCK_CRASH, message)
    assert filtered["result"] == {
        "tools": [{"name": "echo", "inputSchema": {"type": "object"}}],
        "nextCursor": "c2",
    }


def test_filter_event_re_encodes_only_events_whose_tool_list_loses_a_tool() -> None:
    """Other events keep their exact bytes (comments, ids, other responses, an allowed list),
    and every tool list is filtered whatever request id it answers."""
    raw = (
        b": priming\nid: 1\ndata: \n\n"
        b"id: 2\nevent: message\ndata: "
        + json.dumps(_list_result("echo", request_id=9)).encode()
        + b"\n\n"
        b"id: 3\nevent: message\ndata: "
        + json.dumps(_list_result("crash", "echo", request_id=77)).encode()
        + b"\n\n"
    )
    events = list(SseParser().feed(raw))
    out = [filter_event(BLOCK_CRASH, event) for event in events]
    assert out[:2] == [events[0].raw, events[1].raw]
    assert out[2] is not None
    filtered = next(SseParser().feed(out[2]))
    assert filtered.id == "3"
    assert [t["name"] for t in json.loads(filtered.data)["result"]["tools"]] == ["echo"]


def test_filter_event_drops_an_event_it_cannot_read() -> None:
    """Issue 17 §1: a backend message that is not strict JSON-RPC (a repeated key, an integer
    of 5,000 digits) is not relayed, since the client might read it as a tool list."""
    for data in (b'{"id":1,"result":{"tools":[]},"result":{"tools":[{"name":"crash"}]}}',
                 b'{"id":1,"result":{"n":' + b"9" * 5000 + b"}}"):  # fmt: skip
        event = next(SseParser().feed(b"data: " + data + b"\n\n"))
        assert filter_event(BLOCK_CRASH, event) is None


def test_filter_json_body_filters_inside_a_batch_and_refuses_what_it_cannot_read() -> None:
    """A batch reply (MCP 2025-03-26) is filtered message by message; a body that is not
    JSON-RPC gives None (the front answers 502); an untouched body keeps its bytes."""
    body = json.dumps([_list_result("add", "echo", request_id=1), {"id": 2, "result": {}}])
    filtered = filter_json_body(BLOCK_CRASH, body.encode())
    assert filtered is not None
    decoded = json.loads(filtered)
    assert [t["name"] for t in decoded[0]["result"]["tools"]] == ["echo"]
    assert decoded[1] == {"id": 2, "result": {}}
    assert filter_json_body(BLOCK_CRASH, b"not json") is None
    untouched = b'{"jsonrpc": "2.0", "id": 5, "result": {"tools": [{"name": "echo"}]}}'
    assert filter_json_body(BLOCK_CRASH, untouched) is untouched


async def _assert_filtered(client: Client, tool_filter: ToolFilter) -> None:
    """The filter holds for this client, and the backend never saw the blocked call."""
    names = {tool.name for tool in (await client.list_tools()).tools}
    pid_before = (await client.call_tool("pid", {})).content[0].text  # type: ignore[union-attr]
    with pytest.raises(MCPError) as refused:
        await client.call_tool("crash", {})
    pid_after = (await client.call_tool("pid", {})).content[0].text  # type: ignore[union-attr]
    assert refused.value.code == INVALID_PARAMS
    assert refused.value.message == "Unknown tool: crash (not available through this gate)"
    assert pid_after == pid_before
    assert "crash" not in names
    assert "add" not in names
    assert {"echo", "pid"} <= names
    if tool_filter.mode == "allow":
        assert names <= set(tool_filter.tools)


FILTERS = pytest.mark.parametrize(
    "tool_filter", [BLOCK_FILTER, allow("echo", "pid")], ids=["block", "allow"]
)
ClientFactory = Callable[[str], AbstractAsyncContextManager[Client]]
CLIENTS: dict[str, tuple[str, ClientFactory]] = {
    "streamable-auto": ("mcp", lambda url: sdk_client(url, ALICE)),
    "streamable-legacy": ("mcp", lambda url: sdk_client(url, ALICE, "legacy")),
    "sse": ("sse", lambda url: sse_client(url, ALICE)),
}


@asynccontextmanager
async def _gate_for(transport: str, tool_filter: ToolFilter, log_dir: Path) -> AsyncIterator[str]:
    """A gate whose server `tools` has the filter; yields the gate's base URL."""
    options = ServerOptions(tool_filter=tool_filter)
    if transport == "stdio":
        server: ServerConfig = py_stdio("tools", options=options)
        async with running_gate(make_config({"tools": server})) as gate:
            yield gate.base_url
        return
    with run_py_server(transport, log_dir) as backend:  # type: ignore[arg-type]
        server = remote("tools", transport, backend.url, options=options)
        async with running_gate(make_config({"tools": server})) as gate:
            yield gate.base_url


@FILTERS
@pytest.mark.parametrize("client_kind", sorted(CLIENTS))
@pytest.mark.parametrize("transport", ["stdio", "streamable-http", "sse"])
async def test_a_filtered_tool_is_hidden_and_refused_on_every_path(
    transport: str, client_kind: str, tool_filter: ToolFilter, tmp_path: Path
) -> None:
    """Issue 4 §6: every front and every backend type (bridged or pass-through) filters."""
    front, open_client = CLIENTS[client_kind]
    async with (
        _gate_for(transport, tool_filter, tmp_path) as base_url,
        open_client(f"{base_url}/tools/{front}") as client,
    ):
        await _assert_filtered(client, tool_filter)


async def test_a_batch_calling_a_filtered_tool_is_answered_by_the_gate(tmp_path: Path) -> None:
    """policy: on the streamable pass-through, a batch holding a filtered call is not sent
    at all; each request in it gets an error (HTTP 200, a JSON array)."""
    async with _gate_for("streamable-http", BLOCK_FILTER, tmp_path) as base_url, raw_http() as http:
        session = RawSession(http, f"{base_url}/tools/mcp", {})
        reply = await session.post([_call("crash", 1), _call("echo", 2)])
    assert session.last_status == 200
    assert isinstance(reply, list)
    assert [(r["id"], r["error"]["code"]) for r in reply] == [
        (1, INVALID_PARAMS),
        (2, INVALID_PARAMS),
    ]
