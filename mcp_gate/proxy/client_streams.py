"""A client-facing stream of backend messages: what one HTTP response of a bridged session
carries (a POST's SSE or JSON reply, the standalone GET stream, a legacy SSE stream).

`McpSession` (mcp_sessions.py) decides which messages go to which stream; the fronts
(bridge.py) drain a stream into a response. A POST's stream (`RequestStream`) knows the
requests it still waits answers for and the progress tokens it carries; no stream knows
anything of HTTP or backends.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field

from mcp_gate.jsonrpc import Message, RequestId
from mcp_gate.proxy.message_queue import MessageQueue

# policy: a stream whose client reads too slowly holds at most this many messages.
STREAM_QUEUE_MESSAGES = 1024


@dataclass(eq=False)
class ClientStream:
    """One client-facing stream of backend messages (a standalone one as it is)."""

    queue: MessageQueue[Message | None] = field(
        default_factory=lambda: MessageQueue(STREAM_QUEUE_MESSAGES)
    )
    ended: bool = False

    async def messages(
        self, keepalive_seconds: float | None = None
    ) -> AsyncGenerator[Message | None, None]:
        """Every message routed here until the stream or its session ends; with a
        keep-alive interval, None after each quiet interval (time to send a comment)."""
        while True:
            try:
                message = await self.queue.get(keepalive_seconds)
            except TimeoutError:
                yield None
                continue
            if message is None:
                return
            yield message

    def end(self) -> None:
        self.ended = True
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait(None)

    @property
    def ends_after_this(self) -> bool:
        """The message just taken is the stream's last: only the end is queued behind it
        (a POST's answer routed, and the stream ended in the same step)."""
        return self.ended and self.queue.qsize() == 1


@dataclass(eq=False)
class RequestStream(ClientStream):
    """The stream of a POST's reply: it waits for the answers to that POST's requests.

    (A standalone stream waits for none, so it carries no id sets: an empty set is 216 B,
    and a legacy SSE stream is a standalone one held open for hours.)
    """

    pending_ids: set[RequestId] = field(default_factory=set)
    progress_tokens: set[object] = field(default_factory=set)
    # A JSON reply can carry only responses; other messages must find another stream.
    takes_other_messages: bool = True
