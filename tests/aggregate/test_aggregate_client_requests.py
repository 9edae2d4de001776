"""Requests a member makes of the client (elicitation, roots), logging both ways, resource
links read back through the namespace, and the cap on member sessions (docs/config.md)."""

from __future__ import annotations

import anyio
import mcp_types as types
import pytest
from mcp import MCPError
from mcp.client.session import ClientRequestContext
from pydantic import FileUrl

from tests.aggregate.members import accept_elicitation, aggregate, names, text_of
from tests.fixtures.gate import running_gate
from tests.fixtures.mcp_clients import REQUEST_TIMEOUT_SECONDS
from tests.fixtures.stdio_backends import (
    ALICE,
    TWO_PRINCIPALS,
    everything_stdio,
    py_stdio,
    sdk_client,
    stdio_gate_config,
    time_stdio,
)

ROOT_URI = "file:///home/alice/project"


async def _roots(context: ClientRequestContext) -> types.ListRootsResult:
    return types.ListRootsResult(roots=[types.Root(uri=FileUrl(ROOT_URI), name="project")])


async def test_elicitation_roots_and_resource_links_cross_the_aggregate() -> None:
    """The member's elicitation/create and roots/list reach the client, whose answers go
    back to it; a resource link in its result names the public URI, which reads back."""
    config = stdio_gate_config(
        everything_stdio(), aggregate("everything", service_auths=TWO_PRINCIPALS)
    )
    async with (
        running_gate(config) as gate,
        sdk_client(
            gate.url("/all/mcp"),
            ALICE,
            elicitation_callback=accept_elicitation,
            list_roots_callback=_roots,
        ) as client,
    ):
        elicited = text_of(await client.call_tool("everything.trigger-elicitation-request", {}))
        roots = text_of(await client.call_tool("everything.get-roots-list", {}))
        linked = await client.call_tool("everything.get-resource-links", {"count": 1})
        links = [c for c in linked.content if isinstance(c, types.ResourceLink)]
        read = await client.read_resource(str(links[0].uri))
    assert "- Name: Alice Example" in elicited
    assert ROOT_URI in roots
    assert str(links[0].uri).startswith("mcp-gate://everything/")
    assert [str(c.uri) for c in read.contents] == [str(links[0].uri)]


async def test_a_members_log_messages_reach_the_client_naming_the_member() -> None:
    """MCP 2025-11-25 logging: a member's notifications/message reaches the client, with
    the member as its logger. (The SDK client warns that logging/setLevel is deprecated
    as of 2026-07-28, so this test leaves the level at the member's default.)"""
    heard: list[types.LoggingMessageNotificationParams] = []
    logged = anyio.Event()

    async def on_log(params: types.LoggingMessageNotificationParams) -> None:
        heard.append(params)
        logged.set()

    config = stdio_gate_config(
        everything_stdio(), aggregate("everything", service_auths=TWO_PRINCIPALS)
    )
    async with (
        running_gate(config) as gate,
        sdk_client(gate.url("/all/mcp"), ALICE, logging_callback=on_log) as client,
    ):
        await client.call_tool("everything.toggle-simulated-logging", {})
        with anyio.fail_after(REQUEST_TIMEOUT_SECONDS):
            await logged.wait()
    assert heard[0].logger == "everything"
    assert "message" in str(heard[0].data).lower()


async def test_member_sessions_beyond_max_conns_per_user_are_refused_not_queued() -> None:
    """`discovery.maxConnsPerUser`: with one allowed, the second member is left out of the
    listing and its call is refused with the limit's message; the first keeps answering."""
    config = stdio_gate_config(
        py_stdio(),
        time_stdio(),
        aggregate("py", "time", service_auths=TWO_PRINCIPALS, max_conns_per_user=1),
    )
    async with running_gate(config) as gate, sdk_client(gate.url("/all/mcp"), ALICE) as client:
        listed = names((await client.list_tools()).tools)
        member = "time" if any(n.startswith("py.") for n in listed) else "py"
        tool = "time.get_current_time" if member == "time" else "py.echo"
        with pytest.raises(MCPError) as refused:
            await client.call_tool(tool, {"timezone": "UTC", "text": "x"})
        other = next(n for n in listed)
    assert len({name.split(".")[0] for name in listed}) == 1
    assert "limit is 1" in refused.value.error.message
    assert other.split(".")[0] != member
