"""What `mcp-gate serve` prints when it starts, and `mcp-gate --version`."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp

from mcp_gate.config.model import ProxyConfig
from mcp_gate.startup_log import gate_version
from tests.fixtures.ports import async_wait_for_port, free_port

START_SECONDS = 30.0  # a cold interpreter importing aiohttp and the gate
EXIT_SECONDS = ProxyConfig.shutdown_grace_seconds + 10.0


async def _serve_and_stop(
    config: Path, port: int, base_path: str = "", env: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """Run `mcp-gate serve --config`, make two requests, stop it; its JSON log lines."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "mcp_gate", "serve", "--config", str(config), "--log-format", "json",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    )  # fmt: skip
    try:
        await async_wait_for_port(port, within_seconds=START_SECONDS)
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
            for _ in range(2):
                async with http.get(f"http://127.0.0.1:{port}{base_path}/health") as response:
                    assert response.status == 200
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(EXIT_SECONDS):
            _, stderr = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    return [json.loads(line) for line in stderr.decode().splitlines()]


async def test_start_logs_home_page_and_every_mcp_url_once(tmp_path: Path):
    """Policy: a newcomer reads in the log, once, where the home page and each server's
    MCP URL are, and, with the demo login, how to sign in."""
    port = free_port()
    metrics_port = free_port(other_than=(port,))
    base = f"http://127.0.0.1:{port}"
    config = tmp_path / "gate.yaml"
    config.write_text(
        f"proxy:\n  baseURL: {base}\n  addr: 127.0.0.1:{port}\n"
        f"  metricsAddr: 127.0.0.1:{metrics_port}\n"
        "  auth: {kind: oauth, idp: {provider: dev}}\n"
        "mcpServers:\n"
        f"  time: {{transportType: stdio, command: {sys.executable}, args: [-m, x]}}\n"
        "  docs: {transportType: streamable-http, url: 'http://127.0.0.1:9/mcp'}\n"
    )
    lines = await _serve_and_stop(config, port)
    events = [line["event"] for line in lines]
    (started,) = [line for line in lines if line["event"] == "gate_started"]
    published = {line["server"]: line for line in lines if line["event"] == "server_published"}
    (sign_in,) = [line for line in lines if line["event"] == "demo_sign_in"]
    assert started["home_url"] == f"{base}/"
    assert started["metrics_url"] == f"http://127.0.0.1:{metrics_port}/metrics"
    assert started["version"] == gate_version()
    assert started["event_loop"] == "uvloop"
    assert {name: line["mcp_url"] for name, line in published.items()} == {
        "docs": f"{base}/docs/mcp",
        "time": f"{base}/time/mcp",
    }
    assert published["time"]["sse_url"] == f"{base}/time/sse"
    assert f"open {base}/ and sign in with any email address" in sign_in["hint"]
    assert events.count("server_published") == 2
    assert events.index("demo_sign_in") < events.index("request_finished")


async def test_start_with_a_real_login_gives_no_demo_hint(tmp_path: Path):
    """Policy: the sign-in hint is for the demo login only; a gate without one says none."""
    port = free_port()
    config = tmp_path / "gate.yaml"
    config.write_text(
        f"proxy:\n  baseURL: http://127.0.0.1:{port}/gate\n  addr: 127.0.0.1:{port}\n"
        f"  metricsAddr: ''\nmcpServers: {{}}\n"
    )
    lines = await _serve_and_stop(config, port, "/gate")
    (started,) = [line for line in lines if line["event"] == "gate_started"]
    assert started["home_url"] == f"http://127.0.0.1:{port}/gate/"
    assert started["metrics_url"] is None
    assert [line for line in lines if line["event"] in ("demo_sign_in", "server_published")] == []


def test_version_option_prints_the_installed_version():
    """`mcp-gate --version` prints the distribution's version and exits 0."""
    result = subprocess.run(
        [sys.executable, "-m", "mcp_gate", "--version"],
        capture_output=True,
        text=True,
        timeout=START_SECONDS,
        check=False,
    )
    assert result.returncode == 0
    assert result.stdout.strip() == f"mcp-gate {gate_version()}"
    assert gate_version()[0].isdigit()


async def test_event_loop_can_be_asked_to_be_asyncios_own(tmp_path: Path):
    """Policy: uvloop by default; MCP_GATE_EVENT_LOOP=asyncio runs asyncio's own loop."""
    port = free_port()
    config = tmp_path / "gate.yaml"
    config.write_text(
        f"proxy:\n  baseURL: http://127.0.0.1:{port}\n  addr: 127.0.0.1:{port}\n"
        '  metricsAddr: ""\n'
        f"mcpServers:\n  docs: {{transportType: streamable-http, url: 'http://127.0.0.1:9/mcp'}}\n"
    )
    lines = await _serve_and_stop(config, port, env={"MCP_GATE_EVENT_LOOP": "asyncio"})
    (started,) = [line for line in lines if line["event"] == "gate_started"]
    assert started["event_loop"] == "asyncio"
