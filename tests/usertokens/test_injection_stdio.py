"""`$userToken` in a stdio server's `env` and `args`: filled at child start, read back from
the child's own environment; a changed token replaces the child."""

from __future__ import annotations

import shlex

import aiohttp

from mcp_gate.appkeys import AUTH
from mcp_gate.config.model import ServerConfig, UserAuthentication, UserTokenTemplate
from mcp_gate.proxy.user_credentials import USER_TOKEN_UNAVAILABLE
from tests.fixtures.mcp_servers import py_stdio_command
from tests.fixtures.process_table import environ_of, gate_children, is_gone, wait_until
from tests.fixtures.stdio_backends import RawSession
from tests.fixtures.user_tokens import PAGE_TIMEOUT, bearer, sign_in_mcp_user

FIRST = "tok-first-0000000000000001"
SECOND = "tok-second-000000000000002"


def stdio_with_token() -> ServerConfig:
    """py_server over stdio, the token in its env (`SERVICE_TOKEN`) and in an argument that
    the shell line exports as `TOKEN_ARG` (py_server itself takes no such argument)."""
    command, args = py_stdio_command()
    line = f'TOKEN_ARG="$1"; export TOKEN_ARG; exec {shlex.join([command, *args])}'
    return ServerConfig(
        name="py",
        transport_type="stdio",
        command="/bin/sh",
        args=("-c", line, "sh", UserTokenTemplate("{{token}}")),
        env={"SERVICE_TOKEN": UserTokenTemplate("{{token}}")},
        requires_user_token=True,
        user_authentication=UserAuthentication(type="manual", display_name="Py"),
    )


async def test_child_environment_holds_the_users_token_and_a_new_token_replaces_the_child(
    oauth_gate_factory, oidc_provider, no_stray_children
):
    """Issue 5 §4: env and args at child start; a child started with an old token is replaced."""
    async with oauth_gate_factory({"py": stdio_with_token()}) as gate:
        tokens = gate.app[AUTH].user_tokens
        subject = await oidc_provider.set_next_user(email="alice@example.com", hd="example.com")
        token = await sign_in_mcp_user(gate, "py")
        await tokens.save(subject, "py", FIRST)
        async with aiohttp.ClientSession(timeout=PAGE_TIMEOUT) as http:
            session = RawSession(http, gate.url("/py/mcp"), bearer(token))
            await session.initialize()
            first_pid = await session.child_pid()
            first_env = environ_of(first_pid)
            await tokens.save(subject, "py", SECOND)
            stale = await session.post({"jsonrpc": "2.0", "id": 99, "method": "ping"})
            stale_status = session.last_status
            await wait_until(lambda: is_gone(first_pid), "the old child to exit")
            fresh = RawSession(http, gate.url("/py/mcp"), bearer(token))
            await fresh.initialize()
            second_pid = await fresh.child_pid()
            second_env = environ_of(second_pid)
            await fresh.delete()
    assert (first_env["SERVICE_TOKEN"], first_env["TOKEN_ARG"]) == (FIRST, FIRST)
    assert stale_status == 404  # MCP transports §Session Management: start a new session
    assert stale["error"]["message"] == "Session not found"
    assert second_pid != first_pid
    assert (second_env["SERVICE_TOKEN"], second_env["TOKEN_ARG"]) == (SECOND, SECOND)


async def test_user_without_a_token_starts_no_child_and_reads_the_tokens_url(
    oauth_gate_factory, oidc_provider, no_stray_children
):
    """Issue 5 §4: no token, no child: `initialize` itself gets the error with the URL."""
    async with oauth_gate_factory({"py": stdio_with_token()}) as gate:
        await oidc_provider.set_next_user(email="bob@example.com", hd="example.com")
        token = await sign_in_mcp_user(gate, "py")
        before = {p.pid for p in gate_children()}
        async with aiohttp.ClientSession(timeout=PAGE_TIMEOUT) as http:
            session = RawSession(http, gate.url("/py/mcp"), bearer(token))
            reply = await session.initialize()
        after = {p.pid for p in gate_children()}
    assert session.last_status == 200
    assert reply["error"]["code"] == USER_TOKEN_UNAVAILABLE
    assert gate.url("/my/tokens") in reply["error"]["message"]
    assert after == before


async def test_deleting_the_token_ends_the_child_started_with_it(
    oauth_gate_factory, oidc_provider, no_stray_children
):
    """Issue 5 §4: a child never outlives the token it was started with."""
    async with oauth_gate_factory({"py": stdio_with_token()}) as gate:
        tokens = gate.app[AUTH].user_tokens
        subject = await oidc_provider.set_next_user(email="alice@example.com", hd="example.com")
        token = await sign_in_mcp_user(gate, "py")
        await tokens.save(subject, "py", FIRST)
        async with aiohttp.ClientSession(timeout=PAGE_TIMEOUT) as http:
            session = RawSession(http, gate.url("/py/mcp"), bearer(token))
            await session.initialize()
            pid = await session.child_pid()
            await tokens.delete(subject, "py")
            reply = await session.call_tool("pid")
            await wait_until(lambda: is_gone(pid), "the child to exit")
    assert reply["error"]["code"] == USER_TOKEN_UNAVAILABLE
