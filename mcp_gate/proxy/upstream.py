"""Sending one pass-through request to a backend and relaying its response, byte for byte.

The shared mechanism of both pass-through fronts, on the gate's lean HTTP/1.1 client
(`mcp_gate.http1`: pooled keep-alive connections per backend origin). Timeouts: the
server's `timeout` bounds connecting and the wait for response headers (and the body of a
non-streaming reply); an SSE body has no read timeout at all (MCP transports: GET streams
and long tool calls stay open). A client that goes away cancels the handler, which closes
the upstream connection at once (MCP 2026-07-28 streamable HTTP: closing the response
stream is cancellation). A non-streaming body is read whole, so it is capped
(`proxy.maxMessageSize`): past the cap the client gets a 502 and the rest is never read. A
redirect is never followed: it is a 502. Every failure of the backend is a `BackendError`
(502 / 504 for this request only, web/middlewares.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property, partial

from aiohttp import web

from mcp_gate.errors import BackendUnavailableError
from mcp_gate.http1 import Client, Response, Timeouts
from mcp_gate.proxy.headers import build_downstream_headers, is_event_stream
from mcp_gate.spliced_streams import StreamWriter, send_stream, stream_response

# An upstream 401/403 means the gate's own credentials for the backend were refused; the
# client could do nothing about it, and the upstream's challenge must not reach it.
_UPSTREAM_AUTH_STATUSES = frozenset({401, 403})

RewriteChunks = Callable[[AsyncIterator[bytes]], AsyncIterator[bytes]]


@dataclass(frozen=True)
class Upstream:
    """One backend's pass-through connection: its name, limits, and the shared client."""

    client: Client
    server: str
    timeout_seconds: float
    max_body_bytes: int

    def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | Iterable[tuple[str, str]],
        body: bytes | None = None,
    ) -> Awaitable[Response]:
        """Send the request and wait for the response head, within the server's timeout.
        (Not a coroutine: the caller awaits the client's own, one frame fewer.)"""
        return self.client.request(
            method, url, headers=headers, body=body, timeouts=self._timeouts, server=self.server
        )

    @cached_property
    def _timeouts(self) -> Timeouts:
        limit = self.timeout_seconds
        return Timeouts(connect_seconds=limit, headers_seconds=limit)

    async def relay(
        self,
        request: web.Request,
        upstream: Response,
        rewrite_chunks: RewriteChunks | None = None,
    ) -> web.StreamResponse:
        """Relay status, allowed headers and body to the client; stream SSE as it arrives
        (spliced off the handler where the connection allows: spliced_streams.py)."""
        try:
            if upstream.status in _UPSTREAM_AUTH_STATUSES:
                raise BackendUnavailableError(
                    self.server, f"backend refused the gate's credentials (HTTP {upstream.status})"
                )
            if 300 <= upstream.status < 400:
                # policy: redirects are not followed (they could lead the configured
                # credentials elsewhere) and a backend's Location means nothing to clients.
                raise BackendUnavailableError(
                    self.server, f"backend redirected (HTTP {upstream.status})"
                )
            headers = build_downstream_headers(upstream.headers)
            if is_event_stream(upstream.headers.get("Content-Type")):
                response = stream_response(request, status=upstream.status, headers=headers)
                upstream.release_head()
                # The stream's body closes the upstream response when it ends.
                return await send_stream(
                    request, response, partial(_relay_chunks, upstream, rewrite_chunks)
                )
            limit = self.max_body_bytes
            body = upstream.read_arrived(max_bytes=limit)
            if body is None:
                body = await upstream.read(max_bytes=limit, timeout_seconds=self.timeout_seconds)
            return web.Response(status=upstream.status, body=body, headers=headers)
        except BaseException:
            upstream.close()  # (a no-op once complete, or closed by the stream's body)
            raise


async def _relay_chunks(
    upstream: Response, rewrite_chunks: RewriteChunks | None, out: StreamWriter
) -> None:
    """An SSE body, chunk by chunk as the backend sends it (rewritten, when asked)."""
    try:
        chunks: AsyncIterator[bytes] = aiter(upstream)
        if rewrite_chunks is not None:
            chunks = rewrite_chunks(chunks)
        async for chunk in chunks:
            await out.write(chunk)
    except BackendUnavailableError:
        pass  # the backend dropped the stream; end ours the same way
    except ConnectionResetError:
        pass  # the client left; closing the upstream response below cancels its request
    finally:
        upstream.close()
