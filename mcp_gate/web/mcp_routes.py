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

from collections.abc import Iterable, Mapping
from typing import Literal

from aiohttp import web
from aiohttp.typedefs import Handler

Front = Literal["mcp", "sse", "message"]

# The methods of each front (MCP transports; any other method is 405 with these in `Allow`).
_METHODS: dict[Front, tuple[str, ...]] = {
    "mcp": ("POST", "GET", "DELETE"),
    "sse": ("GET",),
    "message": ("POST",),
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


class McpPatternResource(web.DynamicResource):
    """`/{server}/<front>`, for the names of no configured server."""

    def __init__(self, pattern: str, front: Front) -> None:
        super().__init__(pattern)
        self.front: Front = front


def mcp_route(request: web.Request) -> tuple[str, Front] | None:
    """(server name, front) of a request on an MCP route; None on any other route."""
    match_info = request.match_info
    resource = match_info.route.resource
    if isinstance(resource, McpResource):
        return resource.server, resource.front
    if isinstance(resource, McpPatternResource):
        return match_info["server"], resource.front
    return None


def add_mcp_routes(
    app: web.Application,
    base_path: str,
    servers: Iterable[str],
    handlers: Mapping[Front, Handler],
) -> None:
    """Every configured server's MCP routes, and the patterns for every other name (found
    only when no plain path matched: the router looks exact paths up first)."""
    names = list(servers)
    for front, methods in _METHODS.items():
        pattern = f"{base_path}/{{server}}/{front}"
        resources: list[web.Resource] = [
            McpResource(f"{base_path}/{name}/{front}", name, front, pattern) for name in names
        ]
        resources.append(McpPatternResource(pattern, front))
        for resource in resources:
            app.router.register_resource(resource)
            for method in methods:
                resource.add_route(method, handlers[front])
