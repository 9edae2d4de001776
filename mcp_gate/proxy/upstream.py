"""Sending one HTTP request to a backend and relaying its response, byte for byte.

The shared mechanism of both pass-through fronts. Timeouts: the server's `timeout` bounds
connecting and the wait for response headers (and the body of a non-streaming reply); an
SSE body has no read timeout at all (reference §3.4: GET streams and long tool calls stay
open). A client that goes away cancels the handler, which closes the upstream request
(MCP 2026-07-28 streamable HTTP: closing the response stream is cancellation).
A non-streaming body is read whole, so it is capped (`proxy.maxMessageSize`, `read_body`):
past the cap the client gets a 502 and the rest is never read. A redirect is never
followed, here or by any channel (`allow_redirects=False`): it is a 502.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Callable, Mapping

import aiohttp
from aiohttp import web

from mcp_gate.errors import BackendTimeoutError, BackendUnavailableError
from mcp_gate.proxy.headers import build_downstream_headers, is_event_stream

# aiohttp writes a bytes body in one go and warns above 1 MiB; a file-like body is
# written in chunks, yielding to the event loop between them.
_CHUNKED_BODY_BYTES = 1024 * 1024


def request_body(body: bytes | None) -> bytes | io.BytesIO | None:
    """The body as aiohttp should send it: large ones as a stream (still with a length)."""
    return io.BytesIO(body) if body and len(body) > _CHUNKED_BODY_BYTES else body


# An upstream 401/403 means the gate's own credentials for the backend were refused; the
# client could do nothing about it, and the upstream's challenge must not reach it.
_UPSTREAM_AUTH_STATUSES = frozenset({401, 403})


class BodyTooLargeError(Exception):
    """A backend's response body is larger than the gate reads."""

    def __init__(self, limit_bytes: int) -> None:
        self.limit_bytes = limit_bytes
        super().__init__(f"response body exceeds {limit_bytes} bytes")


async def read_body(upstream: aiohttp.ClientResponse, limit_bytes: int) -> bytes:
    """The whole body, or BodyTooLargeError as soon as it passes `limit_bytes`."""
    declared = upstream.content_length
    if declared is not None and declared > limit_bytes:
        raise BodyTooLargeError(limit_bytes)
    if declared is not None:
        return await upstream.read()  # aiohttp reads no more than the declared length
    body = bytearray()
    async for chunk in upstream.content.iter_any():
        body += chunk
        if len(body) > limit_bytes:
            raise BodyTooLargeError(limit_bytes)
    return bytes(body)


async def open_upstream(
    http: aiohttp.ClientSession,
    server: str,
    timeout_seconds: float,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None = None,
) -> aiohttp.ClientResponse:
    """Send the request and wait for the response headers, within the server's timeout."""
    try:
        async with asyncio.timeout(timeout_seconds):
            return await http.request(
                method, url, headers=headers, data=request_body(body), allow_redirects=False
            )
    except TimeoutError:
        raise BackendTimeoutError(server, f"no response within {timeout_seconds:g}s") from None
    except aiohttp.ClientError as exc:
        raise BackendUnavailableError(server, f"unreachable ({type(exc).__name__})") from None


async def relay_response(
    request: web.Request,
    upstream: aiohttp.ClientResponse,
    server: str,
    timeout_seconds: float,
    *,
    max_body_bytes: int,
    rewrite_chunks: Callable[[AsyncIterator[bytes]], AsyncIterator[bytes]] | None = None,
) -> web.StreamResponse:
    """Relay status, allowed headers and body to the client; stream SSE as it arrives."""
    async with upstream:
        if upstream.status in _UPSTREAM_AUTH_STATUSES:
            raise BackendUnavailableError(
                server, f"backend refused the gate's credentials (HTTP {upstream.status})"
            )
        if 300 <= upstream.status < 400:
            # policy: redirects are not followed (they could lead the configured
            # credentials elsewhere) and a Location of the backend means nothing to clients.
            raise BackendUnavailableError(server, f"backend redirected (HTTP {upstream.status})")
        headers = build_downstream_headers(upstream.headers)
        if not is_event_stream(upstream.headers.get("Content-Type")):
            try:
                async with asyncio.timeout(timeout_seconds):
                    body = await read_body(upstream, max_body_bytes)
            except BodyTooLargeError as exc:
                raise BackendUnavailableError(server, str(exc)) from None
            except TimeoutError:
                raise BackendTimeoutError(server, "response body too slow") from None
            except aiohttp.ClientError:
                raise BackendUnavailableError(server, "connection lost mid-response") from None
            return web.Response(status=upstream.status, body=body, headers=headers)
        response = web.StreamResponse(status=upstream.status, headers=headers)
        await response.prepare(request)
        chunks: AsyncIterator[bytes] = upstream.content.iter_any()
        if rewrite_chunks is not None:
            chunks = rewrite_chunks(chunks)
        try:
            async for chunk in chunks:
                await response.write(chunk)
        except aiohttp.ClientError:
            pass  # the backend dropped the stream; end ours the same way
        except ConnectionResetError:
            pass  # the client left; leaving the block closes the upstream request
        return response
