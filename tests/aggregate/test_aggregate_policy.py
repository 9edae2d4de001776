"""A member's access policy holds through the aggregate as on the member's own routes
(docs/config.md, `access` and `tools`): a tool a user may not call is not in their
listing and its call is refused by the gate; a member whose `access` does not admit the
user is left out of the listing."""

from __future__ import annotations

import pytest
from mcp.shared.exceptions import MCPError

from mcp_gate.config.model import AccessRule, Selector, ServerPolicy, ToolRule
from mcp_gate.proxy.tool_filter import INVALID_PARAMS
from tests.aggregate.members import aggregate, names, signed_in_client
from tests.fixtures.gate import remote

ALICE = "alice@example.com"
BOB = "bob@example.com"


@pytest.fixture
def servers(everything_streamable_server, py_sse_server):
    only_alice = ServerPolicy(access=AccessRule(who=Selector(emails=(ALICE,))))
    add_for_alice = ServerPolicy(tools=(ToolRule("add", who=Selector(emails=(ALICE,))),))
    members = {
        "py": remote("py", "sse", py_sse_server.url, policy=add_for_alice),
        "everything": remote(
            "everything", "streamable-http", everything_streamable_server.url, policy=only_alice
        ),
    }
    return {**members, "all": aggregate(*members)}


async def _view(gate, oidc_provider, email: str) -> tuple[set[str], MCPError | None]:
    await oidc_provider.set_next_user(email=email, hd="example.com")
    async with signed_in_client(gate.url("/all/mcp")) as client:
        listed = set(names((await client.list_tools()).tools))
        refused = None
        try:
            await client.call_tool("py.add", {"a": 1, "b": 2})
        except MCPError as exc:
            refused = exc
    return listed, refused


async def test_each_user_sees_and_calls_only_what_each_members_policy_allows(
    oauth_gate_factory, oidc_provider, servers
):
    async with oauth_gate_factory(servers) as gate:
        alice_sees, alice_refused = await _view(gate, oidc_provider, ALICE)
        bob_sees, bob_refused = await _view(gate, oidc_provider, BOB)
    assert {"py.add", "py.echo", "everything.echo"} <= alice_sees
    assert alice_refused is None
    assert "py.echo" in bob_sees
    assert "py.add" not in bob_sees
    assert not any(name.startswith("everything.") for name in bob_sees)
    assert bob_refused is not None
    assert bob_refused.error.code == INVALID_PARAMS
    assert "add" in bob_refused.error.message
