"""Scenarios 1, 2, 3, 5 and 6: the same timed MCP work, direct and through the gate.

Within a repetition every target runs once, one after the other (direct, gate, gate on
Redis…), so a machine that gets busier or quieter during the run shifts all of them alike;
each figure is the median over the repetitions. Every run warms up first (connections
open, code paths hot) and counts nothing during the warm-up.

The load generator always runs in its own process: wrk for scenarios 1 and 5 when it is
installed (`wrk.py`), the aiohttp generator (`loadgen.py`) for the rest.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bench.procfs import cpu_per_call_us, cpu_snapshot
from bench.settings import Settings
from bench.stack import REPO, STDIO_SERVER, VENV_BIN
from bench.stats import median_of_runs
from bench.wrk import open_session, run_wrk

# A job runs for its warm-up and its duration; this bounds a wedged generator.
JOB_GRACE_SECONDS = 120.0
STDIO_ECHO = {"command": sys.executable, "args": ["-m", "bench.stdio_server"], "cwd": str(REPO)}
STDIO_TIME = {"command": str(VENV_BIN / "mcp-server-time"), "args": [], "cwd": str(REPO)}


@dataclass(frozen=True)
class Target:
    """Where one side of a comparison sends its requests, and who serves them (name → pid)."""

    name: str
    url: str
    token: str | None = None
    processes: Mapping[str, int] = field(default_factory=dict)


def run_job(job: dict[str, Any], timeout: float = JOB_GRACE_SECONDS) -> dict[str, Any]:
    """Run one `loadgen` job in its own process and return its result."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.loadgen"],
        input=json.dumps(job) + "\n",
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"loadgen {job['kind']} failed: {done.stderr[-3000:]}")
    return json.loads(done.stdout.splitlines()[-1])


def compare(direct: dict[str, Any], gate: dict[str, Any]) -> dict[str, Any]:
    """Both sides, and what the gate adds (latency) or keeps (throughput)."""
    result: dict[str, Any] = {"direct": direct, "gate": gate}
    for key in ("p50_ms", "p99_ms"):
        result[f"{key.removesuffix('_ms')}_overhead_ms"] = gate[key] - direct[key]
    if "throughput_rps" in direct:
        result["throughput_ratio"] = gate["throughput_rps"] / direct["throughput_rps"]
    return result


def _timed_calls(
    target: Target, clients: int, settings: Settings, *, use_wrk: bool
) -> dict[str, Any]:
    """A warm-up run, then the counted run, with the CPU its processes spent per call."""

    def one_run(seconds: int) -> dict[str, Any]:
        if use_wrk:
            return run_wrk(target.url, target.token, session, clients=clients, seconds=seconds)
        job = {"kind": "calls", "url": target.url, "token": target.token, "clients": clients}
        return run_job(job | {"warmup_seconds": 0, "seconds": seconds})

    session = open_session(target.url, target.token) if use_wrk else ""
    if settings.warmup_seconds:
        one_run(settings.warmup_seconds)
    before = cpu_snapshot(target.processes)
    figures = one_run(settings.seconds)
    cpu = cpu_per_call_us(before, cpu_snapshot(target.processes), figures["requests"])
    return figures | {f"cpu_us_per_call_{name}": value for name, value in cpu.items()}


def streamable_calls(
    targets: list[Target], settings: Settings, *, use_wrk: bool
) -> dict[str, dict[str, Any]]:
    """Scenarios 1 and 5: per target, latency at one client and throughput at N clients."""
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {
        t.name: {"one_client": [], "concurrent": []} for t in targets
    }
    for _ in range(settings.repetitions):
        for target in targets:
            one = _timed_calls(target, 1, settings, use_wrk=use_wrk)
            many = _timed_calls(target, settings.concurrent_clients, settings, use_wrk=use_wrk)
            runs[target.name]["one_client"].append(one)
            runs[target.name]["concurrent"].append(many)
    return {
        name: {figure: median_of_runs(samples) for figure, samples in by_figure.items()}
        for name, by_figure in runs.items()
    }


def policy_cost(
    plain: Target, ruled: Target, settings: Settings, *, use_wrk: bool
) -> dict[str, Any]:
    """Scenario 8: one client's `tools/call` on a server without rules ("direct" in the
    comparison) and on the same backend with `access` and 20 `tools` rules, runs
    interleaved, with scenario 1's load generator: the overhead is what judging the calls
    and their answers adds."""
    runs: dict[str, list[dict[str, Any]]] = {"plain": [], "ruled": []}
    for _ in range(settings.repetitions):
        runs["plain"].append(_timed_calls(plain, 1, settings, use_wrk=use_wrk))
        runs["ruled"].append(_timed_calls(ruled, 1, settings, use_wrk=use_wrk))
    return compare(median_of_runs(runs["plain"]), median_of_runs(runs["ruled"]))


def _interleaved(jobs: dict[str, dict[str, Any]], repetitions: int) -> dict[str, dict[str, Any]]:
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in jobs}
    for _ in range(repetitions):
        for name, job in jobs.items():
            runs[name].append(run_job(job))
    return {name: median_of_runs(samples) for name, samples in runs.items()}


def legacy_sse_calls(direct: Target, gate: Target, settings: Settings) -> dict[str, Any]:
    """Scenario 2: POST a tools/call, wait for its answer on the SSE stream."""
    timing = {"warmup_seconds": settings.warmup_seconds, "seconds": settings.seconds}
    jobs = {
        target.name: {"kind": "sse_calls", "url": target.url, "token": target.token, **timing}
        for target in (direct, gate)
    }
    figures = _interleaved(jobs, settings.repetitions)
    return compare(figures[direct.name], figures[gate.name])


def stdio_calls(gate: Target, settings: Settings) -> dict[str, Any]:
    """Scenario 3: tools/call to a stdio child, spoken to directly or through the gate."""
    timing = {"warmup_seconds": settings.warmup_seconds, "seconds": settings.seconds}
    calls = _interleaved(
        {
            "direct": {"kind": "stdio_calls", **STDIO_ECHO, **timing},
            "gate": {"kind": "calls", "url": gate.url, "token": gate.token, "clients": 1, **timing},
        },
        settings.repetitions,
    )
    return compare(calls["direct"], calls["gate"])


def aggregate_calls(member: Target, aggregate: Target, settings: Settings) -> dict[str, Any]:
    """Scenario 3: tools/call to the stdio child through its own route ("direct" here)
    and through an aggregate over it: what the aggregate adds to a member's call."""
    timing = {"warmup_seconds": settings.warmup_seconds, "seconds": settings.seconds}
    call = {"kind": "calls", "clients": 1, **timing}
    calls = _interleaved(
        {
            "direct": call | {"url": member.url, "token": member.token},
            "gate": call
            | {"url": aggregate.url, "token": aggregate.token, "tool": f"{STDIO_SERVER}.echo"},
        },
        settings.repetitions,
    )
    return compare(calls["direct"], calls["gate"])


def session_opens(
    gate: Target, server: dict[str, Any], repetitions: int, settings: Settings, *, warmup: int = 1
) -> dict[str, Any]:
    """Scenario 3: from nothing to the first tools/list answer (the gate starts the child)."""
    counts = {"warmup": warmup, "repetitions": repetitions}
    opens = _interleaved(
        {
            "direct": {"kind": "stdio_opens", **server, **counts},
            "gate": {"kind": "http_opens", "url": gate.url, "token": gate.token, **counts},
        },
        settings.repetitions,
    )
    return compare(opens["direct"], opens["gate"])


def large_results(jobs: dict[str, dict[str, Any]], settings: Settings) -> dict[str, dict[str, Any]]:
    """Scenario 6: one large tool result at a time, per path (`jobs`: name → where the
    client and the probe go); every job gets the same size, count and warm-up."""
    common = {
        "kind": "large_results",
        "size_bytes": settings.large_result_bytes,
        "calls": settings.large_result_calls,
        "warmup": 1 if settings.warmup_seconds else 0,
    }
    return _interleaved({name: common | job for name, job in jobs.items()}, settings.repetitions)
