"""Where each MCP request is served: here, or at the replica that owns its session.

Two middlewares, the one place that decides "mine or relay" (docs/deploy.md §Scale-out):

- `internal_hops`, on the internal listener (`proxy.cluster.internalAddr`): only MCP
  routes, and only as authenticated hops (cluster/hop.py). A hop's verified caller (principal,
  token scopes, client address) goes on the request (`HOP_CALLER`) in place of bearer
  authentication (mcp_auth.py reads it); a malformed, forged, stale or replayed one gets
  403 and a log line. Anything else there is 404: the internal port serves nothing public.
- `session_relay`, after authentication, on the public listener: a request naming a
  session (`Mcp-Session-Id`, a legacy `sessionId`) that another replica owns goes there
  (cluster/relay.py) and its answer comes back; an owner that is gone (lease lapsed,
  connection refused) means 404 (MCP transports §Session Management: start a new
  session). A session of another principal is not found by the lookup, so it stays here
  and gets this replica's 404, as on every replica. A hop is never relayed again.
"""

from __future__ import annotations

from collections.abc import Awaitable

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler

from mcp_gate.appkeys import BINDINGS, CALLER, CLUSTER, HOP_CALLER, SERVER_NAME
from mcp_gate.cluster.hop import HopRefusedError
from mcp_gate.cluster.node import ClusterNode
from mcp_gate.cluster.relay import OwnerGoneError, Relay
from mcp_gate.jsonrpc import INVALID_REQUEST
from mcp_gate.policy.engine import Caller
from mcp_gate.proxy.call import legacy_session_id
from mcp_gate.proxy.headers import SESSION_HEADER
from mcp_gate.proxy.responses import jsonrpc_error, session_not_found
from mcp_gate.web.mcp_routes import mcp_route

log = structlog.get_logger()


def _local_port(request: web.Request) -> int | None:
    transport = request.transport
    sockname = transport.get_extra_info("sockname") if transport is not None else None
    return sockname[1] if isinstance(sockname, tuple) else None


def _named_session(request: web.Request) -> str | None:
    """The MCP session a request names, whichever front it is for."""
    route = mcp_route(request)
    if route is not None and route[1] == "message":
        return legacy_session_id(request)
    return request.headers.get(SESSION_HEADER)


async def _answer(response: web.StreamResponse) -> web.StreamResponse:
    return response


# Both middlewares are plain functions, not coroutines: a request that stays here is handed
# the next handler's awaitable itself, so a stream held open for hours keeps no frame of
# theirs.


@web.middleware
def internal_hops(request: web.Request, handler: Handler) -> Awaitable[web.StreamResponse]:
    node = request.app[CLUSTER]
    if node.hops is None or not node.is_internal(_local_port(request)):
        return handler(request)
    if mcp_route(request) is None:
        return _answer(jsonrpc_error(404, INVALID_REQUEST, "Not found on the internal listener"))
    try:
        caller = node.hops.verify(request.headers, request.method, request.path_qs)
    except HopRefusedError as exc:
        log.warning("hop_refused", reason=exc.reason, peer=request.remote)
        return _answer(jsonrpc_error(403, INVALID_REQUEST, "Forbidden: not a valid internal hop"))
    request[HOP_CALLER] = caller
    return handler(request)


@web.middleware
def session_relay(request: web.Request, handler: Handler) -> Awaitable[web.StreamResponse]:
    node = request.app[CLUSTER]
    caller = request.get(CALLER)
    if node.relay is None or caller is None or HOP_CALLER in request:
        return handler(request)
    session_id = _named_session(request)
    if not session_id:
        return handler(request)
    return _serve_or_relay(request, handler, node, node.relay, caller, session_id)


async def _serve_or_relay(
    request: web.Request,
    handler: Handler,
    node: ClusterNode,
    relay: Relay,
    caller: Caller,
    session_id: str,
) -> web.StreamResponse:
    bindings = request.app[BINDINGS]
    server = request[SERVER_NAME]
    binding = await bindings.lookup(server, session_id, caller.principal)
    if binding is None or bindings.is_local(binding):
        return await handler(request)
    owner_url = await node.replica.locate(binding.replica)
    if owner_url is None:
        log.info("session_owner_gone", server=server, mcp_session=session_id[:8], how="lease")
        return session_not_found()
    try:
        return await relay.forward(request, binding.replica, owner_url, caller)
    except OwnerGoneError:
        node.replica.forget(binding.replica)
        log.info("session_owner_gone", server=server, mcp_session=session_id[:8], how="refused")
        return session_not_found()
