"""Requests a member makes of the client (elicitation, roots) through the aggregate, and
resource links in a member's results, read back through the namespace (DESIGN §9)."""

from __future__ import annotations

import mcp_types as types
from mcp.client.session import ClientRequestContext
from pydantic import FileUrl

from tests.aggregate.members import aggregate, text_of
from tests.fixtures.gate import running_gate
from tests.fixtures.stdio_backends import (
    ALICE,
    TWO_PRINCIPALS,
    everything_stdio,
    sdk_client,
    stdio_gate_config,
)

ROOT_URI = "file:///home/alice/project"


async def _elicit(
    context: ClientRequestContext, params: types.ElicitRequestParams
) -> types.ElicitResult:
    return types.ElicitResult(action="accept", content={"name": "Alice Example", "check": True})


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
            gate.url("/all/mcp"), ALICE, elicitation_callback=_elicit, list_roots_callback=_roots
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
