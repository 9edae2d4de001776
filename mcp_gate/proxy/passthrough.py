"""Streamable HTTP front on a streamable HTTP backend: a byte pass-through.

POST, GET and DELETE go upstream unchanged (reference §3.4: the gate does not answer 405
itself, the backend decides); statuses and bodies come back unchanged so clients can tell
protocol eras apart by them (reference §3.3). The gate adds one thing: the backend's
`Mcp-Session-Id` is bound to the principal that opened it, and only that principal may
use it afterwards.

A server with a tool filter (`tool_filter.py`) is the one exception to "unchanged": a POST
calling a filtered tool is answered by the gate (HTTP 200, JSON-RPC error) and never sent
on; any other POST goes on as the gate parsed it (`forwarded_body`), so the backend cannot
read into it what the filter did not see; every response (JSON body, or SSE event by event,
POST and GET streams alike, resumed ones included) has its tool lists filtered. Without a
filter the gate decides nothing on the body, and its bytes go as they came; the strict
parse (`jsonrpc.parse_messages`) has refused ambiguous bodies for every server already.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator

import structlog
from aiohttp import web

from mcp_gate.config.model import ToolFilter
from mcp_gate.errors import BackendUnavailableError
from mcp_gate.jsonrpc import INTERNAL_ERROR, Message, RequestId, dumps, error_response, is_request
from mcp_gate.principal import Principal
from mcp_gate.proxy.backends import Backend
from mcp_gate.proxy.bindings import SessionBindings
from mcp_gate.proxy.headers import SESSION_HEADER, build_upstream_headers
from mcp_gate.proxy.responses import session_not_found
from mcp_gate.proxy.sse import EventTooLargeError, SseParser, encode_event
from mcp_gate.proxy.tool_filter import (
    INVALID_PARAMS,
    check_call,
    filter_event,
    filter_json_body,
    forwarded_body,
)
from mcp_gate.proxy.upstream import open_upstream

log = structlog.get_logger()


async def forward_streamable(
    request: web.Request,
    backend: Backend,
    principal: Principal,
    bindings: SessionBindings,
    body: bytes | None,
    user_token: str | None,
    messages: list[Message] | None = None,
    is_batch: bool = False,
) -> web.StreamResponse:
    session_id = request.headers.get(SESSION_HEADER)
    if session_id and not await bindings.is_owner(backend.name, session_id, principal):
        return session_not_found()
    tool_filter = backend.config.options.tool_filter
    if tool_filter is not None and messages:
        refusal = _refuse_filtered_calls(tool_filter, messages, is_batch)
        if refusal is not None:
            return refusal
        body = forwarded_body(messages, is_batch)
    headers = build_upstream_headers(request.headers, backend.headers(user_token))
    upstream = await open_upstream(
        backend.http,
        backend.name,
        backend.config.timeout_seconds,
        request.method,
        backend.url(user_token),
        headers,
        body,
    )
    new_session = upstream.headers.get(SESSION_HEADER)
    if new_session and new_session != session_id and upstream.status < 300:
        await bindings.bind(backend.name, new_session, principal)
    if request.method == "DELETE" and session_id and upstream.status < 300:
        await bindings.forget(backend.name, session_id)
    request_ids = [m["id"] for m in messages or () if is_request(m)]
    rewrite = _filter_events(backend, tool_filter, request_ids) if tool_filter else None
    response = await backend.relay(request, upstream, rewrite)
    if (
        tool_filter
        and isinstance(response, web.Response)
        and isinstance(response.body, bytes)
        and response.content_type == "application/json"
    ):
        filtered = filter_json_body(tool_filter, response.body)
        if filtered is None:
            raise BackendUnavailableError(backend.name, "answered with a malformed message")
        response.body = filtered
    return response


def _refuse_filtered_calls(
    tool_filter: ToolFilter, messages: list[Message], is_batch: bool
) -> web.Response | None:
    """The gate's own answer to a POST that calls a filtered tool; None if none does.

    policy: a batch (MCP 2025-03-26) holding a filtered call is not sent at all; each of its
    requests gets an error, since one HTTP response cannot merge the gate's answers with
    the backend's.
    """
    refusals = [check_call(tool_filter, m) for m in messages]
    if not any(refusals):
        return None
    if not is_batch:
        assert refusals[0] is not None  # one message, and a refusal among the refusals
        return web.Response(body=dumps(refusals[0]), content_type="application/json")
    answers = [
        refusal
        or error_response(m["id"], INVALID_PARAMS, "Not sent: the batch calls a filtered tool")
        for m, refusal in zip(messages, refusals, strict=True)
        if is_request(m)
    ]
    return web.Response(body=dumps(answers), content_type="application/json")


def _filter_events(
    backend: Backend, tool_filter: ToolFilter, request_ids: list[RequestId]
) -> Callable[[AsyncIterator[bytes]], AsyncIterator[bytes]]:
    """The relay of a filtered SSE stream: every event decoded and filtered, within the
    message size cap; past the cap, the stream ends with an error for each request the
    POST carried (a GET stream simply ends)."""

    async def rewrite(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        parser = SseParser(backend.max_message_bytes)
        try:
            async for chunk in chunks:
                for out in filtered_events(backend.name, tool_filter, parser, chunk):
                    yield out
        except EventTooLargeError as exc:
            log.warning("backend_message_too_large", server=backend.name, limit=exc.limit_bytes)
            for request_id in request_ids:
                error = error_response(request_id, INTERNAL_ERROR, f"backend {exc}")
                yield encode_event(dumps(error), event="message")
        # An event cut off by the end of the stream is not relayed: WHATWG HTML §9.2.6
        # discards it, and the filter could not read it whole.

    return rewrite


def filtered_events(
    server: str, tool_filter: ToolFilter, parser: SseParser, chunk: bytes
) -> Iterator[bytes]:
    """What to relay of the events `chunk` completes, tool lists filtered; an event the
    filter cannot read is dropped (and logged). EventTooLargeError past the parser's cap."""
    for event in parser.feed(chunk):
        out = filter_event(tool_filter, event)
        if out is None:
            log.warning("backend_message_invalid", server=server)
        else:
            yield out
