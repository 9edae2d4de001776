"""What a process uses, read from Linux's /proc: CPU time, resident memory, open files.

CPU time per call is the benchmark's steadiest figure: wall-clock latency and throughput
move with whatever else the machine runs, the CPU seconds a process spends per request
much less.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used so far."""
    # proc(5): the command (field 2) may hold spaces; fields after its ")" are fixed.
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of the full line
    return (utime + stime) / _TICKS_PER_SECOND


def cpu_snapshot(pids: Mapping[str, int]) -> dict[str, float]:
    return {name: cpu_seconds(pid) for name, pid in pids.items()}


def cpu_per_call_us(
    before: Mapping[str, float], after: Mapping[str, float], calls: int
) -> dict[str, float]:
    """Microseconds of CPU each process spent per call between two snapshots."""
    return {name: (after[name] - before[name]) * 1e6 / max(calls, 1) for name in before}


def resident_kib(pid: int) -> int:
    """VmRSS of a process, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def open_fds(pid: int) -> int:
    return sum(1 for _ in Path(f"/proc/{pid}/fd").iterdir())
