"""The application as a whole: operations routes, a path in `baseURL`, the access log, stopping.

docs/routes.md: every route honours a path in `baseURL`. docs/deploy.md: logs are JSON in
production, and never carry a secret (so never a query string). docs/config.md
`shutdownGrace`: SIGTERM drains streams; `serve.py` lets in-flight requests finish within the grace
period and cuts the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
from structlog.testing import capture_logs

from mcp_gate import serve
from mcp_gate.app import create_app
from mcp_gate.appkeys import SESSIONS
from mcp_gate.config.model import ProxyConfig
from tests.fixtures.gate import RunningGate, make_config, remote, running_gate
from tests.fixtures.mcp_clients import PY_SERVER, conformance_walk, sse_client, streamable_client
from tests.fixtures.mcp_servers import RunningServer, run_echo_headers_server
from tests.fixtures.ports import async_wait_for_port, free_port
from tests.fixtures.proxy_probes import read_event

HTTP_TIMEOUT = aiohttp.ClientTimeout(total=20)
SHORT_GRACE_SECONDS = 0.5  # the grace period for tests whose streams must be cut
STOP_WAIT_SECONDS = 10.0  # bound on a stop beyond its grace period
PROCESS_EXIT_SECONDS = ProxyConfig.shutdown_grace_seconds + STOP_WAIT_SECONDS


async def _get(url: str, **headers: str) -> tuple[int, bytes]:
    async with (
        aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as http,
        http.get(url, headers=headers) as response,
    ):
        return response.status, await response.read()


# --- operations routes and baseURL --------------------------------------------------------------


async def test_health_and_ready_answer_200(py_streamable_server: RunningServer) -> None:
    """docs/routes.md: `/health` (alive) and `/ready` (storage reachable: memory always is)."""
    config = make_config({"py": remote("py", "streamable-http", py_streamable_server.url)})
    async with running_gate(config) as gate:
        health, ready = await _get(gate.url("/health")), await _get(gate.url("/ready"))
    assert health == (200, b'{"status": "ok"}')
    assert ready == (200, b'{"status": "ready"}')


@pytest.fixture
async def gate_under_path(
    py_streamable_server: RunningServer, py_sse_server: RunningServer
) -> AsyncIterator[RunningGate]:
    """A gate whose baseURL is http://127.0.0.1:PORT/gate."""
    servers = {
        "py": remote("py", "streamable-http", py_streamable_server.url),
        "pysse": remote("pysse", "sse", py_sse_server.url),
    }
    async with running_gate(make_config(servers, base_path="/gate")) as gate:
        yield gate


async def test_base_url_path_prefixes_every_route(gate_under_path: RunningGate) -> None:
    """docs/routes.md: a gate served under /gate answers there, and only there."""
    origin = "http://" + urlsplit(gate_under_path.base_url).netloc
    assert gate_under_path.base_url == f"{origin}/gate"
    assert (await _get(gate_under_path.url("/health")))[0] == 200
    assert (await _get(gate_under_path.url("/ready")))[0] == 200
    assert (await _get(f"{origin}/health"))[0] == 404
    assert (await _get(f"{origin}/py/sse", Accept="text/event-stream"))[0] == 404


@pytest.mark.parametrize("name", ["pysse", "py"], ids=["pass", "bridge"])
async def test_legacy_endpoint_event_points_under_the_base_path(
    gate_under_path: RunningGate, name: str
) -> None:
    """MCP 2024-11-05 transports §HTTP with SSE: the endpoint event keeps the public path prefix
    (behind proxies it is often lost);
    both fronts name the session by a gate-minted `sessionId` (issue 17 §6)."""
    async with (
        aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as http,
        http.get(
            gate_under_path.url(f"/{name}/sse"), headers={"Accept": "text/event-stream"}
        ) as response,
    ):
        event = await read_event(response)
    assert event["event"] == "endpoint"
    assert event["data"].startswith(f"/gate/{name}/message?sessionId=")


@pytest.mark.parametrize(
    ("front", "name"), [("mcp", "py"), ("mcp", "pysse"), ("sse", "py"), ("sse", "pysse")]
)
async def test_sdk_client_walks_a_gate_under_a_path(
    gate_under_path: RunningGate, front: str, name: str
) -> None:
    """Every front and backend pair works end to end under the /gate prefix."""
    url = gate_under_path.url(f"/{name}/{front}")
    connect = streamable_client(url) if front == "mcp" else sse_client(url)
    async with connect as client:
        walk = await conformance_walk(client, PY_SERVER)
    assert walk.problems == ()


# --- access log ---------------------------------------------------------------------------------


async def test_access_log_has_one_line_per_request_without_query_strings(
    gate_under_path: RunningGate,
) -> None:
    """docs/deploy.md: status and duration for every request; a query may carry secrets, so
    never."""
    secret = "query-secret-0b7e"
    with capture_logs() as logs:
        await _get(gate_under_path.url(f"/health?code={secret}"))
        await _get(gate_under_path.url(f"/nope/sse?sessionId={secret}"))
        async with streamable_client(gate_under_path.url(f"/py/mcp?token={secret}")) as client:
            await client.call_tool("echo", {"text": "logged"})
    lines = [log for log in logs if log["event"] == "request_finished"]
    assert lines[0]["path"] == "/gate/health"
    assert (lines[0]["method"], lines[0]["status"]) == ("GET", 200)
    assert (lines[1]["path"], lines[1]["status"]) == ("/gate/nope/sse", 404)
    assert {line["path"] for line in lines[2:]} == {"/gate/py/mcp"}
    assert all(line["server"] == "py" for line in lines[2:])
    assert all(isinstance(line["duration_ms"], float) for line in lines)
    assert secret not in json.dumps(logs, default=str)


async def test_access_log_writes_one_line_for_a_stream_the_client_closed(
    gate_under_path: RunningGate,
) -> None:
    """A stream is logged once, when it ends; a client that left is 499, not a server error."""
    logged = asyncio.Event()

    def notice(_: object, __: str, event: dict[str, Any]) -> dict[str, Any]:
        if event["event"] == "request_finished":
            logged.set()
        return event

    with capture_logs(processors=[notice]) as logs:
        async with (
            aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as http,
            http.get(
                gate_under_path.url("/py/sse"), headers={"Accept": "text/event-stream"}
            ) as response,
        ):
            await read_event(response)
            response.close()
        async with asyncio.timeout(STOP_WAIT_SECONDS):
            await logged.wait()
    lines = [log for log in logs if log["event"] == "request_finished"]
    assert [(line["path"], line["status"]) for line in lines] == [("/gate/py/sse", 499)]


# --- stopping -----------------------------------------------------------------------------------


@pytest.fixture
def own_echo(server_log_dir: Path) -> Iterator[RunningServer]:
    """An echo server of this test alone, so its stream counts are this test's."""
    with run_echo_headers_server(server_log_dir) as server:
        yield server


async def test_stop_lets_an_in_flight_stream_finish(own_echo: RunningServer) -> None:
    """docs/config.md `shutdownGrace`: stopping drains; a stream that ends within the grace period
    ends whole."""
    url = f"{own_echo.url}/stream?events=3&interval_ms=100"
    config = make_config({"s": remote("s", "streamable-http", url)})
    app = create_app(config)
    runner = await serve.start_site(app, config.proxy.host, config.proxy.port)
    async with (
        aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as http,
        http.get(f"{config.proxy.base_url}/s/mcp", headers={"Accept": "text/event-stream"}) as resp,
    ):
        assert (await read_event(resp))["event"] == "request"
        stopping = asyncio.create_task(serve.stop(app, runner, config.proxy.shutdown_grace_seconds))
        ticks = [await read_event(resp) for _ in range(3)]
        assert await resp.content.read() == b""
    async with asyncio.timeout(config.proxy.shutdown_grace_seconds):
        await stopping
    assert [tick["id"] for tick in ticks] == ["1", "2", "3"]


async def test_stop_cuts_streams_that_outlive_the_grace_period(
    own_echo: RunningServer, py_streamable_server: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """docs/config.md `shutdownGrace`: after the grace period open streams end (pass-through and
    bridged), the upstream requests close, and the bridged sessions are gone."""
    servers = {
        "held": remote("held", "streamable-http", f"{own_echo.url}/s?events=0&hold=1"),
        "py": remote("py", "streamable-http", py_streamable_server.url),
    }
    config = make_config(servers)
    app = create_app(config)
    runner = await serve.start_site(app, config.proxy.host, config.proxy.port)
    accept = {"Accept": "text/event-stream"}
    async with aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as http:
        async with (
            http.get(f"{config.proxy.base_url}/held/mcp", headers=accept) as held,
            http.get(f"{config.proxy.base_url}/py/sse", headers=accept) as bridged,
        ):
            await read_event(held)
            await read_event(bridged)
            async with asyncio.timeout(SHORT_GRACE_SECONDS + STOP_WAIT_SECONDS):
                await serve.stop(app, runner, SHORT_GRACE_SECONDS)
                await _read_to_end(held)
                await _read_to_end(bridged)
        async with http.get(
            f"{own_echo.url}/__echo/streams", params={"closed_at_least": 1}
        ) as response:
            assert (await response.json())["closed"] == 1
    assert len(app[SESSIONS]) == 0


async def _read_to_end(response: aiohttp.ClientResponse) -> None:
    """Read until the stream ends; a stream cut mid-chunk ends in a payload error."""
    with contextlib.suppress(aiohttp.ClientPayloadError):
        await response.content.read()


def _write_config(tmp_path: Path, port: int, backend_url: str) -> Path:
    path = tmp_path / "gate.yaml"
    path.write_text(
        f"proxy:\n  baseURL: http://127.0.0.1:{port}\n  addr: 127.0.0.1:{port}\n"
        f"  metricsAddr: 127.0.0.1:{free_port(other_than=(port,))}\n"
        f"mcpServers:\n  s:\n    transportType: streamable-http\n    url: {backend_url}\n"
    )
    return path


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
async def test_gate_process_drains_and_exits_cleanly_on_signal(
    own_echo: RunningServer, tmp_path: Path, signum: signal.Signals
) -> None:
    """docs/config.md `shutdownGrace`: `mcp-gate serve` stops on SIGTERM or SIGINT, lets the open
    stream finish, exits 0, and logs JSON lines (stderr is not a terminal)."""
    port = free_port()
    config = _write_config(tmp_path, port, f"{own_echo.url}/s?events=3&interval_ms=100")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "mcp_gate",
        "serve",
        "--config",
        str(config),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        await async_wait_for_port(port, within_seconds=STOP_WAIT_SECONDS)
        async with (
            aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as http,
            http.get(
                f"http://127.0.0.1:{port}/s/mcp", headers={"Accept": "text/event-stream"}
            ) as response,
        ):
            await read_event(response)
            process.send_signal(signum)
            ticks = [await read_event(response) for _ in range(3)]
        async with asyncio.timeout(PROCESS_EXIT_SECONDS):
            _, stderr = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0
    assert [tick["id"] for tick in ticks] == ["1", "2", "3"]
    events = [json.loads(line)["event"] for line in stderr.decode().splitlines()]
    # The stream's access-log line comes after the stop began: it was drained, not cut.
    stopping = events.index("gate_stopping")
    assert events[stopping:] == ["gate_stopping", "request_finished", "gate_stopped"]
