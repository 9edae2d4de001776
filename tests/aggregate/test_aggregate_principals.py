"""Discovery is cached per principal (and per declared client capabilities): one user's
listing is never another's (docs/config.md)."""

from __future__ import annotations

import pytest

from mcp_gate.appkeys import AUTH, SESSIONS
from tests.aggregate.members import (
    NOTION_TOKEN,
    accept_elicitation,
    aggregate,
    four_members,
    names,
)
from tests.fixtures.gate import running_gate
from tests.fixtures.stdio_backends import (
    ALICE,
    TWO_PRINCIPALS,
    everything_stdio,
    sdk_client,
    stdio_gate_config,
)
from tests.fixtures.user_tokens import bearer, post_mcp, sign_in_mcp_user


@pytest.fixture
def servers(everything_streamable_server, py_sse_server, py_streamable_server):
    return four_members(everything_streamable_server, py_sse_server, py_streamable_server)


async def _listing(gate, token: str) -> list[str]:
    async with sdk_client(gate.url("/all/mcp"), bearer(token)) as client:
        return names((await client.list_tools()).tools)


async def test_two_users_get_their_own_discovery_whoever_lists_first(
    oauth_gate_factory, oidc_provider, servers
):
    """docs/config.md: alice (who stored her notion token) sees notion's tools; bob, listing
    right after her with her listing cached, does not; nor does bob's cached listing
    hide them from alice."""
    async with oauth_gate_factory(servers) as gate:
        alice = await oidc_provider.set_next_user(email="alice@example.com", hd="example.com")
        alice_token = await sign_in_mcp_user(gate, "all")
        await oidc_provider.set_next_user(email="bob@example.com", hd="example.com")
        bob_token = await sign_in_mcp_user(gate, "all")
        bob_first = await _listing(gate, bob_token)
        await gate.app[AUTH].user_tokens.save(alice, "notion", NOTION_TOKEN)
        alice_listing = await _listing(gate, alice_token)
        bob_after = await _listing(gate, bob_token)
    assert "notion.echo" in alice_listing
    assert "notion.echo" not in bob_first
    assert "notion.echo" not in bob_after
    assert {"py.echo", "everything.echo"} <= set(bob_after)


async def test_another_users_aggregate_session_does_not_exist_for_them(
    oauth_gate_factory, oidc_provider, servers
):
    """MCP security best practices §Session Hijacking: an aggregate session, like any
    session, is bound to the user who opened it; bob presenting alice's id gets 404."""
    async with oauth_gate_factory(servers) as gate:
        await oidc_provider.set_next_user(email="alice@example.com", hd="example.com")
        alice_token = await sign_in_mcp_user(gate, "all")
        await oidc_provider.set_next_user(email="bob@example.com", hd="example.com")
        bob_token = await sign_in_mcp_user(gate, "all")
        async with sdk_client(gate.url("/all/mcp"), bearer(alice_token), mode="legacy") as client:
            await client.list_tools()
            session_id = next(s.id for s in gate.app[SESSIONS].sessions() if s.server == "all")
            status, _ = await post_mcp(
                gate,
                "all",
                bob_token,
                {"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                **{"Mcp-Session-Id": session_id, "MCP-Protocol-Version": "2025-11-25"},
            )
    assert status == 404


async def test_a_token_for_the_aggregate_does_not_open_a_members_own_route(
    oauth_gate_factory, oidc_provider, servers
):
    """docs/config.md: the aggregate has its own audience; its token reaches members only
    through it (RFC 8707: a token bound to /all/mcp is refused at /time/mcp)."""
    async with oauth_gate_factory(servers) as gate:
        await oidc_provider.set_next_user(email="alice@example.com", hd="example.com")
        token = await sign_in_mcp_user(gate, "all")
        ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
        status, _ = await post_mcp(gate, "time", token, ping)
    assert status == 401


async def test_a_listing_is_kept_per_declared_client_capabilities_too() -> None:
    """Policy: a member may offer tools only to clients that can use them
    (server-everything lists its elicitation tool to clients that elicit); the same user's
    second client, which cannot, does not get the first one's cached listing."""
    config = stdio_gate_config(
        everything_stdio(), aggregate("everything", service_auths=TWO_PRINCIPALS)
    )
    async with running_gate(config) as gate:
        async with sdk_client(
            gate.url("/all/mcp"), ALICE, elicitation_callback=accept_elicitation
        ) as one:
            eliciting = names((await one.list_tools()).tools)
        async with sdk_client(gate.url("/all/mcp"), ALICE) as other:
            plain = names((await other.list_tools()).tools)
    assert "everything.trigger-elicitation-request" in eliciting
    assert "everything.trigger-elicitation-request" not in plain
    assert "everything.echo" in plain
