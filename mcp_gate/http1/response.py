"""A backend's response as the caller sees it: status, headers, and a body read once.

The body is read either whole (`read`, bounded by a size cap and a timeout the caller gives)
or chunk by chunk as it arrives (`async for chunk in response`, no timeout: SSE streams stay
open for hours). A response owns its connection until the body is complete; then the
connection has already gone back to its pool, and closing the response does nothing to it.
Closing earlier, or leaving an `async with` block early (the gate's client went away),
aborts the connection at once: the backend sees its request cancelled, and a connection
mid-body is never reused.

It does not parse bytes or choose connections.
"""

from __future__ import annotations

import asyncio
import contextlib
from types import TracebackType

from multidict import CIMultiDict, CIMultiDictProxy

from mcp_gate.http1.connection import Connection
from mcp_gate.http1.errors import ResponseTooLargeError, UpstreamTimeoutError
from mcp_gate.http1.exchange import ResponseHead

_NO_HEADERS: CIMultiDictProxy[str] = CIMultiDictProxy(CIMultiDict())


class Response:
    __slots__ = (
        "_body",
        "_closed",
        "_connection",
        "_server",
        "headers",
        "reason",
        "status",
        "version",
    )

    def __init__(self, head: ResponseHead, connection: Connection, server: str) -> None:
        self.status = head.status
        self.reason = head.reason
        self.version = head.version  # "1.1" or "1.0"
        self.headers: CIMultiDictProxy[str] = head.headers
        self._body = head.body
        self._connection = connection
        self._server = server
        self._closed = False

    @property
    def content_length(self) -> int | None:
        value = self.headers.get("Content-Length")
        return int(value) if value is not None else None  # llhttp accepted it: digits only

    @property
    def is_complete(self) -> bool:
        """The whole body has arrived (it may still be unread)."""
        return self._body.is_complete

    @property
    def buffered_bytes(self) -> int:
        """Body bytes received and not yet read."""
        return self._body.buffered_bytes

    @property
    def reading_paused(self) -> bool:
        """Reading from the backend is paused until the reader catches up."""
        return self._body.reading_paused

    def read_arrived(self, *, max_bytes: int) -> bytes | None:
        """The whole body if all of it has arrived (no await: a small answer usually comes
        with its head), at most `max_bytes` of it; None while more is to come."""
        self._check_open()
        body = self._body
        if not body.is_complete:  # (always complete for a HEAD response: no body follows)
            return None
        return self._joined(body.take_all(), max_bytes)

    async def read(self, *, max_bytes: int, timeout_seconds: float | None) -> bytes:
        """The whole body, at most `max_bytes` of it, within `timeout_seconds` from now."""
        arrived = self.read_arrived(max_bytes=max_bytes)
        if arrived is not None:
            return arrived
        body = self._body
        length = self.content_length
        if length is not None and length > max_bytes:
            self.close()
            raise ResponseTooLargeError(self._server, f"response body over {max_bytes} bytes")
        timer = None
        if timeout_seconds is not None:
            timeout = UpstreamTimeoutError(
                self._server,
                f"response body not complete within {timeout_seconds:g}s",
                phase="body",
            )
            loop = asyncio.get_running_loop()
            timer = loop.call_later(timeout_seconds, body.fail, timeout)
        chunks: list[bytes] = []
        size = 0
        try:
            while (chunk := await body.next_chunk()) is not None:
                size += len(chunk)
                if size > max_bytes:
                    raise ResponseTooLargeError(
                        self._server, f"response body over {max_bytes} bytes"
                    )
                chunks.append(chunk)
        except BaseException:
            self.close()
            raise
        finally:
            if timer is not None:
                timer.cancel()
        return self._joined(chunks, max_bytes)

    def __aiter__(self) -> Response:
        self._check_open()
        return self

    async def __anext__(self) -> bytes:
        """The next chunk of the body, as the backend sent it; no timeout."""
        self._check_open()
        chunk = await self._body.next_chunk()
        if chunk is None:
            raise StopAsyncIteration
        return chunk

    def release_head(self) -> None:
        """Let the head's fields go once they have been relayed and nothing reads them again
        (a streamed body can run for hours); `headers` is empty from here on."""
        self.headers = _NO_HEADERS

    def close(self) -> None:
        """Done with the response: a body still arriving aborts its connection now."""
        if self._closed:
            return
        self._closed = True
        if not self._body.is_complete:
            self._connection.abort()  # a no-op if the connection is already gone

    async def __aenter__(self) -> Response:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __del__(self) -> None:
        # A response dropped unclosed must not hold its connection (and a pool slot) forever.
        if not self._closed and not self._body.is_complete:
            with contextlib.suppress(RuntimeError):  # its loop is closed, and the socket with it
                self._connection.abort()

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("the response is closed")

    def _joined(self, chunks: list[bytes], max_bytes: int) -> bytes:
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)  # one chunk: no copy
        if len(data) > max_bytes:
            raise ResponseTooLargeError(self._server, f"response body over {max_bytes} bytes")
        return data
