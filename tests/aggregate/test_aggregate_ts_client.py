"""The official TypeScript SDK client (tests/servers/ts_client.mjs) through the aggregate,
on both fronts, with a token from the gate's OAuth flow (docs/config.md)."""

from __future__ import annotations

import pytest

from tests.aggregate.members import four_members
from tests.fixtures.mcp_clients import EVERYTHING_SERVER, PY_SERVER
from tests.fixtures.ts_client import run_ts_client
from tests.fixtures.user_tokens import sign_in_mcp_user


@pytest.fixture
def servers(everything_streamable_server, py_sse_server, py_streamable_server):
    return four_members(everything_streamable_server, py_sse_server, py_streamable_server)


@pytest.mark.parametrize(("transport", "path"), [("streamable", "/all/mcp"), ("sse", "/all/sse")])
async def test_typescript_client_lists_calls_samples_and_hears_progress(
    oauth_gate_factory, oidc_provider, servers, transport, path
):
    """docs/config.md, with the TypeScript SDK: namespaced tools, a call per member kind, a
    member's sampling request answered by the client, progress on the call, in order."""
    await oidc_provider.set_next_user(email="alice@example.com", hd="example.com")
    async with oauth_gate_factory(servers) as gate:
        token = await sign_in_mcp_user(gate, "all")
        answer = await run_ts_client(
            {
                "url": gate.url(path),
                "transport": transport,
                "token": token,
                "calls": [
                    {"name": "time.get_current_time", "arguments": {"timezone": "UTC"}},
                    {"name": "py.echo", "arguments": dict(PY_SERVER.echo_arguments)},
                    {
                        "name": "everything." + EVERYTHING_SERVER.sampling_tool,
                        "arguments": dict(EVERYTHING_SERVER.sampling_arguments),
                    },
                    {
                        "name": "everything." + EVERYTHING_SERVER.progress_tool,
                        "arguments": dict(EVERYTHING_SERVER.progress_arguments),
                    },
                ],
            }
        )
    tools = answer["tools"]
    calls = answer["calls"]
    assert isinstance(tools, list)
    assert isinstance(calls, list)
    assert {"time.get_current_time", "everything.echo", "py.echo"} <= set(tools)
    assert '"timezone": "UTC"' in calls[0]["text"]
    assert calls[1]["text"] == PY_SERVER.echo_text
    assert EVERYTHING_SERVER.sampled_text_contains in calls[2]["text"]
    # The v1 TS client runs notification handlers a microtask late and drops a call's
    # progress handler when its response arrives, so a last progress notification right
    # before the response may go unheard; those it hears come in order.
    progress = calls[3]["progress"]
    assert progress
    assert progress == [1, 2, 3][: len(progress)]
