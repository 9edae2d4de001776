"""Discovery: RFC 8414 AS metadata and RFC 9728 protected-resource metadata at the gate.

Well-known URLs answer 200 or 404, never a redirect and never 5xx (the Python SDK client
stops discovery on a 3xx or 5xx, the TypeScript one throws on a 5xx); the issuer is
byte-identical everywhere (RFC 8414 §3.3); each front of each server has its own PRM, and
the root PRM exists only when it can describe the one server (RFC 9728 §3.1).
"""

from __future__ import annotations

import pytest

from mcp_gate.config.model import Secret, ServiceAuth
from tests.fixtures.gate import make_config, remote, running_gate
from tests.fixtures.mcp_clients import PY_SERVER, conformance_walk, streamable_client
from tests.fixtures.oauth_client import request
from tests.fixtures.oauth_flow import sdk_oauth

pytestmark = pytest.mark.usefixtures("oidc_provider")


def _one_server(backend):
    return {"py": remote("py", "streamable-http", backend.url)}


def _two_servers(backend):
    return {
        "alpha": remote("alpha", "streamable-http", backend.url),
        "beta": remote("beta", "streamable-http", backend.url),
    }


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/.well-known/oauth-authorization-server", 200),
        ("/.well-known/oauth-protected-resource", 200),
        ("/.well-known/oauth-protected-resource/py/mcp", 200),
        ("/.well-known/oauth-protected-resource/py/mcp/", 200),
        ("/.well-known/oauth-protected-resource/py/sse", 200),
        ("/.well-known/oauth-protected-resource/py", 200),
        ("/.well-known/oauth-authorization-server/", 404),
        ("/.well-known/oauth-authorization-server/py/mcp", 404),
        ("/.well-known/openid-configuration", 404),
        ("/py/mcp/.well-known/openid-configuration", 404),
        ("/.well-known/oauth-protected-resource/nope/mcp", 404),
        ("/.well-known/oauth-protected-resource/py/mcp/extra", 404),
    ],
)
async def test_well_known_urls_answer_200_or_404_and_never_redirect(
    oauth_gate_factory, py_streamable_server, path, status
):
    """The Python SDK client stops discovery on a 3xx or 5xx."""
    async with oauth_gate_factory(_one_server(py_streamable_server)) as gate:
        answer = await request("GET", gate.url(path))
    assert answer.status == status
    if status == 200:
        assert answer.headers["Content-Type"].startswith("application/json")


async def test_authorization_server_metadata_advertises_what_mcp_clients_need(
    oauth_gate_factory, py_streamable_server
):
    """RFC 8414 §2, §3.3; RFC 9207 §3; MCP 2025-11-25 authorization §Client ID Metadata Documents,
    §Scope Selection Strategy."""
    async with oauth_gate_factory(_one_server(py_streamable_server)) as gate:
        metadata = (await request("GET", gate.url("/.well-known/oauth-authorization-server"))).json
    assert metadata["issuer"] == gate.base_url
    assert not metadata["issuer"].endswith("/")
    for name, path in (
        ("authorization_endpoint", "/authorize"),
        ("token_endpoint", "/token"),
        ("registration_endpoint", "/register"),
        ("revocation_endpoint", "/revoke"),
    ):
        assert metadata[name] == gate.url(path)
    assert metadata["response_types_supported"] == ["code"]
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["grant_types_supported"] == ["authorization_code", "refresh_token"]
    assert set(metadata["token_endpoint_auth_methods_supported"]) == {
        "none",
        "client_secret_post",
        "client_secret_basic",
    }
    assert metadata["client_id_metadata_document_supported"] is True
    assert metadata["authorization_response_iss_parameter_supported"] is True
    assert "offline_access" not in metadata["scopes_supported"]


async def test_each_front_has_its_own_protected_resource_metadata(
    oauth_gate_factory, py_streamable_server
):
    """RFC 9728 §3 with MCP authorization §Canonical Server URI: `resource` is the endpoint URL."""
    async with oauth_gate_factory(_two_servers(py_streamable_server)) as gate:
        documents = {
            path: (
                await request("GET", gate.url(f"/.well-known/oauth-protected-resource{path}"))
            ).json
            for path in ("/alpha/mcp", "/alpha/sse", "/beta/mcp")
        }
    for path, document in documents.items():
        assert document["resource"] == gate.url(path)
        assert document["authorization_servers"] == [gate.base_url]
        assert document["scopes_supported"] == ["mcp"]
        assert document["bearer_methods_supported"] == ["header"]


async def test_root_protected_resource_metadata_describes_the_only_server(
    oauth_gate_factory, py_streamable_server
):
    """RFC 9728 §3.1: the root document can describe one resource only."""
    async with oauth_gate_factory(_one_server(py_streamable_server)) as gate:
        answer = await request("GET", gate.url("/.well-known/oauth-protected-resource"))
    assert answer.status == 200
    assert answer.json["resource"] == gate.url("/py/mcp")


async def test_root_protected_resource_metadata_is_404_with_two_servers(
    oauth_gate_factory, py_streamable_server
):
    """RFC 9728 §3.1: with several resources only the path-inserted documents exist."""
    async with oauth_gate_factory(_two_servers(py_streamable_server)) as gate:
        answer = await request("GET", gate.url("/.well-known/oauth-protected-resource"))
    assert answer.status == 404


async def test_legacy_sse_front_challenge_points_at_its_own_metadata(
    oauth_gate_factory, py_streamable_server
):
    """RFC 9728 §5.1: the 401 of `/<name>/sse` names the PRM whose resource is that URL."""
    async with oauth_gate_factory(_one_server(py_streamable_server)) as gate:
        answer = await request("GET", gate.url("/py/sse"), headers={"Accept": "text/event-stream"})
        challenge = answer.headers["WWW-Authenticate"]
        metadata_url = challenge.split('resource_metadata="')[1].split('"')[0]
        document = (await request("GET", metadata_url)).json
    assert answer.status == 401
    assert metadata_url == f"{gate.base_url}/.well-known/oauth-protected-resource/py/sse"
    assert document["resource"] == gate.url("/py/sse")


async def test_sdk_client_logs_in_to_a_gate_served_under_a_path(
    oauth_gate_factory, py_streamable_server
):
    """docs/routes.md: every route honours a path in baseURL; the issuer keeps none (RFC 8414
    §2)."""
    async with oauth_gate_factory(_one_server(py_streamable_server), base_path="/gate") as gate:
        url = gate.url("/py/mcp")
        oauth = sdk_oauth(url)
        async with streamable_client(url, auth=oauth.provider) as client:
            walk = await conformance_walk(client, PY_SERVER)
        prm = await request(
            "GET", f"http://127.0.0.1:{gate.port}/.well-known/oauth-protected-resource/gate/py/mcp"
        )
        metadata = await request(
            "GET", f"http://127.0.0.1:{gate.port}/.well-known/oauth-authorization-server"
        )
    assert walk.problems == ()
    assert gate.base_url.endswith("/gate")
    assert prm.json["resource"] == url
    assert metadata.json["issuer"] == f"http://127.0.0.1:{gate.port}"
    assert metadata.json["token_endpoint"] == gate.url("/token")
    assert oauth.callbacks[-1].query["iss"] == metadata.json["issuer"]


async def test_published_urls_come_from_base_url_never_from_the_host_header(
    oauth_gate_factory, py_streamable_server
):
    """MCP 2025-11-25 authorization §Communication Security: behind a TLS terminator, URLs derive
    from configuration."""
    async with oauth_gate_factory(_one_server(py_streamable_server)) as gate:
        spoofed = {"Host": "evil.test", "X-Forwarded-Host": "evil.test"}
        metadata = await request(
            "GET", gate.url("/.well-known/oauth-authorization-server"), headers=spoofed
        )
        challenge = await request("POST", gate.url("/py/mcp"), headers=spoofed, json={})
    assert "evil.test" not in metadata.text
    assert metadata.json["issuer"] == gate.base_url
    assert "evil.test" not in challenge.headers["WWW-Authenticate"]


async def test_gate_without_oauth_publishes_no_discovery_and_no_oauth_challenge(
    py_streamable_server,
):
    """No PRM and no OAuth challenge where OAuth is not used (Claude Code starts OAuth on one)."""
    server = remote(
        "py",
        "streamable-http",
        py_streamable_server.url,
        service_auths=(ServiceAuth(type="bearer", tokens=(Secret("machine-token"),)),),
    )
    async with running_gate(make_config({"py": server})) as gate:
        documents = [
            (await request("GET", gate.url(path))).status
            for path in (
                "/.well-known/oauth-authorization-server",
                "/.well-known/oauth-protected-resource",
                "/.well-known/oauth-protected-resource/py/mcp",
            )
        ]
        challenge = await request("POST", gate.url("/py/mcp"), json={})
    assert documents == [404, 404, 404]
    assert challenge.status == 401
    assert "resource_metadata" not in challenge.headers["WWW-Authenticate"]
