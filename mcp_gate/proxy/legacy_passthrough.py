"""Legacy HTTP+SSE front on a legacy SSE backend: a pass-through that rewrites one event.

MCP 2024-11-05 transports §HTTP with SSE: the stream's first event, `endpoint`, names the
URL the client must POST its messages to. The backend names its own URL, which must be on
its own origin (`origins.resolve_endpoint`); the gate rewrites that event onto its public
`/<name>/message?sessionId=<key>` path and records key → (owner, backend URL). The key is
minted by the gate for each stream: a backend's own query may be the same for every
stream (`?v=1`), and a shared key would let each new stream take over the last one's
binding; the binding names this replica too, so the others relay the session's POSTs
here (the filtered stream's answers need the process that relays the stream). Every other
byte of the stream passes through untouched and unbuffered. POSTs to `/<name>/message` go
to the recorded backend URL, for the recorded owner only.

A server that judges tools (`tool_filter.py`) changes three things. A POST calling a tool
the caller may not call is not sent on: it gets its 202, and its JSON-RPC error is put on
the client's stream, between two backend events, by the process relaying that stream
(`FilteredStream`, found through the session's key). Any other POST goes on as the gate
parsed it (`forwarded_body`). After the `endpoint` event the stream is relayed event by
event so every tool list on it is filtered for the stream's caller; other events keep their
exact bytes. Events parsed are capped at `proxy.maxMessageSize`: past it the stream ends.

A user without the token the server needs gets a gate-made session instead (`BridgedLegacy`
with a refusing channel, user_credentials.py): the backend is never called.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import structlog
from aiohttp import web

from mcp_gate.errors import BackendUnavailableError
from mcp_gate.jsonrpc import INVALID_REQUEST, Message, dumps
from mcp_gate.policy.engine import ToolAccess
from mcp_gate.principal import Principal
from mcp_gate.proxy.backends import Backend
from mcp_gate.proxy.bindings import SessionBindings
from mcp_gate.proxy.bridged_fronts import BridgedLegacy
from mcp_gate.proxy.call import McpCall
from mcp_gate.proxy.filtered_sse import filtered_events
from mcp_gate.proxy.headers import build_upstream_headers
from mcp_gate.proxy.message_queue import MessageQueue
from mcp_gate.proxy.origins import resolve_endpoint
from mcp_gate.proxy.responses import jsonrpc_error, session_not_found
from mcp_gate.proxy.sse import EventTooLargeError, SseParser, encode_event
from mcp_gate.proxy.tool_filter import check_call, filter_event, forwarded_body
from mcp_gate.proxy.upstream import RewriteChunks, Upstream

log = structlog.get_logger()

# policy: backend events waiting for a slow client before the backend is read no further.
FILTERED_STREAM_EVENTS = 256


@dataclass(eq=False)
class FilteredStream:
    """A legacy stream of a filtered server, relayed by this process."""

    outgoing: MessageQueue[bytes | None] = field(
        default_factory=lambda: MessageQueue(FILTERED_STREAM_EVENTS)
    )


class LegacyPassthrough:
    """The legacy front of one legacy-SSE server."""

    def __init__(
        self,
        backend: Backend,
        upstream: Upstream,
        bindings: SessionBindings,
        message_path: str,
        refusals: BridgedLegacy,
    ) -> None:
        self._backend = backend
        self._upstream = upstream
        self._bindings = bindings
        self._message_path = message_path
        self._refusals = refusals
        # The filtered streams this process relays, by session key (where the gate puts
        # its answers to filtered calls).
        self._filtered: dict[str, FilteredStream] = {}

    async def open_stream(self, call: McpCall) -> web.StreamResponse:
        if call.credential.problem is not None:
            return await self._refusals.open_stream(call)
        token = call.credential.token
        upstream_url = self._backend.url(token)
        # (The request headers are built in the call, not kept in a local: this frame lives
        # as long as the stream.)
        upstream = await self._upstream.send(
            "GET",
            upstream_url,
            build_upstream_headers(
                call.request.headers, self._backend.request_headers(call.principal, token)
            ),
        )
        key = secrets.token_urlsafe(24)
        rewrite = self._rewrite(call.principal, call.tools, upstream_url, key)
        return await self._upstream.relay(call.request, upstream, rewrite)

    def _rewrite(
        self, principal: Principal, access: ToolAccess | None, upstream_url: str, key: str
    ) -> RewriteChunks:
        # (Of the call, only whom it is for and what it may see: the rewrite lives as long
        # as the stream, and the call holds its request.)
        backend = self._backend

        async def rewrite(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
            parser = SseParser(self._upstream.max_body_bytes)
            pending: bytes | None = None  # set once the endpoint event has gone out
            try:
                async for chunk in chunks:
                    for event in parser.feed(chunk):
                        if event.event != "endpoint":
                            out = filter_event(access, event) if access else event.raw
                            if out is not None:
                                yield out
                            continue
                        backend_endpoint = resolve_endpoint(upstream_url, event.data)
                        if backend_endpoint is None:
                            log.warning("backend_endpoint_refused", server=backend.name)
                            return
                        await self._bindings.bind(
                            backend.name, key, principal, target=backend_endpoint
                        )
                        public = f"{self._message_path}?sessionId={key}"
                        yield encode_event(public, event="endpoint", event_id=event.id)
                        if access is not None:
                            async for out in self._relay_filtered(key, access, parser, chunks):
                                yield out
                            return
                        pending = parser.pending
                        break
                    if pending is not None:
                        break
            except EventTooLargeError as exc:
                log.warning("backend_message_too_large", server=backend.name, limit=exc.limit_bytes)
            if pending is None:
                return  # the stream ended (or failed) before its endpoint event
            # The endpoint event comes first; from here on, bytes pass untouched. The parser
            # and the last event and chunk are let go: this generator lives as long as the
            # stream does.
            del parser, event, chunk
            if pending:
                yield pending
            async for rest in chunks:
                yield rest

        return rewrite

    async def _relay_filtered(
        self, key: str, access: ToolAccess, parser: SseParser, chunks: AsyncIterator[bytes]
    ) -> AsyncIterator[bytes]:
        """The rest of a filtered stream: backend events (filtered) and the gate's own
        answers, merged whole-event by whole-event."""
        stream = FilteredStream()
        server = self._backend.name

        async def read_backend() -> None:
            try:
                async for chunk in chunks:
                    for out in filtered_events(server, access, parser, chunk):
                        await stream.outgoing.put(out)
            except BackendUnavailableError:
                pass  # the backend dropped the stream
            except EventTooLargeError as exc:
                log.warning("backend_message_too_large", server=server, limit=exc.limit_bytes)
            await stream.outgoing.put(None)

        self._filtered[key] = stream
        reader = asyncio.create_task(read_backend(), name=f"legacy-filter-{server}")
        try:
            while (out := await stream.outgoing.get()) is not None:
                yield out
        finally:
            self._filtered.pop(key, None)
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader

    async def message(self, call: McpCall) -> web.StreamResponse:
        if call.credential.problem is not None:
            return await self._refusals.message(call)
        key = call.legacy_session_id
        if not key:
            return jsonrpc_error(400, INVALID_REQUEST, "Bad Request: missing sessionId")
        binding = await self._bindings.lookup(self._backend.name, key, call.principal)
        if binding is None:
            return session_not_found()
        assert call.body is not None
        assert call.messages is not None
        body = call.body
        if call.tools is not None:
            forwarded = await self._answer_filtered_calls(key, call.tools, call.messages)
            if isinstance(forwarded, web.Response):
                return forwarded
            if not forwarded:
                return web.Response(status=202, text="Accepted")
            body = forwarded_body(forwarded, call.is_batch)
        token = call.credential.token
        headers = build_upstream_headers(
            call.request.headers, self._backend.request_headers(call.principal, token)
        )
        upstream = await self._upstream.send("POST", binding.target, headers, body)
        return await self._upstream.relay(call.request, upstream)

    async def _answer_filtered_calls(
        self, key: str, access: ToolAccess, messages: list[Message]
    ) -> list[Message] | web.Response:
        """Put the errors for filtered calls on the client's stream; return what goes on."""
        stream = self._filtered.get(key)
        forwarded: list[Message] = []
        for message in messages:
            refusal = check_call(access, message)
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
