"""The gate's upstream clients side by side: aiohttp's ClientSession against `mcp_gate.http1`.

`python -m bench.upstream_client` starts the benchmark's echo backend (`backend.py`) in its
own process, opens one MCP session, and then, in this process, sends the same `tools/call`
POST back to back from 1 and from 32 concurrent workers, with each client under asyncio's
event loop and under uvloop: requests per second, median and p99 latency, and the CPU time
this process (the client) and the backend spent per request. Each figure is the median of
`--repetitions` runs, every combination interleaved within a repetition. Both clients are
set up as the gate uses them: aiohttp with an unlimited connector, no cookie jar and a
per-request timeout; http1 with its default pool and the same bounds.

The client and the load are the same code here, so what differs between two rows is the
client alone (and the loop). `--parsers` also times the two llhttp bindings on one
response (`response_parsers.py`). Writes nothing; prints Markdown.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import uvloop

from bench.echo_mcp import echo_call, initialize_request
from bench.procfs import cpu_seconds
from bench.stack import REPO, pid_of
from bench.stats import Timings
from mcp_gate.http1 import Client, Timeouts
from tests.fixtures.mcp_servers import run_server
from tests.fixtures.ports import free_port

SESSION_HEADER = "Mcp-Session-Id"
REQUEST_TIMEOUT_SECONDS = 30.0  # what a gate server's `timeout` would bound
MAX_BODY_BYTES = 4 * 1024 * 1024
LOOPS: dict[str, Callable[[], asyncio.AbstractEventLoop]] = {
    "asyncio": asyncio.new_event_loop,
    "uvloop": uvloop.new_event_loop,
}
Send = Callable[[], Awaitable[None]]
Close = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class Run:
    url: str
    headers: dict[str, str]
    body: bytes
    clients: int
    warmup_seconds: float
    seconds: float


class CallFailed(Exception):
    pass


def aiohttp_sender(run: Run) -> tuple[Send, Close]:
    """The gate's aiohttp setup (app.py `_http_client`, proxy/upstream.py `open_upstream`)."""
    http = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0, enable_cleanup_closed=True),
        timeout=aiohttp.ClientTimeout(total=None),
        cookie_jar=aiohttp.DummyCookieJar(),
    )

    async def send() -> None:
        async with asyncio.timeout(REQUEST_TIMEOUT_SECONDS):
            async with http.request(
                "POST", run.url, headers=run.headers, data=run.body, allow_redirects=False
            ) as response:
                body = await response.read()
        if response.status != 200 or b'"result"' not in body:
            raise CallFailed(f"HTTP {response.status}")

    return send, http.close


def http1_sender(run: Run) -> tuple[Send, Close]:
    bounds = Timeouts(
        connect_seconds=REQUEST_TIMEOUT_SECONDS, headers_seconds=REQUEST_TIMEOUT_SECONDS
    )
    http = Client(timeouts=bounds)

    async def send() -> None:
        response = await http.request("POST", run.url, headers=run.headers, body=run.body)
        body = await response.read(
            max_bytes=MAX_BODY_BYTES, timeout_seconds=REQUEST_TIMEOUT_SECONDS
        )
        if response.status != 200 or b'"result"' not in body:
            raise CallFailed(f"HTTP {response.status}")

    return send, http.close


SENDERS = {"aiohttp": aiohttp_sender, "http1": http1_sender}


async def _drive(run: Run, send: Send, backend_pid: int) -> dict[str, Any]:
    timings = Timings()
    loop = asyncio.get_running_loop()
    warm_until = loop.time() + run.warmup_seconds
    stop_at = warm_until + run.seconds
    counting = False

    async def worker() -> None:
        while (now := loop.time()) < stop_at:
            started = time.perf_counter()
            try:
                await send()
            except (CallFailed, aiohttp.ClientError, OSError, TimeoutError):
                timings.errors += int(now >= warm_until)
                continue
            if counting:
                timings.add(time.perf_counter() - started)

    workers = [asyncio.create_task(worker()) for _ in range(run.clients)]
    await asyncio.sleep(run.warmup_seconds)
    counting = True
    cpu_before, backend_before = time.process_time(), cpu_seconds(backend_pid)
    await asyncio.gather(*workers)
    cpu_after, backend_after = time.process_time(), cpu_seconds(backend_pid)
    summary = timings.summary(run.seconds)
    calls = max(summary["requests"], 1)
    summary["client_cpu_us"] = (cpu_after - cpu_before) * 1e6 / calls
    summary["backend_cpu_us"] = (backend_after - backend_before) * 1e6 / calls
    return summary


def measure(run: Run, client: str, loop: str, backend_pid: int) -> dict[str, Any]:
    """One timed run of one client under one event loop, in a fresh loop."""

    async def main() -> dict[str, Any]:
        send, close = SENDERS[client](run)
        try:
            return await _drive(run, send, backend_pid)
        finally:
            await close()

    with asyncio.Runner(loop_factory=LOOPS[loop]) as runner:
        return runner.run(main())


async def _open_session(url: str) -> str:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            url, json=initialize_request(), headers={"Accept": "application/json"}
        ) as response,
    ):
        return response.headers[SESSION_HEADER]


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def render(results: dict[tuple[str, str, int], list[dict[str, Any]]]) -> str:
    lines = [
        "| loop | client | workers | req/s | p50 ms | p99 ms | client CPU µs/req "
        "| backend CPU µs/req | errors |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for (loop, client, clients), runs in results.items():
        lines.append(
            f"| {loop} | {client} | {clients} | {_median(runs, 'throughput_rps'):,.0f} "
            f"| {_median(runs, 'p50_ms'):.3f} | {_median(runs, 'p99_ms'):.3f} "
            f"| {_median(runs, 'client_cpu_us'):.0f} | {_median(runs, 'backend_cpu_us'):.0f} "
            f"| {sum(run['errors'] for run in runs)} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--clients", default="1,32", help="comma-separated worker counts")
    parser.add_argument("--parsers", action="store_true", help="also time the parsers")
    args = parser.parse_args(argv)
    port = free_port()
    argv_backend = [sys.executable, "-m", "bench.backend", "--port", str(port)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    log_dir = Path(tempfile.mkdtemp(prefix="mcp-gate-bench-upstream-"))
    with run_server(
        "backend", argv_backend, port=port, path="/mcp", log_dir=log_dir, env=env
    ) as backend:
        backend_pid = pid_of(argv_backend)
        session = asyncio.run(_open_session(backend.url))
        headers = {
            "Accept": "application/json, text/event-stream",
            "Content-Type": "application/json",
            SESSION_HEADER: session,
        }
        body = json.dumps(echo_call(7), separators=(",", ":")).encode()
        results: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
        for repetition in range(args.repetitions):
            for clients in (int(n) for n in args.clients.split(",")):
                run = Run(backend.url, headers, body, clients, args.warmup, args.seconds)
                for loop in LOOPS:
                    for client in SENDERS:
                        print(f"run {repetition + 1}: {loop} {client} x{clients}", file=sys.stderr)
                        figures = measure(run, client, loop, backend_pid)
                        results.setdefault((loop, client, clients), []).append(figures)
    machine = (
        f"{os.cpu_count()} cores, Python {sys.version.split()[0]}, aiohttp {aiohttp.__version__}"
    )
    print(f"{args.repetitions} runs of {args.seconds:g} s, medians; {machine}\n")
    print(
        render(dict(sorted(results.items(), key=lambda item: (item[0][2], item[0][0], item[0][1]))))
    )
    if args.parsers:
        from bench.response_parsers import compare_parsers

        print(compare_parsers())
    return 0


if __name__ == "__main__":
    sys.exit(main())
