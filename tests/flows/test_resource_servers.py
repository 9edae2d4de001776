"""`resourceServers`: MCP servers elsewhere that use the gate as their authorization server.

A user authorizes an MCP client for such a server's resource (RFC 8707) through the gate's
usual flow (consent, the real OpenID provider); the server asks the gate about the token
by RFC 7662 introspection, authenticated with its own credentials, and learns about its
own tokens only.
"""

from __future__ import annotations

import base64

import pytest

from mcp_gate.config.model import ResourceServer, Secret, StaticClient
from tests.fixtures.gate import remote
from tests.fixtures.oauth_client import (
    Answer,
    log_in,
    mcp_initialize,
    register,
    request,
    revoke,
    unverified_claims,
)

TOOLS = "https://tools.example.test/mcp"
WIKI = "https://wiki.example.test/mcp"
TOOLS_SECRET = "tools-rs-secret-0123456789abcdef0123456789abcdef"
WIKI_SECRET = "wiki-rs-secret-0123456789abcdef0123456789abcdef0"
RESOURCE_SERVERS = (
    ResourceServer(TOOLS, "tools-rs", Secret(TOOLS_SECRET)),
    ResourceServer(WIKI, "wiki-rs", Secret(WIKI_SECRET)),
)
BOT_SECRET = "ci-bot-secret-0123456789abcdef0123456789abcdef"
CI_BOT = StaticClient(
    client_id="ci-bot",
    client_name="CI bot",
    redirect_uris=(),
    client_secret=Secret(BOT_SECRET),
    grant_types=("client_credentials",),
)


def _servers(py_streamable_server):
    return {"py": remote("py", "streamable-http", py_streamable_server.url)}


async def _introspect(
    gate, token: str, client_id: str = "tools-rs", secret: str | None = TOOLS_SECRET
) -> Answer:
    headers = {}
    if secret is not None:
        pair = f"{client_id}:{secret}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
    return await request("POST", gate.url("/introspect"), headers=headers, data={"token": token})


@pytest.fixture
def rs_gate(oauth_gate_factory, py_streamable_server):
    def start():
        return oauth_gate_factory(
            _servers(py_streamable_server), resource_servers=RESOURCE_SERVERS, clients=(CI_BOT,)
        )

    return start


async def test_resource_server_introspects_its_users_token_as_active(rs_gate):
    """RFC 7662 §2.2: active, with who and for what; the token's aud is the server's resource."""
    async with rs_gate() as gate:
        client = await register(gate.base_url)
        tokens = await log_in(gate.base_url, client, resource=TOOLS + "/")
        answer = await _introspect(gate, tokens.access_token)
    assert unverified_claims(tokens.access_token)["aud"] == TOOLS
    assert answer.status == 200
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.json["active"] is True
    assert answer.json["aud"] == TOOLS
    assert answer.json["email"] == "alice@example.com"
    assert answer.json["client_id"] == client.client_id
    assert answer.json["iss"] == gate.base_url
    assert answer.json["exp"] > answer.json["iat"] > 0


async def test_tokens_not_issued_for_the_callers_resource_are_inactive(rs_gate):
    """RFC 7662 §2.2 (policy): another server's valid token reads exactly as an unknown one."""
    async with rs_gate() as gate:
        client = await register(gate.base_url)
        for_wiki = await log_in(gate.base_url, client, resource=WIKI)
        for_gate = await log_in(gate.base_url, client, resource=gate.url("/py/mcp"))
        answers = [
            await _introspect(gate, token)
            for token in (
                for_wiki.access_token,
                for_gate.access_token,
                for_wiki.refresh_token,
                "not-a-token",
            )
        ]
        wiki_itself = await _introspect(gate, for_wiki.access_token, "wiki-rs", WIKI_SECRET)
    assert [answer.json for answer in answers] == [{"active": False}] * 4
    assert wiki_itself.json["active"] is True


async def test_introspection_without_its_credentials_is_401(rs_gate):
    """RFC 7662 §2.1: the caller MUST authenticate; RFC 6749 §5.2: invalid_client, 401."""
    async with rs_gate() as gate:
        client = await register(gate.base_url)
        tokens = await log_in(gate.base_url, client, resource=TOOLS)
        none = await _introspect(gate, tokens.access_token, secret=None)
        wrong = await _introspect(gate, tokens.access_token, secret="x" * 48)
        as_client = await _introspect(gate, tokens.access_token, "ci-bot", BOT_SECRET)
    for answer in (none, wrong, as_client):
        assert (answer.status, answer.error) == (401, "invalid_client")
        assert answer.headers["WWW-Authenticate"].startswith("Basic")
        assert "active" not in answer.json


async def test_revoked_token_introspects_inactive(rs_gate):
    """RFC 7009 §2.1 with RFC 7662 §2.2: a revoked token is no longer active."""
    async with rs_gate() as gate:
        client = await register(gate.base_url)
        tokens = await log_in(gate.base_url, client, resource=TOOLS)
        await revoke(gate.base_url, client, tokens.refresh_token)
        answer = await _introspect(gate, tokens.access_token)
    assert answer.json == {"active": False}


async def test_external_resource_token_opens_no_route_of_the_gate(rs_gate):
    """RFC 8707 §2: a token for the external resource is refused on the gate's servers."""
    async with rs_gate() as gate:
        client = await register(gate.base_url)
        tokens = await log_in(gate.base_url, client, resource=TOOLS)
        answer = await mcp_initialize(gate.url("/py/mcp"), tokens.access_token)
    assert answer.status == 401


async def test_machine_gets_a_token_for_the_external_resource(rs_gate):
    """RFC 6749 §4.4 with RFC 8707: /token accepts a resource server's resource."""
    async with rs_gate() as gate:
        form = {
            "grant_type": "client_credentials",
            "client_id": "ci-bot",
            "client_secret": BOT_SECRET,
            "resource": TOOLS,
        }
        issued = await request("POST", gate.url("/token"), data=form)
        answer = await _introspect(gate, issued.access_token)
        metadata = (await request("GET", gate.url("/.well-known/oauth-authorization-server"))).json
    assert answer.json["active"] is True
    assert answer.json["sub"] == "ci-bot"
    assert answer.json["principal_kind"] == "client"
    assert metadata["introspection_endpoint"] == gate.url("/introspect")


async def test_gate_serving_only_other_servers_asks_for_the_resource(oauth_gate_factory):
    """RFC 8707 §2: without a default server, a token request must name its resource."""
    async with oauth_gate_factory({}, resource_servers=RESOURCE_SERVERS, clients=(CI_BOT,)) as gate:
        form = {
            "grant_type": "client_credentials",
            "client_id": "ci-bot",
            "client_secret": BOT_SECRET,
        }
        answer = await request("POST", gate.url("/token"), data=form)
    assert (answer.status, answer.error) == (400, "invalid_target")
    assert "e.g. https://" in answer.json["error_description"]
