"""The embedded demo config: what `mcp-gate serve` runs when given no `--config`.

Memory storage, the loopback-only `dev` login (type any email), and one real stdio MCP
server, PyPI's `mcp-server-time`, run with the gate's own Python (`pip install
'mcp-gate[demo]'` brings it). Built through `parse_config`, so it is checked like any file.
"""

from __future__ import annotations

import importlib.util
import sys

from mcp_gate.config import parse_config
from mcp_gate.config.model import GateConfig
from mcp_gate.errors import ConfigError

DEMO_ADDR = "127.0.0.1:8080"


def demo_config() -> GateConfig:
    if importlib.util.find_spec("mcp_server_time") is None:
        raise ConfigError(
            [
                "the demo serves PyPI's mcp-server-time, which is not installed: "
                "pip install 'mcp-gate[demo]' (or give --config FILE)"
            ],
            source="embedded demo config",
        )
    document = {
        "proxy": {
            "name": "mcp-gate demo",
            "baseURL": f"http://{DEMO_ADDR}",
            "addr": DEMO_ADDR,
            "auth": {"kind": "oauth", "idp": {"provider": "dev"}, "storage": "memory"},
        },
        "mcpServers": {
            "time": {
                "transportType": "stdio",
                "command": sys.executable,
                "args": ["-m", "mcp_server_time", "--local-timezone", "UTC"],
            }
        },
    }
    return parse_config(document, source="embedded demo config")
