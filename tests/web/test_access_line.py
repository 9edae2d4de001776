"""The access line as the gate writes it in production (JSON logs): the same line, field for
field, that structlog's configured chain writes for the same event.

The line is filled into a template on that path (mcp_gate/logs.py), so this compares the two
in a child process configured as `mcp-gate serve --log-format json` configures itself.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

_SCRIPT = r"""
import asyncio, sys, structlog
from mcp_gate.logs import access_line, configure_logging, drain_log_lines
configure_logging(json=True)
cases = [
    ("a1b2c3000001", "POST", "/echo/mcp", 200, 0.000421, "echo", "user:alice@example.com"),
    ("a1b2c3000002", "GET", '/we"ird\\p\u00e4th\x01/sse', 404, 12.3456789, None, None),
    ("a1b2c3000003", "DELETE", "/x/mcp", 499, 0.0, "x", "service:ci"),
    # The same route and caller again: their fields come from what the first line learnt.
    ("a1b2c3000004", "POST", "/echo/mcp", 202, 0.0105, "echo", "user:alice@example.com"),
]
async def main():
    for request_id, method, path, status, seconds, server, principal in cases:
        access_line(request_id, method, path, status, seconds, server, principal)
        structlog.get_logger().info(
            "request_finished", request_id=request_id, method=method, path=path,
            status=status, duration_ms=round(seconds * 1000, 2), server=server,
            principal=principal,
        )
asyncio.run(main())
drain_log_lines()
"""
_STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def test_the_templated_access_line_is_the_line_structlog_writes():
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT], capture_output=True, text=True, timeout=60, check=True
    )
    raw = done.stderr.splitlines()
    assert len(raw) == 8, done.stderr
    assert all(line.isascii() for line in raw)
    lines = [json.loads(line) for line in raw]
    for templated, chained in zip(lines[::2], lines[1::2], strict=True):
        assert _STAMP.match(templated.pop("timestamp"))
        assert _STAMP.match(chained.pop("timestamp"))
        assert templated == chained
        assert list(templated) == list(chained)  # the same order of keys, too
    assert lines[2]["path"] == '/we"ird\\p\u00e4th\x01/sse'
    assert lines[2]["duration_ms"] == 12345.68
    assert (lines[2]["server"], lines[2]["principal"]) == (None, None)


_REQUEST_LINES_SCRIPT = r"""
import asyncio, structlog
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from mcp_gate.appkeys import IN_FLIGHT, METRICS
from mcp_gate.logs import configure_logging, drain_log_lines
from mcp_gate.metrics import Metrics
from mcp_gate.web.middlewares import access_log
configure_logging(json=True)
async def handler(request):
    structlog.get_logger().warning("inside_request", step=request.query["step"])
    await asyncio.sleep(0)
    return web.Response(text="ok")
async def main():
    app = web.Application(middlewares=[access_log])
    app[IN_FLIGHT], app[METRICS] = set(), Metrics()
    app.router.add_get("/", handler)
    async with TestClient(TestServer(app)) as client:
        await asyncio.gather(*(client.get(f"/?step={n}") for n in range(3)))
    structlog.get_logger().info("outside_any_request")
asyncio.run(main())
drain_log_lines()
"""


def test_every_line_logged_during_a_request_carries_that_requests_id():
    done = subprocess.run(
        [sys.executable, "-c", _REQUEST_LINES_SCRIPT],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    inside = {line["step"]: line for line in lines if line["event"] == "inside_request"}
    finished = {line["request_id"] for line in lines if line["event"] == "request_finished"}
    assert sorted(inside) == ["0", "1", "2"]
    ids = {line["request_id"] for line in inside.values()}
    assert len(ids) == 3  # three requests at once: each line carries its own
    assert ids == finished
    (outside,) = [line for line in lines if line["event"] == "outside_any_request"]
    assert "request_id" not in outside
