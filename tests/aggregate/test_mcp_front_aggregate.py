"""An mcp-front `config.json` with an aggregate entry loads and serves, as `mcp-gate serve`
runs it (issue 16: mcp-front's `type: aggregate` keys unchanged)."""

from __future__ import annotations

import sys

from tests.aggregate.members import names, text_of
from tests.fixtures.gate import gate_process
from tests.fixtures.mcp_servers import py_stdio_command
from tests.fixtures.stdio_backends import sdk_sse_client

CI_TOKEN = "ci-static-token-for-the-aggregate-0123"


async def test_mcp_front_config_with_an_aggregate_serves_its_members(server_log_dir) -> None:
    """mcp-front's shape: `version`, stdio members, an aggregate with `servers`,
    `discovery` and its default `transportType: sse`, a static bearer for CI."""
    command, args = py_stdio_command()
    document = {
        "version": "v0.0.1-DEV_EDITION_EXPECT_CHANGES",
        "proxy": {"name": "mcp-front", "sessions": {"maxPerUser": 5}},
        "mcpServers": {
            "time": {
                "transportType": "stdio",
                "command": sys.executable,
                "args": ["-m", "mcp_server_time", "--local-timezone", "UTC"],
            },
            "py": {"transportType": "stdio", "command": command, "args": args},
            "all": {
                "type": "aggregate",
                "transportType": "sse",
                "servers": ["time", "py"],
                "discovery": {"timeout": "10s", "cacheTtl": "5m", "maxConnsPerUser": 10},
                "serviceAuths": [{"type": "bearer", "tokens": [CI_TOKEN]}],
            },
        },
    }
    with gate_process(document, server_log_dir) as gate:
        headers = {"Authorization": f"Bearer {CI_TOKEN}"}
        async with sdk_sse_client(f"{gate.url}/all/sse", headers) as client:
            listed = names((await client.list_tools()).tools)
            echoed = text_of(await client.call_tool("py.echo", {"text": "from mcp-front"}))
    assert {"time.get_current_time", "py.echo"} <= set(listed)
    assert echoed == "from mcp-front"
