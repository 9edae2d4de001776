"""A loopback TCP server whose every answer a test writes by hand, byte for byte.

For the shapes no well-behaved server sends: closing a kept-alive connection at a chosen
moment, resetting it, a malformed status line, a body that stalls or stops short, HTTP/1.0
bodies delimited by the close. A test passes a script, `async (peer) -> None`, run once per
accepted connection; `peer.index` counts connections from 0, and the server records every
request it read, so a test can say how many connections and requests the client used.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RawRequest:
    connection: int
    head: bytes
    body: bytes

    @property
    def request_line(self) -> str:
        return self.head.split(b"\r\n", 1)[0].decode()

    @property
    def header_lines(self) -> list[str]:
        return self.head.decode().split("\r\n")[1:-2]


@dataclass
class RawPeer:
    index: int
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    server: RawServer

    async def read_request(self) -> RawRequest | None:
        """The next request on this connection, or None when the client closed it."""
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            return None
        length = 0
        for line in head.decode().split("\r\n")[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        body = await self.reader.readexactly(length)
        request = RawRequest(self.index, head, body)
        self.server.requests.append(request)
        self.server.request_arrived.set()
        return request

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def wait_for_client_close(self) -> None:
        """Until the client closes its end (EOF or reset)."""
        with contextlib.suppress(ConnectionError):
            while await self.reader.read(65536):
                pass

    def close(self) -> None:
        self.writer.close()

    def reset(self) -> None:
        """Close with a TCP reset instead of a FIN (SO_LINGER 0)."""
        sock = self.writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.writer.transport.abort()


Script = Callable[[RawPeer], Awaitable[None]]


@dataclass
class RawServer:
    port: int = 0
    peers: list[RawPeer] = field(default_factory=list)
    requests: list[RawRequest] = field(default_factory=list)
    request_arrived: asyncio.Event = field(default_factory=asyncio.Event)
    # Set when the test ends: a script may wait on it to hold a connection open until then.
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    @property
    def connections(self) -> int:
        return len(self.peers)


@asynccontextmanager
async def raw_server(script: Script) -> AsyncIterator[RawServer]:
    """A server running `script` on each connection, stopped (connections too) at the end."""
    state = RawServer()
    tasks: set[asyncio.Task[None]] = set()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = RawPeer(len(state.peers), reader, writer, state)
        state.peers.append(peer)
        task = asyncio.current_task()
        assert task is not None
        tasks.add(task)
        try:
            await script(peer)
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    state.port = server.sockets[0].getsockname()[1]
    try:
        yield state
    finally:
        state.release.set()
        server.close()
        for peer in state.peers:
            peer.writer.close()
        await server.wait_closed()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for peer in state.peers:
            await _closed(peer.writer)


async def _closed(writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):  # it was reset
        await writer.wait_closed()


def response(
    status: str = "200 OK",
    body: bytes = b"ok",
    headers: tuple[str, ...] = (),
    *,
    version: str = "HTTP/1.1",
) -> bytes:
    """A response with a Content-Length body and the given extra header lines."""
    lines = [f"{version} {status}", *headers, f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def answer_every_request(peer: RawPeer) -> None:
    """A script: a 200 `ok` to each request, on one kept-alive connection."""
    while await peer.read_request() is not None:
        await peer.send(response())
