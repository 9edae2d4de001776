"""The one place that configures structlog and bridges the stdlib `logging` into it.

JSON lines when stderr is not a terminal (production), coloured console lines on a terminal.
The access-log middleware sets the request's id in `REQUEST_ID`, a context variable; the
first processor copies it onto every line logged while that request runs. A last processor
drops values whose key names a secret, as a net under the rule that secrets are never
passed to a logger.
"""

from __future__ import annotations

import asyncio
import atexit
import contextvars
import logging
import sys
import time
from json import encoder as json_encoder
from typing import Any, TextIO

import structlog

# policy: belt and braces — keys that could carry a secret never reach the output.
_SECRET_KEYS = frozenset(
    {
        "authorization",
        "access_token",
        "refresh_token",
        "token",
        "code",
        "code_verifier",
        "client_secret",
        "cookie",
        "password",
        "secret",
        "id_token",
        "state",
        "user_token",
    }
)


def _drop_secret_fields(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    for key in list(event):
        if key.lower() in _SECRET_KEYS:
            event[key] = "[redacted]"
    return event


class LineBatch:
    """A stream for structlog's WriteLogger that writes, once per event-loop turn, every
    line logged during that turn: under load many requests finish per turn, and each line
    written alone cost a system call (the access log was a tenth of the gate's CPU).

    Outside a running loop (start-up, the CLI) a line is written at once. Lines still
    pending when the process exits are written by `drain`, which `atexit` and the hurried
    exit of `serve` call.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._pending: list[str] = []

    def write(self, text: str) -> None:
        pending = self._pending
        if pending:  # this turn's drain is scheduled already
            pending.append(text)
            return
        try:
            # (Asked once per turn: on Python 3.11 each asking costs a getpid() system call.)
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.drain()
            self._stream.write(text)
            self._stream.flush()
            return
        loop.call_soon(self.drain)
        pending.append(text)

    def flush(self) -> None:
        """WriteLogger flushes after every line; the batch is written by `drain` instead."""

    def drain(self) -> None:
        if self._pending:
            text, self._pending = "".join(self._pending), []
            self._stream.write(text)
            self._stream.flush()


_batch: LineBatch | None = None
_log = structlog.get_logger()


class _DirectLines:
    """Where lines rendered straight to JSON go, as the configured chain would render them.

    The access log writes a line per request; structlog's processor chain (context merge,
    level, time stamp, JSON) cost more than a tenth of the gate's CPU on a `tools/call`
    (docs/performance.md). Used only while that chain is in effect: when anything else
    configured structlog (a test capturing lines), lines take the chain again.
    """

    def __init__(self, batch: LineBatch, chain: list[Any], min_level: int) -> None:
        self.batch = batch
        self.chain = chain
        self.enabled = min_level <= logging.INFO

    def in_effect(self) -> bool:
        return structlog.get_config()["processors"] is self.chain


class _Stamps:
    """ISO 8601 UTC time stamps as structlog's `TimeStamper(fmt="iso", utc=True)` writes
    them, the date and time of day formatted once per second."""

    def __init__(self) -> None:
        self._second = -1
        self._prefix = ""

    def now(self) -> str:
        micros = time.time_ns() // 1000  # (integers: no float arithmetic per line)
        second, fraction = divmod(micros, 1_000_000)
        if second != self._second:
            self._second = second
            self._prefix = time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(second))
        # (No format spec: an f-string's `:06d` costs more than the rest of the stamp.)
        return f"{self._prefix}{str(fraction + 1_000_000)[1:]}Z"


# The request being handled in this context (web/middlewares.py sets it, in the task aiohttp
# runs each request in). One variable set per request: structlog's bind_contextvars looks
# its variable up and builds a dict of reset tokens on every call.
REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "mcp_gate_request_id", default=None
)


def _add_request_id(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    request_id = REQUEST_ID.get()
    if request_id is not None:
        event.setdefault("request_id", request_id)
    return event


_stamps = _Stamps()
_direct: _DirectLines | None = None


def access_line(
    request_id: str,
    method: str,
    path: str,
    status: int,
    seconds: float,
    server: str | None,
    principal: str | None,
) -> None:
    """The access log's `request_finished` line. On the direct path it is one template
    filled in: the line is written for every request, and even the C encoder's generic walk
    over a dict, with a float's shortest repr, was a tenth of the gate's own work per call."""
    direct = _direct
    if direct is not None and direct.in_effect():
        if direct.enabled:
            # Hundredths of a millisecond as integers: the same number as round(ms, 2).
            hundredths = round(seconds * 100_000)
            names = _route_fields.get((method, path)) or _route_fields.learn((method, path))
            whom = _caller_fields.get((server, principal)) or _caller_fields.learn(
                (server, principal)
            )
            direct.batch.write(
                f'{{"request_id": "{request_id}", {names}"status": {status}, '
                f'"duration_ms": {hundredths // 100}.{_TWO_DIGITS[hundredths % 100]}, '
                f'{whom}"event": "request_finished", "level": "info", '
                f'"timestamp": "{_stamps.now()}"}}\n'
            )
        return
    _log.info(
        "request_finished",
        request_id=request_id,
        method=method,
        path=path,
        status=status,
        duration_ms=round(seconds * 1000, 2),
        server=server,
        principal=principal,
    )


# A JSON string literal, ASCII only, as the encoder writes one (C).
_quoted = json_encoder.encode_basestring_ascii


def _quoted_or_null(text: str | None) -> str:
    return "null" if text is None else _quoted(text)


_TWO_DIGITS = tuple(f"{n:02d}" for n in range(100))


class _Fields(dict[tuple[str | None, str | None], str]):
    """Two fields of the access line as JSON, remembered per pair of values: a gate sees
    few routes and callers, and quoting them was most of the line's cost. Bounded, since
    paths and principals come from outside."""

    _ENTRIES = 4096

    def __init__(self, first: str, second: str) -> None:
        super().__init__()
        self._names = first, second

    def learn(self, pair: tuple[str | None, str | None]) -> str:
        first, second = self._names
        fields = f'"{first}": {_quoted_or_null(pair[0])}, "{second}": {_quoted_or_null(pair[1])}, '
        if len(self) >= self._ENTRIES:
            self.clear()
        self[pair] = fields
        return fields


_route_fields = _Fields("method", "path")
_caller_fields = _Fields("server", "principal")


def drain_log_lines() -> None:
    """Write the lines logged in this loop turn now (before an exit that skips atexit)."""
    if _batch is not None:
        _batch.drain()


def configure_logging(*, level: str = "info", json: bool | None = None) -> None:
    """Configure structlog and the stdlib root logger once, at process start."""
    if json is None:
        json = not sys.stderr.isatty()
    renderer: Any = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    shared: list[Any] = [
        _add_request_id,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _drop_secret_fields,
    ]
    global _batch, _direct
    if _batch is None:
        _batch = LineBatch(sys.stderr)
        atexit.register(_batch.drain)
    chain = [*shared, structlog.processors.format_exc_info, renderer]
    min_level = logging.getLevelName(level.upper())
    _direct = _DirectLines(_batch, chain, min_level) if json else None
    structlog.configure(
        processors=chain,
        wrapper_class=structlog.make_filtering_bound_logger(min_level),
        # One write per loop turn (LineBatch); PrintLogger would write each newline alone.
        logger_factory=structlog.WriteLoggerFactory(file=_batch),  # type: ignore[arg-type]
        cache_logger_on_first_use=True,
    )
    # Libraries log through the stdlib; render their lines the same way.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(foreign_pre_chain=shared, processor=renderer)
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    # aiohttp's own access log would print query strings; ours replaces it.
    logging.getLogger("aiohttp.access").disabled = True
