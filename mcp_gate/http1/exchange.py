"""One request/response exchange on a connection: the response head as it is parsed, and
how its body is framed.

Holds what the parser has said so far (reason, raw header fields, their size against
`MAX_HEAD_BYTES`), whether any byte of a response arrived and whether the request was
fully written (the retry rule and connection reuse read both), and turns a complete head
into a `ResponseHead`. Framing follows RFC 9112 §6.3: no body for HEAD, 1xx, 204 and 304;
chunked; Content-Length; otherwise the body runs until the backend closes. Pure, apart
from the future the connection resolves; it never touches a socket.
"""

from __future__ import annotations

import asyncio
from itertools import chain
from typing import NamedTuple

from multidict import CIMultiDict, CIMultiDictProxy

from mcp_gate.http1.body import BodyStream

# policy: a hostile backend cannot make the gate hold more than this for one response head
# (status line and all header fields, 1xx heads included; aiohttp allows 128 fields of 8 KiB).
MAX_HEAD_BYTES = 64 * 1024


class ResponseHead(NamedTuple):  # (a tuple: made once per response, cheaply)
    status: int
    reason: str
    version: str  # "1.1" or "1.0"
    headers: CIMultiDictProxy[str]
    body: BodyStream


class HeadTooLargeError(Exception):
    """Raised inside a parser callback; the connection reports it as a malformed response."""


class Exchange:
    __slots__ = (
        "body",
        "close_delimited",
        "head_bytes",
        "head_request",
        "informational",
        "raw_headers",
        "reason",
        "request_written",
        "response_started",
        "server",
        "timer",
        "waiter",
    )

    def __init__(
        self, server: str, head_request: bool, waiter: asyncio.Future[ResponseHead]
    ) -> None:
        self.server = server
        self.head_request = head_request
        self.waiter = waiter  # resolved with the head, or failed
        self.timer: asyncio.TimerHandle | None = None  # the headers timeout
        self.response_started = False
        self.request_written = False
        self.reason = b""
        self.raw_headers: list[tuple[bytes, bytes]] = []
        self.head_bytes = 0
        self.informational = False  # inside a 1xx response, which is skipped
        self.close_delimited = False
        self.body: BodyStream | None = None  # set once the head is complete

    @property
    def has_head(self) -> bool:
        """Whether the head arrived (asked while the request is still being written; once
        the caller has taken it, the connection swaps the waiter for a bare stand-in)."""
        waiter = self.waiter
        return waiter.done() and not waiter.cancelled() and waiter.exception() is None

    def count_head_bytes(self, size: int) -> None:
        """Count bytes of the head (the connection appends the fields it parses)."""
        self.head_bytes += size
        if self.head_bytes > MAX_HEAD_BYTES:
            raise HeadTooLargeError

    def complete_head(self, status: int, version: str, body: BodyStream) -> ResponseHead:
        """The head of the final response; its body stream is `body`."""
        headers: CIMultiDict[str] = CIMultiDict(_decoded(self.raw_headers))
        self.body = body
        self.close_delimited = is_close_delimited(status, headers, self.head_request)
        reason = self.reason.decode("utf-8", "surrogateescape")
        head = ResponseHead(status, reason, version, CIMultiDictProxy(headers), body)
        # The raw fields are decoded: the exchange lives as long as the body (hours, for
        # an SSE stream), so it should not keep a second copy of the head.
        self.raw_headers = []
        self.reason = b""
        return head


def _decoded(fields: list[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    """Header fields as the aiohttp client decodes them (UTF-8 with surrogateescape; names
    are tokens, so ASCII), so a relay writes the same bytes. All in one decoding, split on
    NUL: llhttp refuses a NUL in any name or value (RFC 9110 §5.5), so the split is exact,
    and a UTF-8 sequence cut short by one decodes as it would alone."""
    if not fields:
        return []
    texts = b"\x00".join(chain.from_iterable(fields))  # (C all the way: no comprehension frame)
    parts = texts.decode("utf-8", "surrogateescape").split("\x00")
    return list(zip(parts[::2], parts[1::2], strict=True))


def is_close_delimited(status: int, headers: CIMultiDict[str], head_request: bool) -> bool:
    """Whether the body runs until the connection closes (RFC 9112 §6.3 items 4 and 8)."""
    if head_request or status in (204, 304) or 100 <= status < 200:
        return False
    coding = headers.get("Transfer-Encoding")
    if coding is not None:
        return coding.rsplit(",", 1)[-1].strip().lower() != "chunked"
    return "Content-Length" not in headers


def keep_alive_timeout(value: str | None) -> float | None:
    """The `timeout` of a `Keep-Alive` header (RFC 2068 §19.7.1.1, still sent by Node.js)."""
    if value is None:
        return None
    for parameter in value.split(","):
        name, _, number = parameter.strip().partition("=")
        if name.strip().lower() == "timeout":
            try:
                return float(number.strip())
            except ValueError:
                return None
    return None
