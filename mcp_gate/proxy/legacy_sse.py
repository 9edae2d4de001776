"""Legacy HTTP+SSE front on a legacy SSE backend: a pass-through that rewrites one event.

MCP 2024-11-05 transports §HTTP with SSE: the stream's first event, `endpoint`, names the
URL the client must POST its messages to. The backend names its own URL, which must be on
its own origin (`origins.resolve_endpoint`); the gate rewrites that event onto its public
`/<name>/message?sessionId=<key>` path and records key → (owner, backend URL). The key is
minted by the gate for each stream: a backend's own query may be the same for every
stream (`?v=1`), and a shared key would let each new stream take over the last one's
binding. Every other byte of the stream passes through untouched and unbuffered. POSTs to
`/<name>/message` go to the recorded backend URL, for the recorded owner only.

A server with a tool filter (`tool_filter.py`) changes three things. A POST calling a
filtered tool is not sent on: it gets its 202, and its JSON-RPC error is put on the
client's stream, between two backend events, by the process relaying that stream
(`FilteredStream`, found through the session's key). Any other POST goes on as the gate
parsed it (`forwarded_body`). After the `endpoint` event the stream is relayed event by
event so every tool list on it is filtered; other events keep their exact bytes. Events
parsed are capped at `proxy.maxMessageSize`: past it the stream ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp
import structlog
from aiohttp import web

from mcp_gate.config.model import ToolFilter
from mcp_gate.jsonrpc import INVALID_REQUEST, Message, dumps
from mcp_gate.principal import Principal
from mcp_gate.proxy.backends import Backend
from mcp_gate.proxy.bindings import SessionBindings
from mcp_gate.proxy.headers import build_upstream_headers
from mcp_gate.proxy.origins import resolve_endpoint
from mcp_gate.proxy.passthrough import filtered_events
from mcp_gate.proxy.responses import jsonrpc_error, session_not_found
from mcp_gate.proxy.sse import EventTooLargeError, SseParser, encode_event
from mcp_gate.proxy.tool_filter import check_call, filter_event, forwarded_body
from mcp_gate.proxy.upstream import open_upstream

log = structlog.get_logger()

# policy: backend events waiting for a slow client before the backend is read no further.
FILTERED_STREAM_EVENTS = 256


@dataclass(eq=False)
class FilteredStream:
    """A legacy stream of a filtered server, relayed by this process."""

    outgoing: asyncio.Queue[bytes | None] = field(
        default_factory=lambda: asyncio.Queue(FILTERED_STREAM_EVENTS)
    )


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
        parser = SseParser(backend.max_message_bytes)
        try:
            async for chunk in chunks:
                for event in parser.feed(chunk):
                    if event.event != "endpoint":
                        out = filter_event(tool_filter, event) if tool_filter else event.raw
                        if out is not None:
                            yield out
                        continue
                    backend_endpoint = resolve_endpoint(upstream_url, event.data)
                    if backend_endpoint is None:
                        log.warning("backend_endpoint_refused", server=backend.name)
                        return
                    key = f"sessionId={secrets.token_urlsafe(24)}"
                    await bindings.bind(backend.name, key, principal, target=backend_endpoint)
                    yield encode_event(f"{message_path}?{key}", event="endpoint", event_id=event.id)
                    if tool_filter is not None:
                        async for out in _relay_filtered(backend, key, tool_filter, parser, chunks):
                            yield out
                        return
                    # The endpoint event comes first; from here on, bytes pass untouched.
                    if parser.pending:
                        yield parser.pending
                    async for rest in chunks:
                        yield rest
                    return
        except EventTooLargeError as exc:
            log.warning("backend_message_too_large", server=backend.name, limit=exc.limit_bytes)

    return await backend.relay(request, upstream, rewrite)


async def _relay_filtered(
    backend: Backend,
    key: str,
    tool_filter: ToolFilter,
    parser: SseParser,
    chunks: AsyncIterator[bytes],
) -> AsyncIterator[bytes]:
    """The rest of a filtered stream: backend events (filtered) and the gate's own answers,
    merged whole-event by whole-event."""
    stream = FilteredStream()

    async def read_backend() -> None:
        try:
            async for chunk in chunks:
                for out in filtered_events(backend.name, tool_filter, parser, chunk):
                    await stream.outgoing.put(out)
        except aiohttp.ClientError:
            pass  # the backend dropped the stream
        except EventTooLargeError as exc:
            log.warning("backend_message_too_large", server=backend.name, limit=exc.limit_bytes)
        await stream.outgoing.put(None)

    backend.legacy_streams[key] = stream
    reader = asyncio.create_task(read_backend(), name=f"legacy-filter-{backend.name}")
    try:
        while (out := await stream.outgoing.get()) is not None:
            yield out
    finally:
        backend.legacy_streams.pop(key, None)
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
    is_batch: bool = False,
) -> web.StreamResponse:
    key = request.query_string
    binding = await bindings.lookup(backend.name, key, principal)
    if binding is None:
        return session_not_found()
    tool_filter = backend.config.options.tool_filter
    if tool_filter is not None and messages:
        forwarded = await _answer_filtered_calls(backend, key, tool_filter, messages)
        if isinstance(forwarded, web.Response):
            return forwarded
        if not forwarded:
            return web.Response(status=202, text="Accepted")
        body = forwarded_body(forwarded, is_batch)
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
    return await backend.relay(request, upstream)


async def _answer_filtered_calls(
    backend: Backend, key: str, tool_filter: ToolFilter, messages: list[Message]
) -> list[Message] | web.Response:
    """Put the errors for filtered calls on the client's stream; return what goes on."""
    stream = backend.legacy_streams.get(key)
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
            await stream.outgoing.put(encode_event(dumps(refusal), event="message"))
    return forwarded
