"""What a stdio backend costs through the gate: opening a session, and one `tools/call`.

Run: `.venv/bin/python -m bench.stdio_bridge [--sessions 15] [--calls 300]`

PyPI's `mcp-server-time` over stdio, reached three ways by the official SDK client:
- direct: the SDK starts the child itself and speaks stdio to it (the baseline);
- gate, legacy: the SDK over streamable HTTP to `mcp-gate serve` (its own process, JSON
  logs to a file, as an operator runs it), `mode="legacy"` (initialize straight away);
- gate, auto: the same in the SDK's default mode, which first probes `server/discover`
  (2026-07-28) and falls back to initialize on the gate's answer;
- gate, raw: a bare aiohttp client asking for JSON replies, to tell the gate's share of
  "gate, legacy" from the SDK's HTTP client's.
"Open" is the time from connecting to the first `tools/list` result: it includes starting
the child (a Python interpreter importing the server), so it is dominated by that on both
sides. "Call" is one `get_current_time` on an open session. Medians, with p90.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp

from tests.fixtures.mcp_clients import stdio_client, streamable_client
from tests.fixtures.mcp_servers import run_server
from tests.fixtures.ports import free_port

VENV_BIN = Path(sys.executable).parent
TIME_COMMAND = sys.executable
TIME_ARGS = ["-m", "mcp_server_time", "--local-timezone", "UTC"]
CALL_ARGUMENTS = {"timezone": "UTC"}
WARMUP_CALLS = 20


def _config(port: int) -> str:
    args = ", ".join(TIME_ARGS)
    return (
        "proxy:\n"
        f"  baseURL: http://127.0.0.1:{port}\n"
        f"  addr: 127.0.0.1:{port}\n"
        "mcpServers:\n"
        "  time:\n"
        "    transportType: stdio\n"
        f"    command: {TIME_COMMAND}\n"
        f"    args: [{args}]\n"
    )


class RawClient:
    """Just enough of the streamable front, by hand: JSON replies, no SDK."""

    def __init__(self, http: aiohttp.ClientSession, url: str) -> None:
        self._http, self._url, self._next_id = http, url, 1
        self._headers = {"Accept": "application/json", "Content-Type": "application/json"}

    async def _post(self, message: dict[str, object]) -> dict[str, object] | None:
        data = json.dumps(message)
        async with self._http.post(self._url, data=data, headers=self._headers) as response:
            if "Mcp-Session-Id" in response.headers:
                self._headers["Mcp-Session-Id"] = response.headers["Mcp-Session-Id"]
            return await response.json() if response.status == 200 else None

    async def request(self, method: str, params: dict[str, object]) -> dict[str, object] | None:
        self._next_id += 1
        message = {"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": params}
        return await self._post(message)

    async def open(self) -> None:
        client_info = {"name": "bench", "version": "0"}
        params: dict[str, object] = {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": client_info,
        }
        await self.request("initialize", params)
        await self._post({"jsonrpc": "2.0", "method": "notifications/initialized"})

    async def list_tools(self) -> object:
        return await self.request("tools/list", {})

    async def call_tool(self, name: str, arguments: dict[str, object]) -> object:
        return await self.request("tools/call", {"name": name, "arguments": arguments})

    async def close(self) -> None:
        async with self._http.delete(self._url, headers=self._headers):
            pass


@asynccontextmanager
async def _raw_client(url: str) -> AsyncIterator[RawClient]:
    async with aiohttp.ClientSession() as http:
        client = RawClient(http, url)
        await client.open()
        try:
            yield client
        finally:
            await client.close()


def _client(kind: str, url: str):  # type: ignore[no-untyped-def]
    if kind == "direct":
        return stdio_client(TIME_COMMAND, TIME_ARGS)
    if kind == "gate, raw":
        return _raw_client(url)
    return streamable_client(url, mode="auto" if kind == "gate, auto" else "legacy")


async def _time_opens(kind: str, url: str, sessions: int) -> list[float]:
    """Seconds from connecting to the first tools/list result, once per fresh session."""
    samples = []
    for _ in range(sessions):
        started = time.perf_counter()
        async with _client(kind, url) as client:
            await client.list_tools()
            samples.append(time.perf_counter() - started)
    return samples


async def _time_calls(kind: str, url: str, calls: int) -> list[float]:
    """Seconds per tools/call on one open session (after a warm-up)."""
    async with _client(kind, url) as client:
        call: Callable[[], Awaitable[object]] = lambda: client.call_tool(  # noqa: E731
            "get_current_time", CALL_ARGUMENTS
        )
        for _ in range(WARMUP_CALLS):
            await call()
        samples = []
        for _ in range(calls):
            started = time.perf_counter()
            await call()
            samples.append(time.perf_counter() - started)
    return samples


def _summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    p90 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]
    return f"median {statistics.median(ordered) * 1000:8.2f} ms   p90 {p90 * 1000:8.2f} ms"


async def _measure(url: str, sessions: int, calls: int) -> None:
    kinds = ("direct", "gate, legacy", "gate, auto", "gate, raw")
    print(f"open = connect → first tools/list ({sessions} sessions each)")
    for kind in kinds:
        print(f"  {kind:14} {_summary(await _time_opens(kind, url, sessions))}")
    print(f"call = one tools/call get_current_time ({calls} calls each)")
    for kind in kinds:
        print(f"  {kind:14} {_summary(await _time_calls(kind, url, calls))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=15)
    parser.add_argument("--calls", type=int, default=300)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="stdio-bridge-") as workdir:
        port = free_port()
        config = Path(workdir, "gate.yaml")
        config.write_text(_config(port))
        argv = [str(VENV_BIN / "mcp-gate"), "serve", "--config", str(config)]
        with run_server("gate", argv, port=port, path="", log_dir=Path(workdir)) as gate:
            asyncio.run(_measure(f"{gate.url}/time/mcp", options.sessions, options.calls))


if __name__ == "__main__":
    main()
