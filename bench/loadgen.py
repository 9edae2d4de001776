"""The load generator: MCP clients written for the purpose on aiohttp, timed, in one process.

`python -m bench.loadgen` reads one job (a JSON object) on stdin and writes its result (a
JSON object) as one line on stdout. The orchestrator (`runner.py`) runs the same job
against the backend directly and through the gate, so both sides meet the same client. The
access token arrives on stdin, never in argv or the environment, so `ps` never shows it.

Jobs (`kind`):
- `calls`: `clients` MCP clients over streamable HTTP, each with its own MCP session
  (`initialize`, `notifications/initialized`), calling `tools/call` back to back for
  `warmup_seconds` (not counted), then `seconds` (counted): latency percentiles and
  throughput. Answers may be JSON or an SSE stream (the gate's bridge streams them).
  `tool` names the echo tool where it is not `echo` (`<member>.echo` on an aggregate).
- `sse_calls`: one legacy HTTP+SSE client: POST a `tools/call` to the endpoint, wait for
  its answer on the stream.
- `stdio_calls`: one client speaking stdio to a child it starts itself.
- `http_opens`, `stdio_opens`: the time to open an MCP session, from nothing to the
  answer of the first `tools/list` (over HTTP: three POSTs; over stdio: start the child).
- `idle_streams`: the scenario of `idle.py`, which drives it line by line.
- `large_results`: one client (streamable HTTP, or legacy SSE with `client: legacy`)
  calling `big(size_bytes)` `calls` times after `warmup` calls, while a probe client calls
  `echo` back to back on `probe_url` (another user of the same gate): the big calls'
  latency, and how long the probe's slowest call waited meanwhile.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import json
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import aiohttp

from bench.echo_mcp import big_call, echo_call, opening
from bench.sse_client import LegacySseClient, StreamFailed
from bench.stats import Timings

Job = dict[str, Any]
SESSION_HEADER = "Mcp-Session-Id"
# A loopback answer takes well under a second; a request slower than this is an error.
REQUEST_TIMEOUT_SECONDS = 30.0
_TIMEOUT = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_SECONDS)


class CallFailed(Exception):
    """A request that got no proper answer (status, body or timeout)."""


def _dumps(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode()


def base_headers(token: str | None) -> dict[str, str]:
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


class McpHttpClient:
    """One streamable HTTP MCP client with its session, on a shared aiohttp session."""

    def __init__(
        self, http: aiohttp.ClientSession, url: str, token: str | None, tool: str = "echo"
    ) -> None:
        self.http = http
        self.url = url
        self.headers = base_headers(token)
        self.ids = itertools.count(2)
        # The echo tool's name on this URL (`<member>.echo` through an aggregate).
        self.tool = tool

    async def post(self, message: dict[str, Any]) -> bytes:
        async with self.http.post(self.url, data=_dumps(message), headers=self.headers) as reply:
            body = await reply.read()
            if reply.status == 202 and "id" not in message:
                return body
            if reply.status != 200 or b'"result"' not in body:
                raise CallFailed(f"HTTP {reply.status}: {body[:200]!r}")
            if "id" in message and message["method"] == "initialize":
                self.headers[SESSION_HEADER] = reply.headers[SESSION_HEADER]
            return body

    async def open(self) -> None:
        self.headers.pop(SESSION_HEADER, None)
        for message in opening(next(self.ids)):
            await self.post(message)

    async def call(self) -> None:
        await self.post(echo_call(next(self.ids), tool=self.tool))

    async def call_big(self, size_bytes: int) -> None:
        body = await self.post(big_call(next(self.ids), size_bytes))
        if len(body) < size_bytes:
            raise CallFailed(f"answer of {len(body)} bytes, asked for {size_bytes}")

    async def close(self) -> None:
        async with self.http.delete(self.url, headers=self.headers) as reply:
            await reply.read()


async def run_for(
    timings: Timings, warmup: float, seconds: float, call: Callable[[], Awaitable[None]]
) -> None:
    """Call back to back: `warmup` seconds unrecorded, then `seconds` recorded."""
    started = time.perf_counter()
    counted_from, stop = started + warmup, started + warmup + seconds
    while (now := time.perf_counter()) < stop:
        try:
            await call()
        except (CallFailed, StreamFailed, aiohttp.ClientError, TimeoutError):
            if now >= counted_from:
                timings.errors += 1
            continue
        if now >= counted_from:
            timings.add(time.perf_counter() - now)


def _connector() -> aiohttp.TCPConnector:
    return aiohttp.TCPConnector(limit=0, force_close=False)


async def job_calls(job: Job) -> dict[str, Any]:
    timings = Timings()
    async with aiohttp.ClientSession(connector=_connector(), timeout=_TIMEOUT) as http:
        # `open_url`: open each session there (its owner replica), then call `url` (another
        # replica, which relays every call to the owner: the relay scenario).
        opener: str = job.get("open_url") or job["url"]
        tool = job.get("tool", "echo")
        clients = [
            McpHttpClient(http, opener, job.get("token"), tool) for _ in range(job["clients"])
        ]
        await asyncio.gather(*(client.open() for client in clients))
        for client in clients:
            client.url = job["url"]
        await asyncio.gather(
            *(
                run_for(timings, job["warmup_seconds"], job["seconds"], client.call)
                for client in clients
            )
        )
        await asyncio.gather(*(client.close() for client in clients))
    return timings.summary(job["seconds"])


class Session(Protocol):
    async def open(self) -> None: ...

    async def close(self) -> None: ...


async def time_opens(job: Job, new_session: Callable[[], Session]) -> dict[str, Any]:
    """Open and close sessions one after the other; time each open."""
    timings = Timings()
    for index in range(job["warmup"] + job["repetitions"]):
        session = new_session()
        started = time.perf_counter()
        await session.open()
        if index >= job["warmup"]:
            timings.add(time.perf_counter() - started)
        await session.close()
    return timings.summary(None)


async def job_http_opens(job: Job) -> dict[str, Any]:
    async with aiohttp.ClientSession(connector=_connector(), timeout=_TIMEOUT) as http:
        return await time_opens(job, lambda: McpHttpClient(http, job["url"], job.get("token")))


class StdioClient:
    """A client speaking MCP over stdio to a child it starts (MCP transports §stdio)."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.process: asyncio.subprocess.Process | None = None
        self.ids = itertools.count(2)

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            self.job["command"],
            *self.job["args"],
            cwd=self.job.get("cwd"),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )

    async def ask(self, message: dict[str, Any]) -> None:
        assert self.process is not None
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None
        assert stdout is not None
        stdin.write(_dumps(message) + b"\n")
        if "id" not in message:
            return
        while True:
            line = await asyncio.wait_for(stdout.readline(), REQUEST_TIMEOUT_SECONDS)
            if not line:
                raise CallFailed("the child closed its stdout")
            if b'"result"' in line and json.loads(line).get("id") == message["id"]:
                return

    async def open(self) -> None:
        await self.start()
        for message in opening(next(self.ids)):
            await self.ask(message)

    async def call(self) -> None:
        await self.ask(echo_call(next(self.ids)))

    async def close(self) -> None:
        assert self.process is not None
        assert self.process.stdin is not None
        self.process.stdin.close()
        await asyncio.wait_for(self.process.wait(), REQUEST_TIMEOUT_SECONDS)


async def job_stdio_calls(job: Job) -> dict[str, Any]:
    timings = Timings()
    client = StdioClient(job)
    await client.open()
    await run_for(timings, job["warmup_seconds"], job["seconds"], client.call)
    await client.close()
    return timings.summary(job["seconds"])


async def job_stdio_opens(job: Job) -> dict[str, Any]:
    return await time_opens(job, lambda: StdioClient(job))


async def job_sse_calls(job: Job) -> dict[str, Any]:
    timings = Timings()
    async with (
        aiohttp.ClientSession(connector=_connector(), timeout=aiohttp.ClientTimeout()) as http,
        LegacySseClient(http, job["url"], job.get("token")) as client,
    ):
        await client.handshake()
        await run_for(timings, job["warmup_seconds"], job["seconds"], client.call)
    return timings.summary(job["seconds"])


async def job_large_results(job: Job) -> dict[str, Any]:
    timings, probe_timings = Timings(), Timings()
    size = job["size_bytes"]
    timeout = aiohttp.ClientTimeout(total=None, sock_read=REQUEST_TIMEOUT_SECONDS)
    async with aiohttp.ClientSession(connector=_connector(), timeout=timeout) as http:
        probe = McpHttpClient(http, job["probe_url"], job.get("probe_token"))
        await probe.open()
        if job["client"] == "legacy":
            legacy = LegacySseClient(http, job["url"], job.get("token"))
            await legacy.connect()
            await legacy.handshake()
            call: Callable[[], Awaitable[None]] = functools.partial(legacy.call_big, size)
        else:
            client = McpHttpClient(http, job["url"], job.get("token"))
            await client.open()
            call = functools.partial(client.call_big, size)
        done = asyncio.Event()

        async def probing() -> None:
            while not done.is_set():
                started = time.perf_counter()
                await probe.call()
                probe_timings.add(time.perf_counter() - started)

        prober = asyncio.create_task(probing())
        for index in range(job["warmup"] + job["calls"]):
            started = time.perf_counter()
            await call()
            if index >= job["warmup"]:
                timings.add(time.perf_counter() - started)
        done.set()
        await prober
        if job["client"] == "legacy":
            await legacy.aclose()
    slowest_probe_ms = max(probe_timings.samples, default=0.0) * 1000
    return timings.summary(None) | {"probe_max_ms": slowest_probe_ms}


async def job_idle_streams(job: Job) -> dict[str, Any]:
    from bench.idle import hold_streams

    return await hold_streams(job)


JOBS: dict[str, Callable[[Job], Awaitable[dict[str, Any]]]] = {
    "calls": job_calls,
    "http_opens": job_http_opens,
    "stdio_calls": job_stdio_calls,
    "stdio_opens": job_stdio_opens,
    "sse_calls": job_sse_calls,
    "idle_streams": job_idle_streams,
    "large_results": job_large_results,
}


def main() -> None:
    job = json.loads(sys.stdin.readline())
    result = asyncio.run(JOBS[job["kind"]](job))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
