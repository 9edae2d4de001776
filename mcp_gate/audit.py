"""The audit log: one JSON object per line for each event that matters to a security
review (`proxy.audit`; the schema and an example of every event: docs/audit.md).

Owns the line's shape and its one writer. Every line has `ts` (RFC 3339, UTC, ms) and
`event`; the rest are the caller's fields, with None left out. Callers pass ids and names,
never secrets: a field whose name says it holds one (token, secret, code, password,
cookie, assertion) is refused at the call, so a mistake fails a test instead of leaking a
credential into a file that outlives it. Tool-call arguments go in only with
`includeArguments: true` (`include_arguments`), for the caller to honour.

Usage, anywhere that has the app: `app[AUDIT].emit("tool_called", server="gh", ...)`. The
sink is stdout or a file opened for appending (each line one write, so replicas and
workers appending to one file do not interleave lines). With no `proxy.audit`, `emit`
does nothing.
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Literal, TextIO

AuditEvent = Literal[
    "login_succeeded",
    "login_refused",
    "consent_given",
    "consent_denied",
    "token_issued",
    "token_refreshed",
    "token_revoked",
    "refresh_token_reused",
    "session_opened",
    "session_closed",
    "tool_called",
    "user_token_set",
    "user_token_deleted",
    "principal_revoked",
]
# A field name that says it carries a credential (`client_id`, `grant`, `mcp_session` do not).
_SECRET_FIELD = re.compile(r"token|secret|code|password|cookie|assertion", re.IGNORECASE)
# Field names that look secret-like but hold a kind, not a value.
_ALLOWED_FIELDS = frozenset({"token_type"})


class Audit:
    def __init__(
        self,
        sink: TextIO | None = None,
        *,
        include_arguments: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._sink = sink
        self.include_arguments = include_arguments
        self._clock = clock

    @property
    def enabled(self) -> bool:
        return self._sink is not None

    def emit(self, event: AuditEvent, **fields: object) -> None:
        """Write one line for `event`; ValueError for a field named like a secret."""
        for name in fields:
            if _SECRET_FIELD.search(name) and name not in _ALLOWED_FIELDS:
                raise ValueError(f"audit field {name!r} is named like a secret; log an id")
        if self._sink is None:
            return
        stamp = datetime.fromtimestamp(self._clock(), UTC).isoformat(timespec="milliseconds")
        line: dict[str, object] = {"ts": stamp.replace("+00:00", "Z"), "event": event}
        line |= {name: value for name, value in fields.items() if value is not None}
        self._sink.write(json.dumps(line, separators=(",", ":"), default=str) + "\n")
        self._sink.flush()


def open_sink(sink: str) -> TextIO:
    """stdout, or the file at `sink` opened for appending (created if missing)."""
    if sink == "stdout":
        return sys.stdout
    return open(sink, "a", encoding="utf-8")
