"""`python -m bench.upstream_client` runs end to end in a short mode and measures every row.

No timing is asserted (a test machine's speed is nobody's contract): every client, loop
and worker count produced requests and no errors, and the parser comparison printed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# The short run takes about 10 s on two busy cores; this bounds a wedged one.
SHORT_RUN_TIMEOUT_SECONDS = 120.0
ROWS = 8  # {asyncio, uvloop} x {aiohttp, http1} x {1, 32} workers


def test_short_run_measures_both_clients_under_both_loops():
    """Issue 10 (policy): the two upstream clients are compared by the bench, not by a test."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.upstream_client",
            "--seconds",
            "0.3",
            "--warmup",
            "0.1",
            "--repetitions",
            "1",
            "--parsers",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=SHORT_RUN_TIMEOUT_SECONDS,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    rows = [line for line in done.stdout.splitlines() if line.startswith(("| asyncio", "| uvloop"))]
    assert len(rows) == ROWS, done.stdout
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert int(cells[3].replace(",", "")) > 0, row  # requests per second
        assert cells[-1] == "0", row  # errors
    assert "| httptools" in done.stdout
    assert "| aiohttp._http_parser" in done.stdout
