"""The benchmark harness (`python -m bench`, issue 7) runs end to end in its quick mode.

No timing is asserted: the quick figures are not worth quoting, and a test machine's speed
is nobody's contract. What is asserted is that every scenario ran, measured something, met
no error, and that the JSON and the Markdown table were written.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# The quick run takes about a minute on two busy cores; this bounds a wedged one.
QUICK_RUN_TIMEOUT_SECONDS = 240.0


def _comparisons(scenarios: dict) -> dict[str, dict]:
    return {
        "streamable one client": scenarios["streamable_http"]["one_client"],
        "streamable concurrent": scenarios["streamable_http"]["concurrent"],
        "bare forwarder one client": scenarios["floor"]["one_client"],
        "bare forwarder concurrent": scenarios["floor"]["concurrent"],
        "legacy sse": scenarios["legacy_sse"]["one_client"],
        "stdio call": scenarios["stdio"]["call"],
        "stdio open": scenarios["stdio"]["open"],
        "stdio open time server": scenarios["stdio"]["open_time_server"],
        "stdio call via an aggregate": scenarios["stdio"]["aggregate_call"],
        "storage memory": scenarios["storage"]["memory"]["concurrent"],
        "storage redis": scenarios["storage"]["redis"]["concurrent"],
        "policy rules": scenarios["policy"],
        **{
            f"large result {front} {shape}": scenarios["large_results"][front][shape]
            for front in ("streamable", "legacy")
            for shape in ("passthrough", "bridged")
        },
        "relayed call": scenarios["scale_out"]["relay"],
    }


def _run_bench(output: Path, flag: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "bench", flag, "--output", str(output)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=QUICK_RUN_TIMEOUT_SECONDS,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return done


def test_quick_run_measures_every_scenario_direct_and_through_the_gate(tmp_path):
    """Issue 7 (policy): one run measures scenarios 1-7 side by side, writes JSON and Markdown."""
    done = _run_bench(tmp_path, "--quick")
    results = json.loads((tmp_path / "latest.json").read_text())
    assert results["quick"] is True
    assert results["machine"]["cpu_count"] >= 1
    for name, comparison in _comparisons(results["scenarios"]).items():
        for side in ("direct", "gate"):
            assert comparison[side]["requests"] > 0, (name, side)
            assert comparison[side]["errors"] == 0, (name, side)
    for shape, idle in results["scenarios"]["idle_streams"].items():
        assert idle["all_stayed_open"], (shape, idle)
    assert [t["target"] for t in results["targets"]] == [
        "median overhead ≤ 1 ms at 1 client",
        "≥ 50% of direct throughput at 32 clients",
        "10,000 idle SSE streams in one process",
        "a relayed call adds ≤ 1 ms at the median",
    ]
    workers = results["scenarios"]["scale_out"]["workers"]
    assert workers["workers_1"]["requests"] > 0
    assert workers["workers_2"]["errors"] == 0
    table = (tmp_path / "latest.md").read_text()
    assert "Performance targets:" in table
    assert table in done.stdout


def test_instruction_counts_come_for_the_gate_the_bare_forwarder_and_the_backend(tmp_path):
    """`python -m bench --instructions` runs all three under callgrind and counts every call
    (no figure asserted beyond there being one: counts are for comparing trees)."""
    _run_bench(tmp_path, "--instructions")
    counts = json.loads((tmp_path / "instructions.json").read_text())
    assert counts["calls"] > 0
    assert counts["gate_instructions_per_call"] > 0
    assert counts["forwarder_instructions_per_call"] > 0
    assert counts["backend_instructions_per_call"] > 0
