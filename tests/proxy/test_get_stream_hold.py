"""The pass-through's hold of a session's requests until its GET stream is open upstream.

Policy (MCP 2025-11-25 transports §Listening for Messages from the Server: servers send
their requests on the standalone GET stream): a request must not overtake its session's
GET. The end-to-end proof is the conformance suite's sampling and elicitation scenarios
through the gate (tests/conformance/); these tests pin the rules themselves.
"""

from __future__ import annotations

import asyncio

from mcp_gate.proxy.get_stream_hold import EXPECT_GET_SECONDS, GetStreamHold

BOUND_SECONDS = 2.0


async def _still_waiting(task: asyncio.Task[None]) -> bool:
    for _ in range(5):
        await asyncio.sleep(0)
    return not task.done()


async def test_request_of_a_session_without_a_watch_goes_at_once():
    """Nothing expected, nothing opening: no wait at all."""
    hold = GetStreamHold()
    async with asyncio.timeout(BOUND_SECONDS):
        await hold.wait("s")
    assert len(hold) == 0


async def test_request_waits_for_the_get_being_opened_and_goes_when_it_is_open():
    """A request waits while its session's GET is on its way upstream."""
    hold = GetStreamHold()
    with hold.opening("s"):
        waiter = asyncio.create_task(hold.wait("s"))
        held = await _still_waiting(waiter)
    async with asyncio.timeout(BOUND_SECONDS):
        await waiter
    assert held
    assert len(hold) == 0


async def test_request_right_after_initialized_waits_for_the_get_that_follows():
    """After `initialized` a GET is expected: a request that came first waits for it."""
    hold = GetStreamHold()
    hold.expect("s")
    waiter = asyncio.create_task(hold.wait("s"))
    held_before_get = await _still_waiting(waiter)
    with hold.opening("s"):
        held_while_opening = await _still_waiting(waiter)
    async with asyncio.timeout(BOUND_SECONDS):
        await waiter
    assert (held_before_get, held_while_opening) == (True, True)
    assert len(hold) == 0


async def test_expected_get_that_never_comes_holds_a_request_only_for_the_window():
    """A client that opens no GET: a request within the window waits; once the window is
    over (the gate's clock past it), nothing waits any more."""
    now = [100.0]
    hold = GetStreamHold(clock=lambda: now[0])
    hold.expect("s")
    within = asyncio.create_task(hold.wait("s"))
    held = await _still_waiting(within)
    now[0] += EXPECT_GET_SECONDS + 0.001
    after = asyncio.create_task(hold.wait("s"))
    after_held = await _still_waiting(after)
    async with asyncio.timeout(BOUND_SECONDS):
        await within
    assert (held, after_held) == (True, False)


async def test_other_sessions_are_not_held():
    """A session's watch holds that session's requests only."""
    hold = GetStreamHold()
    with hold.opening("a"):
        async with asyncio.timeout(BOUND_SECONDS):
            await hold.wait("b")
        assert len(hold) == 1
