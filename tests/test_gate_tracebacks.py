"""The watch that fails a test whose gate logged a traceback (tests/fixtures/gate_tracebacks.py)
sees each way a traceback reaches a log."""

import json
import logging
from pathlib import Path

import structlog
from structlog.testing import capture_logs

from mcp_gate.principal import render_principal
from tests.fixtures import gate_tracebacks


def _taken() -> list[str]:
    found = list(gate_tracebacks._recorded)
    gate_tracebacks._recorded.clear()  # this test logged on purpose
    return found


def _fail_and_log(log: object) -> None:
    try:
        render_principal("github:{{repo}}", {})  # a ValueError from the gate's code
    except ValueError:
        log.exception("request_failed", path="/x")  # type: ignore[attr-defined]


def test_an_exception_logged_through_structlog_is_recorded() -> None:
    _fail_and_log(structlog.get_logger())
    assert any("request_failed" in line for line in _taken())


def test_an_exception_logged_while_a_test_captures_logs_is_recorded_too() -> None:
    with capture_logs() as logs:
        _fail_and_log(structlog.get_logger())
    assert logs[0]["event"] == "request_failed"
    assert any("request_failed" in line for line in _taken())


def test_an_exception_logged_by_aiohttp_through_the_stdlib_is_recorded() -> None:
    try:
        render_principal("github:{{repo}}", {})
    except ValueError:
        logging.getLogger("aiohttp.server").exception("Error handling request")
    assert any("Error handling request" in line for line in _taken())


def test_an_exception_from_code_other_than_the_gate_is_not_counted() -> None:
    try:
        json.loads("{")
    except ValueError:
        structlog.get_logger().exception("client_failed")
        logging.getLogger("mcp.client").exception("Error parsing SSE message")
    assert _taken() == []


def test_a_plain_error_line_is_not_a_traceback() -> None:
    structlog.get_logger().error("backend_failed", reason="refused")
    assert _taken() == []


def test_a_gate_process_log_counts_its_own_exceptions_not_its_backends(tmp_path: Path) -> None:
    lines = [
        {"event": "request_finished", "status": 200},
        {"event": "backend_stderr", "line": "Traceback (most recent call last):"},
        {"event": "request_failed", "exception": "Traceback (most recent call last):\n  ..."},
    ]
    log_path = tmp_path / "gate.log"
    log_path.write_text("\n".join(json.dumps(line) for line in lines) + "\nTraceback (x)\n")
    problems = gate_tracebacks.gate_log_problems(log_path)
    assert len(problems) == 2
    assert "request_failed" in problems[0]
    assert problems[1] == "Traceback (x)"
