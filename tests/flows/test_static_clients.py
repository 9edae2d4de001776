"""Pre-registered clients (`proxy.auth.clients`) through a whole login, then an MCP call.

MCP 2025-11-25 authorization §Preregistration: VS Code, when it cannot register, asks its user
for a client id for `http://127.0.0.1:33418` and `https://vscode.dev/redirect`, and listens
on another port when 33418 is busy. The repository rules are unit-tested in
tests/oauth/test_clients.py; here the gate runs with the clients in its config.
"""

from __future__ import annotations

import pytest
from mcp.shared.auth import OAuthClientInformationFull

from mcp_gate.config.model import Secret, StaticClient
from tests.fixtures.gate import remote
from tests.fixtures.mcp_clients import streamable_client
from tests.fixtures.oauth_client import (
    Pkce,
    RegisteredClient,
    authorization_url,
    exchange_code,
    log_in,
    request,
)
from tests.fixtures.oauth_flow import CLIENT_REDIRECT_URI, Browser, sdk_oauth
from tests.fixtures.ports import free_port

pytestmark = pytest.mark.usefixtures("oidc_provider")

SECRET = "9f2c4e6a8b0d1f3e5a7c9b1d3f5e7a9c"
VSCODE = StaticClient(
    client_id="vscode",
    client_name="Visual Studio Code",
    redirect_uris=("http://127.0.0.1:33418/", "https://vscode.dev/redirect"),
)
TEAM_TOOL = StaticClient(
    client_id="team-tool",
    client_name="Team tool",
    redirect_uris=(CLIENT_REDIRECT_URI,),
    client_secret=Secret(SECRET),
)


def _servers(backend):
    return {"py": remote("py", "streamable-http", backend.url)}


def _as_used(
    client: StaticClient, *, secret: str | None, method: str, redirect_uri: str
) -> RegisteredClient:
    """The client as its user set it up: the configured id, whatever secret they typed."""
    return RegisteredClient(
        client_id=client.client_id,
        client_secret=secret,
        auth_method=method,
        redirect_uri=redirect_uri,
    )


async def test_static_public_client_logs_in_on_another_loopback_port_and_calls_a_tool(
    oauth_gate_factory, py_streamable_server
):
    """RFC 8252 §7.3: VS Code's id, its redirect on any port, no DCR."""
    vscode = _as_used(
        VSCODE, secret=None, method="none", redirect_uri=f"http://127.0.0.1:{free_port()}/"
    )
    async with oauth_gate_factory(_servers(py_streamable_server), clients=(VSCODE,)) as gate:
        consent = await request("GET", authorization_url(gate.base_url, vscode, pkce=Pkce.new()))
        consent_page = await request("GET", gate.url(consent.headers["Location"]))
        tokens = await log_in(gate.base_url, vscode)
        headers = {"Authorization": f"Bearer {tokens.access_token}"}
        async with streamable_client(gate.url("/py/mcp"), headers) as mcp:
            result = await mcp.call_tool("echo", {"text": "pre-registered"})
    assert "Visual Studio Code" in consent_page.text
    assert result.content[0].text == "pre-registered"


async def test_static_confidential_client_must_present_its_secret(
    oauth_gate_factory, py_streamable_server
):
    """RFC 6749 §2.3.1, §5.2: wrong or no secret is 401 invalid_client; the right one works."""
    pkce = Pkce.new()
    right = _as_used(
        TEAM_TOOL, secret=SECRET, method="client_secret_basic", redirect_uri=CLIENT_REDIRECT_URI
    )
    wrong = _as_used(
        TEAM_TOOL, secret="x" * 32, method="client_secret_post", redirect_uri=CLIENT_REDIRECT_URI
    )
    without = _as_used(TEAM_TOOL, secret=None, method="none", redirect_uri=CLIENT_REDIRECT_URI)
    async with oauth_gate_factory(_servers(py_streamable_server), clients=(TEAM_TOOL,)) as gate:
        url = authorization_url(gate.base_url, right, pkce=pkce)
        code = (await Browser().walk(url, stop_at=CLIENT_REDIRECT_URI)).query["code"]
        refused_wrong = await exchange_code(gate.base_url, wrong, code, pkce)
        refused_without = await exchange_code(gate.base_url, without, code, pkce)
        accepted = await exchange_code(gate.base_url, right, code, pkce)
    for refused in (refused_wrong, refused_without):
        assert refused.status == 401
        assert refused.error == "invalid_client"
    assert accepted.status == 200, accepted.text


async def test_sdk_client_with_pre_registered_credentials_skips_registration(
    oauth_gate_factory, py_streamable_server
):
    """MCP 2025-11-25 authorization §Client Registration Approaches: pre-registered credentials come
    first; the SDK never registers."""
    async with oauth_gate_factory(_servers(py_streamable_server), clients=(TEAM_TOOL,)) as gate:
        url = gate.url("/py/mcp")
        sdk = sdk_oauth(url)
        sdk.storage.client_info = OAuthClientInformationFull(
            client_id=TEAM_TOOL.client_id,
            client_secret=SECRET,
            token_endpoint_auth_method="client_secret_basic",
            redirect_uris=[CLIENT_REDIRECT_URI],  # type: ignore[list-item]
        )
        async with streamable_client(url, auth=sdk.provider) as mcp:
            result = await mcp.call_tool("echo", {"text": "static credentials"})
    assert result.content[0].text == "static credentials"
    assert sdk.storage.client_info.client_id == "team-tool"
    assert sdk.storage.tokens is not None
