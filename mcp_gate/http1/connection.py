"""One HTTP/1.1 connection to a backend: an `asyncio.Protocol` with an llhttp response parser.

A connection carries one exchange at a time (no pipelining, which RFC 9112 §9.3.2 leaves
to the client): `exchange()` writes a request head and body and waits, within the headers
timeout, for the response head; the body then flows into a `BodyStream` as the parser
(`httptools`, the llhttp binding) yields it. When the response is complete and both sides
keep the connection (RFC 9112 §9.3), it tells its pool it is idle; otherwise it closes.

llhttp frames bodies by length and chunks; a body that runs until the backend closes
(exchange.py) ends here, in `connection_lost`, since llhttp is never told of EOF.
Informational 1xx responses are skipped (RFC 9110 §15.2). A HEAD response ends at its head
and its connection is closed rather than reused, since llhttp cannot be told to skip the
body its Content-Length announces. Bytes that answer no request make the connection unfit.

It does not choose connections, retry, or know URLs; the pool and the client do.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import cast

import httptools

from mcp_gate.http1.body import BodyStream
from mcp_gate.http1.errors import (
    MalformedResponseError,
    UpstreamConnectionLostError,
    UpstreamTimeoutError,
)
from mcp_gate.http1.exchange import (
    MAX_HEAD_BYTES,
    Exchange,
    HeadTooLargeError,
    ResponseHead,
    keep_alive_timeout,
)

# Bodies up to this size go out in one write with the head (one segment on loopback); larger
# ones are written as they are, in slices, waiting for the socket to drain between them.
_COALESCE_BYTES = 64 * 1024
_WRITE_SLICE_BYTES = 256 * 1024


class _UnexpectedResponseError(Exception):
    """Raised inside a parser callback for bytes that answer no request of ours."""


class Connection(asyncio.Protocol):
    # One per upstream socket, held for a stream's whole life: no per-instance dict.
    __slots__ = (
        "_answered",
        "_drain",
        "_draining",
        "_exchange",
        "_finished",
        "_high_water",
        "_loop",
        "_on_closed",
        "_on_idle",
        "_parser",
        "_reading_paused",
        "_transport",
        "_unfit",
        "_write_paused",
        "closed",
        "exchanges",
        "idle_deadline",
        "keep_alive_hint_seconds",
    )

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        high_water_bytes: int,
        on_idle: Callable[[Connection], None],
        on_closed: Callable[[Connection], None],
    ) -> None:
        self._loop = loop
        self._high_water = high_water_bytes
        self._on_idle = on_idle
        self._on_closed = on_closed
        self._transport: asyncio.Transport | None = None
        self._parser = httptools.HttpResponseParser(self)
        self._exchange: Exchange | None = None
        self._finished: Exchange | None = None  # completed inside the current feed
        self._unfit = False  # must not carry another exchange
        self._reading_paused = False
        self._write_paused = False
        self._drain: asyncio.Future[None] | None = None
        self._draining: Exchange | None = None  # whose body waits for the socket to drain
        self.exchanges = 0  # completed and kept: above 0, this connection is a reused one
        self.idle_deadline = 0.0
        self.keep_alive_hint_seconds: float | None = None
        self.closed: asyncio.Future[None] = loop.create_future()
        # Stands in for an exchange's waiter once its head is taken: the waiter's result
        # would keep the head (its fields) alive as long as the body runs, hours for SSE.
        self._answered: asyncio.Future[ResponseHead] = loop.create_future()
        self._answered.cancel()  # (done, holding nothing)

    # -- used by the pool and the client

    @property
    def is_reused(self) -> bool:
        return self.exchanges > 0

    def is_usable(self) -> bool:
        transport = self._transport
        return (
            transport is not None
            and not transport.is_closing()
            and self._exchange is None
            and not self._unfit
        )

    def abort(self) -> None:
        """Drop the connection now, mid-exchange or not; nothing more is sent."""
        if self._transport is not None:
            self._transport.abort()

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    async def exchange(
        self,
        head: bytes,
        body: bytes | None,
        *,
        head_request: bool,
        headers_timeout: float | None,
        server: str,
    ) -> ResponseHead:
        """Send the request; the response head once it arrives (the body follows it)."""
        transport = self._transport
        assert transport is not None, "the connection is open"
        assert self._exchange is None, "one exchange at a time"
        exchange = Exchange(server, head_request, self._loop.create_future())
        self._exchange = exchange
        if headers_timeout is not None:
            exchange.timer = self._loop.call_later(headers_timeout, self._headers_timed_out)
        try:
            try:
                large = self._write_head(transport, exchange, head, body)
                if large is not None:
                    await self._write_rest(transport, exchange, large)
            except (UpstreamConnectionLostError, UpstreamTimeoutError):
                if not exchange.has_head:
                    raise
                # The backend answered before it read the whole request (a 413, say) and
                # closed; its answer stands.
            exchange.request_written = True
            response_head = await exchange.waiter
            exchange.waiter = self._answered
            return response_head
        except BaseException:
            # Failed, timed out or cancelled (the gate's client left): the exchange cannot
            # finish, so neither can the connection.
            if exchange.waiter.done():
                if not exchange.waiter.cancelled():
                    exchange.waiter.exception()  # retrieved: it is the one being raised
            else:
                exchange.waiter.cancel()  # nothing will wait for it any more
            self.abort()
            raise
        finally:
            if exchange.timer is not None:
                exchange.timer.cancel()
                exchange.timer = None  # a cancelled handle is still an object (and a context)

    @staticmethod
    def _write_head(
        transport: asyncio.Transport, exchange: Exchange, head: bytes, body: bytes | None
    ) -> bytes | None:
        """Write the head, and the body with it when small; the body still to write (a
        large one) or None. (Not a coroutine: most requests are written in one call.)"""
        large = body is not None and len(body) > _COALESCE_BYTES
        transport.write(head if large or not body else head + body)
        if transport.is_closing():
            # The write failed at once (asyncio and uvloop both close the transport inside
            # write() when send() fails): the backend had already reset the connection, so
            # no byte of this request reached it.
            raise UpstreamConnectionLostError(
                exchange.server,
                "connection was reset before the request could be sent",
                request_sent=False,
                response_started=False,
            )
        return body if large else None

    async def _write_rest(
        self, transport: asyncio.Transport, exchange: Exchange, body: bytes
    ) -> None:
        """A large body, in slices, waiting for the socket to drain between them."""
        view = memoryview(body)
        for start in range(0, len(view), _WRITE_SLICE_BYTES):
            if transport.is_closing():
                raise UpstreamConnectionLostError(
                    exchange.server,
                    "connection lost while sending the request",
                    response_started=exchange.response_started,
                )
            transport.write(view[start : start + _WRITE_SLICE_BYTES])
            if self._write_paused and not transport.is_closing():
                await self._drained(exchange)

    async def _drained(self, exchange: Exchange) -> None:
        self._draining = exchange
        self._drain = self._loop.create_future()
        try:
            await self._drain
        finally:
            self._drain = None

    def _headers_timed_out(self) -> None:
        exchange = self._exchange
        if exchange is None or exchange.waiter.done():
            return
        error = UpstreamTimeoutError(
            exchange.server, "no response headers in time", phase="headers"
        )
        exchange.waiter.set_exception(error)
        if self._drain is not None and not self._drain.done():
            self._drain.set_exception(error)
        self.abort()

    # -- asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # (uvloop's transports are not asyncio.Transport subclasses; they have its methods.)
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        exchange = self._exchange
        if exchange is None:
            # RFC 9112 §9.3: bytes on an idle connection answer no request of ours.
            self._unfit = True
            self.abort()
            return
        exchange.response_started = True
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(exchange, "backend switched protocols, which the gate never asks for")
        except httptools.HttpParserCallbackError as exc:
            cause = exc.__context__
            if isinstance(cause, HeadTooLargeError):
                self._fail(exchange, f"response head over {MAX_HEAD_BYTES // 1024} KiB")
            elif isinstance(cause, _UnexpectedResponseError):
                self._unfit = True  # the response before them, if complete, stands
                self.abort()
            else:
                raise
        except httptools.HttpParserError as exc:
            self._fail(exchange, f"not an HTTP/1.x response ({exc})")
        finished, self._finished = self._finished, None
        if finished is not None:
            self._end(finished)

    def eof_received(self) -> bool | None:
        return None  # close; `connection_lost` settles what EOF means for the exchange

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        exchange, self._exchange = self._exchange, None
        if exchange is not None:
            self._lost_during(exchange, exc)
        draining = self._draining
        if self._drain is not None and not self._drain.done() and draining is not None:
            # Still writing a request body, whose response may be complete already (a 413).
            self._drain.set_exception(
                UpstreamConnectionLostError(
                    draining.server,
                    "connection lost while sending the request",
                    response_started=draining.response_started,
                )
            )
        self._on_closed(self)
        if not self.closed.done():
            self.closed.set_result(None)

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        if self._drain is not None and not self._drain.done():
            self._drain.set_result(None)

    # -- flow control, asked for by the body stream

    def pause_reading(self) -> None:
        if self._transport is not None and not self._reading_paused:
            self._reading_paused = True
            self._transport.pause_reading()

    def resume_reading(self) -> None:
        if self._transport is not None and self._reading_paused:
            self._reading_paused = False
            self._transport.resume_reading()

    # -- httptools callbacks

    # (Each callback reads `_exchange` itself: they run for every header of every response.)

    def on_message_begin(self) -> None:
        exchange = self._exchange
        if exchange is None:
            raise _UnexpectedResponseError
        exchange.reason = b""
        exchange.raw_headers = []

    def on_status(self, reason: bytes) -> None:
        exchange = self._exchange
        if exchange is None:
            raise _UnexpectedResponseError
        exchange.reason += reason
        exchange.count_head_bytes(len(reason))

    def on_header(self, name: bytes, value: bytes) -> None:
        exchange = self._exchange
        if exchange is None:
            raise _UnexpectedResponseError
        exchange.raw_headers.append((name, value))
        exchange.head_bytes += len(name) + len(value) + 4  # ": " and CRLF
        if exchange.head_bytes > MAX_HEAD_BYTES:
            raise HeadTooLargeError

    def on_headers_complete(self) -> None:
        exchange = self._current()
        status = self._parser.get_status_code()
        if 100 <= status < 200:
            # RFC 9110 §15.2: the final response follows. (After a 101, feed_data raises
            # HttpParserUpgrade instead, and the exchange fails there.)
            exchange.informational = True
            return
        body = BodyStream(self._loop, self, self._high_water)
        head = exchange.complete_head(status, self._parser.get_http_version(), body)
        if exchange.timer is not None:
            exchange.timer.cancel()
        if not exchange.waiter.done():
            exchange.waiter.set_result(head)
        self.keep_alive_hint_seconds = keep_alive_timeout(head.headers.get("Keep-Alive"))
        if exchange.head_request:
            # RFC 9110 §9.3.2: no content follows a HEAD response's head.
            self._unfit = True
            self._complete(exchange)

    def on_body(self, chunk: bytes) -> None:
        exchange = self._exchange
        if exchange is None:
            raise _UnexpectedResponseError
        if exchange.body is not None:
            exchange.body.feed(chunk)

    def on_message_complete(self) -> None:
        exchange = self._current()
        if exchange.informational:
            exchange.informational = False
            return
        self._complete(exchange)

    # -- internals

    def _current(self) -> Exchange:
        exchange = self._exchange
        if exchange is None:
            raise _UnexpectedResponseError
        return exchange

    def _complete(self, exchange: Exchange) -> None:
        assert exchange.body is not None
        exchange.body.finish()
        self._exchange = None
        self._finished = exchange
        if not self._parser.should_keep_alive():  # RFC 9112 §9.3: `close`, or HTTP/1.0
            self._unfit = True

    def _end(self, exchange: Exchange) -> None:
        """After the response is complete: back to the pool, or closed."""
        transport = self._transport
        if (
            transport is None
            or transport.is_closing()
            or self._unfit
            or not exchange.request_written
        ):
            self.close()
            return
        self.exchanges += 1
        self.resume_reading()  # an idle connection must see the backend close it
        self._on_idle(self)

    def _fail(self, exchange: Exchange, reason: str) -> None:
        error = MalformedResponseError(exchange.server, reason)
        if not exchange.waiter.done():
            exchange.waiter.set_exception(error)
        elif exchange.body is not None:
            exchange.body.fail(error)
        self._exchange = None
        self._unfit = True
        self.abort()

    def _lost_during(self, exchange: Exchange, exc: Exception | None) -> None:
        if exchange.body is None:
            if not exchange.waiter.done():
                how = "reset" if exc is not None else "closed"
                when = "while sending" if exchange.response_started else "before sending"
                exchange.waiter.set_exception(
                    UpstreamConnectionLostError(
                        exchange.server,
                        f"connection {how} by the backend {when} a response",
                        response_started=exchange.response_started,
                    )
                )
        elif exchange.close_delimited and exc is None:
            exchange.body.finish()  # RFC 9112 §6.3 (8): this body ends as the connection does
        else:
            exchange.body.fail(
                UpstreamConnectionLostError(
                    exchange.server, "connection lost mid-body", response_started=True
                )
            )
