"""Bridged MCP sessions: a gate-minted session id, its owner, its channel, its streams.

When the client's transport differs from the backend's (or the backend is a stdio child),
the gate terminates the MCP session itself: it mints the id, binds it to the principal that
opened it (MCP 2025-11-25 security best practices §Session Hijacking), and routes each
backend message to the client stream it belongs to:

- a response goes to the stream that carries its request (a streamable POST stream);
- a progress notification goes to the stream of the request that asked for that token;
- anything else the backend starts (requests such as sampling, notifications) goes to the
  standalone stream (the streamable GET stream, or the legacy SSE stream), or, while none
  is open, to the newest request stream, or waits in a bounded backlog.

A legacy SSE client has only the standalone stream, so it gets everything there.
This module knows nothing of HTTP; fronts (`bridge.py`) turn streams into responses.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Literal

import structlog

from mcp_gate.jsonrpc import Message, RequestId, is_request, kind_of, progress_token_of
from mcp_gate.principal import Principal
from mcp_gate.proxy.channels import Channel, ChannelClosedError, closed_error

log = structlog.get_logger()

ReplyMode = Literal["stream", "json", "standalone"]

# policy: server-initiated messages kept for a client that has no stream open yet.
BACKLOG_MESSAGES = 256
# policy: a stream whose client reads too slowly holds at most this many messages.
STREAM_QUEUE_MESSAGES = 1024


@dataclass(eq=False)
class ClientStream:
    """One client-facing stream of backend messages."""

    pending_ids: set[RequestId] = field(default_factory=set)
    progress_tokens: set[object] = field(default_factory=set)
    # A JSON reply can carry only responses; other messages must find another stream.
    takes_other_messages: bool = True
    queue: asyncio.Queue[Message | None] = field(
        default_factory=lambda: asyncio.Queue(STREAM_QUEUE_MESSAGES)
    )

    async def messages(
        self, keepalive_seconds: float | None = None
    ) -> AsyncIterator[Message | None]:
        """Every message routed here until the stream or its session ends; with a
        keep-alive interval, None after each quiet interval (time to send a comment)."""
        while True:
            try:
                async with asyncio.timeout(keepalive_seconds):
                    message = await self.queue.get()
            except TimeoutError:
                yield None
                continue
            if message is None:
                return
            yield message

    def end(self) -> None:
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait(None)


class McpSession:
    """One bridged MCP session: owner, channel to the backend, and the client streams."""

    def __init__(
        self, server: str, principal: Principal, channel: Channel, clock: Callable[[], float]
    ) -> None:
        self.id = secrets.token_urlsafe(24)  # MCP transports: secure, non-deterministic
        self.server = server
        self.principal = principal
        self.channel = channel
        self._clock = clock
        self.last_active = clock()
        self._request_streams: list[ClientStream] = []
        self._standalone: ClientStream | None = None
        self._backlog: deque[Message] = deque(maxlen=BACKLOG_MESSAGES)
        self._pump: asyncio.Task[None] | None = None
        self.closed = asyncio.Event()

    def start(self) -> None:
        self._pump = asyncio.create_task(self._run_pump(), name=f"mcp-session-{self.server}")

    def touch(self) -> None:
        self.last_active = self._clock()

    def has_standalone_stream(self) -> bool:
        return self._standalone is not None

    def is_idle(self, now: float, timeout_seconds: float) -> bool:
        # policy: a client holding a stream open is present, however quiet the traffic.
        if self._standalone is not None or self._request_streams:
            return False
        return now - self.last_active > timeout_seconds

    def open_standalone_stream(self) -> ClientStream:
        stream = ClientStream()
        self._standalone = stream
        while self._backlog:
            stream.queue.put_nowait(self._backlog.popleft())
        return stream

    def close_stream(self, stream: ClientStream) -> None:
        self.touch()
        if stream is self._standalone:
            self._standalone = None
        elif stream in self._request_streams:
            self._request_streams.remove(stream)

    async def send(self, messages: list[Message], reply: ReplyMode) -> ClientStream | None:
        """Send client messages to the backend.

        `reply` says where the backend's responses to these requests go: a new request
        stream (`"stream"`, an SSE reply; `"json"`, a JSON reply that carries responses only)
        or the standalone stream (`"standalone"`, the legacy front). A request stream is
        returned when one was made.
        """
        self.touch()
        stream: ClientStream | None = None
        requests = [m for m in messages if is_request(m)]
        if requests and reply != "standalone":
            stream = ClientStream(
                pending_ids={m["id"] for m in requests},
                progress_tokens=(
                    {t for m in requests if (t := progress_token_of(m)) is not None}
                    if reply == "stream"
                    else set()
                ),
                takes_other_messages=reply == "stream",
            )
            # Registered before sending, so a fast reply cannot miss its stream.
            self._request_streams.append(stream)
        try:
            for message in messages:
                await self.channel.send(message)
        except ChannelClosedError:
            if stream is not None:
                self._fail(stream)
        return stream

    async def _run_pump(self) -> None:
        try:
            while True:
                message = await self.channel.receive()
                await self._route(message)
        except ChannelClosedError:
            pass
        finally:
            self._finish()

    async def _route(self, message: Message) -> None:
        self.touch()
        kind = kind_of(message)
        if kind == "response":
            for stream in self._request_streams:
                if message.get("id") in stream.pending_ids:
                    stream.pending_ids.discard(message["id"])
                    await stream.queue.put(message)
                    if not stream.pending_ids:
                        stream.end()
                        self._request_streams.remove(stream)
                    return
        elif kind == "notification":
            params = message.get("params")
            token = params.get("progressToken") if isinstance(params, dict) else None
            for stream in self._request_streams:
                if token is not None and token in stream.progress_tokens:
                    await stream.queue.put(message)
                    return
        target = self._standalone or next(
            (s for s in reversed(self._request_streams) if s.takes_other_messages), None
        )
        if target is None:
            self._backlog.append(message)
        else:
            await target.queue.put(message)

    def _fail(self, stream: ClientStream) -> None:
        for request_id in stream.pending_ids:
            with contextlib.suppress(asyncio.QueueFull):
                stream.queue.put_nowait(closed_error(request_id))
        stream.pending_ids.clear()
        stream.end()

    def _finish(self) -> None:
        """The backend is gone: pending requests get errors, every stream ends."""
        for stream in self._request_streams:
            self._fail(stream)
        self._request_streams.clear()
        if self._standalone is not None:
            self._standalone.end()
        self.closed.set()

    async def aclose(self) -> None:
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
        else:
            self._finish()
        await self.channel.aclose()


class SessionLimitError(Exception):
    """The principal already holds `sessions.maxPerUser` live sessions."""


class SessionRegistry:
    """Live bridged sessions of this process, with the per-user cap and the idle reaper."""

    def __init__(
        self,
        *,
        idle_timeout_seconds: float,
        max_per_user: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions: dict[str, McpSession] = {}
        self.idle_timeout_seconds = idle_timeout_seconds
        self.max_per_user = max_per_user
        self.clock = clock

    def __len__(self) -> int:
        return len(self._sessions)

    def check_capacity(self, principal: Principal) -> None:
        count = sum(1 for s in self._sessions.values() if s.principal.id == principal.id)
        if count >= self.max_per_user:
            raise SessionLimitError(
                f"you already have {count} open sessions (the limit is {self.max_per_user}); "
                "close one or wait for an idle one to expire"
            )

    def add(self, session: McpSession) -> None:
        self._sessions[session.id] = session
        session.start()
        log.info("mcp_session_opened", server=session.server, mcp_session=session.id[:8])

    def find(self, session_id: str, principal: Principal, server: str) -> McpSession | None:
        """The session, if it exists, is alive, and belongs to this principal and server."""
        session = self._sessions.get(session_id)
        if session is None or session.closed.is_set():
            return None
        # A session presented by anyone but its owner does not exist for them (404).
        if session.principal.id != principal.id or session.server != server:
            return None
        return session

    async def close(self, session_id: str, reason: str) -> None:
        session = self._sessions.pop(session_id, None)
        if session is not None:
            await session.aclose()
            log.info(
                "mcp_session_closed",
                server=session.server,
                mcp_session=session_id[:8],
                reason=reason,
            )

    async def reap(self) -> int:
        """Close sessions idle longer than the timeout, or whose backend has gone."""
        now = self.clock()
        stale = {
            sid: "ended" if s.closed.is_set() else "idle"
            for sid, s in self._sessions.items()
            if s.closed.is_set() or s.is_idle(now, self.idle_timeout_seconds)
        }
        for sid, reason in stale.items():
            await self.close(sid, reason)
        return len(stale)

    async def close_all(self) -> None:
        await asyncio.gather(
            *(self.close(sid, "shutdown") for sid in list(self._sessions)),
            return_exceptions=True,
        )
