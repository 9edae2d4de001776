"""`/metrics` speaks the Prometheus text format and counts what the gate did."""

from __future__ import annotations

import aiohttp

from tests.fixtures.gate import make_config, remote, running_gate
from tests.fixtures.ports import free_port


async def test_metrics_count_requests_by_route_and_backend_failures():
    """Policy (DESIGN §2 `/metrics`): requests by route and status, 502s by server."""
    dead = remote("dead", "streamable-http", f"http://127.0.0.1:{free_port()}/mcp")
    async with running_gate(make_config({"dead": dead})) as gate, aiohttp.ClientSession() as http:
        await (await http.get(gate.url("/health"))).read()
        body = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
        async with http.post(gate.url("/dead/mcp"), json=body) as response:
            assert response.status == 502
        async with http.get(gate.url("/metrics")) as response:
            text = await response.text()
            content_type = response.headers["Content-Type"]
    assert content_type.startswith("text/plain")
    assert 'mcp_gate_requests_total{route="/health",method="GET",status="200"} 1' in text
    assert 'mcp_gate_requests_total{route="/{server}/mcp",method="POST",status="502"} 1' in text
    assert 'mcp_gate_backend_errors_total{server="dead",status="502"} 1' in text
    assert "mcp_gate_bridged_sessions 0" in text
    assert 'mcp_gate_request_duration_seconds_bucket{le="+Inf"} 2' in text
