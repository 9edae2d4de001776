"""A member's list_changed: the client hears it and the next listing is the member's new
one, not the cached one (docs/config.md: refreshed on `list_changed`)."""

from __future__ import annotations

import anyio

from tests.aggregate.members import aggregate, names, text_of
from tests.fixtures.gate import running_gate
from tests.fixtures.mcp_clients import REQUEST_TIMEOUT_SECONDS
from tests.fixtures.stdio_backends import (
    ALICE,
    TWO_PRINCIPALS,
    py_stdio,
    sdk_client,
    stdio_gate_config,
    time_stdio,
)


async def test_a_members_list_changed_reaches_the_client_and_refreshes_its_listing() -> None:
    """The member adds a tool and says so; the client is told, and the aggregate's next
    tools/list (its cache otherwise good for a minute) holds the new tool."""
    changed = anyio.Event()

    async def on_message(message: object) -> None:
        if getattr(message, "method", None) == "notifications/tools/list_changed":
            changed.set()

    config = stdio_gate_config(
        py_stdio(), time_stdio(), aggregate("py", "time", service_auths=TWO_PRINCIPALS)
    )
    async with (
        running_gate(config) as gate,
        sdk_client(gate.url("/all/mcp"), ALICE, message_handler=on_message) as client,
    ):
        before = names((await client.list_tools()).tools)
        await client.call_tool("py.grow_tools", {"name": "echo_again"})
        with anyio.fail_after(REQUEST_TIMEOUT_SECONDS):
            await changed.wait()
        after = names((await client.list_tools(cache_mode="refresh")).tools)
        echoed = text_of(await client.call_tool("py.echo_again", {"text": "new"}))
    assert "py.echo_again" not in before
    assert "py.echo_again" in after
    assert "time.get_current_time" in after
    assert echoed == "new"
