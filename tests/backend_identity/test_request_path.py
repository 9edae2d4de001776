"""Identity for backends on the request path: who the backend is told the caller is.

The rule (MCP security best practices §Token Passthrough: a backend never gets
the gate's token): what a backend learns of the caller is what its `identity` config
gives it, rendered per request (headers, remote servers) or at child start (env, stdio),
for the caller of that very request; headers a client sends under those names never
pass. The echo backend (tests/servers/echo_headers.py) answers with the headers it got.
"""

from __future__ import annotations

import aiohttp
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from mcp_gate.config.model import IdentityConfig, IdentityJwt, ServerConfig
from tests.fixtures.gate import remote
from tests.fixtures.mcp_servers import py_stdio_command
from tests.fixtures.process_table import environ_of
from tests.fixtures.stdio_backends import RawSession
from tests.fixtures.user_tokens import PAGE_TIMEOUT, bearer, post_mcp, sign_in_mcp_user

pytestmark = pytest.mark.usefixtures("oidc_provider")

CALL = {"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "echo"}}
IDENTITY_HEADERS = {"X-Forwarded-Email": "{{email}}", "X-Forwarded-Domain": "{{domain}}"}


async def test_remote_backend_gets_the_callers_identity_headers_and_a_verifiable_jwt(
    oauth_gate_factory, echo_headers_server, oidc_provider
):
    """Each request carries its own caller's values; a client-sent X-Forwarded-Email never
    passes; the identity JWT verifies against the gate's JWKS for the backend's audience."""
    backend_url = echo_headers_server.url + "/mcp"
    identity = IdentityConfig(
        headers=IDENTITY_HEADERS,
        jwt=IdentityJwt(header="X-Mcp-Gate-Identity", audience=backend_url),
    )
    servers = {"crm": remote("crm", "streamable-http", backend_url, identity=identity)}
    async with oauth_gate_factory(servers) as gate:
        await oidc_provider.set_next_user(email="alice@example.com", hd="example.com")
        alice = await sign_in_mcp_user(gate, "crm")
        await oidc_provider.set_next_user(email="bob@example.com", hd="example.com")
        bob = await sign_in_mcp_user(gate, "crm")
        _, alice_echo = await post_mcp(
            gate, "crm", alice, CALL, **{"X-Forwarded-Email": "ceo@example.com"}
        )
        _, bob_echo = await post_mcp(gate, "crm", bob, CALL)
        async with (
            aiohttp.ClientSession(timeout=PAGE_TIMEOUT) as http,
            http.get(gate.url("/.well-known/jwks.json")) as answer,
        ):
            keys = KeySet.import_key_set(await answer.json())
    alice_headers = alice_echo["headers"]  # type: ignore[index]
    bob_headers = bob_echo["headers"]  # type: ignore[index]
    assert alice_headers["x-forwarded-email"] == "alice@example.com"
    assert alice_headers["x-forwarded-domain"] == "example.com"
    assert bob_headers["x-forwarded-email"] == "bob@example.com"
    claims = jwt.decode(alice_headers["x-mcp-gate-identity"], keys).claims
    assert claims["aud"] == backend_url
    assert claims["email"] == "alice@example.com"
    assert claims["iss"] == gate.base_url
    assert "authorization" not in alice_headers


async def test_stdio_child_gets_its_callers_identity_in_its_environment(
    oauth_gate_factory, oidc_provider, no_stray_children
):
    """`identity.env` is rendered at child start for the session's own user."""
    command, args = py_stdio_command()
    server = ServerConfig(
        name="py",
        transport_type="stdio",
        command=command,
        args=tuple(args),
        identity=IdentityConfig(env={"MCP_USER_EMAIL": "{{email}}"}),
    )
    async with oauth_gate_factory({"py": server}) as gate:
        await oidc_provider.set_next_user(email="carol@example.com", hd="example.com")
        token = await sign_in_mcp_user(gate, "py")
        async with aiohttp.ClientSession(timeout=PAGE_TIMEOUT) as http:
            session = RawSession(http, gate.url("/py/mcp"), bearer(token))
            await session.initialize()
            environment = environ_of(await session.child_pid())
            await session.delete()
    assert environment["MCP_USER_EMAIL"] == "carol@example.com"
