"""One response body between the connection that receives it and the code that reads it.

The connection feeds chunks as the parser yields them (never joined, never held back: an SSE
event is readable the moment its bytes arrive); the reader takes them one at a time. When
more than `high_water_bytes` wait unread, the stream asks its connection to stop reading the
socket (asyncio `pause_reading`), and asks it to read again once the reader has brought them
down to a quarter of that, so a slow reader holds at most about one high-water mark plus
one socket read in memory and TCP flow control slows the backend down.

It knows nothing of HTTP framing, pools or timeouts; whoever ends the body says how.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Protocol


class FlowControl(Protocol):
    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...


class BodyStream:
    __slots__ = (
        "_buffered",
        "_chunks",
        "_done",
        "_error",
        "_flow",
        "_high_water",
        "_loop",
        "_low_water",
        "_paused",
        "_waiter",
    )

    def __init__(
        self, loop: asyncio.AbstractEventLoop, flow: FlowControl | None, high_water_bytes: int
    ) -> None:
        self._loop = loop
        self._flow = flow
        self._high_water = high_water_bytes
        self._low_water = high_water_bytes // 4
        # Made while chunks wait unread: an idle stream holds none (an empty deque is ~600 B).
        self._chunks: deque[bytes] | None = None
        self._buffered = 0
        self._paused = False
        self._done = False
        self._error: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None

    # -- the connection's side

    def feed(self, chunk: bytes) -> None:
        if self._done or self._error is not None:
            return
        if self._chunks is None:
            self._chunks = deque()
        self._chunks.append(chunk)
        self._buffered += len(chunk)
        if self._buffered > self._high_water and not self._paused and self._flow is not None:
            self._paused = True
            self._flow.pause_reading()
        self._wake()

    def finish(self) -> None:
        """The body is complete; what is buffered is still read."""
        self._done = True
        self._flow = None  # the connection is no longer this body's
        self._wake()

    def fail(self, error: BaseException) -> None:
        """The body cannot complete; the reader gets `error` once the buffer is drained."""
        if self._done or self._error is not None:
            return
        self._error = error
        self._flow = None
        self._wake()

    # -- the reader's side

    @property
    def is_complete(self) -> bool:
        return self._done

    @property
    def buffered_bytes(self) -> int:
        return self._buffered

    @property
    def reading_paused(self) -> bool:
        return self._paused

    def take_all(self) -> list[bytes]:
        """Every buffered chunk (the whole body once `is_complete`)."""
        chunks = list(self._chunks or ())
        self._chunks = None
        self._buffered = 0
        return chunks

    async def next_chunk(self) -> bytes | None:
        """The next chunk as it arrives; None at the end; raises what failed the body."""
        while True:
            if self._chunks:
                chunk = self._chunks.popleft()
                if not self._chunks:
                    self._chunks = None
                self._buffered -= len(chunk)
                if self._paused and self._buffered <= self._low_water:
                    self._paused = False
                    if self._flow is not None:
                        self._flow.resume_reading()
                return chunk
            if self._done:
                return None
            if self._error is not None:
                raise self._error
            self._waiter = self._loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)
