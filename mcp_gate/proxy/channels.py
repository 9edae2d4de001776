"""Message-level connections to one backend MCP session: the lower half of every bridge.

A `Channel` carries JSON-RPC messages to a backend and yields the backend's messages, with
no HTTP left in sight. Bridged sessions (a front whose transport differs from the
backend's, and stdio children) talk to backends only through this interface; same-transport
traffic never comes here, it stays a byte pass-through (`streamable_passthrough.py`,
`legacy_passthrough.py`).

This module holds the interface and what every channel shares: the inbox the backend's
messages wait in, and, for the remote channels (`http_channels.py`), the reading of an SSE
response within `proxy.maxMessageSize` per event. Backend messages are parsed strictly
(`jsonrpc.parse_messages`): a message a channel cannot read is dropped and logged.
A channel never invents traffic except one thing: when the backend refuses a request at
the HTTP level (or answers it with a message too large or malformed to read), the request's
sender gets a JSON-RPC error for its id, since a bridged client has no other way to hear
of it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any, Protocol

import aiohttp
import structlog

from mcp_gate.jsonrpc import (
    CONNECTION_CLOSED,
    INTERNAL_ERROR,
    InvalidMessageError,
    Message,
    error_response,
    is_request,
    parse_messages,
)
from mcp_gate.proxy.message_queue import MessageQueue
from mcp_gate.proxy.sse import EventTooLargeError, SseEvent, SseParser

log = structlog.get_logger()

# policy: how many backend messages may wait for a slow client before the backend is
# slowed down in turn (backpressure instead of unbounded memory).
CHANNEL_QUEUE_MESSAGES = 1024


class ChannelClosedError(Exception):
    """The backend side of the channel is gone; no more messages will come."""


class Channel(Protocol):
    # How the channel's log lines name their MCP session; set by the session that owns it.
    session_label: str

    async def send(self, message: Message) -> None: ...

    async def receive(self) -> Message:
        """The backend's next message; raises ChannelClosedError when it is gone."""
        ...

    async def aclose(self) -> None: ...

    def kill(self) -> None:
        """End at once, without waiting for anything: the gate process is exiting now."""
        ...


class QueueChannelBase:
    """Shared plumbing: an inbox of backend messages and the tasks that fill it."""

    def __init__(self, server: str, timeout_seconds: float) -> None:
        self.server = server
        self.timeout_seconds = timeout_seconds
        self._inbox: MessageQueue[Message | None] = MessageQueue(CHANNEL_QUEUE_MESSAGES)
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False
        self.session_label = "-"

    async def receive(self) -> Message:
        if self._closed and self._inbox.empty():
            raise ChannelClosedError
        message = await self._inbox.get()
        if message is None:
            self._closed = True
            raise ChannelClosedError
        return message

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, message: Message) -> None:
        await self._inbox.put(message)

    def _end(self) -> None:
        """Signal end of stream to the receiver (without blocking)."""
        if not self._closed:
            self._closed = True
            with contextlib.suppress(asyncio.QueueFull):
                self._inbox.put_nowait(None)

    async def _refuse(self, message: Message, reason: str) -> None:
        if is_request(message):
            await self._deliver(error_response(message["id"], INTERNAL_ERROR, reason))

    def kill(self) -> None:
        """A remote session needs nothing at exit: its connections close with the process."""

    async def _cancel_tasks(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


Deliver = Callable[[Message], Awaitable[None]]


def read_backend_messages(server: str, data: bytes | str) -> list[Message]:
    """The messages of one backend event or body; [] (logged) when it is not JSON-RPC."""
    try:
        messages, _ = parse_messages(data)
    except InvalidMessageError as exc:
        log.warning("backend_message_invalid", server=server, reason=str(exc)[:200])
        return []
    return messages


class HttpChannelBase(QueueChannelBase):
    """A channel to a remote backend: its URL and the headers the config gives it."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        server: str,
        url: str,
        headers: Mapping[str, str],
        timeout_seconds: float,
        max_message_bytes: int,
    ) -> None:
        super().__init__(server, timeout_seconds)
        self._http = http
        self._url = url
        self._headers = dict(headers)
        self._max_message_bytes = max_message_bytes

    async def connect(self) -> None:
        """Whatever the transport must do before the first message (nothing by default)."""

    async def _hand_on(self, event: SseEvent, deliver: Deliver) -> bool:
        """Deliver the messages of a `message` event; False when it held none readable."""
        if event.event != "message" or not event.data:
            return True
        messages = read_backend_messages(self.server, event.data)
        for message in messages:
            await deliver(message)
        return bool(messages)

    async def _relay_sse(
        self, response: aiohttp.ClientResponse, deliver: Deliver, parser: SseParser | None = None
    ) -> bool:
        """Hand on each JSON-RPC message of an SSE response's `message` events. False when
        a message could not be read (malformed: dropped; too large: the stream ends)."""
        parser = parser or SseParser(self._max_message_bytes)
        all_read = True
        try:
            async for chunk in response.content.iter_any():
                for event in parser.feed(chunk):
                    all_read = await self._hand_on(event, deliver) and all_read
        except EventTooLargeError as exc:
            log.warning("backend_message_too_large", server=self.server, limit=exc.limit_bytes)
            return False
        return all_read


def closed_error(request_id: object) -> Message:
    """The error a pending request gets when its backend session ends."""
    return error_response(request_id, CONNECTION_CLOSED, "backend session closed")  # type: ignore[arg-type]
