"""The HTTP/1.1 client of the gate's pass-through: one `request()` call per upstream request.

`Client.request` finds the pool of the URL's origin, takes a connection, sends the request
and returns the `Response` once its head has arrived. Redirects are never followed: a 3xx is
returned like any response. Waits are bounded by `Timeouts` (connect, response head); a body
read whole has the caller's own bound; a streamed body has none.

Retrying, once, on a fresh connection (RFC 9110 §9.2.2 "A client SHOULD NOT automatically
retry a failed automatic retry"), and only a request sent on a reused connection that
failed before any byte of a response arrived: a backend may close an idle keep-alive
connection at any moment, so a request can meet a close already under way (RFC 9112 §9.3.1
asks implementations to expect that, and defers to RFC 9110 §9.2.2 for when to retry).
- A request whose write failed at once, because the backend had already reset the
  connection, never reached it: it is sent again whatever its method.
- A request that was written and met EOF or a reset is sent again only when idempotent
  (GET, HEAD, OPTIONS, TRACE, PUT, DELETE; or `idempotent=True` from a caller that knows
  its semantics). A POST is not: "A proxy MUST NOT automatically retry non-idempotent
  requests" (RFC 9110 §9.2.2), and no byte of an answer does not prove the backend did not
  act (one that crashed mid-`tools/call` closes the same way). The pool keeps this race
  rare instead: idle connections close before the backend's keep-alive timeout does.
A connection that never served a request is not retried: nothing suggests a race there.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Coroutine
from dataclasses import dataclass
from types import TracebackType

from mcp_gate.http1.connection import Connection
from mcp_gate.http1.errors import UpstreamConnectionLostError
from mcp_gate.http1.exchange import ResponseHead
from mcp_gate.http1.pool import CLOSE_WAIT_SECONDS, OriginPool, PoolSettings
from mcp_gate.http1.request import Headers, build_request_head
from mcp_gate.http1.response import Response
from mcp_gate.http1.target import Origin, parse_url

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})


@dataclass(frozen=True, slots=True)
class Timeouts:
    connect_seconds: float = 10.0
    # From the first byte written to the response head; None waits as long as it takes.
    headers_seconds: float | None = 30.0


class Client:
    """Pooled keep-alive HTTP/1.1 to any number of origins; close it when done."""

    def __init__(
        self,
        settings: PoolSettings | None = None,
        *,
        timeouts: Timeouts | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._settings = settings or PoolSettings()
        self._timeouts = timeouts or Timeouts()
        self._ssl_context = ssl_context
        self._pools: dict[Origin, OriginPool] = {}
        self._closed = False

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Headers = (),
        body: bytes | None = None,
        timeouts: Timeouts | None = None,
        idempotent: bool | None = None,
        server: str | None = None,
    ) -> Response:
        """Send one request; its response once the head is in (the body is read from it).

        `url` is absolute http(s); `headers` a mapping or (name, value) pairs, sent as given
        with `Host` added from the URL unless present; `server` names the backend in errors
        (default: the origin). Raises the `mcp_gate.http1.errors` classes, and ValueError
        for a URL, method or header that cannot be sent safely.
        """
        target = parse_url(url)
        label = server if server is not None else str(target.origin)
        length = None if body is None else len(body)
        head = build_request_head(
            method, target.path, target.host_header, headers, length, target.authorization
        )
        limits = timeouts or self._timeouts
        pool = self._pool(target.origin)
        head_request = method == "HEAD"
        connection = pool.idle() or await pool.acquire(
            server=label, connect_timeout=limits.connect_seconds
        )
        try:
            response_head = await _exchange(connection, head, body, head_request, limits, label)
        except UpstreamConnectionLostError as exc:
            replayable = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
            if not (
                connection.is_reused
                and not exc.response_started
                and (replayable or not exc.request_sent)
            ):
                raise
            pool.retried_requests += 1
            connection = await pool.acquire(
                server=label, connect_timeout=limits.connect_seconds, fresh=True
            )
            response_head = await _exchange(connection, head, body, head_request, limits, label)
        return Response(response_head, connection, label)

    def pool(self, origin: Origin) -> OriginPool | None:
        """The pool of an origin, once a request has gone there (for metrics and tests)."""
        return self._pools.get(origin)

    async def close(self) -> None:
        """Abort every connection, idle or mid-response, and wait until they are closed."""
        self._closed = True
        closing = [future for pool in self._pools.values() for future in pool.close()]
        self._pools.clear()
        if closing:
            await asyncio.wait(closing, timeout=CLOSE_WAIT_SECONDS)

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    def _pool(self, origin: Origin) -> OriginPool:
        pool = self._pools.get(origin)
        if pool is None:
            if self._closed:
                raise RuntimeError("the HTTP client is closed")
            if origin.is_tls and self._ssl_context is None:
                # Certificate and host name checked against the system's CAs (RFC 9110 §4.3.4).
                self._ssl_context = ssl.create_default_context()
            pool = OriginPool(origin, self._settings, self._ssl_context, asyncio.get_running_loop())
            self._pools[origin] = pool
        return pool


def _exchange(
    connection: Connection,
    head: bytes,
    body: bytes | None,
    head_request: bool,
    limits: Timeouts,
    server: str,
) -> Coroutine[None, None, ResponseHead]:
    return connection.exchange(
        head,
        body,
        head_request=head_request,
        headers_timeout=limits.headers_seconds,
        server=server,
    )
