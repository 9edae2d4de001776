"""The MCP conformance suite's server scenarios, directly against its test server and
through the gate in front of it.

Directly: the server passes every scenario except the documented `KNOWN_UNSUPPORTED` ones
(each with its reason, kept exact: a scenario that starts passing must leave the list).
Through the gate (a `streamable-http` remote entry, no auth): every scenario that passed in
every direct run passes in every gate run; the gate is a transparent pass-through.

`MCP_GATE_CONFORMANCE_RUNS=N` (default 1) repeats the full suite N times each way, for the
race on the standalone GET stream that the sampling and elicitation scenarios hit
(scripts/conformance-repeat.sh N). Each way's per-scenario failure tally is printed at the
end of the pytest run.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import pytest

from tests.fixtures.conformance import (
    SUITE_TIMEOUT_SECONDS,
    SuiteRun,
    repeat_count,
    run_conformance_suite,
)
from tests.fixtures.gate import make_config, remote, running_gate
from tests.fixtures.mcp_servers import RunningServer

RUNS = repeat_count()
# Scenarios the test server cannot pass directly, with why; none with conformance 0.1.16.
KNOWN_UNSUPPORTED: dict[str, str] = {}
# The scenarios whose server-to-client request rides the standalone GET stream.
BACK_CHANNEL_SCENARIOS = (
    "tools-call-sampling",
    "tools-call-elicitation",
    "elicitation-sep1034-defaults",
    "elicitation-sep1330-enums",
)
SETUP_MARGIN_SECONDS = 60.0  # starting the server, the gate and node
BOUNDED = pytest.mark.timeout(SUITE_TIMEOUT_SECONDS * RUNS * 2 + SETUP_MARGIN_SECONDS)


@pytest.fixture(scope="session")
def direct_runs(
    conformance_server: RunningServer,
    conformance_scenarios: list[str],
    tmp_path_factory: pytest.TempPathFactory,
) -> list[SuiteRun]:
    """RUNS full-suite runs straight against the test server."""
    out = tmp_path_factory.mktemp("conformance-direct")
    return [
        run_conformance_suite(conformance_server.url, out / f"run-{i}", conformance_scenarios)
        for i in range(RUNS)
    ]


def _tally(runs: Sequence[SuiteRun]) -> Counter[str]:
    return Counter(name for run in runs for name in run.failed)


def _describe(runs: Sequence[SuiteRun], where: str) -> str:
    failing = sum(1 for run in runs if run.failed)
    lines = [f"{where}: {failing} of {len(runs)} run(s) had a failing scenario"]
    for name, count in sorted(_tally(runs).items()):
        first = next(run.failed[name] for run in runs if name in run.failed)
        lines.append(f"  {name} failed in {count} of {len(runs)}: {'; '.join(first)}")
    return "\n".join(lines)


def test_suite_lists_the_back_channel_scenarios(conformance_scenarios: list[str]) -> None:
    """Policy: the installed suite has the scenarios this module watches (no vacuous pass)."""
    assert set(BACK_CHANNEL_SCENARIOS) <= set(conformance_scenarios)
    assert set(KNOWN_UNSUPPORTED) <= set(conformance_scenarios)


@BOUNDED
def test_server_passes_every_scenario_but_the_known_unsupported_directly(
    direct_runs: list[SuiteRun],
) -> None:
    """MCP 2025-11-25 (the suite's checks): the test server conforms, bar KNOWN_UNSUPPORTED."""
    for run in direct_runs:
        assert set(run.failed) == set(KNOWN_UNSUPPORTED), (
            _describe(direct_runs, "directly") + "\n" + run.output[-4000:]
        )


@BOUNDED
async def test_gate_passes_every_scenario_the_server_passes_directly(
    conformance_server: RunningServer,
    conformance_scenarios: list[str],
    direct_runs: list[SuiteRun],
    conformance_report: list[str],
    tmp_path: Path,
) -> None:
    """Policy (the gate is a transparent pass-through of JSON-RPC in both directions):
    what conforms directly conforms through the gate, in every run."""
    config = make_config(
        {"conformance": remote("conformance", "streamable-http", conformance_server.url)}
    )
    gate_runs: list[SuiteRun] = []
    async with running_gate(config) as gate:
        url = gate.url("/conformance/mcp")
        for i in range(RUNS):
            out = tmp_path / f"run-{i}"
            run = await asyncio.to_thread(run_conformance_suite, url, out, conformance_scenarios)
            gate_runs.append(run)
    report = _describe(direct_runs, "directly") + "\n" + _describe(gate_runs, "through the gate")
    conformance_report.append(report)
    passing_directly = frozenset.intersection(*(run.passed for run in direct_runs))
    assert all(passing_directly <= run.passed for run in gate_runs), report
