"""`proxy.auth.resourceServers`: MCP servers elsewhere that use the gate as their AS.

Owns the meaning and checks of `proxy.auth.resourceServers[*]`: the server's resource URI
(RFC 8707, RFC 9728 `resource`; kept canonical), and the client id and secret it
authenticates its RFC 7662 introspection calls with (the same rules as a pre-registered
client's). A resource is one server's only: not under the gate's own `baseURL` (where the
gate's servers live) and not repeated; its id is no client's. Reads no files.
"""

from __future__ import annotations

from mcp_gate.config.clients_schema import parse_client_id, parse_client_secret
from mcp_gate.config.model import ResourceServer, StaticClient
from mcp_gate.config.section import Section
from mcp_gate.config.values import split_url
from mcp_gate.errors import OAuthError
from mcp_gate.loopback import is_tls_or_loopback_url
from mcp_gate.oauth.resources import canonical_uri

RESOURCE_SERVER_KEYS = ("resource", "clientId", "clientSecret")


def parse_resource_servers(
    auth: Section, base_url: str, clients: tuple[StaticClient, ...]
) -> tuple[ResourceServer, ...]:
    servers = []
    client_ids = {client.client_id for client in clients}
    first_path_of: dict[tuple[str, str], str] = {}
    for path, raw in auth.items("resourceServers"):
        section = Section(auth.ctx, path, raw, RESOURCE_SERVER_KEYS)
        before = len(section.ctx.problems)
        resource = _resource(section, base_url)
        section.need("clientId", "the id it authenticates its introspection calls with")
        section.need("clientSecret", "the secret it authenticates its introspection calls with")
        client_id = parse_client_id(section) or ""
        secret = parse_client_secret(section)
        if client_id in client_ids:
            section.ctx.error(section.at("clientId"), "is a client's id in proxy.auth.clients")
        for key, value in (("resource", resource), ("clientId", client_id)):
            if value and (key, value) in first_path_of:
                section.ctx.error(section.at(key), f"repeats {first_path_of[key, value]}")
            elif value:
                first_path_of[key, value] = section.at(key)
        if len(section.ctx.problems) == before and secret is not None:
            servers.append(ResourceServer(resource, client_id, secret))
    return tuple(servers)


def _resource(section: Section, base_url: str) -> str:
    if not section.need("resource", "its MCP endpoint URL, like https://tools.example.com/mcp"):
        return ""
    url = section.text("resource")
    parts = split_url(url)
    if not is_tls_or_loopback_url(url) or parts.fragment or parts.username:
        # RFC 8707 §2: an absolute URI without a fragment; policy: TLS, as for tokens.
        section.ctx.error(
            section.at("resource"), "must be an https URL without fragment (http only on loopback)"
        )
        return ""
    try:
        resource = canonical_uri(url)
    except OAuthError:
        section.ctx.error(section.at("resource"), "is not a valid URI")
        return ""
    base = canonical_uri(base_url) if base_url else ""
    if base and (resource == base or resource.startswith(base + "/")):
        section.ctx.error(
            section.at("resource"),
            f"lies under the gate's own baseURL ({base}), where its mcpServers are served",
        )
    return resource
