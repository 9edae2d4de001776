"""Relaying one MCP request to the replica that owns its session, and its answer back.

Design: a direct HTTP/1.1 hop from the replica the balancer chose to the owner's internal
listener (its `proxy.cluster.advertiseURL`), on the gate's lean pooled client
(`mcp_gate.http1`). A bus over Redis was the other way; a direct hop costs one loopback or
in-cluster round trip on a kept-alive connection, streams with HTTP's own backpressure, and
needs no broker-side buffering or message framing for SSE.

The request goes as the client sent it (method, path and query, body, its headers minus
the hop-by-hop ones, `Host`, credentials and cookies), plus the hop headers (cluster/hop.py:
the verified principal, signed). The answer comes back as the owner gave it: status,
headers, and the body chunk by chunk as the owner writes it, so an SSE stream crosses event
by event, unbuffered. Cancellation runs both ways: a client that leaves cancels this
handler (aiohttp `handler_cancellation`; a GET stream's task, once spliced off the handler:
spliced_streams.py), which closes the hop connection, which the owner sees as its own
client leaving; an owner that ends its response ends this one.
An owner that cannot be reached (it died, its port is closed) is gone: the caller answers
404 so the client starts a new session (MCP transports §Session Management).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import structlog
from aiohttp import web
from multidict import CIMultiDict

from mcp_gate.cluster.hop import HOP_HEADER, HOP_PRINCIPAL_HEADER, HopKey
from mcp_gate.errors import BackendUnavailableError
from mcp_gate.http1 import Client, Response, Timeouts, UpstreamConnectError
from mcp_gate.policy.engine import Caller
from mcp_gate.proxy.headers import is_event_stream
from mcp_gate.spliced_streams import StreamWriter, send_stream, stream_response

log = structlog.get_logger()

# RFC 9110 §7.6.1 (Connection) and RFC 9112 §6.1: meaningful for one connection only.
_HOP_BY_HOP = frozenset(
    {
        "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding",
        "upgrade", "proxy-authorization", "proxy-authenticate", "host", "content-length",
    }
)  # fmt: skip
# What only the replica the client reached may read: the client's credentials.
_NOT_RELAYED = frozenset(
    {"authorization", "cookie", HOP_HEADER.lower(), HOP_PRINCIPAL_HEADER.lower()}
)
# policy: an answer of known length up to this crosses whole (MCP JSON replies); a longer
# one, or an event stream, is streamed chunk by chunk as the owner writes it.
WHOLE_ANSWER_BYTES = 1 << 20
# policy: the owner answers from memory or starts its own timeout-bound backend call; a
# hop that cannot connect within this is an owner that is gone.
HOP_CONNECT_SECONDS = 2.0


class OwnerGoneError(Exception):
    """The owner of the session could not be reached."""


@dataclass(frozen=True)
class Relay:
    client: Client
    key: HopKey

    async def forward(
        self, request: web.Request, owner: str, owner_url: str, caller: Caller
    ) -> web.StreamResponse:
        """The answer of the replica `owner` (at `owner_url`) to `request`, streamed to the
        client; OwnerGoneError when the owner cannot be reached."""
        body = await request.read() if request.can_read_body else None
        headers: CIMultiDict[str] = CIMultiDict(
            (name, value)
            for name, value in request.headers.items()
            if name.lower() not in _HOP_BY_HOP and name.lower() not in _NOT_RELAYED
        )
        headers.update(self.key.sign(owner, request.method, request.path_qs, caller))
        try:
            answer = await self.client.request(
                request.method,
                owner_url + request.path_qs,
                headers=headers.items(),
                body=body,
                # No headers timeout: the owner bounds its own work (backend timeouts).
                timeouts=Timeouts(connect_seconds=HOP_CONNECT_SECONDS, headers_seconds=None),
                server="owner replica",
            )
        except UpstreamConnectError as exc:
            raise OwnerGoneError(str(exc)) from exc
        return await _stream_back(request, answer)


async def _stream_back(request: web.Request, answer: Response) -> web.StreamResponse:
    try:
        headers = CIMultiDict(
            (name, value)
            for name, value in answer.headers.items()
            if name.lower() not in _HOP_BY_HOP
        )
        length = answer.content_length
        events = is_event_stream(answer.headers.get("Content-Type"))
        if length is not None and length <= WHOLE_ANSWER_BYTES and not events:
            # One write to the client instead of head, body and end apart.
            body = await answer.read(max_bytes=length, timeout_seconds=None)
            return web.Response(
                status=answer.status, reason=answer.reason, body=body, headers=headers
            )
        if events:
            # A GET stream is spliced off this handler once sent (spliced_streams.py).
            response = stream_response(request, status=answer.status, headers=headers)
            return await send_stream(request, response, partial(_relay_answer, answer))
        response = web.StreamResponse(status=answer.status, reason=answer.reason, headers=headers)
        if length is not None:
            response.content_length = length
        await response.prepare(request)
        await _relay_answer(answer, response)
        return response
    except BaseException:
        answer.close()  # (a no-op once the answer is complete)
        raise


async def _relay_answer(answer: Response, out: StreamWriter) -> None:
    async with answer:  # leaving it early closes the hop
        try:
            async for chunk in answer:
                await out.write(chunk)
            await out.write_eof()
        except BackendUnavailableError:
            pass  # the owner dropped the stream (it stopped); end ours the same way
        except ConnectionResetError:
            pass  # the client left
