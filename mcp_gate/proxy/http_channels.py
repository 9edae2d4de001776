"""The two remote channels (`channels.Channel`): a bridged session's backend over HTTP.

- `StreamableHttpChannel`: each message is its own POST (MCP 2025-11-25 transports §Sending
  Messages); replies come back as JSON or on the POST's SSE stream; server-initiated
  messages on a GET stream opened once the session is initialized.
- `SseChannel`: the 2024-11-05 HTTP+SSE transport: one GET stream whose first event names
  the URL to POST messages to.
Like the pass-through, a channel follows no redirect (a redirect is a refusal), sends
nothing to an `endpoint` on another origin (`origins.resolve_endpoint`), and reads at most
`proxy.maxMessageSize` of one message: an SSE event, or a JSON body (`read_body`).
Bridged channels use the aiohttp client (one session per backend session, both directions
at once); the lean client (`mcp_gate.http1`) is the pass-through's.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
from typing import Any

import aiohttp
import structlog

from mcp_gate.errors import BackendTimeoutError, BackendUnavailableError
from mcp_gate.jsonrpc import InvalidMessageError, Message, dumps, parse_messages
from mcp_gate.proxy.channels import ChannelClosedError, HttpChannelBase
from mcp_gate.proxy.headers import PROTOCOL_VERSION_HEADER, SESSION_HEADER, is_event_stream
from mcp_gate.proxy.origins import resolve_endpoint
from mcp_gate.proxy.sse import EventTooLargeError, SseEvent, SseParser

log = structlog.get_logger()

# aiohttp writes a bytes body in one go and warns above 1 MiB; a file-like body is
# written in chunks, yielding to the event loop between them.
_CHUNKED_BODY_BYTES = 1024 * 1024


def request_body(body: bytes) -> bytes | io.BytesIO:
    """The body as aiohttp should send it: large ones as a stream (still with a length)."""
    return io.BytesIO(body) if len(body) > _CHUNKED_BODY_BYTES else body


class BodyTooLargeError(Exception):
    """A backend's response body is larger than the gate reads."""

    def __init__(self, limit_bytes: int) -> None:
        self.limit_bytes = limit_bytes
        super().__init__(f"response body exceeds {limit_bytes} bytes")


async def read_body(upstream: aiohttp.ClientResponse, limit_bytes: int) -> bytes:
    """The whole body, or BodyTooLargeError as soon as it passes `limit_bytes`."""
    declared = upstream.content_length
    if declared is not None and declared > limit_bytes:
        raise BodyTooLargeError(limit_bytes)
    if declared is not None:
        return await upstream.read()  # aiohttp reads no more than the declared length
    body = bytearray()
    async for chunk in upstream.content.iter_any():
        body += chunk
        if len(body) > limit_bytes:
            raise BodyTooLargeError(limit_bytes)
    return bytes(body)


# Closing a backend session is a courtesy; never hold shutdown on it.
CLOSE_TIMEOUT_SECONDS = 2.0


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
        body = dumps(message)
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
                if is_event_stream(response.headers.get("Content-Type")):
                    if not await self._relay_sse(response, self._accept):
                        await self._refuse(message, "backend answer could not be read")
                    return
                body = await read_body(response, self._max_message_bytes)
                try:
                    replies, _ = parse_messages(body)
                except InvalidMessageError:
                    await self._refuse(message, f"backend answered HTTP {response.status}")
                    return
                for reply in replies:
                    await self._accept(reply)
        except BodyTooLargeError as exc:
            await self._refuse(message, f"backend {exc}")
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
            async with self._http.get(
                self._url, headers=headers, allow_redirects=False
            ) as response:
                if response.status != 200 or not is_event_stream(
                    response.headers.get("Content-Type")
                ):
                    # MCP transports: a server MAY offer no GET stream (405).
                    log.info(
                        "backend_stream_unavailable", server=self.server, status=response.status
                    )
                    return
                await self._relay_sse(response, self._deliver)
        except aiohttp.ClientError:
            log.info("backend_stream_lost", server=self.server)

    async def aclose(self) -> None:
        self._end()
        await self._cancel_tasks()
        if self._session_id:
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with asyncio.timeout(CLOSE_TIMEOUT_SECONDS):
                    response = await self._http.delete(
                        self._url, headers=self._request_headers(), allow_redirects=False
                    )
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
        parser = SseParser(self._max_message_bytes)
        early: list[SseEvent] = []
        try:
            async with asyncio.timeout(self.timeout_seconds):
                response = await self._http.get(self._url, headers=headers, allow_redirects=False)
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
                            self._endpoint = self._resolve_endpoint(event.data)
                        else:
                            early.append(event)
        except BaseException as exc:
            if response is not None:
                response.release()
            if isinstance(exc, TimeoutError):
                raise BackendTimeoutError(self.server, "no endpoint event in time") from None
            if isinstance(exc, aiohttp.ClientError):
                raise BackendUnavailableError(self.server, "backend unreachable") from None
            if isinstance(exc, EventTooLargeError):
                raise BackendUnavailableError(self.server, str(exc)) from None
            raise
        self._spawn(self._read(response, parser, early))

    def _resolve_endpoint(self, data: str) -> str:
        endpoint = resolve_endpoint(self._url, data)
        if endpoint is None:
            raise BackendUnavailableError(self.server, "endpoint event names another origin")
        return endpoint

    async def _read(
        self, response: aiohttp.ClientResponse, parser: SseParser, early: list[SseEvent]
    ) -> None:
        try:
            async with response:
                for event in early:
                    await self._hand_on(event, self._deliver)
                await self._relay_sse(response, self._deliver, parser)
        except aiohttp.ClientError:
            log.info("backend_stream_lost", server=self.server)
        finally:
            self._end()

    async def send(self, message: Message) -> None:
        if self._closed or self._endpoint is None:
            raise ChannelClosedError
        headers = {**self._headers, "Content-Type": "application/json"}
        try:
            async with asyncio.timeout(self.timeout_seconds):
                async with self._http.post(
                    self._endpoint,
                    data=request_body(dumps(message)),
                    headers=headers,
                    allow_redirects=False,
                ) as response:
                    status = response.status
                    await read_body(response, self._max_message_bytes)  # answers ride the stream
        except TimeoutError:
            await self._refuse(message, "backend did not answer in time")
            return
        except aiohttp.ClientError:
            await self._refuse(message, "backend unreachable")
            return
        except BodyTooLargeError as exc:
            await self._refuse(message, f"backend {exc}")
            return
        if status == 404:
            await self._refuse(message, "backend session expired")
            self._end()
        elif status >= 300:
            await self._refuse(message, f"backend answered HTTP {status}")

    async def aclose(self) -> None:
        self._end()
        await self._cancel_tasks()
