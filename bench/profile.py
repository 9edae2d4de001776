"""`python -m bench --profile SECONDS`: where the gate spends its CPU under load.

Starts the backend and a gate as the benchmark does, drives the gate with the concurrent
streamable `tools/call` load of scenario 1 (wrk, else the aiohttp generator) and samples
the gate process with py-spy (`pip install py-spy`; it needs ptrace on the gate, which a
parent process has). The report lists the functions that hold the most samples: by their
own time (what to optimise) and including callees (where the time goes).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

from bench.calls import Target, run_job
from bench.stack import HTTP_SERVER, VENV_BIN, running_gate, running_stack
from bench.tokens import obtain_token
from bench.wrk import open_session, run_wrk, wrk_version

SAMPLES_PER_SECOND = 200
TOP_ENTRIES = 25
CONCURRENT_CLIENTS = 32


def _py_spy() -> str:
    found = shutil.which("py-spy") or shutil.which("py-spy", path=str(VENV_BIN))
    if found is None:
        raise RuntimeError("py-spy is not installed: .venv/bin/pip install py-spy")
    return found


def summarize(collapsed: str, top: int = TOP_ENTRIES) -> str:
    """Top functions by own and by inclusive samples, from py-spy's raw (collapsed) output."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = [f for f in stack.split(";") if not f.startswith(("process ", "thread "))]
        total += int(count)
        if frames:
            own[frames[-1]] += int(count)
        for frame in set(frames):
            inclusive[frame] += int(count)
    lines = [f"{total} samples", "", "own time:"]
    lines += [f"  {100 * n / total:5.1f}%  {frame}" for frame, n in own.most_common(top)]
    lines += ["", "including callees:"]
    lines += [f"  {100 * n / total:5.1f}%  {frame}" for frame, n in inclusive.most_common(top)]
    return "\n".join(lines) + "\n"


def _load(target: Target, seconds: int) -> None:
    if wrk_version() is not None:
        session = open_session(target.url, target.token)
        run_wrk(target.url, target.token, session, clients=CONCURRENT_CLIENTS, seconds=seconds)
        return
    job = {"kind": "calls", "url": target.url, "token": target.token}
    run_job(job | {"clients": CONCURRENT_CLIENTS, "warmup_seconds": 0, "seconds": seconds})


def profile_gate(seconds: int, log_dir: Path, output: Path) -> str:
    """Sample the gate for `seconds` under load; write and return the summary.

    The samples themselves (py-spy's collapsed stacks, for flame-graph tools) are kept
    beside the summary, as `<output stem>.collapsed`.
    """
    py_spy = _py_spy()
    raw = output.with_suffix(".collapsed")
    with running_stack(log_dir) as stack, running_gate(stack, "profile") as gate:
        target = Target("gate", gate.url(HTTP_SERVER), obtain_token(gate.url(HTTP_SERVER)))
        _load(target, 1)  # warm-up
        argv = [py_spy, "record", "--pid", str(gate.pid), "--duration", str(seconds)]
        argv += ["--rate", str(SAMPLES_PER_SECOND), "--nolineno", "--format", "raw"]
        argv += ["--output", str(raw)]
        sampler = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _load(target, seconds + 2)
        _, errors = sampler.communicate(timeout=seconds + 60)
    if sampler.returncode != 0 or not raw.exists():
        raise RuntimeError(f"py-spy failed: {errors.decode(errors='replace')[-2000:]}")
    summary = summarize(raw.read_text())
    output.write_text(summary)
    return summary


if __name__ == "__main__":
    sys.exit("run `python -m bench --profile SECONDS`")
