"""The life of a stdio child: started with its session, given only its configured environment,
heard in the log, stopped with its session (DELETE, stream closed, idle) and at shutdown.

Checked from the process table (/proc): which processes exist, their environment, their
working directory, and that none is left behind, not even a zombie. docs/config.md
`mcpServers.<name>` and `proxy.sessions`; issue 4 §1, §4, §5.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from mcp_gate.appkeys import SESSIONS, STANDALONE_STREAMS
from mcp_gate.config.model import Secret
from mcp_gate.proxy.stdio import INHERITED_VARIABLES, STDERR_LINES_PER_WINDOW
from tests.fixtures.gate import running_gate
from tests.fixtures.process_table import (
    cwd_of,
    environ_of,
    gate_children,
    group_members,
    is_gone,
    wait_until,
)
from tests.fixtures.stdio_backends import (
    ALICE,
    BOB,
    RawLegacySession,
    RawSession,
    py_stdio,
    raw_http,
    sdk_client,
    shell_stdio,
    stdio_gate_config,
)

pytestmark = pytest.mark.usefixtures("no_stray_children")

CHATTY_LINES = 120


async def test_an_idle_session_is_reaped_and_its_child_stopped() -> None:
    """Issue 4 §1: after `sessions.timeout` without client traffic the reaper (every
    `cleanupInterval`) closes the session and stops its child; the id is then unknown."""
    config = stdio_gate_config(py_stdio(), timeout_seconds=0.3, cleanup_interval_seconds=0.05)
    async with running_gate(config) as gate, raw_http() as http:
        session = RawSession(http, gate.url("/py/mcp"), ALICE)
        await session.initialize()
        pid = await session.child_pid()
        await wait_until(lambda: is_gone(pid), "the idle session's child to be stopped")
        await session.call_tool("echo", {"text": "anyone there?"})
    assert session.last_status == 404


async def test_a_client_holding_a_stream_open_is_not_idle() -> None:
    """policy: a session whose client keeps a stream open (the SDK's GET stream) is in use,
    however quiet; a session with no stream and no traffic past the timeout is idle."""
    now = [1000.0]
    async with running_gate(stdio_gate_config(py_stdio(), timeout_seconds=60)) as gate:
        registry = gate.app[SESSIONS]
        registry.clock = lambda: now[0]
        async with sdk_client(gate.url("/py/mcp"), ALICE) as listening, raw_http() as http:
            quiet = RawSession(http, gate.url("/py/mcp"), BOB)
            await quiet.initialize()
            quiet_pid = await quiet.child_pid()
            now[0] += 61
            reaped = await registry.reap()
            still_there = (await listening.call_tool("echo", {"text": "here"})).content[0].text  # type: ignore[union-attr]
    assert reaped == 1
    assert is_gone(quiet_pid)
    assert still_there == "here"


async def test_delete_ends_the_session_and_stops_its_child() -> None:
    """MCP transports §Session Management: DELETE ends the session; the child goes with it."""
    async with running_gate(stdio_gate_config(py_stdio())) as gate, raw_http() as http:
        session = RawSession(http, gate.url("/py/mcp"), ALICE)
        await session.initialize()
        pid = await session.child_pid()
        assert await session.delete() == 200
        gone_at_once = is_gone(pid)
        await session.call_tool("echo", {"text": "after delete"})
    assert gone_at_once
    assert session.last_status == 404


async def test_closing_the_legacy_stream_ends_the_session_and_stops_its_child() -> None:
    """A legacy HTTP+SSE session lives as long as its stream."""
    async with running_gate(stdio_gate_config(py_stdio())) as gate, raw_http() as http:
        async with RawLegacySession(http, gate.base_url, "py", ALICE) as legacy:
            await legacy.initialize()
            reply = await legacy.request("tools/call", {"name": "pid", "arguments": {}})
            pid = int(reply["result"]["structuredContent"]["result"])
        await wait_until(lambda: is_gone(pid), "the legacy session's child to be stopped")


async def test_gate_shutdown_stops_every_child_and_grandchild() -> None:
    """Issue 4 §4: on shutdown every child and its process group go (SIGTERM, then SIGKILL);
    nothing is left in the process table, not even a zombie."""
    server = shell_stdio("sh", "sleep 300 &")
    async with running_gate(stdio_gate_config(server)) as gate, raw_http() as http:
        sessions = [RawSession(http, gate.url("/sh/mcp"), who) for who in (ALICE, BOB)]
        pids = []
        for session in sessions:
            await session.initialize()
            pids.append(await session.child_pid())
        family = {member.pid for pid in pids for member in group_members(pid)}
    assert len(family) == 4  # two children, each with its `sleep` grandchild
    # The children were waited for by the gate; the grandchildren, killed with their
    # group, are reparented and reaped by init a moment later.
    assert [pid for pid in pids if not is_gone(pid)] == []
    await wait_until(lambda: all(is_gone(pid) for pid in family), "the grandchildren to go")


async def test_the_child_gets_only_the_environment_the_config_gives_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Issue 4 §5: configured `env` (plain and secret values) and `cwd` arrive; the gate's
    own environment (where its secrets live) does not, beyond PATH, HOME, locale and such."""
    monkeypatch.setenv("MCP_GATE_JWT_SECRET", "gate-secret-must-not-leak")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "cloud-secret-must-not-leak")
    env = {"GREETING": "hello", "API_KEY": Secret("configured-secret")}
    config = stdio_gate_config(py_stdio(env=env, cwd=str(tmp_path)))
    async with running_gate(config) as gate, raw_http() as http:
        session = RawSession(http, gate.url("/py/mcp"), ALICE)
        await session.initialize()
        pid = await session.child_pid()
        child_env, child_cwd = environ_of(pid), cwd_of(pid)
        await session.delete()
    assert child_env["GREETING"] == "hello"
    assert child_env["API_KEY"] == "configured-secret"
    assert set(child_env) <= {*INHERITED_VARIABLES, "GREETING", "API_KEY"}
    assert "gate-secret-must-not-leak" not in child_env.values()
    assert "cloud-secret-must-not-leak" not in child_env.values()
    assert child_cwd == str(tmp_path)


async def test_stderr_lines_reach_the_log_with_server_and_session_rate_limited() -> None:
    """Issue 4 §4: each stderr line is logged with the server and the session, at most
    `STDERR_LINES_PER_WINDOW` per window; the rest are counted, not logged."""
    chatty = shell_stdio(
        "chatty", f"for i in $(seq 1 {CHATTY_LINES}); do echo chatter $i >&2; done"
    )
    with capture_logs() as logs:
        async with running_gate(stdio_gate_config(chatty)) as gate, raw_http() as http:
            session = RawSession(http, gate.url("/chatty/mcp"), ALICE)
            await session.initialize()
            await session.call_tool("echo", {"text": "after the chatter"})
            await session.delete()
    label = (session.session_id or "")[:8]
    lines = [e for e in logs if e["event"] == "backend_stderr"]
    suppressed = [e for e in logs if e["event"] == "backend_stderr_suppressed"]
    assert len(lines) == STDERR_LINES_PER_WINDOW
    assert lines[0]["line"] == "chatter 1"
    assert {(e["server"], e["mcp_session"]) for e in lines} == {("chatty", label)}
    assert [(e["server"], e["lines"]) for e in suppressed] == [
        ("chatty", CHATTY_LINES - STDERR_LINES_PER_WINDOW)
    ]


async def test_every_session_gets_a_child_of_its_own_in_a_group_of_its_own() -> None:
    """Issue 4 §1: one child per session, started when the session opens; each leads its
    own process group (so signals reach whatever it starts)."""
    async with running_gate(stdio_gate_config(py_stdio())) as gate, raw_http() as http:
        before = {p.pid for p in gate_children()}
        sessions = [RawSession(http, gate.url("/py/mcp"), ALICE) for _ in range(3)]
        pids = []
        for session in sessions:
            await session.initialize()
            pids.append(await session.child_pid())
        started = {p.pid for p in gate_children()} - before
        for session in sessions:
            await session.delete()
    assert len(set(pids)) == 3
    assert started == set(pids)


async def test_shutdown_ends_open_streams_at_once_and_stops_their_children() -> None:
    """docs/config.md `shutdownGrace` (SIGTERM drains streams and stops children): a client holding
    its GET stream open does not hold shutdown for the grace period; its child is stopped."""
    config = stdio_gate_config(py_stdio())
    config = replace(config, proxy=replace(config.proxy, shutdown_grace_seconds=600.0))
    gate_cm = running_gate(config)
    gate = await gate_cm.__aenter__()
    try:
        async with sdk_client(gate.url("/py/mcp"), ALICE) as client:
            result = await client.call_tool("pid", {})
            pid = int(result.structured_content["result"])  # type: ignore[index]
            await wait_until(
                lambda: bool(gate.app[STANDALONE_STREAMS]), "the client's GET stream to open"
            )
            async with asyncio.timeout(30):  # far below the 600 s grace set above
                await gate_cm.__aexit__(None, None, None)
            gate_cm = None
    finally:
        if gate_cm is not None:
            await gate_cm.__aexit__(None, None, None)
    assert is_gone(pid)
