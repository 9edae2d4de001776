"""Handlers of the MCP routes: `/<name>/mcp`, `/<name>/sse`, `/<name>/message`.

Each one parses (server, origin, principal, body), then hands the request to the proxy
piece that fits the pair (front transport, backend transport): a byte pass-through when
they match, the bridge otherwise, with the calling user's token for servers that need one
(`mcp_user_tokens.py`; without it, the gate answers and the backend is never called).
Nothing here speaks MCP beyond checking that a body is JSON-RPC.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

from aiohttp import web

from mcp_gate.appkeys import (
    AUTHENTICATOR,
    BACKENDS,
    BINDINGS,
    CONFIG,
    PRINCIPAL,
    SESSIONS,
    STANDALONE_STREAMS,
)
from mcp_gate.jsonrpc import (
    INVALID_REQUEST,
    InvalidMessageError,
    Message,
    kind_of,
    parse_messages,
    progress_token_of,
)
from mcp_gate.principal import Principal
from mcp_gate.proxy import bridge, legacy_sse, passthrough
from mcp_gate.proxy.backends import Backend
from mcp_gate.proxy.channels import Channel
from mcp_gate.proxy.headers import SESSION_HEADER
from mcp_gate.proxy.mcp_sessions import SessionLimitError
from mcp_gate.proxy.responses import body_too_large, jsonrpc_error, parse_error
from mcp_gate.web.bearer_auth import Unauthorized
from mcp_gate.web.mcp_user_tokens import (
    close_if_stale,
    refuse_messages,
    refusing_channel,
    user_credential,
)
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
    if len(request.headers.getall(SESSION_HEADER, ())) > 1:
        # Only the first is checked for ownership; a second could reach the backend unchecked.
        raise _Refused(jsonrpc_error(400, INVALID_REQUEST, "Bad Request: several session ids"))
    if not with_body:
        return McpCall(backend, principal)
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise _Refused(body_too_large(request.app[CONFIG].proxy.max_body_bytes)) from None
    try:
        messages, is_batch = parse_messages(body)
    except InvalidMessageError as exc:
        raise _Refused(parse_error(str(exc), exc.code)) from None
    if not all(_has_valid_ids(message) for message in messages):
        raise _Refused(
            jsonrpc_error(400, INVALID_REQUEST, "Invalid Request: bad id or progress token")
        )
    return McpCall(backend, principal, body, messages, is_batch)


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


def _message_path(request: web.Request, name: str) -> str:
    return f"{request.app[CONFIG].proxy.base_path}/{name}/message"


@contextlib.contextmanager
def _cut_at_shutdown(request: web.Request) -> Iterator[None]:
    """Registers a handler whose stream shutdown may end at once, without the grace period.

    Only the GET stream of a bridged session qualifies: the gate routes no response onto
    it, so nothing in flight is lost, and ending it lets the session's child stop. Other
    streams may carry responses (legacy SSE streams, resumed pass-through GET streams) and
    drain for the grace period instead."""
    task = asyncio.current_task()
    streams = request.app[STANDALONE_STREAMS]
    if task is not None:
        streams.add(task)
    try:
        yield
    finally:
        streams.discard(task)


async def handle_mcp(request: web.Request) -> web.StreamResponse:
    """Streamable HTTP front, every backend type."""
    try:
        call = await _prepare(request, with_body=request.method == "POST")
        backend, principal = call.backend, call.principal
        credential = await user_credential(request, backend, principal)
        registry = request.app[SESSIONS]
        if credential.needed and backend.transport != "streamable-http":
            session_id = request.headers.get(SESSION_HEADER)
            await close_if_stale(registry, session_id, principal, backend.name, credential)
        if credential.problem is not None:
            return refuse_messages(request, call.messages, call.is_batch, credential.problem)
        if backend.transport == "streamable-http":
            return await passthrough.forward_streamable(
                request,
                backend,
                principal,
                request.app[BINDINGS],
                call.body,
                credential.token,
                call.messages,
                call.is_batch,
            )
        if request.method == "POST":
            assert call.messages is not None
            return await bridge.streamable_post(
                request,
                registry,
                backend.name,
                principal,
                call.messages,
                call.is_batch,
                lambda: backend.open_channel(credential.token),
                backend.config.options.tool_filter,
                credential.fingerprint,
            )
        if request.method == "GET":
            with _cut_at_shutdown(request):
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
        credential = await user_credential(request, backend, principal)
        problem = credential.problem
        if problem is not None:

            async def refuse_everything() -> Channel:
                return refusing_channel(request, problem)

            return await bridge.legacy_open(
                request,
                request.app[SESSIONS],
                backend.name,
                principal,
                message_path,
                refuse_everything,
            )
        if backend.transport == "sse":
            return await legacy_sse.open_sse_stream(
                request, backend, principal, request.app[BINDINGS], message_path, credential.token
            )
        return await bridge.legacy_open(
            request,
            request.app[SESSIONS],
            backend.name,
            principal,
            message_path,
            lambda: backend.open_channel(credential.token),
            backend.config.options.tool_filter,
            credential.fingerprint,
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
    credential = await user_credential(request, backend, principal)
    if credential.needed:
        session_id = request.query.get("sessionId") or request.query.get("session_id")
        await close_if_stale(request.app[SESSIONS], session_id, principal, backend.name, credential)
    # Without a token, the session is the gate's own (handle_sse), even for an sse backend.
    if backend.transport == "sse" and credential.problem is None:
        assert call.body is not None
        return await legacy_sse.forward_message(
            request,
            backend,
            principal,
            request.app[BINDINGS],
            call.body,
            credential.token,
            call.messages,
            call.is_batch,
        )
    assert call.messages is not None
    return await bridge.legacy_message(
        request, request.app[SESSIONS], backend.name, principal, call.messages
    )
