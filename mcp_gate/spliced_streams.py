"""Long-lived streams carried on the client's socket once their head is out, without
aiohttp's request machinery.

An SSE stream that aiohttp's handler holds keeps all of its request alive for as long as
it is open: the parsed head (the bearer token as bytes and as text), the handler's task and
every frame of the middleware chain, the connection's parser, message queue and keep-alive
timer; about 10 KB a stream, idle (docs/performance.md). Once the head is sent none of it
is needed again: a stream is bytes from a source, framed as chunks, on one socket.

So every connection of the gate's sites is a `ClientConnection`: aiohttp's request
handler serves it through a transport of ours (`HandlerTransport`), which aiohttp writes
to as to any. A stream handler builds its response with `stream_response` and sends it
with `send_stream(request, response, body)`, `body` being the whole rest of the stream (its
writes, and its own clean-up). For a GET stream (long-lived; a POST's stream ends with its
answers and keeps its connection) on such a connection the head goes out with
`Connection: close`, then the connection is split: `body` runs in a task of its own that
writes to the socket through a `SplicedStream`; the handler returns at once, aiohttp
finishes the request (what it writes from then on goes nowhere) and closes "its"
transport, which ends its side of the connection, and its request is let go. The
stream's access line and metrics are written when the task ends (web/middlewares.py); a
client that leaves cancels the task, as it would cancel the handler; shutdown waits for it
as for a request.

Where the connection is not one of these (aiohttp's own test server), `body` simply runs
inside the handler, writing to the response, as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol, cast

import structlog
from aiohttp import web

log = structlog.get_logger()

# RFC 9112 §7.1: the zero-size chunk that ends a chunked body (no trailers). A stream cut
# mid-way goes without it, so its client sees the response incomplete, not complete.
_LAST_CHUNK = b"0\r\n\r\n"
# A chunk up to this size is framed in a copy of itself (an event); larger ones are not.
_COPIED_BYTES = 16 * 1024


class StreamWriter(Protocol):
    """What a stream body writes to: aiohttp's `StreamResponse`, or a `SplicedStream`."""

    async def write(self, data: bytes) -> None: ...

    async def write_eof(self, data: bytes = b"") -> None: ...


StreamBody = Callable[[StreamWriter], Awaitable[None]]


class SplicedResponse(web.StreamResponse):
    """A stream response whose body a task carries on the socket (`carried`) once the
    handler has returned; web/middlewares.py logs it when that task ends."""

    carried: asyncio.Task[None] | None = None


def stream_response(
    request: web.BaseRequest, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.StreamResponse:
    """The response of a stream: one that is spliced off once sent, where the connection
    allows and the stream is one that lives long (its head then says `Connection: close`).

    Those are the GET streams (the standalone stream of streamable HTTP, the legacy SSE
    stream), held open for hours and mostly idle. A POST's stream ends with its answers:
    it stays in its handler, and its connection is kept alive for the client's next call.
    """
    if request.method == "GET" and isinstance(request.transport, HandlerTransport):
        response = SplicedResponse(status=status, headers=headers)
        # RFC 9112 §9.6: the connection ends with the stream; the client is told up front.
        response.force_close()
        return response
    return web.StreamResponse(status=status, headers=headers)


async def send_stream(
    request: web.BaseRequest, response: web.StreamResponse, body: StreamBody
) -> web.StreamResponse:
    """Send the head of `response`, then the rest: `body(writer)`. Spliced off when
    `response` is a `SplicedResponse` (the handler returns at once; `body` must hold
    nothing of the request), in the handler otherwise."""
    await response.prepare(request)
    if not isinstance(response, SplicedResponse):
        await body(response)
        return response
    # (A SplicedResponse is made only on a connection of ours: `stream_response`.)
    transport = cast(HandlerTransport, request.transport)
    # (Chunked unless the client spoke HTTP/1.0: aiohttp said which in the head.)
    chunked = response.headers.get("Transfer-Encoding", "").lower() == "chunked"
    stream = transport.splice(chunked=chunked)
    # The task copies this context (the request id of its log lines stays).
    response.carried = stream.carry(body)
    return response


class SplicedStream:
    """The rest of one response, written straight to the client's socket."""

    __slots__ = ("_chunked", "_drained", "_ended", "_task", "_transport")

    def __init__(self, transport: asyncio.Transport, *, chunked: bool) -> None:
        self._transport = transport
        self._chunked = chunked  # HTTP/1.1: chunks; HTTP/1.0: bytes until the close
        self._drained: asyncio.Future[None] | None = None  # set while writing is paused
        self._ended = False
        self._task: asyncio.Task[None] | None = None

    def carry(self, body: StreamBody) -> asyncio.Task[None]:
        self._task = asyncio.get_running_loop().create_task(self._run(body))
        return self._task

    async def write(self, data: bytes) -> None:
        if not data:
            return
        transport = self._transport
        if self._ended or transport.is_closing():
            raise ConnectionResetError("the client's connection is closed")
        if not self._chunked:
            transport.write(data)
        elif len(data) <= _COPIED_BYTES:
            transport.write(b"%x\r\n%b\r\n" % (len(data), data))  # one write, one segment
        else:
            transport.writelines((b"%x\r\n" % len(data), data, b"\r\n"))
        if self._drained is not None:
            await self._drained

    async def write_eof(self, data: bytes = b"") -> None:
        if self._ended:
            return
        if data:
            await self.write(data)
        self._ended = True
        if self._chunked and not self._transport.is_closing():
            self._transport.write(_LAST_CHUNK)
        self._transport.close()

    # -- from the connection

    def pause_writing(self) -> None:
        if self._drained is None:
            self._drained = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        drained, self._drained = self._drained, None
        if drained is not None and not drained.done():
            drained.set_result(None)

    def connection_lost(self, exc: BaseException | None) -> None:
        """The client left (or the stream ended): a body still running is cancelled, as
        aiohttp cancels a handler whose client left."""
        self._ended = True
        self.resume_writing()
        if self._task is not None and not self._task.done():
            self._task.cancel()

    async def _run(self, body: StreamBody) -> None:
        try:
            await body(self)
        except ConnectionResetError:
            pass  # the client left while a write was under way
        except Exception:
            # Here, not in the error middleware (the handler has returned): the stream is
            # cut, its head having said 200 long ago.
            log.exception("stream_failed")
            raise
        else:
            await self.write_eof()
        finally:
            if not self._ended:
                # Failed or cancelled (the client left, or shutdown cut the stream): closed
                # without the last chunk, as aiohttp closes a cancelled handler's connection.
                self._ended = True
                self._transport.close()


def _dropped(data: Any) -> None:
    """What a handler writes once its stream is spliced off (or a client sends then)."""


def _closing() -> bool:
    return True


def _no_reading_change() -> None:
    """Reading belongs to the stream once spliced off."""


class HandlerTransport(asyncio.Transport):
    """The transport aiohttp's request handler is given: the socket's, until a stream is
    spliced off; from then on what the handler writes goes nowhere, and its closing ends
    only its own side of the connection.

    What the handler calls for every request (write, is_closing, extra info, reading) is the
    socket's own bound method, kept in a slot of the same name: no frame of this class in
    between. Splicing rebinds those slots (all but the extra info).
    """

    __slots__ = (
        "_connection",
        "_spliced",
        "_transport",
        "get_extra_info",
        "is_closing",
        "pause_reading",
        "resume_reading",
        "write",
        "writelines",
    )

    def __init__(self, transport: asyncio.Transport, connection: ClientConnection) -> None:
        super().__init__()
        self._transport = transport
        self._connection = connection
        self._spliced = False
        self.write = transport.write  # type: ignore[method-assign]
        self.writelines = transport.writelines  # type: ignore[method-assign]
        self.is_closing = transport.is_closing  # type: ignore[method-assign]
        self.get_extra_info = transport.get_extra_info  # type: ignore[method-assign]
        self.pause_reading = transport.pause_reading  # type: ignore[method-assign]
        self.resume_reading = transport.resume_reading  # type: ignore[method-assign]

    def splice(self, *, chunked: bool) -> SplicedStream:
        """Hand the socket over to a stream; the handler's writes stop reaching it."""
        self._spliced = True
        self.write = _dropped  # type: ignore[method-assign]
        self.writelines = _dropped  # type: ignore[method-assign,assignment]
        self.is_closing = _closing  # type: ignore[method-assign]
        self.pause_reading = _no_reading_change  # type: ignore[method-assign]
        self.resume_reading = _no_reading_change  # type: ignore[method-assign]
        stream = SplicedStream(self._transport, chunked=chunked)
        self._connection.spliced(stream)
        return stream

    # -- the rest of asyncio.Transport, as aiohttp's handler uses it

    def close(self) -> None:
        if self._spliced:
            self._connection.handler_closing()
        else:
            self._transport.close()

    def abort(self) -> None:
        if self._spliced:
            self._connection.handler_closing()
        else:
            self._transport.abort()

    def is_reading(self) -> bool:
        return self._transport.is_reading()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._transport.set_write_buffer_limits(high, low)

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size()

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._transport.get_write_buffer_limits()

    def can_write_eof(self) -> bool:
        return False  # aiohttp's server never half-closes; a spliced stream closes whole

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._connection.handler_protocol()


class ClientConnection(asyncio.Protocol):
    """The protocol of one client connection: aiohttp's request handler behind a
    `HandlerTransport`, and, once one is spliced off, the stream that took the socket.

    Until then the bytes the client sends go to the handler's own `data_received` (bound
    in a slot of that name, so the loop calls it with no frame of this class between).
    """

    __slots__ = ("_handler", "_stream", "_transport", "_write_paused", "data_received")

    def __init__(self, handler: asyncio.Protocol) -> None:
        self._handler: asyncio.Protocol | None = handler
        self._stream: SplicedStream | None = None
        self._transport: asyncio.Transport | None = None
        self._write_paused = False
        self.data_received = handler.data_received  # type: ignore[method-assign]

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # (uvloop's transports are not asyncio.Transport subclasses; they have its methods.)
        real = cast(asyncio.Transport, transport)
        self._transport = real
        assert self._handler is not None
        self._handler.connection_made(HandlerTransport(real, self))

    def eof_received(self) -> bool | None:
        if self._stream is None and self._handler is not None:
            return self._handler.eof_received()
        return None  # the transport closes; `connection_lost` ends the stream

    def connection_lost(self, exc: Exception | None) -> None:
        self.handler_closed(exc)
        if self._stream is not None:
            self._stream.connection_lost(exc)
            self._stream = None
        self._transport = None

    def pause_writing(self) -> None:
        self._write_paused = True
        if self._stream is not None:
            self._stream.pause_writing()
        elif self._handler is not None:
            self._handler.pause_writing()

    def resume_writing(self) -> None:
        self._write_paused = False
        if self._stream is not None:
            self._stream.resume_writing()
        elif self._handler is not None:
            self._handler.resume_writing()

    # -- from the handler's transport

    def spliced(self, stream: SplicedStream) -> None:
        self._stream = stream
        # A spliced stream's client has nothing more to send: its head said `close`.
        self.data_received = _dropped  # type: ignore[method-assign]
        if self._transport is not None:
            # Told again who its protocol is, the transport looks up `data_received`
            # anew (uvloop keeps the one it found).
            self._transport.set_protocol(self)
        if self._write_paused:  # (the socket's buffer is full already: wait for it)
            stream.pause_writing()

    def handler_closing(self) -> None:
        """aiohttp closed its transport after a splice: its handler hears of it the way
        a transport tells its protocol, on the next loop turn."""
        if self._handler is not None:
            asyncio.get_running_loop().call_soon(self.handler_closed)

    def handler_closed(self, exc: Exception | None = None) -> None:
        """aiohttp's side of the connection is over: its handler is told so, once, the
        way a transport tells its protocol (and lets go of it)."""
        handler, self._handler = self._handler, None
        if handler is not None:
            self.data_received = _dropped  # type: ignore[method-assign]
            handler.connection_lost(exc)

    def handler_protocol(self) -> asyncio.BaseProtocol:
        return self._handler if self._handler is not None else self


class SplicingSite(web.BaseSite):
    """A TCP site whose connections are `ClientConnection`s around aiohttp's handlers."""

    __slots__ = ("_host", "_port", "_reuse_address", "_reuse_port")

    def __init__(
        self,
        runner: web.BaseRunner,
        host: str,
        port: int,
        *,
        reuse_address: bool = True,
        reuse_port: bool = False,
    ) -> None:
        super().__init__(runner)
        self._host, self._port = host, port
        self._reuse_address, self._reuse_port = reuse_address, reuse_port

    @property
    def name(self) -> str:
        return f"http://{self._host}:{self._port}"

    async def start(self) -> None:
        await super().start()
        handlers = self._runner.server
        assert handlers is not None  # (set by runner.setup(), which BaseSite checked)
        self._server = await asyncio.get_running_loop().create_server(
            lambda: ClientConnection(handlers()),
            self._host,
            self._port,
            reuse_address=self._reuse_address,
            reuse_port=self._reuse_port,
        )
