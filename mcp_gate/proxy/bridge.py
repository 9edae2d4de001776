"""Both MCP HTTP fronts over a bridged session (`mcp_sessions.McpSession`).

Used when the client's transport is not the backend's (streamable client → legacy SSE
backend, legacy client → streamable backend) and for stdio children. The gate terminates
the MCP session here, so it follows the server side of the transport specs:

- Streamable HTTP (MCP 2025-11-25 transports §Streamable HTTP): `initialize` without a
  session opens one and its response carries the gate-minted `Mcp-Session-Id`; requests are
  answered on an SSE stream when the client accepts one (so progress and server requests
  can ride along), else as JSON; notifications and responses get 202; GET opens the
  standalone stream (one at a time, 409 otherwise); DELETE ends the session.
- HTTP+SSE (MCP 2024-11-05): GET opens the session and its stream, whose first event names
  `/<name>/message?sessionId=…`; POSTs there answer 202 and replies ride the stream.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable

from aiohttp import web

from mcp_gate.config.model import ToolFilter
from mcp_gate.jsonrpc import (
    HANDSHAKE_PROTOCOL_VERSIONS,
    INVALID_REQUEST,
    UNSUPPORTED_PROTOCOL_VERSION,
    Message,
    dumps,
)
from mcp_gate.principal import Principal
from mcp_gate.proxy.channels import Channel
from mcp_gate.proxy.client_streams import ClientStream
from mcp_gate.proxy.headers import (
    PROTOCOL_VERSION_HEADER,
    SESSION_HEADER,
    add_event_stream_headers,
)
from mcp_gate.proxy.mcp_sessions import McpSession, SessionRegistry
from mcp_gate.proxy.responses import jsonrpc_error, session_not_found
from mcp_gate.proxy.sse import KEEPALIVE, encode_event

# policy: a comment line this often keeps idle streams alive through proxies and NATs.
KEEPALIVE_SECONDS = 25.0

OpenChannel = Callable[[], Awaitable[Channel]]


def _accepts_event_stream(request: web.Request) -> bool:
    return "text/event-stream" in request.headers.get("Accept", "")


async def _stream_messages(
    request: web.Request,
    stream: ClientStream,
    headers: dict[str, str],
    first_event: bytes | None = None,
) -> web.StreamResponse:
    response = web.StreamResponse(status=200, headers=headers)
    response.content_type = "text/event-stream"
    add_event_stream_headers(response.headers)
    await response.prepare(request)
    with contextlib.suppress(ConnectionResetError):
        if first_event is not None:
            await response.write(first_event)
        async for message in stream.messages(KEEPALIVE_SECONDS):
            if message is None:
                await response.write(KEEPALIVE)
            else:
                await response.write(encode_event(dumps(message), event="message"))
    return response


async def streamable_post(
    request: web.Request,
    registry: SessionRegistry,
    server: str,
    principal: Principal,
    messages: list[Message],
    is_batch: bool,
    open_channel: OpenChannel,
    tool_filter: ToolFilter | None = None,
    credential: str = "",
) -> web.StreamResponse:
    session_id = request.headers.get(SESSION_HEADER)
    if session_id is None:
        if not any(m.get("method") == "initialize" for m in messages):
            # MCP 2026-07-28 versioning: this reply makes a modern client fall back to the
            # `initialize` handshake, which is all a bridged backend speaks.
            return jsonrpc_error(
                400,
                UNSUPPORTED_PROTOCOL_VERSION,
                "This server needs a session: send initialize first",
                data={
                    "supported": list(HANDSHAKE_PROTOCOL_VERSIONS),
                    "requested": request.headers.get(PROTOCOL_VERSION_HEADER),
                },
            )
        session = await registry.open_session(
            server, principal, open_channel, tool_filter, credential
        )
    else:
        found = registry.find(session_id, principal, server)
        if found is None:
            return session_not_found()
        session = found
    headers = {SESSION_HEADER: session.id}
    as_stream = _accepts_event_stream(request)
    stream = await session.send(messages, "stream" if as_stream else "json")
    if stream is None:
        return web.Response(status=202, headers=headers)
    try:
        if as_stream:
            return await _stream_messages(request, stream, headers)
        replies = [m async for m in stream.messages() if m is not None]
    finally:
        session.close_stream(stream)
    body = dumps(replies if is_batch else replies[0]) if replies else b""
    return web.Response(body=body, content_type="application/json", headers=headers)


async def streamable_get(
    request: web.Request, registry: SessionRegistry, server: str, principal: Principal
) -> web.StreamResponse:
    session = _find_from_header(request, registry, server, principal)
    if isinstance(session, web.Response):
        return session
    if not _accepts_event_stream(request):
        return jsonrpc_error(406, INVALID_REQUEST, "Not Acceptable: use text/event-stream")
    if session.has_standalone_stream():
        # MCP transports: one standalone stream per session.
        return jsonrpc_error(409, INVALID_REQUEST, "Conflict: a stream is already open")
    stream = session.open_standalone_stream()
    try:
        return await _stream_messages(request, stream, {SESSION_HEADER: session.id})
    finally:
        session.close_stream(stream)


async def streamable_delete(
    request: web.Request, registry: SessionRegistry, server: str, principal: Principal
) -> web.StreamResponse:
    session = _find_from_header(request, registry, server, principal)
    if isinstance(session, web.Response):
        return session
    await registry.close(session.id, "deleted by client")
    return web.Response(status=200)


def _find_from_header(
    request: web.Request, registry: SessionRegistry, server: str, principal: Principal
) -> McpSession | web.Response:
    session_id = request.headers.get(SESSION_HEADER)
    if session_id is None:
        return jsonrpc_error(400, INVALID_REQUEST, "Bad Request: missing Mcp-Session-Id")
    return registry.find(session_id, principal, server) or session_not_found()


async def legacy_open(
    request: web.Request,
    registry: SessionRegistry,
    server: str,
    principal: Principal,
    message_path: str,
    open_channel: OpenChannel,
    tool_filter: ToolFilter | None = None,
    credential: str = "",
) -> web.StreamResponse:
    session = await registry.open_session(server, principal, open_channel, tool_filter, credential)
    stream = session.open_standalone_stream()
    endpoint = encode_event(f"{message_path}?sessionId={session.id}", event="endpoint")
    try:
        return await _stream_messages(request, stream, {}, first_event=endpoint)
    finally:
        # The legacy session lives exactly as long as its stream.
        await registry.close(session.id, "stream closed")


async def legacy_message(
    request: web.Request,
    registry: SessionRegistry,
    server: str,
    principal: Principal,
    messages: list[Message],
) -> web.StreamResponse:
    session_id = request.query.get("sessionId") or request.query.get("session_id")
    if not session_id:
        return jsonrpc_error(400, INVALID_REQUEST, "Bad Request: missing sessionId")
    session = registry.find(session_id, principal, server)
    if session is None:
        return session_not_found()
    await session.send(messages, "standalone")
    return web.Response(status=202, text="Accepted")
