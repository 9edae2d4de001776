"""The benchmark's results as a Markdown table, and the verdict on the performance
targets (docs/performance.md).

Pure: a results dict (what `runner.run` returns, what `latest.json` holds) in, text out.
"""

from __future__ import annotations

from typing import Any

# The performance targets docs/performance.md states.
MAX_MEDIAN_OVERHEAD_MS = 1.0
MIN_THROUGHPUT_RATIO = 0.5
IDLE_STREAMS_TARGET = 10_000
MAX_RELAY_OVERHEAD_MS = 1.0


def _ms(value: float) -> str:
    return f"{value:.3f} ms" if value < 10 else f"{value:.1f} ms"


def _delta(value: float) -> str:
    return f"{value:+.3f} ms" if abs(value) < 10 else f"{value:+.1f} ms"


def _latency_rows(label: str, comparison: dict[str, Any], tail: str = "p99") -> list[str]:
    direct, gate = comparison["direct"], comparison["gate"]
    return [
        f"| {label} | median | {_ms(direct['p50_ms'])} | {_ms(gate['p50_ms'])} "
        f"| {_delta(comparison['p50_overhead_ms'])} |",
        f"| | {tail} | {_ms(direct['p99_ms'])} | {_ms(gate['p99_ms'])} "
        f"| {_delta(comparison['p99_overhead_ms'])} |",
    ]


def _open_rows(label: str, comparison: dict[str, Any]) -> list[str]:
    # Nearest-rank p99 of fewer than a hundred opens is a run's slowest one.
    return _latency_rows(label, comparison, tail="slowest")


def _cpu(figures: dict[str, Any], process: str, shown: str | None = None) -> str:
    value = figures.get(f"cpu_us_per_call_{process}")
    return "" if value is None else f"<br>{shown or process} CPU {value:.0f} µs/call"


def _throughput_rows(label: str, comparison: dict[str, Any], middle: str = "gate") -> list[str]:
    direct, gate = comparison["direct"], comparison["gate"]
    ratio = comparison["throughput_ratio"]
    return [
        f"| {label} | throughput | {direct['throughput_rps']:,.0f} /s{_cpu(direct, 'backend')} "
        f"| {gate['throughput_rps']:,.0f} /s{_cpu(gate, 'gate', middle)} | {ratio:.0%} of direct |"
    ]


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each performance target: what it asks, what was measured, whether it is met."""
    scenarios = results["scenarios"]
    overhead = scenarios["streamable_http"]["one_client"]["p50_overhead_ms"]
    ratio = scenarios["streamable_http"]["concurrent"]["throughput_ratio"]
    clients = results["method"]["concurrent_clients"]
    idle = scenarios["idle_streams"]
    held = [
        f"{shape} {f['answered_after_hold']:,} of {f['streams']:,} open"
        for shape, f in idle.items()
    ]
    most = max((f["streams"] for f in idle.values() if f["all_stayed_open"]), default=0)
    relay = (
        [
            {
                "target": f"a relayed call adds ≤ {MAX_RELAY_OVERHEAD_MS:g} ms at the median",
                "measured": _delta(scenarios["scale_out"]["relay"]["p50_overhead_ms"]),
                "met": scenarios["scale_out"]["relay"]["p50_overhead_ms"] <= MAX_RELAY_OVERHEAD_MS,
            }
        ]
        if "scale_out" in scenarios
        else []
    )
    return [
        {
            "target": f"median overhead ≤ {MAX_MEDIAN_OVERHEAD_MS:g} ms at 1 client",
            "measured": _delta(overhead),
            "met": overhead <= MAX_MEDIAN_OVERHEAD_MS,
        },
        {
            "target": f"≥ {MIN_THROUGHPUT_RATIO:.0%} of direct throughput at {clients} clients",
            "measured": f"{ratio:.0%}",
            "met": ratio >= MIN_THROUGHPUT_RATIO,
        },
        {
            "target": f"{IDLE_STREAMS_TARGET:,} idle SSE streams in one process",
            "measured": ", ".join(held),
            "met": most >= IDLE_STREAMS_TARGET,
        },
        *relay,
    ]


def _floor_rows(floor: dict[str, Any] | None, clients: int) -> list[str]:
    """Scenario 1's floor: a bare forwarder (bench/floor.py) where the gate stands."""
    if floor is None:
        return []
    label = "1. a bare forwarder on the gate's server and client (no auth, log or policy)"
    return [
        *_latency_rows(f"{label}, 1 client", floor["one_client"])[:1],
        *_throughput_rows(f"{label}, {clients} clients", floor["concurrent"], "forwarder"),
    ]


def _large_rows(large: dict[str, Any]) -> list[str]:
    size = f"{large['size_bytes'] / 2**20:g} MiB"
    rows = []
    for front, label in (("streamable", "streamable HTTP"), ("legacy", "legacy SSE")):
        for shape in ("passthrough", "bridged"):
            comparison = large[front][shape]
            direct, gate = comparison["direct"]["probe_max_ms"], comparison["gate"]["probe_max_ms"]
            rows += _latency_rows(f"6. a {size} tool result, {label}, {shape}", comparison)[:1]
            rows.append(
                f"| | another client's slowest call meanwhile | {_ms(direct)} | {_ms(gate)} "
                f"| {_delta(gate - direct)} |"
            )
    return rows


def _scale_rows(scale: dict[str, Any], clients: int) -> list[str]:
    """Scenario 7: 'direct' is the call on the owner replica, 'through the gate' the relay."""
    one, two = scale["workers"]["workers_1"], scale["workers"]["workers_2"]
    ratio = scale["workers"]["throughput_ratio_2_to_1"]
    return [
        *_latency_rows("7. stdio `tools/call` relayed to the owner replica (vs on the owner)",
                       scale["relay"]),
        f"| 7. pass-through, {clients} clients: 1 worker vs 2 workers | throughput "
        f"| {one['throughput_rps']:,.0f} /s | {two['throughput_rps']:,.0f} /s | {ratio:.0%} |",
    ]  # fmt: skip


def _idle_rows(idle: dict[str, Any]) -> list[str]:
    rows = [
        "| stream shape | streams held | all stayed open | gate memory per stream "
        "| gate open files | time to open all |",
        "|---|---:|---|---:|---:|---:|",
    ]
    for shape, f in idle.items():
        capped = "" if f["streams"] == f["wanted"] else f" (file limit {f['fd_limit']:,})"
        rows.append(
            f"| {shape} | {f['answered_after_hold']:,} of {f['streams']:,}{capped} "
            f"| {'yes' if f['all_stayed_open'] else 'no'} "
            f"| {f['rss_per_stream_kib']:.1f} KiB | {f['gate_fds_open']:,} "
            f"| {f['open_seconds']:.1f} s |"
        )
    return rows


def _preamble(results: dict[str, Any]) -> list[str]:
    machine, method = results["machine"], results["method"]
    quick = " (quick mode: figures not worth quoting)" if results["quick"] else ""
    loads = [
        " ".join(str(x) for x in machine.get(key, ()))
        for key in ("load_average_at_start", "load_average_at_end")
    ]
    return [
        f"Run {results['generated_at']}{quick}, {results['duration_seconds']:.0f} s.",
        "",
        f"**Machine: {machine['cpu_count']} cores** (`os.cpu_count()`), shared by the load "
        f"generator, the gate and the backend; load average {loads[0]} at the start, "
        f"{loads[1]} at the end; Python {machine['python']}, aiohttp {machine['aiohttp']}.",
        f"Each figure is the median of {method['repetitions']} runs of "
        f"{method['seconds_per_run']} s, after {method['warmup_seconds']} s of warm-up. "
        f"Generator: {method['streamable_generator']} for 1 and 5, "
        f"{method['other_generator']} for 2 to 4.",
    ]


def render_markdown(results: dict[str, Any]) -> str:
    s, clients = results["scenarios"], results["method"]["concurrent_clients"]
    streamable, stdio = s["streamable_http"], s["stdio"]
    lines = [
        *_preamble(results),
        "",
        "| scenario | figure | direct | through the gate | gate vs direct |",
        "|---|---|---:|---:|---:|",
        *_latency_rows("1. streamable HTTP `tools/call`, 1 client", streamable["one_client"]),
        *_throughput_rows(f"1. the same, {clients} clients", streamable["concurrent"]),
        *_floor_rows(s.get("floor"), clients),
        *_latency_rows("2. legacy SSE round trip, 1 client", s["legacy_sse"]["one_client"]),
        *_latency_rows("3. stdio `tools/call`, 1 client", stdio["call"]),
        *_open_rows("3. stdio session open to first `tools/list`", stdio["open"]),
        *_open_rows("3. the same, `mcp-server-time`", stdio["open_time_server"]),
        *_latency_rows(
            "3. the stdio `tools/call` via an aggregate (direct: its own route)",
            stdio["aggregate_call"],
        ),
    ]
    for storage in ("memory", "redis"):
        figures = s["storage"][storage]
        lines += _latency_rows(f"5. `storage: {storage}`, 1 client", figures["one_client"])[:1]
        lines += _throughput_rows(
            f"5. `storage: {storage}`, {clients} clients", figures["concurrent"]
        )
    lines += _large_rows(s["large_results"])
    if "scale_out" in s:
        lines += _scale_rows(s["scale_out"], clients)
    if "policy" in s:
        lines += _latency_rows(
            "8. `tools/call` with `access` + 20 `tools` rules (vs none: the direct column)",
            s["policy"],
        )
    lines += [
        "",
        "4. Idle SSE streams held by one gate process:",
        "",
        *_idle_rows(s["idle_streams"]),
    ]
    lines += ["", "Performance targets:", "", "| target | measured | met |", "|---|---|---|"]
    for target in targets(results):
        met = "yes" if target["met"] else "**no**"
        lines.append(f"| {target['target']} | {target['measured']} | {met} |")
    return "\n".join(lines) + "\n"
