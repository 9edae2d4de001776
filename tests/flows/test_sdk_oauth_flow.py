"""The official SDK client logs in through the gate and uses a server, end to end."""

from __future__ import annotations

import httpx2

from tests.fixtures.gate import remote
from tests.fixtures.mcp_clients import PY_SERVER, conformance_walk, sse_client, streamable_client
from tests.fixtures.oauth_flow import sdk_oauth


async def test_sdk_client_discovers_registers_consents_logs_in_and_calls_a_tool(
    oauth_gate_factory, py_streamable_server
):
    """MCP authorization (2026-07-28): PRM → AS metadata → DCR → consent → IdP → token."""
    servers = {"py": remote("py", "streamable-http", py_streamable_server.url)}
    async with oauth_gate_factory(servers) as gate:
        url = gate.url("/py/mcp")
        oauth = sdk_oauth(url)
        async with streamable_client(url, auth=oauth.provider) as client:
            walk = await conformance_walk(client, PY_SERVER)
    assert walk.problems == ()
    assert oauth.browser.pages_seen == ["consent"]
    assert oauth.storage.tokens is not None
    assert oauth.storage.tokens.refresh_token
    assert oauth.callbacks[-1].query["iss"] == gate.base_url


async def test_legacy_sse_client_logs_in_through_the_sse_resource(
    oauth_gate_factory, py_sse_server
):
    """The legacy front has its own resource metadata (RFC 9728); the SDK SSE client follows it."""
    servers = {"legacy": remote("legacy", "sse", py_sse_server.url)}
    async with oauth_gate_factory(servers) as gate:
        url = gate.url("/legacy/sse")
        oauth = sdk_oauth(url)
        async with sse_client(url, auth=oauth.provider) as client:
            walk = await conformance_walk(client, PY_SERVER)
    assert walk.problems == ()


async def test_request_without_token_gets_a_challenge_naming_the_resource_metadata(
    oauth_gate_factory, py_streamable_server
):
    """MCP authorization §Protected Resource Metadata Discovery; RFC 6750 §3; RFC 9728 §5.1."""
    servers = {"py": remote("py", "streamable-http", py_streamable_server.url)}
    async with oauth_gate_factory(servers) as gate, httpx2.AsyncClient() as http:
        response = await http.post(
            gate.url("/py/mcp"), json={"jsonrpc": "2.0", "id": 1, "method": "ping"}
        )
        challenge = response.headers["WWW-Authenticate"]
        prm = (
            await http.get(f"{gate.base_url}/.well-known/oauth-protected-resource/py/mcp")
        ).json()
        metadata = (
            await http.get(f"{gate.base_url}/.well-known/oauth-authorization-server")
        ).json()
    assert response.status_code == 401
    assert (
        f'resource_metadata="{gate.base_url}/.well-known/oauth-protected-resource/py/mcp"'
        in challenge
    )
    assert 'scope="mcp"' in challenge
    assert prm["resource"] == gate.url("/py/mcp")
    assert prm["authorization_servers"] == [gate.base_url]
    assert metadata["issuer"] == gate.base_url
    assert metadata["code_challenge_methods_supported"] == ["S256"]
