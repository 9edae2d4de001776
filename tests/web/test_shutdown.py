"""Stopping `mcp-gate serve` with streams open: within the grace, and at once on a second signal.

Issue 14 §5 found a gate with one legacy SSE client exiting 31-34 s after SIGTERM (aiohttp
waited its shutdown timeout twice) while a second Ctrl-C changed nothing. Policy (serve.py):
the listener closes, requests get `proxy.shutdownGrace`, streams still open then are cut,
and the process exits; a second signal stops at once, its stdio children killed.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from mcp_gate.serve import EXIT_HURRIED
from tests.fixtures.mcp_servers import RunningServer, py_stdio_command
from tests.fixtures.ports import async_wait_for_port, free_port
from tests.fixtures.process_table import gate_children, is_gone, wait_until
from tests.fixtures.proxy_probes import read_event

GRACE_SECONDS = 2.0
START_SECONDS = 30.0  # a cold interpreter importing aiohttp and the gate
# Bound on the rest of a stop: cutting streams, closing children and the store.
AFTER_GRACE_SECONDS = 8.0
ACCEPT_SSE = {"Accept": "text/event-stream"}
HTTP_TIMEOUT = aiohttp.ClientTimeout(total=60)


def _config(tmp_path: Path, port: int, echo: RunningServer, sse: RunningServer, grace: float):
    command, args = py_stdio_command()
    document = {
        "proxy": {
            "baseURL": f"http://127.0.0.1:{port}",
            "addr": f"127.0.0.1:{port}",
            "metricsAddr": "",
            "shutdownGrace": f"{grace:g}s",
        },
        "mcpServers": {
            "held": {"transportType": "streamable-http", "url": f"{echo.url}/s?events=0&hold=1"},
            "legacy": {"transportType": "sse", "url": sse.url},
            "py": {"transportType": "stdio", "command": command, "args": args},
        },
    }
    path = tmp_path / "gate.json"
    path.write_text(json.dumps(document))
    return path


async def _start(config: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "mcp_gate", "serve", "--config", str(config),
        "--log-format", "json",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip


async def _drain(response: aiohttp.ClientResponse) -> None:
    """Read a stream until it ends (a cut stream may end in a payload error)."""
    try:
        while await response.content.read(65536):
            pass
    except aiohttp.ClientPayloadError:
        pass


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
async def test_open_legacy_and_get_streams_end_within_the_grace_and_the_gate_exits(
    tmp_path: Path,
    echo_headers_server: RunningServer,
    py_sse_server: RunningServer,
    signum: signal.Signals,
) -> None:
    """Policy: one signal; a legacy SSE stream, a streamable GET stream (pass-through)
    and a bridged legacy stream all end within the grace, and the process exits 0."""
    port = free_port()
    config = _config(tmp_path, port, echo_headers_server, py_sse_server, GRACE_SECONDS)
    process = await _start(config)
    try:
        await async_wait_for_port(port, within_seconds=START_SECONDS)
        base = f"http://127.0.0.1:{port}"
        async with (
            aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as http,
            http.get(f"{base}/legacy/sse", headers=ACCEPT_SSE) as legacy,
            http.get(f"{base}/held/mcp", headers=ACCEPT_SSE) as held,
            http.get(f"{base}/py/sse", headers=ACCEPT_SSE) as bridged,
        ):
            for stream in (legacy, held, bridged):
                await read_event(stream)
            process.send_signal(signum)
            async with asyncio.timeout(GRACE_SECONDS + AFTER_GRACE_SECONDS):
                await asyncio.gather(_drain(legacy), _drain(held), _drain(bridged))
                _, stderr = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    events = [json.loads(line)["event"] for line in stderr.decode().splitlines()]
    assert process.returncode == 0
    assert events[-1] == "gate_stopped"
    assert "requests_cut" in events


async def test_second_signal_stops_at_once_and_kills_the_children(
    tmp_path: Path, echo_headers_server: RunningServer, py_sse_server: RunningServer
) -> None:
    """Policy: a second signal during the grace (the operator's second Ctrl-C) exits at
    once, with the stdio children killed, not after the grace."""
    port = free_port()
    long_grace = 600.0
    config = _config(tmp_path, port, echo_headers_server, py_sse_server, long_grace)
    process = await _start(config)
    try:
        await async_wait_for_port(port, within_seconds=START_SECONDS)
        base = f"http://127.0.0.1:{port}"
        async with (
            aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as http,
            http.get(f"{base}/legacy/sse", headers=ACCEPT_SSE) as legacy,
            http.get(f"{base}/py/sse", headers=ACCEPT_SSE) as bridged,
        ):
            await read_event(legacy)
            await read_event(bridged)
            children = [p.pid for p in gate_children(process.pid)]
            process.send_signal(signal.SIGTERM)
            process.send_signal(signal.SIGINT)
            async with asyncio.timeout(AFTER_GRACE_SECONDS):  # far below the 600 s grace
                _, stderr = await process.communicate()
        await wait_until(lambda: all(is_gone(pid) for pid in children), "the children to go")
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    events = [json.loads(line)["event"] for line in stderr.decode().splitlines()]
    assert process.returncode == EXIT_HURRIED
    assert len(children) == 1
    assert "gate_stopped_at_once" in events
