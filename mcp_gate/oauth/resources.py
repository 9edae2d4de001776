"""Resource identifiers of the gate's servers (RFC 8707, RFC 9728) and how to match them.

Each server is one protected resource with a canonical URI, `<baseURL>/<name>/mcp`
(MCP authorization §Canonical Server URI: lowercase scheme and host, no fragment, no
trailing slash). Its legacy front `<baseURL>/<name>/sse` and `<baseURL>/<name>` name the
same server, since a client pointed at either asks for that URI. Matching tolerates a
trailing slash (the TypeScript SDK sends `https://host/` for an origin-only resource) and
an uppercase scheme or host (MCP 2025-11-25 authorization §Canonical Server URI).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from mcp_gate.oauth.errors import InvalidTarget

MCP_SCOPE = "mcp"
SCOPES_SUPPORTED = (MCP_SCOPE,)


def canonical_uri(uri: str) -> str:
    """Lowercase scheme and host, no fragment, no trailing slash (an origin keeps none).

    Raises `InvalidTarget` for a URI that does not parse (RFC 8707 §2: an absolute URI).
    """
    try:
        parts = urlsplit(uri.strip())
    except ValueError:  # e.g. an unclosed IPv6 bracket
        raise InvalidTarget("resource is not a valid URI") from None
    path = parts.path.rstrip("/")
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, parts.query, ""))


@dataclass(frozen=True)
class ServerResources:
    server: str
    mcp: str
    sse: str
    bare: str

    @property
    def all(self) -> tuple[str, str, str]:
        return (self.mcp, self.sse, self.bare)


def server_resources(base_url: str, server: str) -> ServerResources:
    root = canonical_uri(base_url)
    return ServerResources(
        server, f"{root}/{server}/mcp", f"{root}/{server}/sse", f"{root}/{server}"
    )


class ResourceIndex:
    """Every resource URI the gate issues tokens for, and the server each one names.

    The gate's own servers are named by their config name. An external resource server's
    resource (`resourceServers`, already canonical) names itself: no server name holds a
    `:`, so a token for it never opens a route of the gate, and `/authorize`, `/token` and
    the consent page treat it like any other resource.
    """

    def __init__(self, base_url: str, servers: Iterable[str], external: Iterable[str] = ()) -> None:
        self._by_uri: dict[str, str] = {}
        self.servers: dict[str, ServerResources] = {}
        for name in servers:
            resources = server_resources(base_url, name)
            self.servers[name] = resources
            for uri in resources.all:
                self._by_uri[uri] = name
        self.external = frozenset(external)
        for uri in self.external:
            self._by_uri[uri] = uri

    def resolve(self, resource: str | None) -> tuple[str, str]:
        """(canonical resource, server) for an RFC 8707 `resource` parameter.

        policy: a request without `resource` gets the gate's only server when there is
        exactly one; with several, the client must say which. External resources always
        need naming.
        """
        if not resource:
            if len(self.servers) == 1:
                only = next(iter(self.servers.values()))
                return only.mcp, only.server
            examples = [r.mcp for r in self.servers.values()] or sorted(self.external)
            raise InvalidTarget(
                "send the resource parameter (RFC 8707) naming the server, e.g. "
                + (examples[0] if examples else "its MCP endpoint URL")
            )
        canonical = canonical_uri(resource)
        server = self._by_uri.get(canonical)
        if server is None:
            raise InvalidTarget(f"unknown resource {resource!r}")
        return canonical, server

    def server_of(self, resource: str) -> str | None:
        exact = self._by_uri.get(resource)  # a token's audience is stored canonical
        if exact is not None:
            return exact
        try:
            return self._by_uri.get(canonical_uri(resource))
        except InvalidTarget:
            return None
