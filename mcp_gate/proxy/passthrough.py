"""Streamable HTTP front on a streamable HTTP backend: a byte pass-through.

POST, GET and DELETE go upstream unchanged (reference §3.4: the gate does not answer 405
itself, the backend decides); statuses and bodies come back unchanged so clients can tell
protocol eras apart by them (reference §3.3). The gate adds one thing: the backend's
`Mcp-Session-Id` is bound to the principal that opened it, and only that principal may
use it afterwards.

A server with a tool filter (`tool_filter.py`) is the one exception to "unchanged": a POST
calling a filtered tool is answered by the gate (HTTP 200, JSON-RPC error) and never sent
on; the response to a POST that carries `tools/list` is filtered, as a JSON body or, on an
SSE reply, event by event (only the events answering those requests are decoded; every
other byte passes as it came).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from aiohttp import web

from mcp_gate.config.model import ToolFilter
from mcp_gate.jsonrpc import Message, dumps, error_response, is_request
from mcp_gate.principal import Principal
from mcp_gate.proxy.backends import Backend
from mcp_gate.proxy.bindings import SessionBindings
from mcp_gate.proxy.headers import SESSION_HEADER, build_upstream_headers
from mcp_gate.proxy.responses import session_not_found
from mcp_gate.proxy.sse import SseParser
from mcp_gate.proxy.tool_filter import (
    INVALID_PARAMS,
    check_call,
    filter_event,
    filter_json_body,
    list_request_ids,
)
from mcp_gate.proxy.upstream import open_upstream, relay_response


async def forward_streamable(
    request: web.Request,
    backend: Backend,
    principal: Principal,
    bindings: SessionBindings,
    body: bytes | None,
    user_token: str | None,
    messages: list[Message] | None = None,
) -> web.StreamResponse:
    session_id = request.headers.get(SESSION_HEADER)
    if session_id and not await bindings.is_owner(backend.name, session_id, principal):
        return session_not_found()
    tool_filter = backend.config.options.tool_filter
    list_ids: set[object] = set()
    if tool_filter is not None and messages:
        refusal = _refuse_filtered_calls(tool_filter, messages, body or b"")
        if refusal is not None:
            return refusal
        list_ids = list_request_ids(messages)
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
    rewrite = _filter_events(tool_filter, list_ids) if tool_filter and list_ids else None
    response = await relay_response(
        request, upstream, backend.name, backend.config.timeout_seconds, rewrite_chunks=rewrite
    )
    if (
        tool_filter
        and list_ids
        and isinstance(response, web.Response)
        and isinstance(response.body, bytes)
        and response.content_type == "application/json"
    ):
        response.body = filter_json_body(tool_filter, response.body, list_ids)
    return response


def _refuse_filtered_calls(
    tool_filter: ToolFilter, messages: list[Message], body: bytes
) -> web.Response | None:
    """The gate's own answer to a POST that calls a filtered tool; None if none does.

    policy: a batch (MCP 2025-03-26) holding a filtered call is not sent at all; each of its
    requests gets an error, since one HTTP response cannot merge the gate's answers with
    the backend's.
    """
    refusals = [r for m in messages if (r := check_call(tool_filter, m)) is not None]
    if not refusals:
        return None
    if not body.lstrip().startswith(b"["):
        return web.Response(body=dumps(refusals[0]), content_type="application/json")
    refused_ids = {r["id"] for r in refusals}
    answers = [
        next(r for r in refusals if r["id"] == m["id"])
        if m["id"] in refused_ids
        else error_response(m["id"], INVALID_PARAMS, "Not sent: the batch calls a filtered tool")
        for m in messages
        if is_request(m)
    ]
    return web.Response(body=dumps(answers), content_type="application/json")


def _filter_events(
    tool_filter: ToolFilter, list_ids: set[object]
) -> Callable[[AsyncIterator[bytes]], AsyncIterator[bytes]]:
    async def rewrite(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        parser = SseParser()
        async for chunk in chunks:
            for event in parser.feed(chunk):
                yield filter_event(tool_filter, event, list_ids)
            if not list_ids:
                # Every tools/list answer went by: the rest passes untouched.
                if parser.pending:
                    yield parser.pending
                async for rest in chunks:
                    yield rest
                return
        if parser.pending:
            yield parser.pending

    return rewrite
