"""Discovery documents: RFC 8414 AS metadata, RFC 9728 protected-resource metadata, and the
JWK Set (RFC 7517 §5) of the identity JWTs backends receive.

Served at the origin's root `/.well-known/…` whatever the path of `baseURL` (RFC 8414 §3,
RFC 9728 §3: the well-known segment goes between host and path). Answered with 200 or
404 only, never a redirect (the Python SDK client stops discovery at a 3xx
or a 5xx).
"""

from __future__ import annotations

from aiohttp import web

from mcp_gate.appkeys import AUTH, IDENTITY_SIGNER
from mcp_gate.oauth.metadata import authorization_server_metadata, protected_resource_metadata
from mcp_gate.oauth.resources import canonical_uri

_PUBLIC_JSON = {"Cache-Control": "public, max-age=300"}


async def authorization_server(request: web.Request) -> web.Response:
    auth = request.app[AUTH]
    document = authorization_server_metadata(
        auth.issuer, auth.endpoint_base, auth.features, auth.scopes.supported()
    )
    return web.json_response(document, headers=_PUBLIC_JSON)


async def protected_resource(request: web.Request) -> web.Response:
    """`/.well-known/oauth-protected-resource/<base path>/<name>[/mcp|/sse]`, and the root
    document when the gate has exactly one server (it can describe one resource only;
    MCP 2025-11-25 authorization §Protected Resource Metadata Discovery Requirements)."""
    auth = request.app[AUTH]
    suffix = request.match_info.get("resource_path", "")
    if suffix:
        resource = f"{auth.issuer}/{suffix}"
        server = auth.resources.server_of(resource)
        if server not in auth.resources.servers:  # an external server publishes its own
            raise web.HTTPNotFound(text="no such protected resource\n")
        canonical = canonical_uri(resource)
    elif len(auth.resources.servers) == 1:
        only = next(iter(auth.resources.servers.values()))
        server, canonical = only.server, only.mcp
    else:
        raise web.HTTPNotFound(text="several resources: use the path-inserted document\n")
    document = protected_resource_metadata(
        canonical, auth.issuer, server, auth.scopes.supported(server)
    )
    return web.json_response(document, headers=_PUBLIC_JSON)


async def jwks(request: web.Request) -> web.Response:
    """`/.well-known/jwks.json`: every identity key, the signing one first."""
    return web.json_response(request.app[IDENTITY_SIGNER].public_jwks(), headers=_PUBLIC_JSON)
