"""A legacy HTTP+SSE MCP client for the benchmark (MCP 2024-11-05 transports §HTTP with SSE).

`GET` the stream, wait for its `endpoint` event, POST messages there (202), and match the
answers that come back on the stream to their requests by id. One reader task per stream
decodes events as they arrive; it also notices a stream that ends (`closed`), which is how
the idle-streams scenario tells whether every stream stayed open.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from typing import Any, Self
from urllib.parse import urljoin

import aiohttp

from bench.echo_mcp import INITIALIZED_NOTIFICATION, big_call, echo_call, initialize_request
from mcp_gate.proxy.sse import SseParser

# A loopback answer takes well under a second; more than this is a failure.
ANSWER_TIMEOUT_SECONDS = 30.0


class StreamFailed(Exception):
    """The stream was refused, ended, or an answer did not come."""


class LegacySseClient:
    def __init__(self, http: aiohttp.ClientSession, url: str, token: str | None) -> None:
        self.http = http
        self.url = url
        self.auth = {"Authorization": f"Bearer {token}"} if token else {}
        self.endpoint: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.closed = False
        self._pending: dict[object, asyncio.Future[dict[str, Any]]] = {}
        self._response: aiohttp.ClientResponse | None = None
        self._reader: asyncio.Task[None] | None = None
        self._ids = itertools.count(2)

    async def connect(self) -> None:
        """Open the stream and wait for its endpoint event."""
        headers = {**self.auth, "Accept": "text/event-stream"}
        self._response = await self.http.get(self.url, headers=headers)
        if self._response.status != 200:
            status = self._response.status
            self._response.release()
            raise StreamFailed(f"stream refused with HTTP {status}")
        self._reader = asyncio.create_task(self._read(self._response))
        async with asyncio.timeout(ANSWER_TIMEOUT_SECONDS):
            await self.endpoint

    async def __aenter__(self) -> Self:
        await self.connect()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._response is not None:
            self._response.close()

    async def _read(self, response: aiohttp.ClientResponse) -> None:
        parser = SseParser()
        try:
            async for chunk in response.content.iter_any():
                for event in parser.feed(chunk):
                    if event.event == "endpoint" and not self.endpoint.done():
                        self.endpoint.set_result(urljoin(self.url, event.data.strip()))
                    elif event.event == "message" and event.data:
                        message = json.loads(event.data)
                        waiter = self._pending.pop(message.get("id"), None)
                        if waiter is not None and not waiter.done():
                            waiter.set_result(message)
        except aiohttp.ClientError:
            pass
        finally:
            self.closed = True
            failure = StreamFailed("the stream ended")
            if not self.endpoint.done():
                self.endpoint.set_exception(failure)
            for waiter in self._pending.values():
                if not waiter.done():
                    waiter.set_exception(failure)

    async def ask(self, message: dict[str, Any]) -> dict[str, Any] | None:
        """POST one message; for a request, wait for its answer on the stream."""
        if self.closed:
            raise StreamFailed("the stream ended")
        waiter = None
        if "id" in message:
            waiter = asyncio.get_running_loop().create_future()
            self._pending[message["id"]] = waiter
        body = json.dumps(message, separators=(",", ":")).encode()
        headers = {**self.auth, "Content-Type": "application/json"}
        async with self.http.post(self.endpoint.result(), data=body, headers=headers) as reply:
            await reply.read()
            if reply.status != 202:
                self._pending.pop(message.get("id"), None)
                raise StreamFailed(f"message refused with HTTP {reply.status}")
        if waiter is None:
            return None
        async with asyncio.timeout(ANSWER_TIMEOUT_SECONDS):
            return await waiter

    async def handshake(self) -> None:
        await self.ask(initialize_request(next(self._ids)))
        await self.ask(INITIALIZED_NOTIFICATION)

    async def call(self) -> None:
        answer = await self.ask(echo_call(next(self._ids)))
        if answer is None or "result" not in answer:
            raise StreamFailed(f"bad answer {answer!r}")

    async def call_big(self, size_bytes: int) -> None:
        answer = await self.ask(big_call(next(self._ids), size_bytes))
        text = answer["result"]["content"][0]["text"] if answer and "result" in answer else ""
        if len(text) != size_bytes:
            raise StreamFailed(f"answer of {len(text)} characters, asked for {size_bytes}")
