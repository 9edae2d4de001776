"""The benchmark's stdio MCP server: the echo server (`echo_mcp.py`) on stdin/stdout.

`python -m bench.stdio_server` (from the repository root). MCP transports §stdio: one
JSON-RPC message per line each way. A blocking loop with no framework, so that it starts
in the time Python takes to start and answers in microseconds: the stdio scenario
measures the gate's bridge, not this server.
"""

from __future__ import annotations

import json
import sys

from bench.echo_mcp import answer


def main() -> None:
    stdout = sys.stdout.buffer
    for line in sys.stdin.buffer:
        try:
            message = json.loads(line)
        except ValueError:
            continue
        reply = answer(message) if isinstance(message, dict) else None
        if reply is not None:
            stdout.write(json.dumps(reply, separators=(",", ":")).encode() + b"\n")
            stdout.flush()


if __name__ == "__main__":
    main()
