"""The aggregate on the legacy HTTP+SSE front (`/all/sse`), with its own OAuth login
(docs/config.md: served at `/all/mcp` and `/all/sse` like any server)."""

from __future__ import annotations

import pytest

from tests.aggregate.members import four_members, names, text_of
from tests.fixtures.mcp_clients import EVERYTHING_SERVER, PY_SERVER, ProgressLog, sse_client
from tests.fixtures.oauth_flow import sdk_oauth


@pytest.fixture
def servers(everything_streamable_server, py_sse_server, py_streamable_server):
    return four_members(everything_streamable_server, py_sse_server, py_streamable_server)


async def test_legacy_client_lists_calls_samples_and_hears_progress_through_the_aggregate(
    oauth_gate_factory, oidc_provider, servers
):
    """MCP 2024-11-05 HTTP+SSE: every answer and member request rides the one stream."""
    await oidc_provider.set_next_user(email="alice@example.com", hd="example.com")
    async with oauth_gate_factory(servers) as gate:
        url = gate.url("/all/sse")
        oauth = sdk_oauth(url)
        async with sse_client(url, auth=oauth.provider) as client:
            listed = names((await client.list_tools()).tools)
            echoed = text_of(await client.call_tool("time.get_current_time", {"timezone": "UTC"}))
            sampled = text_of(
                await client.call_tool(
                    "everything." + EVERYTHING_SERVER.sampling_tool,
                    dict(EVERYTHING_SERVER.sampling_arguments),
                )
            )
            progress = ProgressLog()
            await client.call_tool(
                "py." + PY_SERVER.progress_tool,
                dict(PY_SERVER.progress_arguments),
                progress_callback=progress,
            )
    assert len(oauth.callbacks) == 1
    assert {"time.get_current_time", "everything.echo", "py.echo"} <= set(listed)
    assert '"timezone": "UTC"' in echoed
    assert EVERYTHING_SERVER.sampled_text_contains in sampled
    assert progress.progress == (1.0, 2.0, 3.0)
