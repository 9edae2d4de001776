"""A member down, slow, or gone mid-session is left out of the aggregate's listings; the
other members keep answering (docs/config.md: left out after `discovery.timeout`, not the
whole answer)."""

from __future__ import annotations

from contextlib import ExitStack

import anyio
from structlog.testing import capture_logs

from mcp_gate.config.model import ServerConfig
from tests.aggregate.members import aggregate, names, text_of
from tests.fixtures.gate import remote
from tests.fixtures.mcp_clients import REQUEST_TIMEOUT_SECONDS
from tests.fixtures.mcp_servers import run_py_server
from tests.fixtures.ports import free_port
from tests.fixtures.stdio_backends import sdk_client, shell_stdio, time_stdio
from tests.fixtures.user_tokens import bearer, sign_in_mcp_user


def _left_out(logs: list[dict[str, object]]) -> dict[str, object]:
    return {
        str(line["member"]): line["reason"]
        for line in logs
        if line["event"] == "aggregate_member_left_out"
    }


async def test_a_member_down_or_never_answering_is_left_out_with_a_log_line(
    oauth_gate_factory, oidc_provider
):
    """docs/config.md: a refused connection and a child that never answers `initialize` are
    left out (the slow one after discovery.timeout: the listing comes back while it still
    sleeps); the time server is listed and answers."""
    servers: dict[str, ServerConfig] = {
        "time": time_stdio("time", service_auths=()),
        "down": remote("down", "streamable-http", f"http://127.0.0.1:{free_port()}/mcp"),
        "slow": shell_stdio("slow", "sleep 600", service_auths=()),
    }
    servers["all"] = aggregate(*servers, timeout_seconds=5.0)
    await oidc_provider.set_next_user(email="alice@example.com", hd="example.com")
    async with oauth_gate_factory(servers) as gate:
        token = await sign_in_mcp_user(gate, "all")
        with capture_logs() as logs:
            async with sdk_client(gate.url("/all/mcp"), bearer(token)) as client:
                listed = names((await client.list_tools()).tools)
                answer = text_of(
                    await client.call_tool("time.get_current_time", {"timezone": "UTC"})
                )
    assert listed
    assert all(name.startswith("time.") for name in listed)
    assert '"timezone": "UTC"' in answer
    left_out = _left_out(logs)
    assert left_out.keys() == {"down", "slow"}
    assert left_out["slow"] == "no answer within discovery.timeout"


async def test_a_member_that_goes_away_drops_out_of_the_next_listing(
    oauth_gate_factory, oidc_provider, server_log_dir
):
    """docs/config.md: a member whose server stops mid-session: the client hears list_changed,
    the next listing leaves the member out, the other member keeps answering."""
    changed = anyio.Event()

    async def on_message(message: object) -> None:
        if getattr(message, "method", None) == "notifications/tools/list_changed":
            changed.set()

    await oidc_provider.set_next_user(email="alice@example.com", hd="example.com")
    with ExitStack() as member_server:
        gone = member_server.enter_context(run_py_server("sse", server_log_dir))
        servers: dict[str, ServerConfig] = {
            "time": time_stdio("time", service_auths=()),
            "gone": remote("gone", "sse", gone.url),
        }
        servers["all"] = aggregate(*servers, timeout_seconds=2.0)
        async with oauth_gate_factory(servers) as gate:
            token = await sign_in_mcp_user(gate, "all")
            async with sdk_client(
                gate.url("/all/mcp"), bearer(token), message_handler=on_message
            ) as client:
                before = names((await client.list_tools()).tools)
                echoed = text_of(await client.call_tool("gone.echo", {"text": "hi"}))
                member_server.close()  # the member's server process stops here
                with anyio.fail_after(REQUEST_TIMEOUT_SECONDS):
                    await changed.wait()
                after = names((await client.list_tools(cache_mode="refresh")).tools)
                answer = text_of(
                    await client.call_tool("time.get_current_time", {"timezone": "UTC"})
                )
    assert "gone.echo" in before
    assert echoed == "hi"
    assert after
    assert all(name.startswith("time.") for name in after)
    assert '"timezone": "UTC"' in answer
