"""What the gate says once it listens: where its home page and each server's MCP URL are.

One `gate_started` line (version, listen addresses, home page, metrics), one
`server_published` line per server with its MCP and legacy SSE URLs, and, for the `dev`
login (the embedded demo), how to sign in. Logged once per start by `serve.py`; says nothing
secret (URLs come from `baseURL`).
"""

from __future__ import annotations

import asyncio
from importlib import metadata

import structlog

from mcp_gate.config.model import GateConfig
from mcp_gate.published_urls import home_url, server_endpoints

log = structlog.get_logger()


def gate_version() -> str:
    """The installed distribution's version (`unknown` when run from a bare source tree)."""
    try:
        return metadata.version("mcp-gate")
    except metadata.PackageNotFoundError:
        return "unknown"


def log_started(config: GateConfig) -> None:
    proxy = config.proxy
    loop = type(asyncio.get_running_loop()).__module__.split(".")[0]
    home = home_url(proxy)
    log.info(
        "gate_started",
        version=gate_version(),
        event_loop=loop,
        addr=proxy.addr,
        base_url=proxy.base_url,
        home_url=home,
        metrics_url=f"http://{proxy.metrics_addr}/metrics" if proxy.metrics_addr else None,
        servers=sorted(config.servers),
    )
    for server in server_endpoints(config):
        log.info("server_published", server=server.name, mcp_url=server.mcp, sse_url=server.sse)
    if proxy.auth is not None and proxy.auth.idp.provider == "dev":
        log.info(
            "demo_sign_in",
            hint=f"open {home} and sign in with any email address; "
            "the demo login checks nothing, so it runs on loopback only",
        )
