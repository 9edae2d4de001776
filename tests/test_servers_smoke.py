"""The test servers and the SDK client helpers, walked directly (no gate in between).

If these fail, every proxy test that builds on tests/servers/ and tests/fixtures/mcp_* will too.
"""

from __future__ import annotations

import json
import time

import aiohttp
import pytest

from tests.fixtures.mcp_clients import (
    EVERYTHING_SERVER,
    PY_SERVER,
    conformance_walk,
    sse_client,
    stdio_client,
    streamable_client,
)
from tests.fixtures.mcp_servers import (
    RunningServer,
    everything_stdio_command,
    py_stdio_command,
)

MODERN = "2026-07-28"
HANDSHAKE = "2025-11-25"
HTTP_TIMEOUT = aiohttp.ClientTimeout(total=15)


async def test_py_streamable_server_in_auto_mode_walks_on_the_2026_protocol(
    py_streamable_server: RunningServer,
) -> None:
    """The dual-era Python server answers discover, so the SDK's default client goes modern."""
    async with streamable_client(py_streamable_server.url) as client:
        walk = await conformance_walk(client, PY_SERVER)
    assert walk.problems == ()
    assert walk.protocol_version == MODERN


async def test_py_streamable_server_in_legacy_mode_walks_on_the_handshake_protocol(
    py_streamable_server: RunningServer,
) -> None:
    """initialize still works, and sampling arrives as a server-to-client request."""
    async with streamable_client(py_streamable_server.url, mode="legacy") as client:
        walk = await conformance_walk(client, PY_SERVER)
    assert walk.problems == ()
    assert walk.protocol_version == HANDSHAKE


async def test_py_stateless_streamable_server_walks_in_auto_mode(
    py_stateless_streamable_server: RunningServer,
) -> None:
    """The --stateless server serves the whole walk on the 2026 protocol (sampling via MRTR)."""
    async with streamable_client(py_stateless_streamable_server.url) as client:
        walk = await conformance_walk(client, PY_SERVER)
    assert walk.problems == ()


async def test_py_stateless_streamable_server_in_legacy_mode_issues_no_session_id(
    py_stateless_streamable_server: RunningServer,
) -> None:
    """Handshake-era clients get no Mcp-Session-Id (and so no sampling back-channel)."""
    url = py_stateless_streamable_server.url
    async with streamable_client(url, mode="legacy") as client:
        seen = json.loads((await client.call_tool("whoami", {})).content[0].text)  # type: ignore[union-attr]
    assert "mcp-session-id" not in seen


async def test_py_sse_server_walks(py_sse_server: RunningServer) -> None:
    """Legacy HTTP+SSE: GET /sse, POST /messages/?session_id=…"""
    async with sse_client(py_sse_server.url) as client:
        walk = await conformance_walk(client, PY_SERVER)
    assert walk.problems == ()
    assert walk.protocol_version == HANDSHAKE


async def test_py_stdio_server_walks() -> None:
    """The stdio command the stdio backend tests will configure serves the walk."""
    command, args = py_stdio_command()
    async with stdio_client(command, args) as client:
        walk = await conformance_walk(client, PY_SERVER)
    assert walk.problems == ()


async def test_everything_streamable_server_in_auto_mode_falls_back_to_initialize(
    everything_streamable_server: RunningServer,
) -> None:
    """server-everything (TS SDK v1) refuses discover, so "auto" falls back to the handshake."""
    async with streamable_client(everything_streamable_server.url) as client:
        walk = await conformance_walk(client, EVERYTHING_SERVER)
    assert walk.problems == ()
    assert walk.protocol_version == HANDSHAKE


async def test_everything_sse_server_walks(everything_sse_server: RunningServer) -> None:
    """server-everything's legacy SSE mode (POSTs go to /message?sessionId=…)."""
    async with sse_client(everything_sse_server.url) as client:
        walk = await conformance_walk(client, EVERYTHING_SERVER)
    assert walk.problems == ()


async def test_everything_stdio_server_walks() -> None:
    """server-everything's stdio command serves the walk."""
    command, args = everything_stdio_command()
    async with stdio_client(command, args) as client:
        walk = await conformance_walk(client, EVERYTHING_SERVER)
    assert walk.problems == ()


async def test_py_server_whoami_reports_the_headers_the_client_sent(
    py_streamable_server: RunningServer,
) -> None:
    """whoami shows request headers, including the upstream Host and the MCP session id."""
    headers = {"X-Probe": "probe-value"}
    async with streamable_client(py_streamable_server.url, headers, mode="legacy") as client:
        seen = json.loads((await client.call_tool("whoami", {})).content[0].text)  # type: ignore[union-attr]
    assert seen["x-probe"] == "probe-value"
    assert seen["host"] == f"127.0.0.1:{py_streamable_server.port}"
    assert seen["mcp-session-id"]


async def test_py_server_big_returns_exactly_the_size_asked(
    py_streamable_server: RunningServer,
) -> None:
    """big(size_bytes) gives a payload of a known size for body-size tests."""
    async with streamable_client(py_streamable_server.url) as client:
        result = await client.call_tool("big", {"size_bytes": 1_000_000})
    assert len(result.content[0].text) == 1_000_000  # type: ignore[union-attr]


@pytest.mark.parametrize("server_fixture", ["py_streamable_server", "py_sse_server"])
async def test_py_server_rejects_a_foreign_host_with_421(
    server_fixture: str, request: pytest.FixtureRequest
) -> None:
    """The SDK's default DNS-rebinding protection stays on: only a loopback Host is served."""
    server: RunningServer = request.getfixturevalue(server_fixture)
    method = "POST" if server.url.endswith("/mcp") else "GET"
    async with (
        aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as http,
        http.request(
            method,
            server.url,
            headers={"Host": "gate.example.com", "Content-Type": "application/json"},
            data=b"{}",
        ) as response,
    ):
        assert response.status == 421


async def test_echo_headers_server_echoes_method_path_query_headers_and_body(
    echo_headers_server: RunningServer,
) -> None:
    """Every request comes back as JSON, repeated headers included."""
    async with (
        aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as http,
        http.post(
            f"{echo_headers_server.url}/some/path?a=1&a=2",
            headers=[("X-One", "1"), ("X-Twice", "a"), ("X-Twice", "b")],
            data=b"payload",
        ) as response,
    ):
        echoed = await response.json()
    assert echoed["method"] == "POST"
    assert echoed["path"] == "/some/path"
    assert echoed["query"] == {"a": ["1", "2"]}
    assert echoed["headers"]["x-one"] == "1"
    assert echoed["headers"]["x-twice"] == "a, b"
    assert ["X-Twice", "b"] in echoed["raw_headers"]
    assert echoed["body"] == "payload"


async def test_echo_headers_server_answers_with_the_status_and_headers_asked(
    echo_headers_server: RunningServer,
) -> None:
    """?status= and ?header= shape the response, for status and response-header rules."""
    url = f"{echo_headers_server.url}/x?status=404&header=WWW-Authenticate:Bearer"
    async with aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as http, http.get(url) as response:
        assert response.status == 404
        assert response.headers["WWW-Authenticate"] == "Bearer"


async def _read_events(response: aiohttp.ClientResponse) -> list[tuple[dict[str, str], float]]:
    events: list[tuple[dict[str, str], float]] = []
    fields: dict[str, str] = {}
    async for raw_line in response.content:
        line = raw_line.decode().rstrip("\n")
        if line:
            name, _, value = line.partition(": ")
            fields[name] = value
        else:
            events.append((fields, time.monotonic()))
            fields = {}
    return events


async def test_echo_headers_server_streams_paced_sse_events_resuming_after_last_event_id(
    echo_headers_server: RunningServer,
) -> None:
    """The request echo comes first, then ticks one interval apart, numbered after Last-Event-ID."""
    url = f"{echo_headers_server.url}/stream?events=3&interval_ms=100"
    headers = {"Accept": "text/event-stream", "Last-Event-ID": "7"}
    async with (
        aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as http,
        http.get(url, headers=headers) as response,
    ):
        assert response.headers["Content-Type"] == "text/event-stream"
        events = await _read_events(response)
    assert [fields.get("event") for fields, _ in events] == ["request", "tick", "tick", "tick"]
    assert json.loads(events[0][0]["data"])["headers"]["last-event-id"] == "7"
    assert [fields.get("id") for fields, _ in events[1:]] == ["8", "9", "10"]
    assert events[-1][1] - events[0][1] >= 0.25


async def test_echo_headers_server_counts_a_held_stream_closed_when_the_client_leaves(
    echo_headers_server: RunningServer,
) -> None:
    """hold=1 keeps the stream open; /__echo/streams shows it closed once the client goes."""
    counts_url = f"{echo_headers_server.url}/__echo/streams"
    async with aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as http:
        async with http.get(counts_url) as response:
            closed_before = (await response.json())["closed"]
        url = f"{echo_headers_server.url}/held?events=1&interval_ms=10&hold=1"
        async with http.get(url, headers={"Accept": "text/event-stream"}) as response:
            await response.content.readuntil(b"event: tick")
        async with http.get(counts_url, params={"closed_at_least": closed_before + 1}) as response:
            assert (await response.json())["closed"] == closed_before + 1
