"""A request's client address, as every per-address rule reads it: `access.networks`,
the registration limit, `sessions.maxPerAddress`. The peer, or, behind a proxy of
`proxy.trustedProxies`, what its `X-Forwarded-For` says (policy/client_address.py)."""

from __future__ import annotations

from aiohttp import web

from mcp_gate.appkeys import CONFIG
from mcp_gate.policy.client_address import IpAddress, client_address

FORWARDED_FOR_HEADER = "X-Forwarded-For"


def client_address_of(request: web.Request) -> IpAddress | None:
    """The client address of `request`; None when it cannot be known."""
    trusted = request.app[CONFIG].proxy.trusted_proxies
    return client_address(request.remote, request.headers.getall(FORWARDED_FOR_HEADER, ()), trusted)
