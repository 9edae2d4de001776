"""stdio servers served at `/<name>/mcp` and `/<name>/sse`, driven by the official SDK client.

Real servers over stdio (py_server, npm server-everything, PyPI mcp-server-time), each a
child of the gate per MCP session; the SDK client in its default mode (which probes the
2026-07-28 protocol first), in legacy mode, and over legacy HTTP+SSE. docs/config.md
`mcpServers.<name>` (stdio); MCP 2026-07-28 versioning for the era fallback.
"""

from __future__ import annotations

import json
from contextlib import AbstractAsyncContextManager

import pytest
from mcp.shared.exceptions import MCPError

from mcp_gate.appkeys import SESSIONS
from mcp_gate.jsonrpc import HANDSHAKE_PROTOCOL_VERSIONS, UNSUPPORTED_PROTOCOL_VERSION
from tests.fixtures.gate import RunningGate, running_gate
from tests.fixtures.mcp_clients import (
    EVERYTHING_SERVER,
    PY_SERVER,
    ServerProfile,
    conformance_walk,
    sse_client,
)
from tests.fixtures.stdio_backends import (
    ALICE,
    HANDSHAKE_VERSION,
    RawLegacySession,
    RawSession,
    everything_stdio,
    py_stdio,
    raw_http,
    sdk_client,
    stdio_gate_config,
    time_stdio,
)

pytestmark = pytest.mark.usefixtures("no_stray_children")

PROFILES: dict[str, ServerProfile] = {"py": PY_SERVER, "everything": EVERYTHING_SERVER}
MODERN_VERSION = "2026-07-28"
# Several MiB, both ways. Client → gate bodies stay under the default 4 MiB limit
# (`proxy.maxBodyBytes`); backend → client has no limit.
UPLOAD_BYTES = 3 * 1024 * 1024 + 12_345
DOWNLOAD_BYTES = 8 * 1024 * 1024 + 6_789


def _gate() -> AbstractAsyncContextManager[RunningGate]:
    return running_gate(stdio_gate_config(py_stdio("py"), everything_stdio("everything")))


@pytest.mark.parametrize("server", ["py", "everything"])
@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_streamable_front_walks_a_stdio_server_in_both_client_modes(
    server: str, mode: str
) -> None:
    """Issue 4 §3: the SDK client's default (auto) and legacy modes both reach the child;
    progress and sampling included. auto ends on the handshake era: a child is a session."""
    async with _gate() as gate, sdk_client(gate.url(f"/{server}/mcp"), ALICE, mode) as client:
        walk = await conformance_walk(client, PROFILES[server])
    assert walk.problems == ()
    assert walk.protocol_version == HANDSHAKE_VERSION


@pytest.mark.parametrize("server", ["py", "everything"])
async def test_legacy_sse_front_walks_a_stdio_server(server: str) -> None:
    """docs/routes.md: `/<name>/sse` serves stdio backends too (replies ride the one stream)."""
    async with _gate() as gate, sse_client(gate.url(f"/{server}/sse"), ALICE) as client:
        walk = await conformance_walk(client, PROFILES[server])
    assert walk.problems == ()


@pytest.mark.parametrize("front", ["mcp", "sse"])
async def test_mcp_server_time_answers_through_either_front(front: str) -> None:
    """PyPI's mcp-server-time, run as a stdio child, lists and runs its tools."""
    async with running_gate(stdio_gate_config(time_stdio())) as gate:
        url = gate.url(f"/time/{front}")
        opened = sdk_client(url, ALICE) if front == "mcp" else sse_client(url, ALICE)
        async with opened as client:
            tools = {tool.name for tool in (await client.list_tools()).tools}
            result = await client.call_tool("get_current_time", {"timezone": "UTC"})
    assert {"get_current_time", "convert_time"} <= tools
    assert json.loads(result.content[0].text)["timezone"] == "UTC"  # type: ignore[union-attr]


async def test_a_2026_request_without_a_session_gets_the_error_that_makes_clients_fall_back() -> (
    None
):
    """MCP 2026-07-28 versioning: 400 + -32022 naming the handshake
    versions, so a modern client retries with initialize; no child is started for it."""
    discover = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "server/discover",
        "params": {"_meta": {"io.modelcontextprotocol/protocolVersion": MODERN_VERSION}},
    }
    headers = {
        **ALICE,
        "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": MODERN_VERSION,
        "Mcp-Method": "server/discover",
    }
    async with _gate() as gate, raw_http() as http:
        async with http.post(gate.url("/py/mcp"), json=discover, headers=headers) as response:
            status, body = response.status, await response.json()
        live = len(gate.app[SESSIONS].sessions())
    assert status == 400
    assert body["error"]["code"] == UNSUPPORTED_PROTOCOL_VERSION
    assert body["error"]["data"]["supported"] == list(HANDSHAKE_PROTOCOL_VERSIONS)
    assert live == 0


async def test_large_messages_pass_intact_both_ways_on_the_streamable_front() -> None:
    """Issue 4 §2: several MiB each way, on SSE replies (the SDK's 1 MiB event cap lifted,
    as a client expecting big results does) and on JSON replies."""
    text = "é" + "x" * UPLOAD_BYTES + "\u2603"
    async with _gate() as gate:
        url = gate.url("/py/mcp")
        async with sdk_client(url, ALICE, max_sse_event_size=None) as client:
            echoed = (await client.call_tool("echo", {"text": text})).content[0].text  # type: ignore[union-attr]
            big = (await client.call_tool("big", {"size_bytes": DOWNLOAD_BYTES})).content[0].text  # type: ignore[union-attr]
        async with raw_http() as http:
            raw = RawSession(http, url, ALICE)
            await raw.initialize()
            json_big = await raw.call_tool("big", {"size_bytes": DOWNLOAD_BYTES})
            await raw.delete()
    assert echoed == text
    assert big == "x" * DOWNLOAD_BYTES
    assert len(json_big["result"]["content"][0]["text"]) == DOWNLOAD_BYTES


async def test_large_messages_pass_intact_both_ways_on_the_legacy_front() -> None:
    """Issue 4 §2: the same payloads over HTTP+SSE, to server-everything and py_server
    (spoken by hand: the SDK's SSE client caps events at 1 MiB and has no knob)."""
    text = "y" * UPLOAD_BYTES
    async with _gate() as gate, raw_http() as http:
        async with RawLegacySession(http, gate.base_url, "everything", ALICE) as legacy:
            await legacy.initialize()
            echoed = await legacy.request(
                "tools/call", {"name": "echo", "arguments": {"message": text}}
            )
        async with RawLegacySession(http, gate.base_url, "py", ALICE) as legacy:
            await legacy.initialize()
            big = await legacy.request(
                "tools/call", {"name": "big", "arguments": {"size_bytes": DOWNLOAD_BYTES}}
            )
    assert echoed["result"]["content"][0]["text"] == f"Echo: {text}"
    assert big["result"]["content"][0]["text"] == "x" * DOWNLOAD_BYTES


async def test_a_body_over_the_gate_limit_is_refused_before_any_child_starts() -> None:
    """policy: `maxBodyBytes` bounds client messages (413, JSON-RPC body)."""
    text = "z" * (5 * 1024 * 1024)
    async with _gate() as gate, sdk_client(gate.url("/py/mcp"), ALICE) as client:
        with pytest.raises(MCPError):
            await client.call_tool("echo", {"text": text})
        assert (await client.call_tool("echo", {"text": "still here"})).content[0].text == (  # type: ignore[union-attr]
            "still here"
        )
