"""Cancellation through the aggregate: the client's notifications/cancelled reaches the
member under the member's own request id (MCP 2025-11-25 utilities §Cancellation)."""

from __future__ import annotations

from structlog.testing import capture_logs

from tests.aggregate.members import aggregate, text_of
from tests.fixtures.gate import running_gate
from tests.fixtures.stdio_backends import (
    ALICE,
    TWO_PRINCIPALS,
    cancel_a_hanging_call,
    py_stdio,
    sdk_client,
    stdio_gate_config,
    time_stdio,
)


async def test_a_cancelled_call_is_cancelled_in_its_member_and_the_session_goes_on() -> None:
    """The member stops the call (it says so on stderr); the aggregate session and the
    member session both carry on."""
    config = stdio_gate_config(
        py_stdio(), time_stdio(), aggregate("py", "time", service_auths=TWO_PRINCIPALS)
    )
    with capture_logs() as logs:
        async with running_gate(config) as gate, sdk_client(gate.url("/all/mcp"), ALICE) as client:
            await cancel_a_hanging_call(client, "py.hang", logs)
            after = text_of(await client.call_tool("py.echo", {"text": "still going"}))
    assert after == "still going"
