"""How long and how often the benchmark measures: the full run and the quick smoke run.

`make bench` runs the full settings (a few minutes); `BENCH_QUICK=1` (or `--quick`) runs
the same scenarios briefly (about half a minute), to prove the harness works, not to
produce figures worth quoting.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Settings:
    quick: bool
    # Every timed figure is the median of this many runs, direct and gate interleaved.
    repetitions: int
    # wrk counts whole seconds; 0 skips the warm-up runs.
    warmup_seconds: int
    seconds: int
    concurrent_clients: int
    # Session opens per repetition (the echo server; mcp-server-time takes ~1 s each).
    opens: int
    time_server_opens: int
    idle_streams: int
    idle_hold_seconds: float
    # Streams opened at once while building up the idle set.
    idle_open_concurrency: int
    # Scenario 6: the size of one large tool result (issue 17 measured 24 MiB), and how
    # many such calls each run times.
    large_result_bytes: int
    large_result_calls: int


FULL = Settings(
    quick=False,
    repetitions=3,
    warmup_seconds=1,
    seconds=3,
    concurrent_clients=32,
    opens=10,
    time_server_opens=1,
    idle_streams=10_000,
    idle_hold_seconds=10.0,
    idle_open_concurrency=64,
    large_result_bytes=24 * 1024 * 1024,
    large_result_calls=3,
)

QUICK = replace(
    FULL,
    quick=True,
    repetitions=1,
    warmup_seconds=0,
    seconds=1,
    opens=3,
    idle_streams=200,
    idle_hold_seconds=1.0,
    idle_open_concurrency=32,
    large_result_bytes=1024 * 1024,
    large_result_calls=1,
)


def settings_from_environment(*, quick_flag: bool = False) -> Settings:
    quick = quick_flag or os.environ.get("BENCH_QUICK", "") not in ("", "0")
    return QUICK if quick else FULL
