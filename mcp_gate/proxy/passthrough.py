"""Streamable HTTP front on a streamable HTTP backend: a byte pass-through.

POST, GET and DELETE go upstream unchanged (reference §3.4: the gate does not answer 405
itself, the backend decides); statuses and bodies come back unchanged so clients can tell
protocol eras apart by them (reference §3.3). The gate adds one thing: the backend's
`Mcp-Session-Id` is bound to the principal that opened it, and only that principal may
use it afterwards.
"""

from __future__ import annotations

from aiohttp import web

from mcp_gate.principal import Principal
from mcp_gate.proxy.backends import Backend
from mcp_gate.proxy.bindings import SessionBindings
from mcp_gate.proxy.headers import SESSION_HEADER, build_upstream_headers
from mcp_gate.proxy.responses import session_not_found
from mcp_gate.proxy.upstream import open_upstream, relay_response


async def forward_streamable(
    request: web.Request,
    backend: Backend,
    principal: Principal,
    bindings: SessionBindings,
    body: bytes | None,
    user_token: str | None,
) -> web.StreamResponse:
    session_id = request.headers.get(SESSION_HEADER)
    if session_id and not await bindings.is_owner(backend.name, session_id, principal):
        return session_not_found()
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
    return await relay_response(request, upstream, backend.name, backend.config.timeout_seconds)
