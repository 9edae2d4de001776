"""`mcpServers.<name>.identity` and `proxy.auth.identityKeys`: what backends are told."""

from __future__ import annotations

import base64

from mcp_gate.config import parse_config
from mcp_gate.config.model import IdentityConfig, IdentityJwt, Secret
from tests.fixtures.config_files import google_auth, minimal_document, problems_of

SEED = base64.b64encode(b"s" * 32).decode()


def _document(identity: dict, *, remote: bool = True, auth: bool = True, **server: object) -> dict:
    document = minimal_document()
    if remote:
        document["mcpServers"]["time"] = {
            "transportType": "streamable-http",
            "url": "https://user:pw@crm.example.test:8443/mcp?key=1",
        }
    document["mcpServers"]["time"] |= {"identity": identity, **server}
    if auth:
        document["proxy"]["auth"] = {**google_auth(), "identityKeys": [SEED]}
    return document


def test_remote_identity_loads_with_the_jwt_audience_from_the_url():
    """policy: the JWT's aud is the backend URL without userinfo, query or fragment."""
    identity = {
        "headers": {"X-Forwarded-Email": "{{email}}", "X-Forwarded-User": "{{principal}}"},
        "jwt": {"header": "X-Mcp-Gate-Identity", "ttl": "2m"},
    }
    config = parse_config(_document(identity), {})
    assert config.servers["time"].identity == IdentityConfig(
        headers={"X-Forwarded-Email": "{{email}}", "X-Forwarded-User": "{{principal}}"},
        jwt=IdentityJwt(
            header="X-Mcp-Gate-Identity",
            audience="https://crm.example.test:8443/mcp",
            ttl_seconds=120,
        ),
    )
    assert config.proxy.auth is not None
    assert config.proxy.auth.identity_keys == (Secret(SEED),)


def test_stdio_identity_is_environment_only():
    """policy: a child reads who it serves from its environment; it has no headers."""
    config = parse_config(_document({"env": {"MCP_USER_EMAIL": "{{email}}"}}, remote=False), {})
    assert config.servers["time"].identity == IdentityConfig(env={"MCP_USER_EMAIL": "{{email}}"})
    problems = problems_of(
        _document({"headers": {"X-User": "{{email}}"}, "jwt": {"header": "X-Id"}}, remote=False)
    )
    assert problems == [
        "mcpServers.time.identity.headers: not allowed: only for sse and streamable-http servers",
        "mcpServers.time.identity.jwt: not allowed: only for sse and streamable-http servers",
    ]


def test_identity_headers_the_gate_owns_or_the_server_sets_are_refused():
    """policy: the gate owns framing, the client's credentials and the MCP headers."""
    identity = {
        "headers": {
            "Authorization": "{{email}}",
            "Mcp-Session-Id": "{{subject}}",
            "Mcp-Param-Region": "{{domain}}",
            "X-Tenant": "{{domain}}",
            "X-User": "{{emial}}",
        },
        "jwt": {"header": "X-Tenant"},
    }
    problems = problems_of(_document(identity, headers={"x-tenant": "acme"}))
    assert problems == [
        "mcpServers.time.identity.headers.Authorization: a header the gate sets or forwards "
        "itself; choose another name",
        "mcpServers.time.identity.headers.Mcp-Session-Id: a header the gate sets or forwards "
        "itself; choose another name",
        "mcpServers.time.identity.headers.Mcp-Param-Region: a header the gate sets or "
        "forwards itself; choose another name",
        "mcpServers.time.identity.headers.X-Tenant: the server's headers already set it; set "
        "it in one place",
        "mcpServers.time.identity.headers.X-User: unknown placeholder {{emial}}; use "
        "{{email}}, {{subject}}, {{domain}}, {{groups}}, {{client}}, {{principal}}",
        "mcpServers.time.identity.jwt.header: the server's headers or identity.headers "
        "already set it",
    ]


def test_identity_jwt_needs_auth_a_printable_audience_and_a_short_life():
    """policy: keys live in proxy.auth; a secret URL is not copied into a token; <= 1h."""
    no_auth = problems_of(_document({"jwt": {"header": "X-Id"}}, auth=False))
    assert no_auth == [
        "mcpServers.time.identity.jwt: needs proxy.auth, which holds the signing keys"
    ]
    secret_url = _document({"jwt": {"header": "X-Id", "ttl": "2h"}}, url={"$env": "CRM_URL"})
    assert problems_of(secret_url, {"CRM_URL": "https://crm.example.test/mcp"}) == [
        "mcpServers.time.identity.jwt.ttl: must be at most 1h",
        "mcpServers.time.identity.jwt.audience: required: the server's url is a secret or a "
        "$userToken template",
    ]
