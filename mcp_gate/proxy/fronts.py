"""Each server's fronts, chosen once when the gate starts: who answers its MCP routes.

A server is served on two fronts, streamable HTTP (`/<name>/mcp`: POST, GET, DELETE) and
legacy HTTP+SSE (`/<name>/sse` and `/<name>/message`). Which implementation answers each
depends only on the backend's kind, so it is decided here, at start, and a request just
calls the front it finds (web/mcp_handlers.py):

    backend            streamable front          legacy front
    streamable-http    StreamablePassthrough     BridgedLegacy
    sse                BridgedStreamable         LegacyPassthrough
    stdio              BridgedStreamable         BridgedLegacy

Pass-throughs relay bytes over the lean upstream client (upstream.py); bridges terminate
the MCP session at the gate (bridged_fronts.py, mcp_sessions.py). Each front owns the live
state of its kind: the pass-throughs their session bindings and filtered streams, the
bridges their sessions.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from aiohttp import web

from mcp_gate.audit import Audit
from mcp_gate.http1 import Client
from mcp_gate.proxy.backends import Backend
from mcp_gate.proxy.bindings import SessionBindings
from mcp_gate.proxy.bridged_fronts import BridgedLegacy, BridgedSessions, BridgedStreamable
from mcp_gate.proxy.call import McpCall
from mcp_gate.proxy.legacy_passthrough import LegacyPassthrough
from mcp_gate.proxy.mcp_sessions import SessionRegistry
from mcp_gate.proxy.streamable_passthrough import StreamablePassthrough
from mcp_gate.proxy.upstream import Upstream


class StreamableFront(Protocol):
    """MCP streamable HTTP transport, one server (MCP 2025-11-25 transports §Streamable HTTP)."""

    async def post(self, call: McpCall) -> web.StreamResponse: ...
    async def get(self, call: McpCall) -> web.StreamResponse: ...
    async def delete(self, call: McpCall) -> web.StreamResponse: ...


class LegacyFront(Protocol):
    """MCP 2024-11-05 HTTP+SSE transport, one server: the stream and its message endpoint."""

    async def open_stream(self, call: McpCall) -> web.StreamResponse: ...
    async def message(self, call: McpCall) -> web.StreamResponse: ...


@dataclass(frozen=True)
class ServerFronts:
    backend: Backend
    streamable: StreamableFront
    legacy: LegacyFront
    # The server's bridged sessions: what its bridged fronts open, and an aggregate too.
    bridged: BridgedSessions


@dataclass(frozen=True)
class FrontParts:
    """What the fronts are built from: shared by every server of the gate."""

    upstream_client: Client
    bindings: SessionBindings
    registry: SessionRegistry
    standalone_streams: set[asyncio.Task[object]]
    base_path: str
    audit: Audit = field(default_factory=Audit)


def build_fronts(backend: Backend, parts: FrontParts) -> ServerFronts:
    message_path = f"{parts.base_path}/{backend.name}/message"
    sessions = BridgedSessions(backend, parts.registry)
    bridged_legacy = BridgedLegacy(sessions, message_path)
    bridged_streamable = BridgedStreamable(sessions, parts.standalone_streams)
    if backend.transport == "stdio":
        return ServerFronts(backend, bridged_streamable, bridged_legacy, sessions)
    upstream = Upstream(
        parts.upstream_client, backend.name, backend.timeout_seconds, backend.max_message_bytes
    )
    if backend.transport == "streamable-http":
        passthrough = StreamablePassthrough(backend, upstream, parts.bindings, parts.audit)
        return ServerFronts(backend, passthrough, bridged_legacy, sessions)
    legacy = LegacyPassthrough(backend, upstream, parts.bindings, message_path, bridged_legacy)
    return ServerFronts(backend, bridged_streamable, legacy, sessions)


def build_all_fronts(backends: Mapping[str, Backend], parts: FrontParts) -> dict[str, ServerFronts]:
    return {name: build_fronts(backend, parts) for name, backend in backends.items()}
