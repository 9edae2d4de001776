"""`python -m bench --instructions`: CPU instructions per streamable `tools/call`, counted.

Scenario 1's call (the echo tool, one MCP session, a gate access token), sent one at a time
on one kept-alive connection, to the gate, to the bare forwarder (floor.py) and to the
backend itself (the direct call: at 32 clients the gate keeps about the backend's cost over
its own of the direct throughput), each run under valgrind's callgrind (Debian package
`valgrind`). Counting starts after a warm-up and covers `CALLS` calls; the figure is the
instructions the process executed per call, in user space (the kernel's share of a socket
call is not counted).

Why: wall-clock and CPU-time figures move with whatever else a shared machine runs (here, a
virtual machine's neighbours moved the gate's CPU per call by a quarter between runs); an
instruction count does not, since the same code on the same input executes the same
instructions. It is the figure to compare two trees by: run this on each. It is not a time:
instructions differ in cost (a cache miss, a system call), so the benchmark's own figures
stay the ones that say how fast the gate is.
"""

from __future__ import annotations

import http.client
import json
import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

from bench.echo_mcp import echo_call
from bench.stack import (
    HTTP_SERVER,
    Gate,
    running_backend,
    running_floor,
    running_gate,
    running_stack,
)
from bench.tokens import obtain_token
from bench.wrk import open_session

CALLS = 500
WARMUP_CALLS = 100
# callgrind starts with counting off; `callgrind_control -i on` starts it.
_VALGRIND = ("valgrind", "--tool=callgrind", "--instr-atstart=no")
_DUMPS = "callgrind.out.%p"  # %p: the process id
_DUMP_WAIT_SECONDS = 1.0


def _call_many(url: str, token: str | None, session: str, calls: int) -> None:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=60)
    headers = {
        "Content-Type": "application/json",
        "Accept": "application/json, text/event-stream",
        "Mcp-Session-Id": session,
    }
    if token:
        headers["Authorization"] = f"Bearer {token}"
    body = json.dumps(echo_call(7)).encode()
    try:
        for _ in range(calls):
            connection.request("POST", parts.path, body, headers)
            answer = connection.getresponse()
            answer.read()
            if answer.status != 200:
                raise RuntimeError(f"{url} answered {answer.status}")
    finally:
        connection.close()


def _control(pid: int, *flags: str) -> None:
    subprocess.run(["callgrind_control", *flags, str(pid)], check=True, capture_output=True)


def _counted(process: Gate, url: str, token: str | None, out_dir: Path) -> float:
    session = open_session(url, token)
    _call_many(url, token, session, WARMUP_CALLS)
    _control(process.pid, "-i", "on")
    _call_many(url, token, session, CALLS)
    _control(process.pid, "-i", "off")
    _control(process.pid, "-d")  # writes callgrind.out.<pid>.<n> beside the first dump
    time.sleep(_DUMP_WAIT_SECONDS)
    totals = [
        int(line.split()[1])
        for dump in out_dir.glob(f"callgrind.out.{process.pid}*")
        for line in dump.read_text(errors="replace").splitlines()
        if line.startswith(("summary:", "totals:"))
    ]
    if not totals:
        raise RuntimeError(f"callgrind wrote no counts for process {process.pid} in {out_dir}")
    return max(totals) / CALLS


def count_instructions(log_dir: Path, out_dir: Path) -> dict[str, float]:
    """Instructions per call: the gate's, the bare forwarder's, and the gate's own share."""
    if shutil.which("valgrind") is None:
        raise RuntimeError("valgrind is not installed: apt-get install valgrind")
    prefix = (*_VALGRIND, f"--callgrind-out-file={out_dir / _DUMPS}")
    with running_stack(log_dir) as stack:
        with running_gate(stack, "instructions", prefix=prefix) as gate:
            url = gate.url(HTTP_SERVER)
            through_gate = _counted(gate, url, obtain_token(url), out_dir)
        with running_floor(stack, prefix=prefix) as floor:
            through_floor = _counted(floor, f"{floor.base_url}/mcp", None, out_dir)
    with running_backend(log_dir, prefix=prefix) as backend:
        direct = _counted(backend, f"{backend.base_url}/mcp", None, out_dir)
    return {
        "calls": CALLS,
        "gate_instructions_per_call": through_gate,
        "forwarder_instructions_per_call": through_floor,
        "gate_own_instructions_per_call": through_gate - through_floor,
        "backend_instructions_per_call": direct,
    }
