#!/usr/bin/env bash
# Run the MCP conformance suite's server scenarios N times in a row directly against the
# test server and N times through the gate (tests/conformance), then print how often each
# scenario failed each way. For the race on the standalone GET stream that the sampling and
# elicitation scenarios hit. Needs `make test` (or its install steps) to have run once.
# Every run's checks.json files and the server log stay under $out until the next call.
#
#   scripts/conformance-repeat.sh 20
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:?usage: scripts/conformance-repeat.sh N (full-suite runs each way)}"
out="${TMPDIR:-/tmp}/mcp-gate-conformance-repeat"
echo "results: $out"
MCP_GATE_CONFORMANCE_RUNS="$runs" exec .venv/bin/pytest -q -p no:cacheprovider \
  --basetemp "$out" tests/conformance
