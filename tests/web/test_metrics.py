"""`/metrics`: the Prometheus text format on `proxy.metricsAddr`, and nowhere on the public port."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import aiohttp
import pytest

from mcp_gate.errors import ConfigError
from tests.fixtures.gate import make_config, remote, running_gate
from tests.fixtures.ports import free_port

EXIT_TIMEOUT_SECONDS = 30.0  # a cold interpreter importing aiohttp and the gate


async def test_metrics_count_requests_by_route_and_backend_failures():
    """Policy (`/metrics`): requests by route and status, 502s by server, on metricsAddr."""
    dead = remote("dead", "streamable-http", f"http://127.0.0.1:{free_port()}/mcp")
    async with running_gate(make_config({"dead": dead})) as gate, aiohttp.ClientSession() as http:
        await (await http.get(gate.url("/health"))).read()
        body = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
        async with http.post(gate.url("/dead/mcp"), json=body) as response:
            assert response.status == 502
        async with http.get(gate.metrics_url()) as response:
            text = await response.text()
            content_type = response.headers["Content-Type"]
    assert content_type.startswith("text/plain")
    assert 'mcp_gate_requests_total{route="/health",method="GET",status="200"} 1' in text
    assert 'mcp_gate_requests_total{route="/{server}/mcp",method="POST",status="502"} 1' in text
    assert 'mcp_gate_backend_errors_total{server="dead",status="502"} 1' in text
    assert "mcp_gate_bridged_sessions 0" in text
    assert 'mcp_gate_request_duration_seconds_bucket{le="+Inf"} 2' in text


@pytest.mark.parametrize("base_path", ["", "/gate"])
async def test_public_listener_answers_404_for_metrics(base_path: str):
    """Policy: metrics name servers and traffic, so the public listener never serves them."""
    config = make_config({}, base_path=base_path)
    async with running_gate(config) as gate, aiohttp.ClientSession() as http:
        async with http.get(gate.url("/metrics")) as public:
            public_status = public.status
        async with http.get(gate.metrics_url()) as private:
            private_status = private.status
    assert (public_status, private_status) == (404, 200)


async def test_metrics_listener_serves_only_metrics():
    """Policy: the metrics listener has one route; the gate's own routes are not on it."""
    config = make_config({"s": remote("s", "streamable-http", "http://127.0.0.1:9/mcp")})
    async with running_gate(config) as gate, aiohttp.ClientSession() as http:
        base = gate.metrics_url().removesuffix("/metrics")
        statuses = []
        for path in ("/health", "/s/mcp", "/"):
            async with http.get(base + path) as response:
                statuses.append(response.status)
    assert statuses == [404, 404, 404]


@contextmanager
def _busy_addr() -> Iterator[str]:
    """A loopback `host:port` another socket listens on, for as long as the block runs."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield f"127.0.0.1:{taken.getsockname()[1]}"


async def test_busy_metrics_addr_is_a_config_error_naming_the_key():
    """Policy: a metricsAddr the gate cannot listen on stops the start with the key's name."""
    with _busy_addr() as busy, pytest.raises(ConfigError) as refused:
        async with running_gate(make_config({}, metrics_addr=busy)):
            pass
    assert refused.value.problems[0].startswith(f"proxy.metricsAddr: cannot listen on {busy}")


def test_serve_with_a_busy_metrics_addr_exits_2_with_the_reason(tmp_path: Path):
    """Policy: `mcp-gate serve` reports the unusable metricsAddr and exits 2, no traceback."""
    with _busy_addr() as busy:
        port = free_port()  # chosen while `busy` is held, so never the same port
        config = tmp_path / "gate.yaml"
        config.write_text(
            f"proxy:\n  baseURL: http://127.0.0.1:{port}\n  addr: 127.0.0.1:{port}\n"
            f"  metricsAddr: {busy}\nmcpServers: {{}}\n"
        )
        result = subprocess.run(
            [sys.executable, "-m", "mcp_gate", "serve", "--config", str(config)],
            capture_output=True,
            text=True,
            timeout=EXIT_TIMEOUT_SECONDS,
            check=False,
        )
    assert result.returncode == 2, result.stderr
    assert f"proxy.metricsAddr: cannot listen on {busy}" in result.stderr
    assert "Traceback" not in result.stderr
