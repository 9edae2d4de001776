"""Message-level connections to one backend MCP session: the lower half of every bridge.

A `Channel` carries JSON-RPC messages to a backend and yields the backend's messages, with
no HTTP left in sight. Bridged sessions (a front whose transport differs from the
backend's, and stdio children) talk to backends only through this interface; same-transport
traffic never comes here, it stays a byte pass-through (`passthrough.py`, `legacy_sse.py`).

This module holds the two remote channels:
- `StreamableHttpChannel`: each message is its own POST (MCP 2025-11-25 transports §Sending
  Messages); replies come back as JSON or on the POST's SSE stream; server-initiated
  messages on a GET stream opened once the session is initialized.
- `SseChannel`: the 2024-11-05 HTTP+SSE transport: one GET stream whose first event names
  the URL to POST messages to.
A channel never invents traffic except one thing: when the backend refuses a request at
the HTTP level, the request's sender gets a JSON-RPC error for its id, since a bridged
client has no other way to hear of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Coroutine, Mapping
from typing import Any, Protocol
from urllib.parse import urljoin

import aiohttp
import structlog

from mcp_gate.errors import BackendTimeoutError, BackendUnavailableError
from mcp_gate.jsonrpc import (
    CONNECTION_CLOSED,
    INTERNAL_ERROR,
    Message,
    error_response,
    is_request,
    parse_messages,
)
from mcp_gate.proxy.headers import PROTOCOL_VERSION_HEADER, SESSION_HEADER, is_event_stream
from mcp_gate.proxy.sse import SseParser
from mcp_gate.proxy.upstream import request_body

log = structlog.get_logger()

# policy: how many backend messages may wait for a slow client before the backend is
# slowed down in turn (backpressure instead of unbounded memory).
CHANNEL_QUEUE_MESSAGES = 1024
# Closing a backend session is a courtesy; never hold shutdown on it.
CLOSE_TIMEOUT_SECONDS = 2.0


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


class QueueChannelBase:
    """Shared plumbing: an inbox of backend messages and the tasks that fill it."""

    def __init__(self, server: str, timeout_seconds: float) -> None:
        self.server = server
        self.timeout_seconds = timeout_seconds
        self._inbox: asyncio.Queue[Message | None] = asyncio.Queue(CHANNEL_QUEUE_MESSAGES)
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

    async def _cancel_tasks(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


async def _relay_sse_messages(
    response: aiohttp.ClientResponse, deliver: object, *, last_event: list[str | None]
) -> None:
    """Decode `message` events of an SSE response and hand each JSON-RPC message on."""
    parser = SseParser()
    async for chunk in response.content.iter_any():
        for event in parser.feed(chunk):
            if event.id is not None:
                last_event[0] = event.id
            if event.event != "message" or not event.data:
                continue
            try:
                messages, _ = parse_messages(event.data.encode())
            except ValueError:
                log.warning("backend_message_invalid", reason="not JSON-RPC")
                continue
            for message in messages:
                await deliver(message)  # type: ignore[operator]


class HttpChannelBase(QueueChannelBase):
    """A channel to a remote backend: its URL and the headers the config gives it."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        server: str,
        url: str,
        headers: Mapping[str, str],
        timeout_seconds: float,
    ) -> None:
        super().__init__(server, timeout_seconds)
        self._http = http
        self._url = url
        self._headers = dict(headers)


class StreamableHttpChannel(HttpChannelBase):
    """One backend session over the streamable HTTP transport, message by message."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._session_id: str | None = None
        self._protocol_version: str | None = None
        self._initialize_ids: set[object] = set()
        self._get_stream_opened = False
        self._send_lock = asyncio.Lock()

    def _request_headers(self) -> dict[str, str]:
        headers = {
            **self._headers,
            "Accept": "application/json, text/event-stream",
            "Content-Type": "application/json",
            "Accept-Encoding": "identity",
        }
        if self._session_id:
            headers[SESSION_HEADER] = self._session_id
        if self._protocol_version:
            headers[PROTOCOL_VERSION_HEADER] = self._protocol_version
        return headers

    async def send(self, message: Message) -> None:
        if self._closed:
            raise ChannelClosedError
        if message.get("method") == "initialize" and "id" in message:
            self._initialize_ids.add(message["id"])
        # Messages keep their order up to the moment the backend has accepted each one.
        async with self._send_lock:
            response = await self._post(message)
        if response is None:
            return
        if message.get("method") == "notifications/initialized":
            self._spawn(self._open_get_stream())
        self._spawn(self._read_reply(message, response))

    async def _post(self, message: Message) -> aiohttp.ClientResponse | None:
        body = json.dumps(message).encode()
        try:
            async with asyncio.timeout(self.timeout_seconds):
                response = await self._http.post(
                    self._url,
                    data=request_body(body),
                    headers=self._request_headers(),
                    allow_redirects=False,
                )
        except TimeoutError:
            await self._refuse(message, "backend did not answer in time")
            return None
        except aiohttp.ClientError:
            await self._refuse(message, "backend unreachable")
            return None
        if response.status == 404 and self._session_id:
            # MCP transports §Session Management: the backend forgot the session.
            response.release()
            await self._refuse(message, "backend session expired")
            self._end()
            return None
        new_id = response.headers.get(SESSION_HEADER)
        if new_id and not self._session_id:
            self._session_id = new_id
        return response

    async def _read_reply(self, message: Message, response: aiohttp.ClientResponse) -> None:
        try:
            async with response:
                if response.status == 202:
                    return
                content_type = response.headers.get("Content-Type")
                if is_event_stream(content_type):
                    await _relay_sse_messages(response, self._accept, last_event=[None])
                    return
                body = await response.read()
                try:
                    replies, _ = parse_messages(body)
                except ValueError:
                    await self._refuse(message, f"backend answered HTTP {response.status}")
                    return
                for reply in replies:
                    await self._accept(reply)
        except aiohttp.ClientError:
            await self._refuse(message, "backend connection lost")

    async def _accept(self, message: Message) -> None:
        if message.get("id") in self._initialize_ids and isinstance(message.get("result"), dict):
            version = message["result"].get("protocolVersion")
            if isinstance(version, str):
                self._protocol_version = version
        await self._deliver(message)

    async def _open_get_stream(self) -> None:
        if self._get_stream_opened or not self._session_id:
            return
        self._get_stream_opened = True
        headers = self._request_headers()
        headers["Accept"] = "text/event-stream"
        del headers["Content-Type"]
        try:
            async with self._http.get(self._url, headers=headers) as response:
                if response.status != 200 or not is_event_stream(
                    response.headers.get("Content-Type")
                ):
                    return  # MCP transports: a server MAY offer no GET stream (405).
                await _relay_sse_messages(response, self._deliver, last_event=[None])
        except aiohttp.ClientError:
            log.info("backend_stream_lost", server=self.server)

    async def aclose(self) -> None:
        self._end()
        await self._cancel_tasks()
        if self._session_id:
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with asyncio.timeout(CLOSE_TIMEOUT_SECONDS):
                    response = await self._http.delete(self._url, headers=self._request_headers())
                    response.release()


class SseChannel(HttpChannelBase):
    """One backend session over the 2024-11-05 HTTP+SSE transport."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._endpoint: str | None = None

    async def connect(self) -> None:
        """Open the stream and wait for the `endpoint` event (2024-11-05 §HTTP with SSE)."""
        headers = {**self._headers, "Accept": "text/event-stream", "Accept-Encoding": "identity"}
        response: aiohttp.ClientResponse | None = None
        parser = SseParser()
        early: list[tuple[str, str]] = []
        try:
            async with asyncio.timeout(self.timeout_seconds):
                response = await self._http.get(self._url, headers=headers)
                if response.status != 200:
                    raise BackendUnavailableError(
                        self.server, f"SSE stream refused with HTTP {response.status}"
                    )
                while self._endpoint is None:
                    chunk = await response.content.readany()
                    if not chunk:
                        raise BackendUnavailableError(self.server, "SSE stream ended early")
                    for event in parser.feed(chunk):
                        if event.event == "endpoint" and self._endpoint is None:
                            self._endpoint = urljoin(self._url, event.data.strip())
                        else:
                            early.append((event.event, event.data))
        except BaseException as exc:
            if response is not None:
                response.release()
            if isinstance(exc, TimeoutError):
                raise BackendTimeoutError(self.server, "no endpoint event in time") from None
            if isinstance(exc, aiohttp.ClientError):
                raise BackendUnavailableError(self.server, "backend unreachable") from None
            raise
        self._spawn(self._read(response, parser, early))

    async def _read(
        self, response: aiohttp.ClientResponse, parser: SseParser, early: list[tuple[str, str]]
    ) -> None:
        try:
            async with response:
                for name, data in early:
                    await self._deliver_event(name, data)
                async for chunk in response.content.iter_any():
                    for event in parser.feed(chunk):
                        await self._deliver_event(event.event, event.data)
        except aiohttp.ClientError:
            log.info("backend_stream_lost", server=self.server)
        finally:
            self._end()

    async def _deliver_event(self, name: str, data: str) -> None:
        if name != "message" or not data:
            return
        try:
            messages, _ = parse_messages(data.encode())
        except ValueError:
            log.warning("backend_message_invalid", server=self.server, reason="not JSON-RPC")
            return
        for message in messages:
            await self._deliver(message)

    async def send(self, message: Message) -> None:
        if self._closed or self._endpoint is None:
            raise ChannelClosedError
        headers = {**self._headers, "Content-Type": "application/json"}
        try:
            async with asyncio.timeout(self.timeout_seconds):
                async with self._http.post(
                    self._endpoint, data=request_body(json.dumps(message).encode()), headers=headers
                ) as response:
                    await response.read()
                    status = response.status
        except TimeoutError:
            await self._refuse(message, "backend did not answer in time")
            return
        except aiohttp.ClientError:
            await self._refuse(message, "backend unreachable")
            return
        if status == 404:
            await self._refuse(message, "backend session expired")
            self._end()
        elif status >= 400:
            await self._refuse(message, f"backend answered HTTP {status}")

    async def aclose(self) -> None:
        self._end()
        await self._cancel_tasks()


def closed_error(request_id: object) -> Message:
    """The error a pending request gets when its backend session ends."""
    return error_response(request_id, CONNECTION_CLOSED, "backend session closed")  # type: ignore[arg-type]
