"""Log lines are written once per event-loop turn (mcp_gate/logs.py LineBatch), in order,
and none is lost: not outside a loop, not at the turn's end, not before a hurried exit."""

import asyncio
import io

from mcp_gate.logs import LineBatch


def test_outside_a_loop_each_line_is_written_at_once() -> None:
    stream = io.StringIO()
    batch = LineBatch(stream)
    batch.write("one\n")
    assert stream.getvalue() == "one\n"


async def test_lines_of_one_turn_are_written_together_after_it_in_order() -> None:
    stream = io.StringIO()
    batch = LineBatch(stream)
    for n in range(3):
        batch.write(f"line {n}\n")
        batch.flush()  # what structlog's WriteLogger does after every line
    assert stream.getvalue() == ""
    await asyncio.sleep(0)
    assert stream.getvalue() == "line 0\nline 1\nline 2\n"
    batch.write("next turn\n")
    await asyncio.sleep(0)
    assert stream.getvalue().endswith("line 2\nnext turn\n")


async def test_drain_writes_what_is_pending_now() -> None:
    stream = io.StringIO()
    batch = LineBatch(stream)
    batch.write("before exit\n")
    batch.drain()
    assert stream.getvalue() == "before exit\n"
    await asyncio.sleep(0)
    assert stream.getvalue() == "before exit\n"
