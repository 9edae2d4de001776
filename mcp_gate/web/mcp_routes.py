"""The MCP routes, `/<name>/mcp`, `/<name>/sse` and `/<name>/message`, and which server and
front a request on one of them is for.

Each configured server's three paths are plain resources (`McpResource`): aiohttp's router
finds those in its index of exact paths, with one dictionary lookup, where a pattern like
`/{server}/mcp` is matched by a regular expression on every request (which cost more than
the rest of routing together). Behind them, the pattern resources catch every other name,
so that a server that does not exist gets the JSON-RPC 404 of mcp_auth.py. Either way a
request's route says the same two things (`mcp_route`), and its metrics label is the
pattern, not the server's path (one series per route, as before).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from aiohttp import web
from aiohttp.typedefs import Handler

Front = Literal["mcp", "sse", "message"]

# The pattern routes are named `mcp-*`; each name says its front.
_PATTERN_FRONTS: dict[str, Front] = {
    "mcp-post": "mcp",
    "mcp-get": "mcp",
    "mcp-delete": "mcp",
    "mcp-sse": "sse",
    "mcp-message": "message",
}


class McpResource(web.PlainResource):
    """One configured server's path of one front."""

    def __init__(self, path: str, server: str, front: Front, pattern: str) -> None:
        super().__init__(path)
        self.server = server
        self.front: Front = front
        self._pattern = pattern

    @property
    def canonical(self) -> str:
        return self._pattern


def mcp_route(request: web.Request) -> tuple[str, Front] | None:
    """(server name, front) of a request on an MCP route; None on any other route."""
    match_info = request.match_info
    resource = match_info.route.resource
    if isinstance(resource, McpResource):
        return resource.server, resource.front
    name = match_info.route.name
    front = _PATTERN_FRONTS.get(name) if name is not None else None
    if front is None:
        return None
    return match_info["server"], front


def add_mcp_routes(
    app: web.Application,
    base_path: str,
    servers: Iterable[str],
    *,
    mcp: Handler,
    sse: Handler,
    message: Handler,
) -> None:
    """Every configured server's MCP routes, then the patterns for every other name."""
    patterns: dict[Front, str] = {
        front: f"{base_path}/{{server}}/{front}" for front in ("mcp", "sse", "message")
    }
    for server in servers:
        routes: dict[Front, list[tuple[str, Handler]]] = {
            "mcp": [("POST", mcp), ("GET", mcp), ("DELETE", mcp)],
            "sse": [("GET", sse)],
            "message": [("POST", message)],
        }
        for front, methods in routes.items():
            resource = McpResource(f"{base_path}/{server}/{front}", server, front, patterns[front])
            app.router.register_resource(resource)
            for method, handler in methods:
                resource.add_route(method, handler)
    app.router.add_post(patterns["mcp"], mcp, name="mcp-post")
    app.router.add_get(patterns["mcp"], mcp, allow_head=False, name="mcp-get")
    app.router.add_delete(patterns["mcp"], mcp, name="mcp-delete")
    app.router.add_get(patterns["sse"], sse, allow_head=False, name="mcp-sse")
    app.router.add_post(patterns["message"], message, name="mcp-message")
