"""Streamable HTTP front on a streamable HTTP backend: a byte pass-through.

POST, GET and DELETE go upstream unchanged (MCP transports: the backend, not the gate,
decides what a method means and answers 405); statuses and bodies come back unchanged so
clients can tell protocol eras apart by them. The gate adds one thing: the backend's
`Mcp-Session-Id` is bound to the principal that opened it, and only that principal may
use it afterwards (MCP security best practices §Session Hijacking).

The standalone GET stream is opened upstream before anything else of the request that
can wait, and a session's requests wait for it while it is expected or being opened
(get_stream_hold.py): a server sends its own requests (sampling, elicitation) on that
stream, and a `tools/call` that overtakes the GET would make them go nowhere.

A server that judges tools (a `toolFilter` or `tools` rules: `tool_filter.py`) is the one
exception to "unchanged": a POST calling a tool the caller may not call is answered by the
gate (HTTP 200, JSON-RPC error) and never sent on; any other POST goes on as the gate
parsed it (`forwarded_body`), so the backend cannot read into it what the filter did not
see; every response (JSON body, or SSE event by event, POST and GET streams alike, resumed
ones included) has its tool lists filtered for the caller. Without either the gate decides
nothing on the body, and its bytes go as they came; the strict parse
(`jsonrpc.parse_messages`) has refused ambiguous bodies for every server already.
"""

from __future__ import annotations

from collections.abc import Awaitable

from aiohttp import web

from mcp_gate.audit import Audit, AuditEvent
from mcp_gate.errors import BackendUnavailableError
from mcp_gate.http1 import Response
from mcp_gate.jsonrpc import Message, dumps, error_response, is_request
from mcp_gate.policy.engine import ToolAccess
from mcp_gate.proxy.backends import Backend
from mcp_gate.proxy.bindings import SessionBindings
from mcp_gate.proxy.call import McpCall
from mcp_gate.proxy.filtered_sse import filter_stream
from mcp_gate.proxy.get_stream_hold import GetStreamHold
from mcp_gate.proxy.headers import SESSION_HEADER, build_upstream_headers
from mcp_gate.proxy.responses import session_not_found
from mcp_gate.proxy.tool_filter import (
    INVALID_PARAMS,
    check_call,
    filter_json_body,
    forwarded_body,
)
from mcp_gate.proxy.upstream import Upstream
from mcp_gate.proxy.user_credentials import refuse_messages

_INITIALIZED = "notifications/initialized"


class StreamablePassthrough:
    """The streamable front of one streamable-HTTP server."""

    def __init__(
        self,
        backend: Backend,
        upstream: Upstream,
        bindings: SessionBindings,
        audit: Audit | None = None,
    ) -> None:
        self._audit = audit or Audit()
        self._backend = backend
        self._upstream = upstream
        self._bindings = bindings
        self._get_hold = GetStreamHold()

    async def post(self, call: McpCall) -> web.StreamResponse:
        session_id = call.session_id
        if not self._may_go_on(call, session_id):
            refusal = await self._refusal(call)
            if refusal is not None:
                return refusal
        messages = call.messages or []
        if session_id and self._get_hold.holds(session_id) and any(map(is_request, messages)):
            await self._get_hold.wait(session_id)
        body = call.body
        if call.tools is not None and call.messages:
            filtered = _refuse_filtered_calls(call.tools, call.messages, call.is_batch)
            if filtered is not None:
                return filtered
            body = forwarded_body(call.messages, call.is_batch)
        upstream = await self._send(call, body)
        if session_id and any(m.get("method") == _INITIALIZED for m in messages):
            self._get_hold.expect(session_id)
        return await self._relay(call, upstream)

    async def get(self, call: McpCall) -> web.StreamResponse:
        refusal = await self._refusal(call)
        if refusal is not None:
            return refusal
        session_id = call.session_id
        if not session_id:
            return await self._relay(call, await self._send(call, None))
        with self._get_hold.opening(session_id):
            upstream = await self._send(call, None)
        return await self._relay(call, upstream)

    async def delete(self, call: McpCall) -> web.StreamResponse:
        refusal = await self._refusal(call)
        if refusal is not None:
            return refusal
        session_id = call.session_id
        upstream = await self._send(call, None)
        if session_id and upstream.status < 300:
            await self._bindings.forget(self._backend.name, session_id)
            self._audit_session("session_closed", call, session_id, reason="deleted by client")
        return await self._relay(call, upstream)

    def _may_go_on(self, call: McpCall, session_id: str | None) -> bool:
        """The request may go on, as known without a store read: a user token where one
        is needed, and a session this process knows the caller opened (or none). False
        means "ask `_refusal`"."""
        return call.credential.problem is None and (
            not session_id
            or self._bindings.known_owner(self._backend.name, session_id, call.principal)
        )

    async def _refusal(self, call: McpCall) -> web.Response | None:
        """The gate's answer in the backend's place: no user token, or not the caller's
        session (404, as for an unknown one); None when the request may go on."""
        if call.credential.problem is not None:
            return refuse_messages(call.credential, call.messages, call.is_batch)
        session_id = call.session_id
        if session_id and not await self._bindings.is_owner(
            self._backend.name, session_id, call.principal
        ):
            return session_not_found()
        return None

    async def _send(self, call: McpCall, body: bytes | None) -> Response:
        token = call.credential.token
        headers = build_upstream_headers(
            call.request.headers, self._backend.request_headers(call.principal, token)
        )
        upstream = await self._upstream.send(
            call.request.method, self._backend.url(token), headers, body
        )
        new_session = upstream.headers.get(SESSION_HEADER)
        if new_session and new_session != call.session_id and upstream.status < 300:
            await self._bindings.bind(self._backend.name, new_session, call.principal)
            self._audit_session("session_opened", call, new_session)
        return upstream

    def _audit_session(
        self, event: AuditEvent, call: McpCall, session_id: str, reason: str | None = None
    ) -> None:
        self._audit.emit(
            event,
            principal=call.principal.id,
            client_id=call.principal.client_id or None,
            server=self._backend.name,
            mcp_session=session_id[:8],
            reason=reason,
        )

    def _relay(self, call: McpCall, upstream: Response) -> Awaitable[web.StreamResponse]:
        # (Not a coroutine: an unfiltered relay is awaited without a frame of this one.)
        if call.tools is None:
            return self._upstream.relay(call.request, upstream)
        return self._relay_filtered(call, call.tools, upstream)

    async def _relay_filtered(
        self, call: McpCall, access: ToolAccess, upstream: Response
    ) -> web.StreamResponse:
        request_ids = [m["id"] for m in call.messages or () if is_request(m)]
        rewrite = filter_stream(
            self._backend.name, access, self._upstream.max_body_bytes, request_ids
        )
        response = await self._upstream.relay(call.request, upstream, rewrite)
        if (
            isinstance(response, web.Response)
            and isinstance(response.body, bytes)
            and response.content_type == "application/json"
        ):
            filtered = filter_json_body(access, response.body)
            if filtered is None:
                raise BackendUnavailableError(
                    self._backend.name, "answered with a malformed message"
                )
            response.body = filtered
        return response


def _refuse_filtered_calls(
    access: ToolAccess, messages: list[Message], is_batch: bool
) -> web.Response | None:
    """The gate's own answer to a POST that calls a filtered tool; None if none does.

    policy: a batch (MCP 2025-03-26) holding a filtered call is not sent at all; each of its
    requests gets an error, since one HTTP response cannot merge the gate's answers with
    the backend's.
    """
    refusals = [check_call(access, m) for m in messages]
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
