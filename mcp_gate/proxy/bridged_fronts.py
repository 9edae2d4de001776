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

A session keeps the fingerprint of the user token its backend was opened with: a request
that brings another (the user replaced it) closes the session first, so the client gets
404 and opens a fresh one with the new token. A user without the token the server needs
gets a session whose channel answers every request with the /my/tokens error
(`RefusingChannel`): the backend is never started.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from functools import partial

from aiohttp import web

from mcp_gate.jsonrpc import (
    HANDSHAKE_PROTOCOL_VERSIONS,
    INVALID_REQUEST,
    UNSUPPORTED_PROTOCOL_VERSION,
    dumps,
)
from mcp_gate.policy.engine import ToolAccess
from mcp_gate.principal import Principal
from mcp_gate.proxy.backends import Backend
from mcp_gate.proxy.call import McpCall
from mcp_gate.proxy.channels import Channel
from mcp_gate.proxy.client_streams import ClientStream
from mcp_gate.proxy.headers import (
    PROTOCOL_VERSION_HEADER,
    SESSION_HEADER,
    add_event_stream_headers,
)
from mcp_gate.proxy.mcp_sessions import McpSession, SessionRegistry, address_quota
from mcp_gate.proxy.responses import jsonrpc_error, session_not_found
from mcp_gate.proxy.sse import KEEPALIVE, encode_event
from mcp_gate.proxy.user_credentials import RefusingChannel, UserCredential, refuse_messages
from mcp_gate.spliced_streams import StreamWriter, send_stream, stream_response

# policy: a comment line this often keeps idle streams alive through proxies and NATs.
KEEPALIVE_SECONDS = 25.0


def _accepts_event_stream(request: web.Request) -> bool:
    return "text/event-stream" in request.headers.get("Accept", "")


async def _stream_messages(
    request: web.Request,
    stream: ClientStream,
    headers: dict[str, str],
    ended: Callable[[], Awaitable[None]],
    first_event: bytes | None = None,
    cut_at_shutdown: set[asyncio.Task[object]] | None = None,
) -> web.StreamResponse:
    """`stream` as an SSE response, spliced off the handler where it can be
    (spliced_streams.py); `ended()` runs when it ends, however it ends. With
    `cut_at_shutdown`, shutdown ends the stream at once, without the grace."""
    response = stream_response(request, headers=headers)
    response.content_type = "text/event-stream"
    add_event_stream_headers(response.headers)
    body = partial(_write_messages, stream, ended, first_event, cut_at_shutdown)
    try:
        return await send_stream(request, response, body)
    except BaseException:
        await ended()  # the head could not go out (ending twice is harmless)
        raise


async def _write_messages(
    stream: ClientStream,
    ended: Callable[[], Awaitable[None]],
    first_event: bytes | None,
    cut_at_shutdown: set[asyncio.Task[object]] | None,
    out: StreamWriter,
) -> None:
    # (This runs in the task that carries the stream: a handler's, or the spliced one's.)
    task = asyncio.current_task()
    if cut_at_shutdown is not None and task is not None:
        cut_at_shutdown.add(task)
    messages = contextlib.aclosing(stream.messages(KEEPALIVE_SECONDS))
    try:
        with contextlib.suppress(ConnectionResetError):
            if first_event is not None:
                await out.write(first_event)
            async with messages as each:
                async for message in each:
                    if message is None:
                        await out.write(KEEPALIVE)
                        continue
                    event = encode_event(dumps(message), event="message")
                    if stream.ends_after_this:
                        # The last event and the end of the response in one write, not two.
                        await out.write_eof(event)
                        break
                    await out.write(event)
    finally:
        if cut_at_shutdown is not None:
            cut_at_shutdown.discard(task)
        await ended()


def _closer(session: McpSession, stream: ClientStream) -> Callable[[], Awaitable[None]]:
    async def close() -> None:
        session.close_stream(stream)

    return close


# What opens the channel of a new session: the backend's by default; an aggregate's own.
ChannelOpener = Callable[[Principal, UserCredential], Awaitable[Channel]]


class BridgedSessions:
    """What both bridged fronts of one server share: the registry, the channel to open."""

    def __init__(
        self,
        backend: Backend,
        registry: SessionRegistry,
        open_channel: ChannelOpener | None = None,
    ) -> None:
        self.backend = backend
        self.registry = registry
        self._open_channel = open_channel or self._open_backend_channel

    async def _open_backend_channel(
        self, principal: Principal, credential: UserCredential
    ) -> Channel:
        return await self.backend.open_channel(principal, credential.token)

    async def open(self, call: McpCall) -> McpSession:
        """A new session for the caller; SessionLimitError at `maxPerUser`."""
        principal = call.principal
        # policy: on a server without authentication every caller is the same anonymous
        # principal; its sessions count per client address (`sessions.maxPerAddress`).
        quota_key = (
            address_quota(call.client_address) if principal.kind == "anonymous" else principal.id
        )
        return await self.open_for(principal, call.credential, call.tools, quota_key)

    async def open_for(
        self,
        principal: Principal,
        credential: UserCredential,
        tools: ToolAccess | None,
        quota_key: str,
        limit: int | None = None,
    ) -> McpSession:
        """A new session of `principal` with `credential` and its view of the tools,
        counted under `quota_key` (against `limit` when given); SessionLimitError at the cap."""

        async def open_channel() -> Channel:
            if credential.problem is not None:
                return RefusingChannel(credential)
            return await self._open_channel(principal, credential)

        return await self.registry.open_session(
            self.backend.name,
            principal,
            open_channel,
            tools,
            credential.fingerprint,
            quota_key,
            limit,
        )

    async def find(self, call: McpCall, session_id: str) -> McpSession | None:
        """The caller's live session of this server; a session opened with another user
        token than the request brings is closed first (and so not found)."""
        session = self.registry.find(session_id, call.principal, self.backend.name)
        if session is None:
            return None
        if call.credential.needed and session.credential != call.credential.fingerprint:
            await self.registry.close(session.id, "user token changed")
            return None
        if call.tools is not None:
            session.tool_access = call.tools
        return session


class BridgedStreamable:
    """The streamable front of a server it bridges (stdio, or a legacy SSE backend)."""

    def __init__(
        self, sessions: BridgedSessions, standalone_streams: set[asyncio.Task[object]]
    ) -> None:
        self._sessions = sessions
        # Handlers of GET streams, ended at once at shutdown (no response rides them).
        self._standalone_streams = standalone_streams

    async def post(self, call: McpCall) -> web.StreamResponse:
        assert call.messages is not None
        if call.credential.problem is not None:
            return await self._refuse(call)
        request = call.request
        session_id = call.session_id
        if session_id is None:
            if not any(m.get("method") == "initialize" for m in call.messages):
                # MCP 2026-07-28 versioning: this reply makes a modern client fall back to
                # the `initialize` handshake, which is all a bridged backend speaks.
                return jsonrpc_error(
                    400,
                    UNSUPPORTED_PROTOCOL_VERSION,
                    "This server needs a session: send initialize first",
                    data={
                        "supported": list(HANDSHAKE_PROTOCOL_VERSIONS),
                        "requested": request.headers.get(PROTOCOL_VERSION_HEADER),
                    },
                )
            session = await self._sessions.open(call)
        else:
            found = await self._sessions.find(call, session_id)
            if found is None:
                return session_not_found()
            session = found
        headers = {SESSION_HEADER: session.id}
        as_stream = _accepts_event_stream(request)
        stream = await session.send(call.messages, "stream" if as_stream else "json")
        if stream is None:
            return web.Response(status=202, headers=headers)
        if as_stream:
            return await _stream_messages(request, stream, headers, _closer(session, stream))
        try:
            replies = [m async for m in stream.messages() if m is not None]
        finally:
            session.close_stream(stream)
        body = dumps(replies if call.is_batch else replies[0]) if replies else b""
        return web.Response(body=body, content_type="application/json", headers=headers)

    async def get(self, call: McpCall) -> web.StreamResponse:
        if call.credential.problem is not None:
            return await self._refuse(call)
        session = await self._from_header(call)
        if isinstance(session, web.Response):
            return session
        if not _accepts_event_stream(call.request):
            return jsonrpc_error(406, INVALID_REQUEST, "Not Acceptable: use text/event-stream")
        if session.has_standalone_stream():
            # MCP transports: one standalone stream per session.
            return jsonrpc_error(409, INVALID_REQUEST, "Conflict: a stream is already open")
        stream = session.open_standalone_stream()
        # Shutdown ends this stream at once, without the grace: the gate routes no
        # response onto it, so nothing in flight is lost, and ending it lets the session's
        # child stop. Other streams may carry responses and drain for the grace instead.
        return await _stream_messages(
            call.request,
            stream,
            {SESSION_HEADER: session.id},
            _closer(session, stream),
            cut_at_shutdown=self._standalone_streams,
        )

    async def delete(self, call: McpCall) -> web.StreamResponse:
        if call.credential.problem is not None:
            return await self._refuse(call)
        session = await self._from_header(call)
        if isinstance(session, web.Response):
            return session
        await self._sessions.registry.close(session.id, "deleted by client")
        return web.Response(status=200)

    async def _refuse(self, call: McpCall) -> web.Response:
        """The user-token error in the backend's place; a session opened with the token
        the user no longer has ends first (its child must not outlive the token)."""
        if call.session_id is not None:
            await self._sessions.find(call, call.session_id)
        return refuse_messages(call.credential, call.messages, call.is_batch)

    async def _from_header(self, call: McpCall) -> McpSession | web.Response:
        session_id = call.session_id
        if session_id is None:
            return jsonrpc_error(400, INVALID_REQUEST, "Bad Request: missing Mcp-Session-Id")
        return await self._sessions.find(call, session_id) or session_not_found()


class BridgedLegacy:
    """The legacy HTTP+SSE front of a server it bridges (stdio, or a streamable backend),
    and of any server for a user without the token it needs."""

    def __init__(self, sessions: BridgedSessions, message_path: str) -> None:
        self._sessions = sessions
        self._message_path = message_path

    async def open_stream(self, call: McpCall) -> web.StreamResponse:
        registry = self._sessions.registry
        session = await self._sessions.open(call)
        stream = session.open_standalone_stream()
        endpoint = encode_event(f"{self._message_path}?sessionId={session.id}", event="endpoint")
        session_id = session.id

        async def ended() -> None:
            # The legacy session lives exactly as long as its stream.
            await registry.close(session_id, "stream closed")

        return await _stream_messages(call.request, stream, {}, ended, first_event=endpoint)

    async def message(self, call: McpCall) -> web.StreamResponse:
        assert call.messages is not None
        session_id = call.legacy_session_id
        if not session_id:
            return jsonrpc_error(400, INVALID_REQUEST, "Bad Request: missing sessionId")
        session = await self._sessions.find(call, session_id)
        if session is None:
            return session_not_found()
        await session.send(call.messages, "standalone")
        return web.Response(status=202, text="Accepted")
