"""`MessageQueue` behaves as the part of `asyncio.Queue` the gate uses: FIFO, bounded,
first come first served, cancellation-safe; and an idle queue holds no buffer."""

from __future__ import annotations

import asyncio

import pytest

from mcp_gate.proxy.message_queue import MessageQueue


async def test_fifo_and_bound() -> None:
    queue: MessageQueue[int] = MessageQueue(2)
    assert queue.empty()
    queue.put_nowait(1)
    await queue.put(2)
    assert queue.full()
    with pytest.raises(asyncio.QueueFull):
        queue.put_nowait(3)
    assert [await queue.get(), queue.get_nowait()] == [1, 2]
    with pytest.raises(asyncio.QueueEmpty):
        queue.get_nowait()


async def test_unbounded_by_default() -> None:
    queue: MessageQueue[int] = MessageQueue()
    for number in range(5000):
        queue.put_nowait(number)
    assert not queue.full()
    assert queue.qsize() == 5000


async def test_getters_are_served_in_order() -> None:
    queue: MessageQueue[str] = MessageQueue()
    first = asyncio.create_task(queue.get())
    second = asyncio.create_task(queue.get())
    await asyncio.sleep(0)
    queue.put_nowait("a")
    queue.put_nowait("b")
    assert await first == "a"
    assert await second == "b"


async def test_a_full_queue_makes_putters_wait() -> None:
    queue: MessageQueue[int] = MessageQueue(1)
    queue.put_nowait(0)
    putters = [asyncio.create_task(queue.put(number)) for number in (1, 2)]
    await asyncio.sleep(0)
    assert not any(putter.done() for putter in putters)
    assert [await queue.get() for _ in range(3)] == [0, 1, 2]
    await asyncio.gather(*putters)


async def test_a_cancelled_getter_gets_nothing_and_leaves_the_line() -> None:
    queue: MessageQueue[str] = MessageQueue()
    cancelled = asyncio.create_task(queue.get())
    waiting = asyncio.create_task(queue.get())
    await asyncio.sleep(0)
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    queue.put_nowait("a")
    assert await waiting == "a"


async def test_a_getter_cancelled_once_woken_passes_its_turn_on() -> None:
    queue: MessageQueue[str] = MessageQueue()
    woken = asyncio.create_task(queue.get())
    waiting = asyncio.create_task(queue.get())
    await asyncio.sleep(0)
    queue.put_nowait("a")  # wakes `woken`, which is cancelled before it runs
    woken.cancel()
    with pytest.raises(asyncio.CancelledError):
        await woken
    assert await asyncio.wait_for(waiting, 1) == "a"


async def test_a_putter_cancelled_once_woken_passes_its_turn_on() -> None:
    queue: MessageQueue[int] = MessageQueue(1)
    queue.put_nowait(0)
    woken = asyncio.create_task(queue.put(1))
    waiting = asyncio.create_task(queue.put(2))
    await asyncio.sleep(0)
    assert queue.get_nowait() == 0  # wakes `woken`, which is cancelled before it runs
    woken.cancel()
    with pytest.raises(asyncio.CancelledError):
        await woken
    await asyncio.wait_for(waiting, 1)
    assert queue.get_nowait() == 2


async def test_an_idle_queue_holds_no_buffer() -> None:
    queue: MessageQueue[int] = MessageQueue(8)
    getter = asyncio.create_task(queue.get())
    await asyncio.sleep(0)
    queue.put_nowait(1)
    assert await getter == 1
    assert (queue._items, queue._getters, queue._putters) == (None, None, None)


async def test_a_get_with_a_timeout_raises_when_nothing_comes_and_leaves_the_line() -> None:
    queue: MessageQueue[str] = MessageQueue()
    with pytest.raises(TimeoutError):
        await queue.get(0.05)
    later = asyncio.create_task(queue.get(5.0))
    await asyncio.sleep(0)
    queue.put_nowait("a")  # goes to the getter still waiting, not to the one that gave up
    assert await later == "a"
    assert queue.empty()


async def test_an_item_that_comes_in_time_is_got_despite_a_timeout() -> None:
    queue: MessageQueue[str] = MessageQueue()
    getter = asyncio.create_task(queue.get(0.2))
    await asyncio.sleep(0.05)
    queue.put_nowait("b")
    assert await getter == "b"
    await asyncio.sleep(0.25)  # the timer was cancelled: nothing fails afterwards
    assert not getter.cancelled()
