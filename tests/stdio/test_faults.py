"""stdio children that fail: crash mid-call, get killed, never start, ignore SIGTERM, flood a line.

Issue 4 §4: a child that exits or crashes fails its pending requests with a JSON-RPC error
and ends its session (the client opens a new one, and gets a slot for it at once); a child
that never answers `initialize` in time is killed; stopping escalates from SIGTERM to SIGKILL.
"""

from __future__ import annotations

import os
import signal
import sys

import anyio
import pytest
from mcp.shared.exceptions import MCPError
from structlog.testing import capture_logs

from mcp_gate.jsonrpc import CONNECTION_CLOSED, INTERNAL_ERROR
from mcp_gate.proxy import stdio
from tests.fixtures.gate import running_gate
from tests.fixtures.mcp_clients import sse_client
from tests.fixtures.process_table import gate_children, is_gone, wait_until
from tests.fixtures.stdio_backends import (
    ALICE,
    RawSession,
    py_stdio,
    raw_http,
    sdk_client,
    stdio_gate_config,
    stdio_server,
)

pytestmark = pytest.mark.usefixtures("no_stray_children")

# A process that never reads stdin, never answers, and ignores SIGTERM.
STUBBORN = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(3600)"
CALL_WAIT_SECONDS = 20.0
CLOSED_MESSAGE = "backend session closed"  # the gate's error, not the client's own


async def test_a_child_that_exits_mid_call_fails_the_call_and_the_next_session_works() -> None:
    """The pending call gets a JSON-RPC error, the session ends (404 from then on), the
    child is reaped, and the same user (capped at one session) opens a new one at once."""
    config = stdio_gate_config(py_stdio(), max_per_user=1)
    async with running_gate(config) as gate:
        url = gate.url("/py/mcp")
        async with sdk_client(url, ALICE) as client:
            pid = int((await client.call_tool("pid", {})).content[0].text)  # type: ignore[union-attr]
            with pytest.raises(MCPError) as crashed:
                await client.call_tool("crash", {"exit_code": 3})
            with pytest.raises(MCPError):
                await client.call_tool("echo", {"text": "the session is gone"})
        async with sdk_client(url, ALICE) as client:
            echoed = (await client.call_tool("echo", {"text": "fresh"})).content[0].text  # type: ignore[union-attr]
    assert (crashed.value.code, crashed.value.message) == (CONNECTION_CLOSED, CLOSED_MESSAGE)
    await wait_until(lambda: is_gone(pid), "the crashed child to be reaped")
    assert echoed == "fresh"


@pytest.mark.parametrize("front", ["mcp", "sse"])
async def test_a_child_killed_mid_call_fails_the_call_on_either_front(front: str) -> None:
    """SIGKILL from outside while a call is in flight: the client gets an error, not a hang."""
    async with running_gate(stdio_gate_config(py_stdio())) as gate:
        url = gate.url(f"/py/{front}")
        opened = sdk_client(url, ALICE) if front == "mcp" else sse_client(url, ALICE)
        async with opened as client:
            pid = int((await client.call_tool("pid", {})).content[0].text)  # type: ignore[union-attr]

            async def kill_on_progress(
                progress: float, total: float | None, message: str | None
            ) -> None:
                os.kill(pid, signal.SIGKILL)

            with anyio.fail_after(CALL_WAIT_SECONDS), pytest.raises(MCPError) as killed:
                await client.call_tool("hang", {}, progress_callback=kill_on_progress)
    assert (killed.value.code, killed.value.message) == (CONNECTION_CLOSED, CLOSED_MESSAGE)
    # The error goes out as soon as the child's stdout ends; reaping it follows.
    await wait_until(lambda: is_gone(pid), "the killed child to be reaped")


async def test_a_child_that_never_answers_initialize_is_killed_after_the_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The initialize request gets a JSON-RPC error once the server's `timeout` passes, and
    the child (which ignores SIGTERM) is killed: it cannot hold a session slot forever."""
    monkeypatch.setattr(stdio, "STDIO_TERMINATE_GRACE_SECONDS", 0.2)
    server = stdio_server("mute", sys.executable, ["-c", STUBBORN], timeout_seconds=0.5)
    async with running_gate(stdio_gate_config(server)) as gate, raw_http() as http:
        before = {p.pid for p in gate_children()}
        session = RawSession(http, gate.url("/mute/mcp"), ALICE)
        reply = await session.initialize()
        started = {p.pid for p in gate_children()} - before
        await wait_until(lambda: all(is_gone(pid) for pid in started), "the mute child to go")
    assert session.last_status == 200
    assert reply["error"]["code"] == INTERNAL_ERROR
    assert reply["error"]["message"] == "server did not start"


async def test_a_child_that_ignores_sigterm_is_killed_after_the_grace_period(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Stopping: stdin closed, SIGTERM, then SIGKILL after `STDIO_TERMINATE_GRACE_SECONDS`."""
    monkeypatch.setattr(stdio, "STDIO_TERMINATE_GRACE_SECONDS", 0.2)
    server = stdio_server("mute", sys.executable, ["-c", STUBBORN], timeout_seconds=30)
    with capture_logs() as logs:
        async with running_gate(stdio_gate_config(server)) as gate, raw_http() as http:
            session = RawSession(http, gate.url("/mute/mcp"), ALICE)
            with anyio.move_on_after(0.3):  # initialize is never answered; leave it pending
                await session.initialize()
    exits = [e["exit_code"] for e in logs if e["event"] == "backend_exited"]
    assert exits == [-signal.SIGKILL]


async def test_a_line_over_the_size_limit_ends_the_session(monkeypatch: pytest.MonkeyPatch) -> None:
    """policy: a message line longer than `STDIO_LINE_LIMIT_BYTES` cannot be relayed or
    skipped safely: the child is stopped, its pending call fails, its session ends."""
    monkeypatch.setattr(stdio, "STDIO_LINE_LIMIT_BYTES", 1024 * 1024)
    async with running_gate(stdio_gate_config(py_stdio())) as gate, raw_http() as http:
        session = RawSession(http, gate.url("/py/mcp"), ALICE)
        await session.initialize()
        pid = await session.child_pid()
        reply = await session.call_tool("big", {"size_bytes": 2 * 1024 * 1024})
        await wait_until(lambda: is_gone(pid), "the child to be stopped")
        await session.call_tool("echo", {"text": "after"})
    assert reply["error"]["code"] == CONNECTION_CLOSED
    assert session.last_status == 404


async def test_a_command_that_cannot_start_gets_a_plain_502() -> None:
    """docs/deploy.md: a backend failure is a plain 502, never a JSON-RPC body of the gate's."""
    server = stdio_server("missing", "/nonexistent/mcp-server", [])
    async with running_gate(stdio_gate_config(server)) as gate, raw_http() as http:
        session = RawSession(http, gate.url("/missing/mcp"), ALICE)
        reply = await session.post(
            {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}
        )
    assert session.last_status == 502
    assert isinstance(reply, str)
    assert reply.startswith("502 Bad Gateway: backend 'missing' cannot start")
