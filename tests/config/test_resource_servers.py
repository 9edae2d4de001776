"""`proxy.auth.resourceServers`: external MCP servers the gate is the authorization server of."""

from __future__ import annotations

from mcp_gate.config import parse_config
from mcp_gate.config.model import ResourceServer, Secret
from tests.fixtures.config_files import google_auth, minimal_document, problems_of

SECRET = "tools-rs-secret-0123456789abcdef0123456789abcdef"


def _with_servers(*servers: object, clients: list | None = None) -> dict:
    document = minimal_document()
    document["proxy"]["auth"] = {**google_auth(), "resourceServers": list(servers)}
    if clients:
        document["proxy"]["auth"]["clients"] = clients
    return document


def test_resource_server_loads_with_its_resource_canonical():
    """RFC 8707 §2, MCP authorization §Canonical Server URI: lowercase host, no end slash."""
    document = _with_servers(
        {
            "resource": "HTTPS://Tools.Example.test/mcp/",
            "clientId": "tools-rs",
            "clientSecret": SECRET,
        }
    )
    auth = parse_config(document, {}).proxy.auth
    assert auth is not None
    assert auth.resource_servers == (
        ResourceServer("https://tools.example.test/mcp", "tools-rs", Secret(SECRET)),
    )


def test_resource_server_mistakes_are_reported_with_their_paths():
    """policy: TLS, outside the gate's own URL space, one id and one resource each."""
    tools = {
        "resource": "https://tools.example.test/mcp",
        "clientId": "tools-rs",
        "clientSecret": SECRET,
    }
    bot = {"clientId": "ci-bot", "clientName": "CI bot", "grantTypes": ["client_credentials"],
           "clientSecret": SECRET}  # fmt: skip
    problems = problems_of(
        _with_servers(
            tools,
            tools,
            tools | {"resource": "http://tools.example.test/mcp", "clientId": "b"},
            tools | {"resource": "https://gate.example.test/crm/mcp", "clientId": "c"},
            tools | {"resource": "https://x.example.test/mcp", "clientId": "ci-bot"},
            {"resource": "https://y.example.test/mcp"},
            clients=[bot],
        )
    )
    assert problems == [
        "proxy.auth.resourceServers[1].resource: repeats proxy.auth.resourceServers[0].resource",
        "proxy.auth.resourceServers[1].clientId: repeats proxy.auth.resourceServers[0].clientId",
        "proxy.auth.resourceServers[2].resource: must be an https URL without fragment (http "
        "only on loopback)",
        "proxy.auth.resourceServers[3].resource: lies under the gate's own baseURL "
        "(https://gate.example.test), where its mcpServers are served",
        "proxy.auth.resourceServers[4].clientId: is a client's id in proxy.auth.clients",
        "proxy.auth.resourceServers[5].clientId: required: the id it authenticates its "
        "introspection calls with",
        "proxy.auth.resourceServers[5].clientSecret: required: the secret it authenticates its "
        "introspection calls with",
    ]
