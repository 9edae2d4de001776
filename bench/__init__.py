"""mcp-gate's benchmark: the same MCP work measured direct and through the gate, in one run.

`python -m bench` (`make bench`) runs it; `docs/performance.md` explains the method and
what the figures mean. Every program it measures runs in its own process: the backend
(`backend.py`, `stdio_server.py`), the gate (`mcp-gate serve`), and the load generator
(`loadgen.py`, or wrk via `wrk.py`).
"""
