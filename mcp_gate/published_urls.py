"""The URLs a gate publishes for people: its home page and each server's MCP endpoints.

Derived from `baseURL` alone, never from a request's Host, so the startup log and the home
page name the same URLs a client is given by the OAuth metadata. Pure: reads the config
only; no requests, no logging.
"""

from __future__ import annotations

from dataclasses import dataclass

from mcp_gate.config.model import GateConfig, ProxyConfig


@dataclass(frozen=True)
class ServerEndpoints:
    """Where MCP clients reach one configured server through the gate."""

    name: str
    mcp: str  # streamable HTTP (MCP 2025-03-26 and later)
    sse: str  # legacy HTTP+SSE (MCP 2024-11-05)


def home_url(proxy: ProxyConfig) -> str:
    """The home page: `baseURL` with a trailing slash (`https://host/gate/` under a path)."""
    return proxy.base_url + "/"


def server_endpoints(config: GateConfig) -> list[ServerEndpoints]:
    """Every configured server's endpoints, by name."""
    base = config.proxy.base_url
    return [
        ServerEndpoints(name, f"{base}/{name}/mcp", f"{base}/{name}/sse")
        for name in sorted(config.servers)
    ]
