"""Authentication of the MCP routes, as a middleware: who calls which server, or a refusal.

On `/<name>/mcp`, `/<name>/sse` and `/<name>/message` (mcp_routes.py),
before any handler runs: the server must exist (404), a present `Origin` must be the gate's
or an allowed one (MCP transports §Security Warning: servers MUST validate Origin; 403),
the caller must authenticate for this server (bearer_auth.py: 401 with the RFC 6750 /
RFC 9728 challenge), the server's `access` must admit the caller (403, with a body saying
why; its protected-resource metadata stays public, being another route), at most one
`Mcp-Session-Id` may come (only the first would be checked for ownership), and the
principal must be within `proxy.limits.perUser` (429 with `Retry-After`: web/limits.py).
A request relayed by another replica (web/session_relay.py) was authenticated there: its
verified caller stands in for the bearer check. What passes is put on the request: the
server's fronts (`SERVER_FRONTS`), the principal (`PRINCIPAL`) and the caller the policy
judges (`CALLER`: principal, client address, token scopes), which the handlers and the
access log read. Other routes pass through untouched.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

from mcp_gate.appkeys import (
    AUTHENTICATOR,
    CALLER,
    CONFIG,
    FRONTS,
    HOP_CALLER,
    PRINCIPAL,
    RATE_LIMITS,
    SERVER_FRONTS,
    SERVER_NAME,
)
from mcp_gate.config.model import GateConfig
from mcp_gate.jsonrpc import INVALID_REQUEST
from mcp_gate.policy.engine import Caller
from mcp_gate.proxy.headers import SESSION_HEADER
from mcp_gate.proxy.responses import jsonrpc_error
from mcp_gate.web.bearer_auth import Unauthorized
from mcp_gate.web.client_address import client_address_of
from mcp_gate.web.limits import principal_over_limit
from mcp_gate.web.mcp_routes import mcp_route


def _origin_allowed(request: web.Request, config: GateConfig) -> bool:
    origin = request.headers.get("Origin")
    if origin is None:
        return True  # native and CLI clients send none
    allowed = config.proxy.auth.allowed_origins if config.proxy.auth else ()
    return origin.rstrip("/") == config.proxy.issuer or origin in allowed


@web.middleware
async def mcp_authentication(request: web.Request, handler: Handler) -> web.StreamResponse:
    route = mcp_route(request)
    if route is None:
        return await handler(request)
    name = route[0]
    app = request.app
    fronts = app[FRONTS].get(name)
    if fronts is None:
        return jsonrpc_error(404, INVALID_REQUEST, f"Unknown server {name!r}")
    request[SERVER_NAME] = name
    config = app[CONFIG]
    if not _origin_allowed(request, config):
        return jsonrpc_error(403, INVALID_REQUEST, "Forbidden: origin not allowed")
    # (Only a cluster relays: elsewhere the lookup would miss, at the cost of a KeyError.)
    hop_caller = request.get(HOP_CALLER) if config.proxy.cluster is not None else None
    if hop_caller is not None:
        # Authenticated, and its client address read, by the replica the client reached
        # (web/session_relay.py).
        caller = hop_caller
    else:
        authenticator, server = app[AUTHENTICATOR], fronts.backend.config
        # (Most requests are decided without a store read, and without an await.)
        authenticated = authenticator.known(request, server)
        if authenticated is None:
            try:
                authenticated = await authenticator.verify(request, server)
            except Unauthorized as exc:
                return exc.to_response()
        principal, scopes = authenticated
        caller = Caller(principal, client_address_of(request), scopes)
    principal = caller.principal
    request[PRINCIPAL] = principal
    refusal = fronts.backend.policy.refusal(caller)
    if refusal is not None:
        # policy: 403 and not 401: signing in again would not change the answer.
        return jsonrpc_error(403, INVALID_REQUEST, f"Forbidden: {refusal} ({name})")
    if len(request.headers.getall(SESSION_HEADER, ())) > 1:
        return jsonrpc_error(400, INVALID_REQUEST, "Bad Request: several session ids")
    # A relayed request was counted at the replica the client reached.
    if hop_caller is None and app[RATE_LIMITS].limits_principals:
        over_limit = await principal_over_limit(request, principal, caller.address)
        if over_limit is not None:
            return over_limit
    request[SERVER_FRONTS] = fronts
    request[CALLER] = caller
    return await handler(request)
