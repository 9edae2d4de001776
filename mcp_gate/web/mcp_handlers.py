"""Handlers of the MCP routes: `/<name>/mcp`, `/<name>/sse`, `/<name>/message`.

Each one parses (server, origin, principal, body), then hands the request to the proxy
piece that fits the pair (front transport, backend transport): a byte pass-through when
they match, the bridge otherwise. Nothing here speaks MCP beyond checking that a body is
JSON-RPC.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from mcp_gate.appkeys import AUTHENTICATOR, BACKENDS, BINDINGS, CONFIG, PRINCIPAL, SESSIONS
from mcp_gate.jsonrpc import INVALID_REQUEST, InvalidMessageError, Message, parse_messages
from mcp_gate.principal import Principal
from mcp_gate.proxy import bridge, legacy_sse, passthrough
from mcp_gate.proxy.backends import Backend
from mcp_gate.proxy.mcp_sessions import SessionLimitError
from mcp_gate.proxy.responses import body_too_large, jsonrpc_error, parse_error
from mcp_gate.web.bearer_auth import Unauthorized
from mcp_gate.web.middlewares import SERVER_NAME


@dataclass(frozen=True)
class McpCall:
    backend: Backend
    principal: Principal
    body: bytes | None = None
    messages: list[Message] | None = None
    is_batch: bool = False


class _Refused(Exception):
    def __init__(self, response: web.StreamResponse) -> None:
        self.response = response


def _check_origin(request: web.Request) -> None:
    """MCP transports §Security: validate Origin; a present, unknown one gets 403."""
    origin = request.headers.get("Origin")
    if origin is None:
        return  # native and CLI clients send none
    config = request.app[CONFIG]
    allowed = config.proxy.auth.allowed_origins if config.proxy.auth else ()
    if origin.rstrip("/") == config.proxy.issuer or origin in allowed:
        return
    raise _Refused(jsonrpc_error(403, INVALID_REQUEST, "Forbidden: origin not allowed"))


async def _prepare(request: web.Request, *, with_body: bool) -> McpCall:
    name = request.match_info["server"]
    backend = request.app[BACKENDS].get(name)
    if backend is None:
        raise _Refused(jsonrpc_error(404, INVALID_REQUEST, f"Unknown server {name!r}"))
    request[SERVER_NAME] = name
    _check_origin(request)
    try:
        principal = await request.app[AUTHENTICATOR].authenticate(request, backend.config)
    except Unauthorized as exc:
        raise _Refused(exc.to_response()) from None
    request[PRINCIPAL] = principal
    if not with_body:
        return McpCall(backend, principal)
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise _Refused(body_too_large(request.app[CONFIG].proxy.max_body_bytes)) from None
    try:
        messages, is_batch = parse_messages(body)
    except InvalidMessageError as exc:
        raise _Refused(parse_error(str(exc))) from None
    return McpCall(backend, principal, body, messages, is_batch)


def _message_path(request: web.Request, name: str) -> str:
    return f"{request.app[CONFIG].proxy.base_path}/{name}/message"


async def handle_mcp(request: web.Request) -> web.StreamResponse:
    """Streamable HTTP front, every backend type."""
    try:
        call = await _prepare(request, with_body=request.method == "POST")
        backend, principal = call.backend, call.principal
        if backend.transport == "streamable-http":
            return await passthrough.forward_streamable(
                request, backend, principal, request.app[BINDINGS], call.body, None
            )
        registry = request.app[SESSIONS]
        if request.method == "POST":
            assert call.messages is not None
            return await bridge.streamable_post(
                request,
                registry,
                backend.name,
                principal,
                call.messages,
                call.is_batch,
                lambda: backend.open_channel(None),
            )
        if request.method == "GET":
            return await bridge.streamable_get(request, registry, backend.name, principal)
        return await bridge.streamable_delete(request, registry, backend.name, principal)
    except _Refused as refused:
        return refused.response
    except SessionLimitError as exc:
        return jsonrpc_error(429, INVALID_REQUEST, str(exc))


async def handle_sse(request: web.Request) -> web.StreamResponse:
    """Legacy HTTP+SSE front: the stream."""
    try:
        call = await _prepare(request, with_body=False)
        backend, principal = call.backend, call.principal
        message_path = _message_path(request, backend.name)
        if backend.transport == "sse":
            return await legacy_sse.open_sse_stream(
                request, backend, principal, request.app[BINDINGS], message_path, None
            )
        return await bridge.legacy_open(
            request,
            request.app[SESSIONS],
            backend.name,
            principal,
            message_path,
            lambda: backend.open_channel(None),
        )
    except _Refused as refused:
        return refused.response
    except SessionLimitError as exc:
        return jsonrpc_error(429, INVALID_REQUEST, str(exc))


async def handle_message(request: web.Request) -> web.StreamResponse:
    """Legacy HTTP+SSE front: a client message."""
    try:
        call = await _prepare(request, with_body=True)
    except _Refused as refused:
        return refused.response
    backend, principal = call.backend, call.principal
    if backend.transport == "sse":
        assert call.body is not None
        return await legacy_sse.forward_message(
            request, backend, principal, request.app[BINDINGS], call.body, None
        )
    assert call.messages is not None
    return await bridge.legacy_message(
        request, request.app[SESSIONS], backend.name, principal, call.messages
    )
