"""CORS for browser MCP clients (the Inspector's web UI) on the routes they call.

Fetch §CORS protocol, for the MCP Inspector's web UI: preflights answered on the well-known paths,
/token, /register, /revoke and the MCP endpoint; `WWW-Authenticate` exposed so a browser client
can read the 401 challenge; other origins get no CORS headers, and 403 on MCP routes
(MCP transports §Security: a present, invalid Origin gets 403).
"""

from __future__ import annotations

import pytest

from tests.fixtures.gate import remote
from tests.fixtures.oauth_client import log_in, register, request

pytestmark = pytest.mark.usefixtures("oidc_provider")

INSPECTOR = "http://localhost:6274"
STRANGER = "https://evil.test"
_PATHS = [
    "/token",
    "/register",
    "/revoke",
    "/py/mcp",
    "/.well-known/oauth-authorization-server",
    "/.well-known/oauth-protected-resource/py/mcp",
]


def _servers(backend):
    return {"py": remote("py", "streamable-http", backend.url)}


def _preflight_headers(origin: str, method: str = "POST") -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization, content-type, mcp-protocol-version",
    }


@pytest.mark.parametrize("path", _PATHS)
async def test_preflight_from_an_allowed_origin_gets_the_cors_headers(
    oauth_gate_factory, py_streamable_server, path
):
    """Fetch §CORS protocol: answer preflight for the routes a browser client calls."""
    async with oauth_gate_factory(
        _servers(py_streamable_server), allowed_origins=(INSPECTOR,)
    ) as gate:
        answer = await request("OPTIONS", gate.url(path), headers=_preflight_headers(INSPECTOR))
    assert answer.status == 204
    assert answer.headers["Access-Control-Allow-Origin"] in (INSPECTOR, "*")
    assert "POST" in answer.headers["Access-Control-Allow-Methods"]
    allowed = answer.headers["Access-Control-Allow-Headers"].lower()
    assert {"authorization", "content-type", "mcp-protocol-version"} <= {
        h.strip() for h in allowed.split(",")
    }
    assert "WWW-Authenticate" in answer.headers["Access-Control-Expose-Headers"]
    assert "Access-Control-Allow-Credentials" not in answer.headers


async def test_challenge_of_the_mcp_route_is_readable_by_an_allowed_browser_origin(
    oauth_gate_factory, py_streamable_server
):
    """Fetch §CORS protocol: without WWW-Authenticate exposed, browser discovery fails."""
    async with oauth_gate_factory(
        _servers(py_streamable_server), allowed_origins=(INSPECTOR,)
    ) as gate:
        answer = await request(
            "POST",
            gate.url("/py/mcp"),
            headers={"Origin": INSPECTOR, "Accept": "application/json, text/event-stream"},
            json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
        )
    assert answer.status == 401
    assert answer.headers["Access-Control-Allow-Origin"] == INSPECTOR
    exposed = [h.strip() for h in answer.headers["Access-Control-Expose-Headers"].split(",")]
    assert {"WWW-Authenticate", "Mcp-Session-Id", "MCP-Protocol-Version"} <= set(exposed)


async def test_token_endpoint_answers_an_allowed_origin_with_cors_headers(
    oauth_gate_factory, py_streamable_server
):
    """The Inspector exchanges its code from the page."""
    async with oauth_gate_factory(
        _servers(py_streamable_server), allowed_origins=(INSPECTOR,)
    ) as gate:
        client = await register(gate.base_url)
        answer = await request(
            "POST",
            gate.url("/token"),
            headers={"Origin": INSPECTOR},
            data={
                "grant_type": "refresh_token",
                "refresh_token": "x",
                "client_id": client.client_id,
            },
        )
    assert answer.status == 400
    assert answer.headers["Access-Control-Allow-Origin"] == INSPECTOR


async def test_discovery_documents_are_readable_from_any_origin(
    oauth_gate_factory, py_streamable_server
):
    """policy: discovery documents are public; any page may read them."""
    async with oauth_gate_factory(_servers(py_streamable_server)) as gate:
        answer = await request(
            "GET", gate.url("/.well-known/oauth-authorization-server"), headers={"Origin": STRANGER}
        )
    assert answer.status == 200
    assert answer.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("path", ["/token", "/register", "/revoke", "/py/mcp"])
async def test_preflight_from_another_origin_gets_no_cors_headers(
    oauth_gate_factory, py_streamable_server, path
):
    """docs/config.md `allowedOrigins`: only `allowedOrigins` (and the gate's own origin) get
    CORS."""
    async with oauth_gate_factory(
        _servers(py_streamable_server), allowed_origins=(INSPECTOR,)
    ) as gate:
        answer = await request("OPTIONS", gate.url(path), headers=_preflight_headers(STRANGER))
    assert answer.status == 403
    assert not any(name.startswith("Access-Control-") for name in answer.headers)


async def test_mcp_request_from_another_origin_is_forbidden_even_with_a_good_token(
    oauth_gate_factory, py_streamable_server
):
    """MCP transports §Security (2025-11-25+): a present, invalid Origin gets 403."""
    async with oauth_gate_factory(
        _servers(py_streamable_server), allowed_origins=(INSPECTOR,)
    ) as gate:
        client = await register(gate.base_url)
        tokens = await log_in(gate.base_url, client)
        answer = await request(
            "POST",
            gate.url("/py/mcp"),
            headers={
                "Origin": STRANGER,
                "Authorization": f"Bearer {tokens.access_token}",
                "Accept": "application/json, text/event-stream",
            },
            json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
        )
    assert answer.status == 403
    assert "Access-Control-Allow-Origin" not in answer.headers


async def test_token_endpoint_gives_another_origin_no_cors_headers(
    oauth_gate_factory, py_streamable_server
):
    """Fetch §CORS protocol: a page of another origin cannot read token responses."""
    async with oauth_gate_factory(
        _servers(py_streamable_server), allowed_origins=(INSPECTOR,)
    ) as gate:
        answer = await request(
            "POST",
            gate.url("/token"),
            headers={"Origin": STRANGER},
            data={"grant_type": "refresh_token", "refresh_token": "x", "client_id": "x"},
        )
    assert "Access-Control-Allow-Origin" not in answer.headers
