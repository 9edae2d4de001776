"""One benchmark run, start to finish: processes, tokens, the six scenarios, the results.

Order: the backend, the OpenID provider and Redis start; two gates start (`storage:
memory` and `storage: redis`) and get their access tokens through the real OAuth flow;
scenarios 1 and 5 run together (direct, memory gate, Redis gate, interleaved), then 2, 3
and 6 on the memory gate. Scenario 4 gets a fresh gate per stream shape, scenario 7
clustered gates of its own (relay.py). Everything stops
when the run ends, also on failure.
"""

from __future__ import annotations

import os
import platform
import resource
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from bench.calls import (
    STDIO_ECHO,
    STDIO_TIME,
    Target,
    aggregate_calls,
    compare,
    large_results,
    legacy_sse_calls,
    policy_cost,
    session_opens,
    stdio_calls,
    streamable_calls,
)
from bench.idle import idle_streams
from bench.relay import relayed_calls, worker_throughput
from bench.settings import Settings
from bench.stack import (
    AGGREGATE_SERVER,
    HTTP_SERVER,
    POLICY_SERVER,
    SSE_SERVER,
    STDIO_SERVER,
    TIME_SERVER,
    Gate,
    Stack,
    running_floor,
    running_gate,
    running_stack,
)
from bench.tokens import obtain_token
from bench.wrk import wrk_version

Progress = Callable[[str], None]


def raise_file_limit() -> int:
    """Raise this process's open-file limit to its hard limit (children inherit it)."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def _machine(fd_limit: int) -> dict[str, Any]:
    return {
        "cpu_count": os.cpu_count(),
        "load_average_at_start": [round(load, 2) for load in os.getloadavg()],
        "platform": platform.platform(),
        "python": platform.python_version(),
        "aiohttp": aiohttp.__version__,
        "open_file_limit": fd_limit,
    }


def _storage_and_streamable(
    stack: Stack, gate: Gate, redis_gate: Gate, settings: Settings, use_wrk: bool, say: Progress
) -> dict[str, Any]:
    say("scenarios 1 and 5: streamable HTTP tools/call, direct / floor / memory and Redis gates")
    with running_floor(stack) as floor:
        return _streamable_targets(stack, floor, gate, redis_gate, settings, use_wrk)


def _streamable_targets(
    stack: Stack, floor: Gate, gate: Gate, redis_gate: Gate, settings: Settings, use_wrk: bool
) -> dict[str, Any]:
    backend = {"backend": stack.backend_pid}
    targets = [
        Target("direct", f"{stack.backend_url}/mcp", None, backend),
        # The bare forwarder's CPU is reported under "gate": it stands where a gate would.
        Target("floor", f"{floor.base_url}/mcp", None, {"gate": floor.pid} | backend),
        *(
            Target(
                name,
                g.url(HTTP_SERVER),
                obtain_token(g.url(HTTP_SERVER)),
                {"gate": g.pid} | backend,
            )
            for name, g in (("memory", gate), ("redis", redis_gate))
        ),
    ]
    figures = streamable_calls(targets, settings, use_wrk=use_wrk)
    direct = figures["direct"]
    return {
        "streamable_http": {
            "one_client": compare(direct["one_client"], figures["memory"]["one_client"]),
            "concurrent": compare(direct["concurrent"], figures["memory"]["concurrent"]),
        },
        "floor": {
            "one_client": compare(direct["one_client"], figures["floor"]["one_client"]),
            "concurrent": compare(direct["concurrent"], figures["floor"]["concurrent"]),
        },
        "storage": {
            storage: {
                "one_client": compare(direct["one_client"], figures[storage]["one_client"]),
                "concurrent": compare(direct["concurrent"], figures[storage]["concurrent"]),
            }
            for storage in ("memory", "redis")
        },
    }


def _legacy_and_stdio(
    stack: Stack, gate: Gate, settings: Settings, say: Progress
) -> dict[str, Any]:
    say("scenario 2: legacy SSE round trip")
    sse = legacy_sse_calls(
        Target("direct", f"{stack.backend_url}/sse"),
        Target("gate", gate.url(SSE_SERVER, "sse"), obtain_token(gate.url(SSE_SERVER))),
        settings,
    )
    say("scenario 3: stdio bridge")
    stdio_gate = Target("gate", gate.url(STDIO_SERVER), obtain_token(gate.url(STDIO_SERVER)))
    time_gate = Target("gate", gate.url(TIME_SERVER), obtain_token(gate.url(TIME_SERVER)))
    aggregate = Target(
        "aggregate", gate.url(AGGREGATE_SERVER), obtain_token(gate.url(AGGREGATE_SERVER))
    )
    return {
        "legacy_sse": {"one_client": sse},
        "stdio": {
            "call": stdio_calls(stdio_gate, settings),
            "open": session_opens(stdio_gate, STDIO_ECHO, settings.opens, settings),
            # No warm-up: each open takes a second or two, and the first run of the
            # scenario already pays for a cold disk cache.
            "open_time_server": session_opens(
                time_gate, STDIO_TIME, settings.time_server_opens, settings, warmup=0
            ),
            "aggregate_call": aggregate_calls(stdio_gate, aggregate, settings),
        },
    }


def _large_results(stack: Stack, gate: Gate, settings: Settings, say: Progress) -> dict[str, Any]:
    """Scenario 6: a large result through the pass-through and bridged, both fronts, with a
    probe client calling `echo` meanwhile (on the backend directly, or on the gate)."""
    say("scenario 6: a large tool result, pass-through and bridged")
    http_token, sse_token = obtain_token(gate.url(HTTP_SERVER)), obtain_token(gate.url(SSE_SERVER))
    direct_probe = {"probe_url": f"{stack.backend_url}/mcp"}
    gate_probe = {"probe_url": gate.url(HTTP_SERVER), "probe_token": http_token}
    streamable, legacy = {"client": "streamable"}, {"client": "legacy"}
    figures = large_results(
        {
            "direct": streamable | direct_probe | {"url": f"{stack.backend_url}/mcp"},
            "passthrough": streamable
            | gate_probe
            | {"url": gate.url(HTTP_SERVER), "token": http_token},
            "bridged": streamable | gate_probe | {"url": gate.url(SSE_SERVER), "token": sse_token},
            "legacy_direct": legacy | direct_probe | {"url": f"{stack.backend_url}/sse"},
            "legacy_passthrough": legacy
            | gate_probe
            | {"url": gate.url(SSE_SERVER, "sse"), "token": sse_token},
            "legacy_bridged": legacy
            | gate_probe
            | {"url": gate.url(HTTP_SERVER, "sse"), "token": http_token},
        },
        settings,
    )
    return {
        "size_bytes": settings.large_result_bytes,
        "streamable": {
            shape: compare(figures["direct"], figures[shape])
            for shape in ("passthrough", "bridged")
        },
        "legacy": {
            shape: compare(figures["legacy_direct"], figures[f"legacy_{shape}"])
            for shape in ("passthrough", "bridged")
        },
    }


def _idle(stack: Stack, settings: Settings, fd_limit: int, say: Progress) -> dict[str, Any]:
    results = {}
    for shape, server in (("passthrough", SSE_SERVER), ("bridged", HTTP_SERVER)):
        say(f"scenario 4: idle SSE streams, {shape} (fresh gate)")
        with running_gate(stack, f"idle-{shape}") as gate:
            token = obtain_token(gate.url(server))
            results[shape] = idle_streams(
                shape, gate.url(server, "sse"), token, gate.pid, settings, fd_limit
            )
    return results


def scale_out(stack: Stack, settings: Settings, say: Progress) -> dict[str, Any]:
    """Scenario 7: a relayed call against the owner's, and 1 worker against 2."""
    say("scenario 7: a call relayed to the session's owner replica; 1 and 2 workers")
    return {"relay": relayed_calls(stack, settings), "workers": worker_throughput(stack, settings)}


def run(settings: Settings, log_dir: Path, say: Progress) -> dict[str, Any]:
    """Every scenario, once; the results as `report.py` renders them."""
    fd_limit = raise_file_limit()
    generator = wrk_version()
    started = time.monotonic()
    results: dict[str, Any] = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": settings.quick,
        "machine": _machine(fd_limit),
        "method": {
            "streamable_generator": generator or "aiohttp (loadgen.py; wrk not installed)",
            "other_generator": "aiohttp (loadgen.py)",
            "repetitions": settings.repetitions,
            "warmup_seconds": settings.warmup_seconds,
            "seconds_per_run": settings.seconds,
            "concurrent_clients": settings.concurrent_clients,
        },
    }
    scenarios: dict[str, Any] = {}
    with running_stack(log_dir) as stack:
        with running_gate(stack, "memory") as gate, running_gate(stack, "redis", "redis") as redis:
            use_wrk = generator is not None
            scenarios |= _storage_and_streamable(stack, gate, redis, settings, use_wrk, say)
            scenarios |= _legacy_and_stdio(stack, gate, settings, say)
            scenarios["large_results"] = _large_results(stack, gate, settings, say)
            say("scenario 8: the access policy's cost, 20 tool rules vs none, 1 client")
            scenarios["policy"] = policy_cost(
                Target("plain", gate.url(HTTP_SERVER), obtain_token(gate.url(HTTP_SERVER))),
                Target("ruled", gate.url(POLICY_SERVER), obtain_token(gate.url(POLICY_SERVER))),
                settings,
                use_wrk=use_wrk,
            )
        scenarios["idle_streams"] = _idle(stack, settings, fd_limit, say)
        scenarios["scale_out"] = scale_out(stack, settings, say)
    results["scenarios"] = scenarios
    results["duration_seconds"] = round(time.monotonic() - started, 1)
    results["machine"]["load_average_at_end"] = [round(load, 2) for load in os.getloadavg()]
    return results
