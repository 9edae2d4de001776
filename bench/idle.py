"""Scenario 4: many idle SSE streams held open through one gate process.

Two shapes of stream, each on a freshly started gate (so its memory holds nothing from
the other scenarios):
- pass-through: legacy SSE front on a legacy SSE backend; the gate holds two sockets per
  stream (the client's, and its own to the backend);
- bridged: legacy SSE front on a streamable HTTP backend; the gate terminates the MCP
  session and holds only the client's socket until a message needs the backend.

The client side (`hold_streams`, run by `loadgen.py` in its own process) opens the
streams, waits for the orchestrator, probes every stream with one round trip (an
`initialize` POSTed, its answer read on the stream), and closes them. The orchestrator side
(`idle_streams`) reads the gate's resident memory from /proc between those steps.
"""

from __future__ import annotations

import asyncio
import json
import selectors
import subprocess
import sys
import time
from typing import Any

import aiohttp

from bench.echo_mcp import initialize_request
from bench.procfs import open_fds, resident_kib
from bench.settings import Settings
from bench.sse_client import LegacySseClient, StreamFailed
from bench.stack import REPO

# Sockets the gate holds per stream of each shape, and what else it needs open.
FDS_PER_STREAM = {"passthrough": 2, "bridged": 1}
FD_RESERVE = 200
# How long one step of the client (open all, probe all) may take at most.
STEP_TIMEOUT_SECONDS = 300.0
WARMUP_STREAMS = 50


async def _report(line: dict[str, Any]) -> str:
    """Tell the orchestrator where we are; wait for its next command."""
    print(json.dumps(line), flush=True)
    return (await asyncio.to_thread(sys.stdin.readline)).strip()


async def hold_streams(job: dict[str, Any]) -> dict[str, Any]:
    """Client side: open `streams` streams, then probe and close them on command."""
    limit = asyncio.Semaphore(job["concurrency"])
    clients: list[LegacySseClient] = []
    failures: list[str] = []
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=30)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:

        async def open_one() -> None:
            async with limit:
                client = LegacySseClient(http, job["url"], job.get("token"))
                try:
                    await client.connect()
                    clients.append(client)
                except (StreamFailed, aiohttp.ClientError, OSError, TimeoutError) as exc:
                    failures.append(type(exc).__name__)
                    await client.aclose()

        started = time.perf_counter()
        await asyncio.gather(*(open_one() for _ in range(job["streams"])))
        opened = {"phase": "opened", "opened": len(clients), "failed": len(failures)}
        opened |= {"seconds": time.perf_counter() - started, "failures": sorted(set(failures))}
        await _report(opened)

        closed_while_idle = sum(client.closed for client in clients)

        async def probe(client: LegacySseClient) -> bool:
            async with limit:
                try:
                    answer = await client.ask(initialize_request(1))
                except (StreamFailed, aiohttp.ClientError, OSError, TimeoutError):
                    return False
                return answer is not None and "result" in answer

        started = time.perf_counter()
        answered = sum(await asyncio.gather(*(probe(client) for client in clients)))
        probed = {"phase": "probed", "closed_while_idle": closed_while_idle, "answered": answered}
        await _report(probed | {"seconds": time.perf_counter() - started})
        await asyncio.gather(*(client.aclose() for client in clients))
    return {"phase": "closed"}


class _Client:
    """The loadgen process running `hold_streams`, spoken to line by line."""

    def __init__(self, job: dict[str, Any]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.loadgen"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        self.send(json.dumps({"kind": "idle_streams", **job}))

    def send(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def receive(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            if not selector.select(STEP_TIMEOUT_SECONDS):
                raise TimeoutError(
                    f"the idle-stream client said nothing in {STEP_TIMEOUT_SECONDS}s"
                )
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the idle-stream client exited ({self.process.wait()})")
        return json.loads(line)

    def finish(self) -> None:
        self.send("close")
        self.receive()
        self.process.wait(timeout=STEP_TIMEOUT_SECONDS)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()


def _hold(job: dict[str, Any], pid: int, hold_seconds: float) -> dict[str, Any]:
    client = _Client(job)
    try:
        opened = client.receive()
        rss_open, fds_open = resident_kib(pid), open_fds(pid)
        time.sleep(hold_seconds)  # the point of the scenario: the streams sit idle
        client.send("probe")
        probed = client.receive()
        client.finish()
    except BaseException:
        client.kill()
        raise
    return {"opened": opened, "probed": probed, "rss_open_kib": rss_open, "fds_open": fds_open}


def stream_capacity(shape: str, fd_limit: int, wanted: int) -> int:
    """How many streams of this shape fit under the gate's file limit (at most `wanted`)."""
    return min(wanted, (fd_limit - FD_RESERVE) // FDS_PER_STREAM[shape])


def idle_streams(
    shape: str, url: str, token: str, gate_pid: int, settings: Settings, fd_limit: int
) -> dict[str, Any]:
    """Hold N idle streams through the gate; memory per stream and whether all stayed open."""
    streams = stream_capacity(shape, fd_limit, settings.idle_streams)
    job = {"url": url, "token": token, "concurrency": settings.idle_open_concurrency}
    # Warm-up: first use of every code path, so the baseline already holds it.
    _hold({**job, "streams": WARMUP_STREAMS}, gate_pid, 0.0)
    baseline = resident_kib(gate_pid)
    held = _hold({**job, "streams": streams}, gate_pid, settings.idle_hold_seconds)
    opened, probed = held["opened"], held["probed"]
    return {
        "shape": shape,
        "wanted": settings.idle_streams,
        "streams": streams,
        "fd_limit": fd_limit,
        "opened": opened["opened"],
        "open_failures": opened["failures"],
        "open_seconds": opened["seconds"],
        "hold_seconds": settings.idle_hold_seconds,
        "closed_while_idle": probed["closed_while_idle"],
        "answered_after_hold": probed["answered"],
        "all_stayed_open": probed["answered"] == streams == opened["opened"],
        "gate_fds_open": held["fds_open"],
        "gate_rss_baseline_kib": baseline,
        "gate_rss_open_kib": held["rss_open_kib"],
        "rss_per_stream_kib": (held["rss_open_kib"] - baseline) / max(opened["opened"], 1),
    }
