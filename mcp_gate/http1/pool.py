"""The keep-alive connections to one backend origin: reuse, bounds, idle expiry.

`acquire()` hands out the most recently idle connection that is still usable (LIFO, so a
quiet period lets the others expire), or opens one within the connect timeout (TCP, and TLS
through `ssl` with SNI and certificate checks from the context). A connection whose
response is complete comes back by itself (`Connection` calls `_on_idle`); one that closes
leaves by itself (`_on_closed`): a backend that closes an idle connection is noticed when
its EOF arrives, and that connection is never handed out again.

Bounds: at most `max_connections` open at once when set (a request beyond that waits for
one, within the connect timeout); at most `max_idle` kept idle; each idle connection closed
after `idle_timeout_seconds`, or sooner when the backend's `Keep-Alive: timeout` hint says
it will close first. The pool neither writes requests nor reads responses.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections import deque
from dataclasses import dataclass

from mcp_gate.http1.connection import Connection
from mcp_gate.http1.errors import UpstreamConnectError, UpstreamTimeoutError
from mcp_gate.http1.target import Origin

# policy: idle connections are closed before the backend would close them, because a
# request sent on a connection the backend is closing is lost and, for a POST, not retried
# (client.py). Common servers close idle keep-alive connections after 5 s (uvicorn, Node.js).
DEFAULT_IDLE_TIMEOUT_SECONDS = 4.0
# policy: close a second before a backend's own `Keep-Alive: timeout` runs out (clocks start
# at slightly different moments on either side).
KEEP_ALIVE_HINT_MARGIN_SECONDS = 1.0
CLOSE_WAIT_SECONDS = 1.0  # how long `close()` waits for sockets to report closed


@dataclass(frozen=True, slots=True)
class PoolSettings:
    # None: as many as the traffic needs (each open SSE stream holds one for its lifetime).
    max_connections: int | None = None
    max_idle: int = 64  # covers 32 concurrent clients with room to spare
    idle_timeout_seconds: float = DEFAULT_IDLE_TIMEOUT_SECONDS
    # Unread body bytes past which reading from the backend pauses (body.py).
    high_water_bytes: int = 256 * 1024


class OriginPool:
    def __init__(
        self,
        origin: Origin,
        settings: PoolSettings,
        ssl_context: ssl.SSLContext | None,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self.origin = origin
        self._settings = settings
        self._ssl = ssl_context if origin.is_tls else None
        self._loop = loop
        self._idle: list[Connection] = []  # most recently idle last
        self._established: set[Connection] = set()
        self._slots = 0  # connections open or being opened
        self._waiters: deque[asyncio.Future[Connection | None]] = deque()
        self._sweep: asyncio.TimerHandle | None = None
        self._closed = False
        self.retried_requests = 0  # sent again on a fresh connection (client.py), for metrics

    @property
    def open_connections(self) -> int:
        return self._slots

    @property
    def idle_connections(self) -> int:
        return len(self._idle)

    @property
    def connections(self) -> frozenset[Connection]:
        """Every established connection, idle or busy (each has a `closed` future)."""
        return frozenset(self._established)

    def idle(self) -> Connection | None:
        """An idle connection, still usable, if there is one (no await: the common case of
        a busy origin); else None, and `acquire` opens or waits for one."""
        if self._closed:
            raise RuntimeError("the HTTP client is closed")
        return self._take_idle()

    async def acquire(
        self, *, server: str, connect_timeout: float, fresh: bool = False
    ) -> Connection:
        """A connection with no exchange on it: an idle one unless `fresh`, else a new one."""
        if self._closed:
            raise RuntimeError("the HTTP client is closed")
        if not fresh and (connection := self._take_idle()) is not None:
            return connection
        limit = self._settings.max_connections
        if limit is None or self._slots < limit:
            self._slots += 1
        else:
            handed = await self._wait_for_slot(server, connect_timeout)
            if handed is not None:
                return handed
        return await self._connect(server, connect_timeout)

    def close(self) -> list[asyncio.Future[None]]:
        """Abort every connection; the futures complete once their sockets are closed."""
        self._closed = True
        if self._sweep is not None:
            self._sweep.cancel()
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_exception(RuntimeError("the HTTP client is closed"))
        self._waiters.clear()
        closing = [connection.closed for connection in self._established]
        for connection in list(self._established):
            connection.abort()
        return closing

    # -- handing out

    def _take_idle(self) -> Connection | None:
        now = self._loop.time()
        while self._idle:
            connection = self._idle.pop()
            if connection.is_usable() and now < connection.idle_deadline:
                return connection
            connection.close()  # expired or broken; `_on_closed` frees its slot
        return None

    async def _wait_for_slot(self, server: str, timeout_seconds: float) -> Connection | None:
        """A connection handed over by another request, or None: a slot is reserved."""
        waiter: asyncio.Future[Connection | None] = self._loop.create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(timeout_seconds):
                return await waiter
        except BaseException as exc:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                handed = waiter.result()  # handed over just as this request gave up
                if handed is None:
                    self._free_slot()
                else:
                    self._on_idle(handed)
            else:
                waiter.cancel()
                with contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)
            if isinstance(exc, TimeoutError):
                raise UpstreamTimeoutError(
                    server, f"every connection stayed busy for {timeout_seconds:g}s", phase="pool"
                ) from None
            raise

    async def _connect(self, server: str, timeout_seconds: float) -> Connection:
        """Open a connection in the slot the caller reserved."""
        origin = self.origin
        try:
            async with asyncio.timeout(timeout_seconds):
                _, connection = await self._loop.create_connection(
                    self._new_connection,
                    origin.host,
                    origin.port,
                    ssl=self._ssl,
                    # RFC 6066 §3: SNI names the host (the ssl module leaves IP literals out)
                    server_hostname=origin.host if self._ssl is not None else None,
                )
        except BaseException as exc:
            self._free_slot()
            error = _connect_error(exc, server, timeout_seconds)
            if error is None:
                raise
            raise error from None
        if self._closed:  # the client closed while this connection was being opened
            connection.abort()
            raise RuntimeError("the HTTP client is closed")
        if not connection.is_usable():  # closed before this coroutine resumed
            self._free_slot()
            raise UpstreamConnectError(server, "connection closed as soon as it opened")
        self._established.add(connection)
        return connection

    def _new_connection(self) -> Connection:
        return Connection(
            self._loop, self._settings.high_water_bytes, self._on_idle, self._on_closed
        )

    # -- coming back

    def _on_idle(self, connection: Connection) -> None:
        if self._closed:
            connection.close()
            return
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return
        lifetime = self._settings.idle_timeout_seconds
        hint = connection.keep_alive_hint_seconds
        if hint is not None:
            lifetime = min(lifetime, hint - KEEP_ALIVE_HINT_MARGIN_SECONDS)
        if lifetime <= 0 or len(self._idle) >= self._settings.max_idle:
            connection.close()
            return
        connection.idle_deadline = self._loop.time() + lifetime
        self._idle.append(connection)
        if self._sweep is None:
            self._sweep = self._loop.call_at(connection.idle_deadline, self._expire_idle)

    def _on_closed(self, connection: Connection) -> None:
        if connection not in self._established:
            return  # never handed out: its connect failed, and freed its slot there
        self._established.discard(connection)
        with contextlib.suppress(ValueError):
            self._idle.remove(connection)
        self._free_slot()

    def _free_slot(self) -> None:
        self._slots -= 1
        while self._waiters and not self._closed:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self._slots += 1  # reserved for that waiter, which connects
                waiter.set_result(None)
                return

    def _expire_idle(self) -> None:
        self._sweep = None
        now = self._loop.time()
        kept = []
        for connection in self._idle:
            if connection.idle_deadline <= now:
                connection.close()
            else:
                kept.append(connection)
        self._idle = kept
        if kept:
            deadline = min(connection.idle_deadline for connection in kept)
            self._sweep = self._loop.call_at(deadline, self._expire_idle)


def _connect_error(exc: BaseException, server: str, timeout: float) -> Exception | None:
    """The error a failed connect is reported as; None for one that is not ours to map."""
    if isinstance(exc, TimeoutError):  # asyncio.timeout, or the kernel's ETIMEDOUT
        return UpstreamTimeoutError(server, f"no connection within {timeout:g}s", phase="connect")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return UpstreamConnectError(server, f"TLS certificate refused ({exc.verify_message})")
    if isinstance(exc, ssl.SSLError):
        return UpstreamConnectError(server, f"TLS handshake failed ({exc.reason})")
    if isinstance(exc, socket.gaierror):
        return UpstreamConnectError(server, "host name did not resolve")
    if isinstance(exc, ConnectionRefusedError):
        return UpstreamConnectError(server, "connection refused")
    if isinstance(exc, OSError):
        return UpstreamConnectError(server, f"connection failed ({exc.strerror or 'OS error'})")
    return None
