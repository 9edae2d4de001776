"""Applying the rate limits (rate_limits.py) to requests: who is over, and the 429.

On the AS's endpoints a refusal is an OAuth error (`temporarily_unavailable`, RFC 6749
§5.2's closest code) rendered by the error middleware; on MCP routes a JSON-RPC error
body, since MCP clients read those. Both carry `Retry-After` (RFC 6585 §4, RFC 9110
§10.2.3). The client address is the connection's peer.
"""

from __future__ import annotations

import structlog
from aiohttp import web

from mcp_gate.appkeys import RATE_LIMITS
from mcp_gate.jsonrpc import dumps, error_response
from mcp_gate.oauth.errors import TooManyRequests
from mcp_gate.policy.client_address import IpAddress, address_text
from mcp_gate.principal import Principal
from mcp_gate.web.client_address import client_address_of

log = structlog.get_logger()

# JSON-RPC 2.0 §5.1: -32000..-32099 are the server's own errors; this one is "rate limited".
RATE_LIMITED = -32029


def _address(request: web.Request) -> str:
    """The client address (`proxy.trustedProxies` decides whose X-Forwarded-For counts)."""
    address = client_address_of(request)
    return str(address) if address is not None else "unknown"


async def check_address_limit(request: web.Request, endpoint: str) -> None:
    """Raise TooManyRequests (429 with Retry-After) when this client address is over the
    limit of `endpoint`: register, token or authorize."""
    address = _address(request)
    refusal = await request.app[RATE_LIMITS].check_address(endpoint, address)
    if refusal is not None:
        log.warning("rate_limited", endpoint=endpoint, remote=address)
        error = TooManyRequests(f"too many {endpoint} requests from this address; try later")
        error.retry_after_seconds = refusal.retry_after_seconds
        raise error


async def principal_over_limit(
    request: web.Request, principal: Principal, address: IpAddress | None
) -> web.Response | None:
    """The 429 for an MCP request over `proxy.limits.perUser`, or None when within it;
    `address` is the request's client address (client_address_of)."""
    limits = request.app[RATE_LIMITS]
    if not limits.limits_principals:
        return None
    where = address_text(address) if address is not None else "unknown"
    refusal = await limits.check_principal(principal, where)
    if refusal is None:
        return None
    log.warning("rate_limited", endpoint="mcp", principal=principal.id)
    wait = refusal.retry_after_seconds
    message = f"Too many requests: try again in {wait} s"
    body = error_response(None, RATE_LIMITED, message, {"retryAfterSeconds": wait})
    return web.Response(
        status=429,
        body=dumps(body),
        content_type="application/json",
        headers={"Retry-After": str(wait)},
    )
