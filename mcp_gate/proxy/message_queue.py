"""A bounded FIFO of messages between coroutines: the part of `asyncio.Queue` the gate uses.

`put` (waits while the queue is full), `put_nowait` (raises `asyncio.QueueFull`), `get`
(waits while it is empty, at most `timeout_seconds` when given) and `empty`, with
asyncio.Queue's order and cancellation rules: waiting getters and putters are woken first
come, first served, and one that is cancelled just as it was woken passes its turn on. It
exists for memory: every idle stream holds a queue or two, and an `asyncio.Queue`
allocates four deques and an Event up front (a few KiB); this one allocates its buffer and
waiter lists only while they hold something. It has no `join`/`task_done` (nothing waits
for consumers here).
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class MessageQueue(Generic[T]):
    __slots__ = ("_getters", "_items", "_maxsize", "_putters")

    def __init__(self, maxsize: int = 0) -> None:
        self._maxsize = maxsize  # 0: unbounded, as asyncio.Queue
        self._items: deque[T] | None = None
        self._getters: list[asyncio.Future[None]] | None = None
        self._putters: list[asyncio.Future[None]] | None = None

    def qsize(self) -> int:
        return len(self._items) if self._items is not None else 0

    def empty(self) -> bool:
        return not self._items

    def full(self) -> bool:
        return 0 < self._maxsize <= self.qsize()

    def put_nowait(self, item: T) -> None:
        if self.full():
            raise asyncio.QueueFull
        if self._items is None:
            self._items = deque()
        self._items.append(item)
        self._getters = _wake_next(self._getters)

    def get_nowait(self) -> T:
        items = self._items
        if not items:
            raise asyncio.QueueEmpty
        item = items.popleft()
        if not items:
            self._items = None  # an idle queue holds no buffer
        self._putters = _wake_next(self._putters)
        return item

    async def put(self, item: T) -> None:
        while self.full():
            if self._putters is None:
                self._putters = []
            putter = asyncio.get_running_loop().create_future()
            self._putters.append(putter)
            try:
                await putter
            except BaseException:
                self._putters = _leave(self._putters, putter)
                if not self.full() and not putter.cancelled():
                    self._putters = _wake_next(self._putters)  # its turn goes to the next
                raise
        self.put_nowait(item)

    async def get(self, timeout_seconds: float | None = None) -> T:
        """The next item; TimeoutError when none comes within `timeout_seconds`. (A timer
        on the waiter rather than `asyncio.timeout()`, whose context object a stream
        waiting between keep-alives would hold the whole time.)"""
        loop = asyncio.get_running_loop()
        deadline = None if timeout_seconds is None else loop.time() + timeout_seconds
        while self.empty():
            if self._getters is None:
                self._getters = []
            getter = loop.create_future()
            self._getters.append(getter)
            timer = None if deadline is None else loop.call_at(deadline, _expire, getter)
            try:
                await getter
            except BaseException:
                self._getters = _leave(self._getters, getter)
                if not self.empty() and not getter.cancelled():
                    self._getters = _wake_next(self._getters)  # its turn goes to the next
                raise
            finally:
                if timer is not None:
                    timer.cancel()
        return self.get_nowait()


Waiters = list[asyncio.Future[None]] | None


def _wake_next(waiters: Waiters) -> Waiters:
    """Wake the first waiter still waiting; the list as it is to be kept (None: empty)."""
    while waiters:
        waiter = waiters.pop(0)
        if not waiter.done():
            waiter.set_result(None)
            break
    return waiters or None


def _expire(getter: asyncio.Future[None]) -> None:
    if not getter.done():
        getter.set_exception(TimeoutError())


def _leave(waiters: Waiters, waiter: asyncio.Future[None]) -> Waiters:
    """A waiter that stops waiting (cancelled, or woken and then cancelled)."""
    waiter.cancel()
    if waiters is not None and waiter in waiters:
        waiters.remove(waiter)
    return waiters or None
