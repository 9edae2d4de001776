"""Holding a session's requests until its standalone GET stream is open upstream.

A streamable HTTP server sends its own requests (sampling, elicitation, roots) on the
client's standalone GET stream (MCP 2025-11-25 transports §Listening for Messages from the
Server). Clients open that stream right after `notifications/initialized` and send their
first request at once, on another connection, so the two race; directly the GET usually
wins, but a hop in between can reorder them, and a `tools/call` that reaches the server
before the GET makes the server's sampling request go nowhere (the call then times out).

The pass-through closes that race where it can see it: a request of a session waits while
that session's GET is on its way upstream (at most `GET_HOLD_SECONDS`), and, right after
the session's `notifications/initialized`, while its GET has not come yet (at most
`EXPECT_GET_SECONDS` from the notification). A client that opens no GET pays that second
wait once per session, on a request sent within that window. Pure asyncio; no HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

# policy: longer than a GET takes to open on a healthy backend, short enough that a stuck
# GET costs the session's requests little.
GET_HOLD_SECONDS = 0.1
# policy: clients send their GET within a few milliseconds of `initialized`; a client
# that opens none waits this long at most, once.
EXPECT_GET_SECONDS = 0.05


@dataclass
class _Watch:
    deadline: float
    opened: asyncio.Event = field(default_factory=asyncio.Event)


class GetStreamHold:
    """Per-process watches of sessions whose GET stream is expected or being opened."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._watches: dict[str, _Watch] = {}

    def __len__(self) -> int:
        return len(self._watches)

    def expect(self, session_id: str) -> None:
        """The session's client was just initialized: a GET is likely to follow."""
        if session_id in self._watches:
            return
        watch = _Watch(self._clock() + EXPECT_GET_SECONDS)
        self._watches[session_id] = watch
        asyncio.get_running_loop().call_later(EXPECT_GET_SECONDS, self._expire, session_id, watch)

    @contextlib.contextmanager
    def opening(self, session_id: str) -> Iterator[None]:
        """Around sending the session's GET upstream until its response head is in."""
        watch = self._watches.get(session_id)
        if watch is None or watch.opened.is_set():
            watch = self._watches[session_id] = _Watch(0.0)
        watch.deadline = self._clock() + GET_HOLD_SECONDS
        try:
            yield
        finally:
            watch.opened.set()
            if self._watches.get(session_id) is watch:
                del self._watches[session_id]

    def holds(self, session_id: str) -> bool:
        """Whether a request of the session may have to `wait` (a GET expected or opening)."""
        return session_id in self._watches

    async def wait(self, session_id: str) -> None:
        """Return once the session's GET is open, or when there is nothing to wait for."""
        watch = self._watches.get(session_id)
        if watch is None:
            return
        while not watch.opened.is_set():
            remaining = watch.deadline - self._clock()
            if remaining <= 0:
                return
            # The deadline moves when a GET arrives: wake to read it again.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(remaining, EXPECT_GET_SECONDS)):
                    await watch.opened.wait()

    def _expire(self, session_id: str, watch: _Watch) -> None:
        # An expected GET that never came; a GET in flight keeps its own watch.
        if self._watches.get(session_id) is watch and self._clock() >= watch.deadline:
            del self._watches[session_id]
            watch.opened.set()
