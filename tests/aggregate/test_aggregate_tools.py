"""One aggregate URL, one login, four member kinds: tools listed namespaced, each call
reaching its member, a member's sampling and progress reaching the client (docs/config.md)."""

from __future__ import annotations

import pytest
from mcp import MCPError

from mcp_gate.appkeys import AUTH
from mcp_gate.proxy.user_credentials import USER_TOKEN_UNAVAILABLE
from tests.aggregate.members import NOTION_TOKEN, four_members, names, signed_in_client, text_of
from tests.fixtures.mcp_clients import EVERYTHING_SERVER, PY_SERVER, ProgressLog
from tests.fixtures.oauth_flow import sdk_oauth


@pytest.fixture
def servers(everything_streamable_server, py_sse_server, py_streamable_server):
    return four_members(everything_streamable_server, py_sse_server, py_streamable_server)


async def test_one_login_lists_every_members_tools_under_its_name(
    oauth_gate_factory, oidc_provider, servers
):
    """docs/config.md: one OAuth login at /all/mcp; tools/list holds each member's tools as
    `<member>.<tool>`; the member needing an unset user token lists nothing."""
    await oidc_provider.set_next_user(email="alice@example.com", hd="example.com")
    async with oauth_gate_factory(servers) as gate:
        oauth = sdk_oauth(gate.url("/all/mcp"))
        async with signed_in_client(gate.url("/all/mcp"), oauth) as client:
            listed = names((await client.list_tools()).tools)
            server_name = client.server_info.name if client.server_info else None
    assert len(oauth.callbacks) == 1
    assert server_name == "all"
    assert {"time.get_current_time", "time.convert_time"} <= set(listed)
    assert {"everything.echo", "everything.trigger-sampling-request"} <= set(listed)
    assert {"py.echo", "py.slow_count", "py.ask_llm"} <= set(listed)
    assert not [name for name in listed if name.startswith("notion.")]
    assert not [name for name in listed if "." not in name]


async def test_each_call_reaches_its_own_member(oauth_gate_factory, oidc_provider, servers):
    """docs/config.md: a namespaced call goes to the member it names, by the member's own name."""
    await oidc_provider.set_next_user(email="alice@example.com", hd="example.com")
    async with (
        oauth_gate_factory(servers) as gate,
        signed_in_client(gate.url("/all/mcp")) as client,
    ):
        time_text = text_of(await client.call_tool("time.get_current_time", {"timezone": "UTC"}))
        everything_text = text_of(
            await client.call_tool("everything.echo", dict(EVERYTHING_SERVER.echo_arguments))
        )
        py_text = text_of(await client.call_tool("py.echo", dict(PY_SERVER.echo_arguments)))
        with pytest.raises(MCPError) as unknown:
            await client.call_tool("nobody.echo", {})
    assert '"timezone": "UTC"' in time_text
    assert everything_text == EVERYTHING_SERVER.echo_text
    assert py_text == PY_SERVER.echo_text
    assert unknown.value.error.code == -32602  # MCP tools §Error Handling: unknown tool


async def test_member_without_the_users_token_answers_with_the_my_tokens_error(
    oauth_gate_factory, oidc_provider, servers
):
    """docs/config.md: the member's call fails with the /my/tokens error; once the user
    stores the token, the member lists its tools and answers."""
    subject = await oidc_provider.set_next_user(email="alice@example.com", hd="example.com")
    async with (
        oauth_gate_factory(servers) as gate,
        signed_in_client(gate.url("/all/mcp")) as client,
    ):
        with pytest.raises(MCPError) as refused:
            await client.call_tool("notion.echo", {"text": "hi"})
        await gate.app[AUTH].user_tokens.save(subject, "notion", NOTION_TOKEN)
        listed = names((await client.list_tools()).tools)
        answered = text_of(await client.call_tool("notion.echo", {"text": "hi"}))
    assert refused.value.error.code == USER_TOKEN_UNAVAILABLE
    assert gate.url("/my/tokens") in refused.value.error.message
    assert "notion.echo" in listed
    assert answered == "hi"


async def test_a_members_sampling_request_reaches_the_client_and_its_answer_returns(
    oauth_gate_factory, oidc_provider, servers
):
    """docs/config.md: sampling/createMessage from a member (remote streamable, legacy SSE)
    reaches the client, and the client's answer goes back to that member."""
    await oidc_provider.set_next_user(email="alice@example.com", hd="example.com")
    async with (
        oauth_gate_factory(servers) as gate,
        signed_in_client(gate.url("/all/mcp")) as client,
    ):
        everything = text_of(
            await client.call_tool(
                "everything." + EVERYTHING_SERVER.sampling_tool,
                dict(EVERYTHING_SERVER.sampling_arguments),
            )
        )
        py = text_of(
            await client.call_tool(
                "py." + PY_SERVER.sampling_tool, dict(PY_SERVER.sampling_arguments)
            )
        )
    assert EVERYTHING_SERVER.sampled_text_contains in everything
    assert PY_SERVER.sampled_text_contains in py


async def test_a_members_progress_notifications_reach_the_caller(
    oauth_gate_factory, oidc_provider, servers
):
    """docs/config.md: progress for a call's token comes back on that call, in order."""
    await oidc_provider.set_next_user(email="alice@example.com", hd="example.com")
    async with (
        oauth_gate_factory(servers) as gate,
        signed_in_client(gate.url("/all/mcp")) as client,
    ):
        everything, py = ProgressLog(), ProgressLog()
        await client.call_tool(
            "everything." + EVERYTHING_SERVER.progress_tool,
            dict(EVERYTHING_SERVER.progress_arguments),
            progress_callback=everything,
        )
        await client.call_tool(
            "py." + PY_SERVER.progress_tool,
            dict(PY_SERVER.progress_arguments),
            progress_callback=py,
        )
    assert everything.progress == (1.0, 2.0, 3.0)
    assert py.progress == (1.0, 2.0, 3.0)
