"""Handlers of the MCP routes: `/<name>/mcp`, `/<name>/sse`, `/<name>/message`.

By the time a handler runs, the authentication middleware (mcp_auth.py) has found the
server's fronts and the principal. A handler reads the body (bounded by
`proxy.maxBodySize`), parses it strictly (`jsonrpc.parse_messages`), finds the user's
token for servers that need one, and calls the front: one `McpCall` in, one response out.
On a server that judges tools (policy/engine.py) two refusals come first, for every
front: a `tools/call` whose tool needs a scope the token lacks gets the 403 step-up
challenge (the client authorizes again with it), and a streamable POST whose mirrored
headers disagree with its body gets 400 -32020 (mirrored_headers.py).
Which front that is was decided at start (proxy/fronts.py); without the user token a
server needs, the front answers in the backend's place (user_credentials.py).
Nothing here speaks MCP beyond checking that a body is JSON-RPC.
"""

from __future__ import annotations

from aiohttp import web

from mcp_gate.appkeys import AUTHENTICATOR, CALLER, CONFIG, SERVER_FRONTS, USER_CREDENTIALS
from mcp_gate.jsonrpc import (
    INVALID_REQUEST,
    InvalidMessageError,
    Message,
    kind_of,
    parse_messages,
    progress_token_of,
)
from mcp_gate.oauth.resources import MCP_SCOPE
from mcp_gate.policy.client_address import address_text
from mcp_gate.proxy.call import McpCall
from mcp_gate.proxy.mcp_sessions import NotTakingSessionsError, SessionLimitError
from mcp_gate.proxy.mirrored_headers import HEADER_MISMATCH, header_mismatch
from mcp_gate.proxy.responses import body_too_large, jsonrpc_error, parse_error
from mcp_gate.proxy.tool_filter import missing_scopes
from mcp_gate.proxy.user_credentials import NOT_NEEDED
from mcp_gate.web.request_bodies import arrived_body
from mcp_gate.web.tool_call_audit import audit_refused, audited


def _is_identifier(value: object) -> bool:
    # MCP schema: RequestId and ProgressToken are `string | number`.
    return isinstance(value, str | int | float) and not isinstance(value, bool)


def _has_valid_ids(message: Message) -> bool:
    """A request's id and progress token are strings or numbers (a response's id may be
    null); the bridge keys its routing on them."""
    request_id = message.get("id")
    id_ok = _is_identifier(request_id) or (request_id is None and kind_of(message) == "response")
    token = progress_token_of(message)
    return ("id" not in message or id_ok) and (token is None or _is_identifier(token))


async def _call(
    request: web.Request, *, with_body: bool, mirrored: bool = False
) -> McpCall | web.Response:
    """The request as its front takes it, or the gate's refusal of a bad body; `mirrored`
    when its headers may mirror its body (a streamable POST)."""
    fronts = request[SERVER_FRONTS]
    caller = request[CALLER]
    principal = caller.principal
    engine = fronts.backend.policy
    tools = engine.for_caller(caller) if engine.judges_tools else None
    address = address_text(caller.address) if caller.address is not None else None
    app = request.app
    credentials, server = app[USER_CREDENTIALS], fronts.backend.config
    credential = (
        await credentials.for_request(principal, server)
        if credentials.needed(server)
        else NOT_NEEDED
    )
    if not with_body:
        return McpCall(request, principal, credential, tools=tools, client_address=address)
    limit = app[CONFIG].proxy.max_body_bytes  # (aiohttp's client_max_size too)
    try:
        body = arrived_body(request, limit)
        if body is None:
            body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return body_too_large(limit)
    try:
        messages, is_batch = parse_messages(body)
    except InvalidMessageError as exc:
        return parse_error(str(exc), exc.code)
    for message in messages:
        if not _has_valid_ids(message):
            return jsonrpc_error(400, INVALID_REQUEST, "Invalid Request: bad id or progress token")
    if tools is not None:
        mismatch = header_mismatch(request.headers, messages) if mirrored else None
        if mismatch is not None:
            return jsonrpc_error(400, HEADER_MISMATCH, f"Header mismatch: {mismatch}")
        missing = missing_scopes(tools, messages)
        if missing:
            audit_refused(
                request,
                McpCall(request, principal, credential, body, messages, client_address=address),
                "needs_scope",
            )
            needed = list(dict.fromkeys((MCP_SCOPE, *sorted(caller.scopes), *missing)))
            description = f"this tool needs the scope {' '.join(missing)}"
            return app[AUTHENTICATOR].scope_challenge(
                request, fronts.backend.config, needed, description
            )
    return McpCall(request, principal, credential, body, messages, is_batch, tools, address)


def _too_many_sessions(exc: SessionLimitError | NotTakingSessionsError) -> web.Response:
    if isinstance(exc, NotTakingSessionsError):
        # A stopping replica: the client's retry reaches another one (docs/deploy.md).
        response = jsonrpc_error(503, INVALID_REQUEST, str(exc))
        response.headers["Retry-After"] = "0"
        return response
    return jsonrpc_error(429, INVALID_REQUEST, str(exc))


async def handle_mcp(request: web.Request) -> web.StreamResponse:
    """Streamable HTTP front, every backend type."""
    posted = request.method == "POST"
    call = await _call(request, with_body=posted, mirrored=posted)
    if not isinstance(call, McpCall):  # (a plain class: no ABC check, as Response has)
        return call
    front = request[SERVER_FRONTS].streamable
    try:
        if request.method == "POST":
            return await audited(call, front.post)
        if request.method == "GET":
            return await front.get(call)
        return await front.delete(call)
    except (SessionLimitError, NotTakingSessionsError) as exc:
        return _too_many_sessions(exc)


async def handle_sse(request: web.Request) -> web.StreamResponse:
    """Legacy HTTP+SSE front: the stream."""
    call = await _call(request, with_body=False)
    if not isinstance(call, McpCall):
        return call
    try:
        return await request[SERVER_FRONTS].legacy.open_stream(call)
    except (SessionLimitError, NotTakingSessionsError) as exc:
        return _too_many_sessions(exc)


async def handle_message(request: web.Request) -> web.StreamResponse:
    """Legacy HTTP+SSE front: a client message."""
    call = await _call(request, with_body=True)
    if not isinstance(call, McpCall):
        return call
    return await audited(call, request[SERVER_FRONTS].legacy.message, legacy=True)
