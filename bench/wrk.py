"""Timed streamable HTTP `tools/call`s with wrk (Debian package `wrk`), when it is installed.

wrk is written in C and spends a few microseconds per request, where a Python client
spends a few hundred: on a two-core machine a Python generator would take a core from the
server it measures, and the direct backend would look slower than it is. So scenarios 1
and 5 use wrk when it is on PATH, and the aiohttp generator (`loadgen.py`, job `calls`)
otherwise; the results say which.

All of wrk's connections share one MCP session, opened here beforehand (wrk cannot run
a handshake per connection); to the gate and to the backend a request costs the same
whichever session it names. The access token reaches wrk in its environment, which only
this user can read, never in argv.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

from bench.echo_mcp import INITIALIZED_NOTIFICATION, initialize_request

SCRIPT = Path(__file__).with_name("wrk_mcp.lua")
# wrk stops itself after its duration; this bounds a wedged run.
WRK_GRACE_SECONDS = 30.0
REQUEST_TIMEOUT_SECONDS = 10.0


def wrk_version() -> str | None:
    """`wrk <version>` when wrk is installed, else None."""
    if shutil.which("wrk") is None:
        return None
    # `wrk -v` prints its banner and exits non-zero; the banner is all we want.
    banner = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False).stdout
    words = banner.split()
    return f"wrk {words[1]}" if len(words) > 1 else "wrk"


def _post(url: str, headers: dict[str, str], message: dict[str, Any]) -> str | None:
    body = json.dumps(message).encode()
    # S310: the URL is the benchmark's own http://127.0.0.1 target.
    http_request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    with urllib.request.urlopen(http_request, timeout=REQUEST_TIMEOUT_SECONDS) as reply:  # noqa: S310
        reply.read()
        return reply.headers.get("Mcp-Session-Id")


def open_session(url: str, token: str | None) -> str:
    """Open an MCP session (initialize, initialized) and return its id."""
    headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    session = _post(url, headers, initialize_request())
    if session is None:
        raise RuntimeError(f"{url} opened no MCP session")
    _post(url, {**headers, "Mcp-Session-Id": session}, INITIALIZED_NOTIFICATION)
    return session


def run_wrk(
    url: str, token: str | None, session: str, *, clients: int, seconds: int
) -> dict[str, Any]:
    """One wrk run: `clients` connections for `seconds`; figures as `stats.Timings` gives."""
    argv = ["wrk", "-t1", f"-c{clients}", f"-d{seconds}s", "--timeout", "10s", "-s", str(SCRIPT)]
    env = {"PATH": os.environ.get("PATH", ""), "BENCH_TOKEN": token or "", "BENCH_SESSION": session}
    done = subprocess.run(
        [*argv, url],
        env=env,
        capture_output=True,
        text=True,
        timeout=seconds + WRK_GRACE_SECONDS,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr[-2000:]}")
    figures = json.loads(lines[-1])
    return {
        "requests": figures["requests"],
        "errors": figures["socket_errors"] + figures["bad_statuses"],
        "p50_ms": figures["p50_us"] / 1000,
        "p99_ms": figures["p99_us"] / 1000,
        "mean_ms": figures["mean_us"] / 1000,
        "throughput_rps": figures["requests"] / figures["seconds"],
    }
