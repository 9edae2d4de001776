"""Legacy HTTP+SSE front on a legacy SSE backend: a pass-through that rewrites one event.

MCP 2024-11-05 transports §HTTP with SSE: the stream's first event, `endpoint`, names the
URL the client must POST its messages to. The backend names its own URL; the gate rewrites
that event onto its public `/<name>/message` path, keeps the query string opaque (reference
§3.1), and records query → (owner, backend URL). Every other byte of the stream passes
through untouched and unbuffered. POSTs to `/<name>/message` go to the recorded backend
URL, for the recorded owner only.

A server with a tool filter (`tool_filter.py`) changes two things. A POST calling a
filtered tool is not sent on: it gets its 202, and its JSON-RPC error is put on the
client's stream, between two backend events, by the process relaying that stream
(`FilteredStream`, found through the session's query). After the `endpoint` event the
stream is relayed event by event so the responses to the `tools/list` requests the client
POSTed are filtered; other events keep their exact bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import aiohttp
import structlog
from aiohttp import web

from mcp_gate.config.model import ToolFilter
from mcp_gate.jsonrpc import INVALID_REQUEST, Message, dumps
from mcp_gate.principal import Principal
from mcp_gate.proxy.backends import Backend
from mcp_gate.proxy.bindings import SessionBindings
from mcp_gate.proxy.headers import build_upstream_headers
from mcp_gate.proxy.responses import jsonrpc_error, session_not_found
from mcp_gate.proxy.sse import SseParser, encode_event
from mcp_gate.proxy.tool_filter import check_call, filter_event, list_request_ids
from mcp_gate.proxy.upstream import open_upstream, relay_response

log = structlog.get_logger()

# policy: backend events waiting for a slow client before the backend is read no further.
FILTERED_STREAM_EVENTS = 256


@dataclass(eq=False)
class FilteredStream:
    """A legacy stream of a filtered server, relayed by this process."""

    outgoing: asyncio.Queue[bytes | None] = field(
        default_factory=lambda: asyncio.Queue(FILTERED_STREAM_EVENTS)
    )
    # tools/list requests the client POSTed whose responses have not come by yet.
    list_ids: set[object] = field(default_factory=set)


async def open_sse_stream(
    request: web.Request,
    backend: Backend,
    principal: Principal,
    bindings: SessionBindings,
    message_path: str,
    user_token: str | None,
) -> web.StreamResponse:
    upstream_url = backend.url(user_token)
    headers = build_upstream_headers(request.headers, backend.headers(user_token))
    upstream = await open_upstream(
        backend.http, backend.name, backend.config.timeout_seconds, "GET", upstream_url, headers
    )
    tool_filter = backend.config.options.tool_filter

    async def rewrite(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        parser = SseParser()
        async for chunk in chunks:
            for event in parser.feed(chunk):
                if event.event != "endpoint":
                    yield event.raw
                    continue
                backend_endpoint = urljoin(upstream_url, event.data.strip())
                if not _same_origin(backend_endpoint, upstream_url):
                    # policy: the configured headers (credentials) go to the backend's own
                    # origin only; an endpoint elsewhere ends the stream.
                    log.warning("backend_endpoint_refused", server=backend.name)
                    return
                # reference §3.1 keeps the query opaque; a backend that names its session
                # in the path alone gets a gate-minted key, so sessions never share one.
                query = urlsplit(backend_endpoint).query or f"sessionId={secrets.token_urlsafe(24)}"
                await bindings.bind(backend.name, query, principal, target=backend_endpoint)
                public = f"{message_path}?{query}"
                yield encode_event(public, event="endpoint", event_id=event.id)
                if tool_filter is not None:
                    async for out in _relay_filtered(backend, query, tool_filter, parser, chunks):
                        yield out
                    return
                # The endpoint event comes first; from here on, bytes pass untouched.
                if parser.pending:
                    yield parser.pending
                async for rest in chunks:
                    yield rest
                return

    return await relay_response(
        request, upstream, backend.name, backend.config.timeout_seconds, rewrite_chunks=rewrite
    )


def _same_origin(url: str, other: str) -> bool:
    a, b = urlsplit(url), urlsplit(other)
    return (a.scheme, a.netloc) == (b.scheme, b.netloc)


async def _relay_filtered(
    backend: Backend,
    query: str,
    tool_filter: ToolFilter,
    parser: SseParser,
    chunks: AsyncIterator[bytes],
) -> AsyncIterator[bytes]:
    """The rest of a filtered stream: backend events (filtered) and the gate's own answers,
    merged whole-event by whole-event."""
    stream = FilteredStream()

    async def read_backend() -> None:
        with contextlib.suppress(aiohttp.ClientError):  # the backend dropped the stream
            async for chunk in chunks:
                for event in parser.feed(chunk):
                    await stream.outgoing.put(filter_event(tool_filter, event, stream.list_ids))
        await stream.outgoing.put(None)

    backend.legacy_streams[query] = stream
    reader = asyncio.create_task(read_backend(), name=f"legacy-filter-{backend.name}")
    try:
        while (out := await stream.outgoing.get()) is not None:
            yield out
    finally:
        backend.legacy_streams.pop(query, None)
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader


async def forward_message(
    request: web.Request,
    backend: Backend,
    principal: Principal,
    bindings: SessionBindings,
    body: bytes,
    user_token: str | None,
    messages: list[Message] | None = None,
) -> web.StreamResponse:
    binding = await bindings.lookup(backend.name, request.query_string, principal)
    if binding is None:
        return session_not_found()
    tool_filter = backend.config.options.tool_filter
    if tool_filter is not None and messages:
        query = request.query_string
        forwarded = await _answer_filtered_calls(backend, query, tool_filter, messages)
        if isinstance(forwarded, web.Response):
            return forwarded
        if not forwarded:
            return web.Response(status=202, text="Accepted")
        if len(forwarded) < len(messages):
            body = dumps(forwarded if body.lstrip().startswith(b"[") else forwarded[0])
    headers = build_upstream_headers(request.headers, backend.headers(user_token))
    upstream = await open_upstream(
        backend.http,
        backend.name,
        backend.config.timeout_seconds,
        "POST",
        binding.target,
        headers,
        body,
    )
    return await relay_response(request, upstream, backend.name, backend.config.timeout_seconds)


async def _answer_filtered_calls(
    backend: Backend, query: str, tool_filter: ToolFilter, messages: list[Message]
) -> list[Message] | web.Response:
    """Put the errors for filtered calls on the client's stream; return what goes on."""
    stream = backend.legacy_streams.get(query)
    forwarded: list[Message] = []
    for message in messages:
        refusal = check_call(tool_filter, message)
        if refusal is None:
            forwarded.append(message)
        elif "id" not in message:
            continue  # a notification-shaped call: dropped, there is nobody to answer
        elif stream is None:
            # policy: the stream is relayed elsewhere (another replica) or already gone;
            # the call is still refused, on the POST itself.
            return jsonrpc_error(403, INVALID_REQUEST, refusal["error"]["message"])
        else:
            await stream.outgoing.put(encode_event(dumps(refusal).decode(), event="message"))
    if stream is not None:
        stream.list_ids.update(list_request_ids(forwarded))
    return forwarded
