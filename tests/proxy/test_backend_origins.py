"""Issue 17 §3: bridged channels send nothing to an origin other than the configured one.

A hostile SSE backend names a second server in its `endpoint` event, or answers with
redirects to it; the second server (a recorder: tests/fixtures/user_tokens.py) notes
everything that reaches it. The server carries an API key in its configured headers: it
must reach nobody but the backend. Each case asserts what the client sees (a 502 or a
JSON-RPC error) and that the recorder got nothing.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from structlog.testing import capture_logs

from mcp_gate.config.model import Secret, ServerConfig
from tests.fixtures.gate import RunningGate, make_config, remote, running_gate
from tests.fixtures.mcp_servers import RunningServer, run_hostile_backend
from tests.fixtures.proxy_probes import read_event
from tests.fixtures.stdio_backends import ALICE, TWO_PRINCIPALS, RawSession, raw_http
from tests.fixtures.user_tokens import RequestRecorder, running_recorder

API_KEY = {"X-Api-Key": Secret("operator-api-key-for-the-backend")}
WAIT_SECONDS = 10.0  # longest a test waits for the gate to give a stream up


@asynccontextmanager
async def _gate(**servers: tuple[str, str]) -> AsyncIterator[RunningGate]:
    """A gate with each named server as (transport, url), carrying the API key."""
    configs: dict[str, ServerConfig] = {
        name: remote(name, transport, url, headers=API_KEY, service_auths=TWO_PRINCIPALS)
        for name, (transport, url) in servers.items()
    }
    async with running_gate(make_config(configs)) as gate:
        yield gate


INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t"}},
}


async def _initialize(http: aiohttp.ClientSession, url: str) -> tuple[int, dict]:
    """Open a bridged session: the HTTP status and the JSON-RPC reply ({} for none)."""
    session = RawSession(http, url, ALICE)
    reply = await session.post(INITIALIZE)
    return session.last_status, reply if isinstance(reply, dict) else {}


def _assert_nothing_reached(recorder: RequestRecorder) -> None:
    assert recorder.requests == []


@pytest.mark.parametrize(
    ("backend_fixture", "query"),
    [
        ("hostile_backend", "endpoint={recorder}/steal"),
        ("echo_headers_server", "status=302&header=Location:{recorder}/steal"),
    ],
    ids=["endpoint-elsewhere", "stream-redirected"],
)
async def test_an_sse_backend_that_points_elsewhere_is_a_502(
    request: pytest.FixtureRequest, backend_fixture: str, query: str
) -> None:
    """Issue 17 §3 (policy: credentials go to the backend's own origin only): an `endpoint`
    event naming another origin, or the stream answered with a redirect there (aiohttp
    would follow it with the key): the streamable client bridged to it gets 502, and the
    other server gets nothing."""
    backend: RunningServer = request.getfixturevalue(backend_fixture)
    async with running_recorder() as recorder:
        url = f"{backend.url}/sse?{query.format(recorder=recorder.url)}"
        async with _gate(bridged=("sse", url)) as gate, raw_http() as http:
            status, _ = await _initialize(http, gate.url("/bridged/mcp"))
    assert status == 502
    _assert_nothing_reached(recorder)


async def test_a_message_post_answered_with_a_redirect_is_an_error_for_its_request(
    tmp_path: Path,
) -> None:
    """Issue 17 §3: a POST to the endpoint answered 307 (which aiohttp would replay, body
    and key, at the new place) is refused: the request gets a JSON-RPC error."""
    async with running_recorder() as recorder:
        with run_hostile_backend(tmp_path, redirect_to=f"{recorder.url}/steal") as backend:
            async with _gate(bridged=("sse", f"{backend.url}/sse")) as gate, raw_http() as http:
                status, reply = await _initialize(http, gate.url("/bridged/mcp"))
    assert status == 200
    assert reply["error"]["message"] == "backend answered HTTP 307"
    _assert_nothing_reached(recorder)


async def test_a_streamable_backend_whose_get_stream_redirects_is_not_followed(
    tmp_path: Path,
) -> None:
    """Issue 17 §3: the bridged GET stream (opened after `notifications/initialized`) is
    answered 302; the gate does not follow it, and the session goes on without it (MCP
    transports: a server may offer no GET stream)."""
    given_up = asyncio.Event()

    def notice(_: object, __: str, event: dict[str, Any]) -> dict[str, Any]:
        if event["event"] == "backend_stream_unavailable":
            given_up.set()
        return event

    async with running_recorder() as recorder:
        with (
            run_hostile_backend(tmp_path, redirect_to=f"{recorder.url}/steal") as backend,
            capture_logs(processors=[notice]) as logs,
        ):
            async with (
                _gate(bridged=("streamable-http", f"{backend.url}/mcp")) as gate,
                raw_http() as http,
                http.get(
                    gate.url("/bridged/sse"), headers={**ALICE, "Accept": "text/event-stream"}
                ) as stream,
            ):
                endpoint = gate.url((await read_event(stream))["data"])
                headers = {**ALICE, "Content-Type": "application/json"}
                for message in (
                    {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}},
                    {"jsonrpc": "2.0", "method": "notifications/initialized"},
                    {"jsonrpc": "2.0", "id": 2, "method": "ping"},
                ):
                    async with http.post(endpoint, json=message, headers=headers) as posted:
                        assert posted.status == 202
                answers = [json.loads((await read_event(stream))["data"]) for _ in range(2)]
                async with asyncio.timeout(WAIT_SECONDS):
                    await given_up.wait()
    assert [answer["id"] for answer in answers] == [1, 2]
    [line] = [log for log in logs if log["event"] == "backend_stream_unavailable"]
    assert line["status"] == 302
    _assert_nothing_reached(recorder)
