"""The one place that configures structlog and bridges the stdlib `logging` into it.

JSON lines when stderr is not a terminal (production), coloured console lines on a terminal.
Request fields are bound as contextvars by the access-log middleware; `merge_contextvars`
runs first so every line of a request carries them. A last processor drops values whose
key names a secret, as a net under the rule that secrets are never passed to a logger.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import sys
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
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.drain()
            self._stream.write(text)
            self._stream.flush()
            return
        if not self._pending:
            loop.call_soon(self.drain)
        self._pending.append(text)

    def flush(self) -> None:
        """WriteLogger flushes after every line; the batch is written by `drain` instead."""

    def drain(self) -> None:
        if self._pending:
            text, self._pending = "".join(self._pending), []
            self._stream.write(text)
            self._stream.flush()


_batch: LineBatch | None = None


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
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _drop_secret_fields,
    ]
    global _batch
    if _batch is None:
        _batch = LineBatch(sys.stderr)
        atexit.register(_batch.drain)
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
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
