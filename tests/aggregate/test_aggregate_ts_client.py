"""The official TypeScript SDK client (tests/servers/ts_client.mjs) through the aggregate,
on both fronts, with a token from the gate's OAuth flow (docs/config.md)."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.aggregate.members import four_members
from tests.fixtures.conformance import NODE_22
from tests.fixtures.mcp_clients import EVERYTHING_SERVER, PY_SERVER, REQUEST_TIMEOUT_SECONDS
from tests.fixtures.mcp_servers import SERVERS_DIR
from tests.fixtures.user_tokens import sign_in_mcp_user

TS_CLIENT = SERVERS_DIR / "ts_client.mjs"
# The client's whole run: node's start, the handshake with discovery, each call.
RUN_TIMEOUT_SECONDS = 4 * REQUEST_TIMEOUT_SECONDS


@pytest.fixture
def servers(everything_streamable_server, py_sse_server, py_streamable_server):
    return four_members(everything_streamable_server, py_sse_server, py_streamable_server)


async def _run_ts_client(script: dict[str, object]) -> dict[str, object]:
    if not NODE_22.is_file():
        pytest.fail(f"{NODE_22} is missing: run `npm ci --prefix tests/servers`", pytrace=False)
    process = await asyncio.create_subprocess_exec(
        str(NODE_22),
        str(TS_CLIENT),
        json.dumps(script),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(RUN_TIMEOUT_SECONDS):
            stdout, stderr = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    answer = json.loads(stdout.decode().strip().splitlines()[-1]) if stdout.strip() else {}
    problem = (answer, stderr.decode()[-2000:])
    assert "error" not in answer, problem
    assert process.returncode == 0, problem
    return answer


@pytest.mark.parametrize(("transport", "path"), [("streamable", "/all/mcp"), ("sse", "/all/sse")])
async def test_typescript_client_lists_calls_samples_and_hears_progress(
    oauth_gate_factory, oidc_provider, servers, transport, path
):
    """docs/config.md, with the TypeScript SDK: namespaced tools, a call per member kind, a
    member's sampling request answered by the client, progress on the call, in order."""
    await oidc_provider.set_next_user(email="alice@example.com", hd="example.com")
    async with oauth_gate_factory(servers) as gate:
        token = await sign_in_mcp_user(gate, "all")
        answer = await _run_ts_client(
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
