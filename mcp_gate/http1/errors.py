"""Why a request to a backend failed, as classes on the gate's `BackendError` tree.

    BackendUnavailableError (mcp_gate.errors)      → 502
    ├── UpstreamConnectError          no connection: refused, unresolvable, TLS refused
    ├── UpstreamConnectionLostError   closed or reset before the response was complete
    ├── MalformedResponseError        not an HTTP/1.x response as RFC 9112 frames one
    └── ResponseTooLargeError         a body read whole was over the caller's cap
    BackendTimeoutError (mcp_gate.errors)          → 504
    └── UpstreamTimeoutError          `phase` names the wait that ran out

Each error is about one request (and at most its one connection): callers answer that
request 502/504 and nothing else. Reasons never carry a URL path, a query or a header value,
which can hold a user's token.
"""

from __future__ import annotations

from typing import Literal

from mcp_gate.errors import BackendTimeoutError, BackendUnavailableError

TimeoutPhase = Literal["pool", "connect", "headers", "body"]


class UpstreamConnectError(BackendUnavailableError):
    """No connection could be opened: refused, name unresolvable, TLS handshake refused."""


class UpstreamConnectionLostError(BackendUnavailableError):
    """The connection closed or was reset before the response was complete.

    `request_sent` is False when writing the request failed at once (the connection was
    already reset, so no byte of it reached the backend); `response_started` says whether
    any byte of a response arrived. The client's one retry reads both.
    """

    def __init__(
        self, server: str, reason: str, *, request_sent: bool = True, response_started: bool
    ) -> None:
        super().__init__(server, reason)
        self.request_sent = request_sent
        self.response_started = response_started


class MalformedResponseError(BackendUnavailableError):
    """The backend's bytes are not an HTTP/1.x response (status line, headers, framing)."""


class ResponseTooLargeError(BackendUnavailableError):
    """A body read whole is larger than the cap its caller gave."""


class UpstreamTimeoutError(BackendTimeoutError):
    """A bounded wait ran out: for a pooled connection, to connect, for headers, for a body."""

    def __init__(self, server: str, reason: str, *, phase: TimeoutPhase) -> None:
        super().__init__(server, reason)
        self.phase = phase
