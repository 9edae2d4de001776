"""The MCP routes of configured and unknown server names (docs/routes.md).

A configured server's `/<name>/mcp`, `/<name>/sse` and `/<name>/message` reach its fronts;
any other name gets the JSON-RPC 404 on all three, and a method a front does not take gets
405 with the methods it does, under a `baseURL` path too.
"""

from __future__ import annotations

import aiohttp
import pytest

from tests.fixtures.gate import make_config, remote, running_gate
from tests.fixtures.mcp_servers import RunningServer

HTTP_TIMEOUT = aiohttp.ClientTimeout(total=20)
PING = {"jsonrpc": "2.0", "id": 1, "method": "ping"}


@pytest.mark.parametrize("base_path", ["", "/gate"])
async def test_configured_names_reach_their_server_and_others_are_not_found(
    base_path: str, echo_headers_server: RunningServer
) -> None:
    backend_url = f"{echo_headers_server.url}/backend/mcp"
    servers = {"echo.v2_a-b": remote("echo.v2_a-b", "streamable-http", backend_url)}
    config = make_config(servers, base_path=base_path)
    async with running_gate(config) as gate, aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as http:
        async with http.post(gate.url("/echo.v2_a-b/mcp"), json=PING) as known:
            echoed = await known.json()  # the backend's echo of what reached it
            assert (known.status, echoed["method"], echoed["path"]) == (200, "POST", "/backend/mcp")
        unknown = []
        for method, front in (("POST", "mcp"), ("GET", "sse"), ("POST", "message")):
            async with http.request(method, gate.url(f"/echo-v2/{front}"), json=PING) as answer:
                body = await answer.json()
                unknown.append((answer.status, body["error"]["message"]))
        async with http.put(gate.url("/echo.v2_a-b/mcp"), json=PING) as wrong_method:
            allowed = set(wrong_method.headers["Allow"].split(","))
            wrong_status = wrong_method.status
    assert unknown == [(404, "Unknown server 'echo-v2'")] * 3
    assert (wrong_status, allowed) == (405, {"POST", "GET", "DELETE"})
