"""`python -m bench` (what `make bench` runs): the gate against direct calls, in one run.

Writes `bench/results/latest.json` (every figure, every run) and `bench/results/latest.md`
(the table), prints the table, and, after a full run, copies the table to
`bench/RESULTS.md`, the committed record. `BENCH_QUICK=1` or `--quick`: the short smoke
run (its figures are not worth quoting, and it leaves `RESULTS.md` alone).
`--profile SECONDS`: instead of the benchmark, sample the gate with py-spy for that long
under the concurrent load and write its top entries to `bench/results/profile.txt` (and
the samples to `profile.collapsed`). `--instructions`: instructions per `tools/call` of the
gate, of a bare forwarder and of the backend, counted under valgrind (instructions.py):
the figure that does not move with the machine's load, for comparing two trees.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

from bench.report import render_markdown, targets
from bench.runner import run
from bench.settings import settings_from_environment

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
RESULTS_HEADER = (
    "# Latest benchmark results\n\n"
    "Written by the last full `make bench`; the method, and how to read the figures: "
    "[docs/performance.md](../docs/performance.md).\n\n"
)


def _say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the ~30 s smoke run")
    parser.add_argument("--profile", type=int, metavar="SECONDS", default=0)
    parser.add_argument(
        "--scale-out",
        action="store_true",
        help="only scenario 7 (relay and workers); prints its figures as JSON",
    )
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="instructions per call of the gate, a bare forwarder and the backend (callgrind)",
    )
    parser.add_argument(
        "--output", type=Path, default=RESULTS_DIR, metavar="DIR", help="default: bench/results"
    )
    args = parser.parse_args(argv)
    settings = settings_from_environment(quick_flag=args.quick)
    results_dir: Path = args.output
    results_dir.mkdir(parents=True, exist_ok=True)
    log_dir = Path(tempfile.mkdtemp(prefix="mcp-gate-bench-"))
    try:
        if args.profile:
            from bench.profile import profile_gate

            print(profile_gate(args.profile, log_dir, results_dir / "profile.txt"))
            shutil.rmtree(log_dir, ignore_errors=True)
            return 0
        if args.instructions:
            from bench.instructions import count_instructions

            counts = count_instructions(log_dir, results_dir)
            (results_dir / "instructions.json").write_text(json.dumps(counts, indent=2))
            print(json.dumps(counts, indent=2))
            shutil.rmtree(log_dir, ignore_errors=True)
            return 0
        if args.scale_out:
            from bench.runner import scale_out
            from bench.stack import running_stack

            with running_stack(log_dir) as stack:
                figures = scale_out(stack, settings, _say)
            (results_dir / "scale_out.json").write_text(json.dumps(figures, indent=2))
            print(json.dumps(figures, indent=2))
            shutil.rmtree(log_dir, ignore_errors=True)
            return 0
        results = run(settings, log_dir, _say)
    except BaseException:
        _say(f"failed; the processes' logs are in {log_dir}")
        raise
    shutil.rmtree(log_dir, ignore_errors=True)
    results["targets"] = targets(results)
    table = render_markdown(results)
    (results_dir / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    (results_dir / "latest.md").write_text(table)
    if not settings.quick:
        (BENCH_DIR / "RESULTS.md").write_text(RESULTS_HEADER + table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
