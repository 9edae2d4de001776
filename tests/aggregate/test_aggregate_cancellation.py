"""Cancellation through the aggregate: the client's notifications/cancelled reaches the
member under the member's own request id (MCP 2025-11-25 utilities §Cancellation)."""

from __future__ import annotations

import anyio
from structlog.testing import capture_logs

from tests.aggregate.members import aggregate, text_of
from tests.fixtures.gate import running_gate
from tests.fixtures.process_table import wait_until
from tests.fixtures.stdio_backends import (
    ALICE,
    TWO_PRINCIPALS,
    py_stdio,
    sdk_client,
    stdio_gate_config,
    time_stdio,
)
from tests.servers.py_server import HANG_CANCELLED

HANG_WAIT_SECONDS = 20.0  # a cold Python child, then its first progress notification


async def test_a_cancelled_call_is_cancelled_in_its_member_and_the_session_goes_on() -> None:
    """The member stops the call (it says so on stderr); the aggregate session and the
    member session both carry on."""
    config = stdio_gate_config(
        py_stdio(), time_stdio(), aggregate("py", "time", service_auths=TWO_PRINCIPALS)
    )
    with capture_logs() as logs:
        async with running_gate(config) as gate, sdk_client(gate.url("/all/mcp"), ALICE) as client:
            hanging = anyio.Event()

            async def on_progress(
                progress: float, total: float | None, message: str | None
            ) -> None:
                hanging.set()

            async def call_hang() -> None:
                await client.call_tool("py.hang", {}, progress_callback=on_progress)

            async with anyio.create_task_group() as group:
                group.start_soon(call_hang)
                with anyio.fail_after(HANG_WAIT_SECONDS):
                    await hanging.wait()
                group.cancel_scope.cancel()
            await wait_until(
                lambda: any(e.get("line") == HANG_CANCELLED for e in logs),
                "the member's child to report the cancellation on stderr",
            )
            after = text_of(await client.call_tool("py.echo", {"text": "still going"}))
    assert after == "still going"
