"""Machine clients: `client_credentials` (RFC 6749 §4.4; the MCP client-credentials
extension), by client secret or `private_key_jwt` (RFC 7523 §2.2), end to end.

The machine is the official Python SDK's `ClientCredentialsOAuthProvider` or
`PrivateKeyJWTOAuthProvider`, which discovers the gate from a 401 like any MCP client; its
keys come from the config (`jwks`) or from a JWK Set the test serves (`jwksUrl`). No user
signs in, so the IdP is never contacted (its discovery URL points nowhere).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import mcp_types as types
import pytest
from joserfc.jwk import ECKey
from mcp.client.auth.extensions.client_credentials import (
    ClientCredentialsOAuthProvider,
    PrivateKeyJWTOAuthProvider,
)

from mcp_gate.appkeys import AUTH
from mcp_gate.config.model import Secret, StaticClient
from mcp_gate.oauth.client_assertions import CLIENT_ASSERTION_TYPE
from mcp_gate.principal import Principal
from tests.fixtures.gate import RunningGate, make_config, remote, running_gate
from tests.fixtures.jwt_issuer import LocalIssuer
from tests.fixtures.mcp_clients import streamable_client
from tests.fixtures.oauth_client import Answer, mcp_initialize, request, unverified_claims
from tests.fixtures.oauth_flow import MemoryTokenStorage, oauth_config
from tests.fixtures.ports import free_port

SECRET = "ci-bot-secret-0123456789abcdef0123456789abcdef"
CI_BOT = StaticClient(
    client_id="ci-bot",
    client_name="CI bot",
    redirect_uris=(),
    client_secret=Secret(SECRET),
    grant_types=("client_credentials",),
)
MachineGate = Callable[..., AbstractAsyncContextManager[RunningGate]]


@pytest.fixture
def machine_gate(py_streamable_server) -> MachineGate:
    """A gate with OAuth on (its IdP unreachable: no one signs in) and two servers."""

    @asynccontextmanager
    async def start(*clients: StaticClient) -> AsyncIterator[RunningGate]:
        nowhere = f"http://127.0.0.1:{free_port()}/.well-known/openid-configuration"
        auth = oauth_config(nowhere, client_id="gate", client_secret="unused", clients=clients)
        servers = {
            name: remote(name, "streamable-http", py_streamable_server.url) for name in ("a", "b")
        }
        async with running_gate(make_config(servers, auth=auth)) as gate:
            yield gate

    return start


def _key_client(issuer: LocalIssuer, client_id: str = "ci-bot", **fields: object) -> StaticClient:
    """A machine authenticating by private_key_jwt with `issuer`'s key."""
    return StaticClient(
        client_id=client_id,
        client_name="CI bot",
        redirect_uris=(),
        grant_types=("client_credentials",),
        **fields,  # type: ignore[arg-type]
    )


def _assertion_provider(issuer: LocalIssuer, *, key: ECKey | None = None, **claims: object):
    """The SDK's callback: an assertion for `audience`, signed with the issuer's key."""

    async def provide(audience: str) -> str:
        base = issuer.claims(audience, iss="ci-bot", sub="ci-bot")
        return issuer.sign(base | claims, key=key)

    return provide


async def _call_echo(gate: RunningGate, server: str, provider) -> str:
    async with streamable_client(gate.url(f"/{server}/mcp"), auth=provider) as client:
        result = await client.call_tool("echo", {"text": "from the bot"})
    assert isinstance(result.content[0], types.TextContent)
    return result.content[0].text


async def _token(gate: RunningGate, form: dict[str, str], **headers: str) -> Answer:
    return await request("POST", gate.url("/token"), headers=headers, data=form)


def _assertion_form(assertion: str, resource: str) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_assertion_type": CLIENT_ASSERTION_TYPE,
        "client_assertion": assertion,
        "resource": resource,
    }


async def test_machine_with_a_client_secret_gets_a_token_and_calls_a_tool(
    machine_gate: MachineGate,
):
    """RFC 6749 §4.4; MCP client-credentials extension: secret by Basic, no refresh token."""
    async with machine_gate(CI_BOT) as gate:
        storage = MemoryTokenStorage()
        provider = ClientCredentialsOAuthProvider(
            gate.url("/a/mcp"), storage, "ci-bot", SECRET, issuer=gate.base_url
        )
        assert await _call_echo(gate, "a", provider) == "from the bot"
    assert storage.tokens is not None
    assert storage.tokens.refresh_token is None  # RFC 6749 §4.4.3
    claims = unverified_claims(storage.tokens.access_token)
    assert (claims["sub"], claims["aud"], claims["kind"]) == (
        "ci-bot",
        gate.url("/a/mcp"),
        "client",
    )


async def test_machine_with_private_key_jwt_from_inline_jwks_calls_a_tool(
    machine_gate: MachineGate, jwt_issuer: LocalIssuer
):
    """RFC 7523 §2.2, §3: the SDK's assertion, aud the issuer, verified with `jwks`."""
    async with machine_gate(_key_client(jwt_issuer, jwks=jwt_issuer.public_jwks())) as gate:
        provider = PrivateKeyJWTOAuthProvider(
            gate.url("/a/mcp"),
            MemoryTokenStorage(),
            "ci-bot",
            _assertion_provider(jwt_issuer),
            issuer=gate.base_url,
        )
        assert await _call_echo(gate, "a", provider) == "from the bot"


async def test_machine_with_private_key_jwt_from_jwks_url_calls_a_tool(
    machine_gate: MachineGate, jwt_issuer: LocalIssuer
):
    """RFC 7523 §2.2: keys fetched from the client's `jwksUrl`, once for many tokens."""
    async with machine_gate(_key_client(jwt_issuer, jwks_url=jwt_issuer.jwks_url)) as gate:
        for server in ("a", "b"):
            provider = PrivateKeyJWTOAuthProvider(
                gate.url(f"/{server}/mcp"),
                MemoryTokenStorage(),
                "ci-bot",
                _assertion_provider(jwt_issuer),
                issuer=gate.base_url,
            )
            assert await _call_echo(gate, server, provider) == "from the bot"
    assert jwt_issuer.jwks_requests == 1


async def test_machine_token_names_the_client_principal_and_only_its_resource(
    machine_gate: MachineGate,
):
    """RFC 8707 §2: bound to the one resource asked for; the principal is `client:<id>`."""
    async with machine_gate(CI_BOT) as gate:
        form = {
            "grant_type": "client_credentials",
            "client_id": "ci-bot",
            "client_secret": SECRET,
            "resource": gate.url("/a/mcp"),
        }
        answer = await _token(gate, form)
        assert answer.status == 200
        assert "refresh_token" not in answer.json
        principal = await gate.app[AUTH].verifier.verify(answer.access_token, "a")
        elsewhere = await mcp_initialize(gate.url("/b/mcp"), answer.access_token)
        here = await mcp_initialize(gate.url("/a/mcp"), answer.access_token)
    assert principal == Principal.client("ci-bot")
    assert principal is not None
    assert principal.id == "client:ci-bot"
    assert elsewhere.status == 401
    assert here.status == 200


async def test_replayed_client_assertion_is_refused(
    machine_gate: MachineGate, jwt_issuer: LocalIssuer
):
    """RFC 7523 §3 item 7 (policy: always): a `jti` is used once."""
    async with machine_gate(_key_client(jwt_issuer, jwks=jwt_issuer.public_jwks())) as gate:
        assertion = jwt_issuer.sign(
            jwt_issuer.claims(gate.url("/token"), iss="ci-bot", sub="ci-bot")
        )
        first = await _token(gate, _assertion_form(assertion, gate.url("/a/mcp")))
        again = await _token(gate, _assertion_form(assertion, gate.url("/a/mcp")))
    assert first.status == 200
    assert (again.status, again.error) == (401, "invalid_client")
    assert "already used" in again.json["error_description"]


def _bad_assertions(issuer: LocalIssuer, token_endpoint: str) -> dict[str, str]:
    now = int(time.time())
    stranger = ECKey.generate_key("P-256", {"kid": "key-1"})
    valid = issuer.claims(token_endpoint, iss="ci-bot", sub="ci-bot")
    return {
        "another audience": issuer.sign(valid | {"aud": "https://other.example/token"}),
        "expired": issuer.sign(valid | {"exp": now - 3600, "iat": now - 3700, "nbf": now - 3700}),
        "far future": issuer.sign(valid | {"exp": now + 86400}),
        "no jti": issuer.sign({k: v for k, v in valid.items() if k != "jti"}),
        "iss not the client": issuer.sign(valid | {"iss": "someone-else"}),
        "signed by another key": issuer.sign(valid, key=stranger),
        "not a JWT": "not.a.jwt",
    }


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("another audience", "aud must be this server's issuer or token endpoint"),
        ("expired", "the JWT has expired"),
        ("far future", "exp is more than 600 seconds away"),
        ("no jti", "jti is required"),
        ("iss not the client", "iss and sub must be the client id"),
        ("signed by another key", "the signature does not verify"),
        ("not a JWT", "names no client"),
    ],
)
async def test_bad_client_assertion_is_refused_with_its_reason(
    machine_gate: MachineGate, jwt_issuer: LocalIssuer, case: str, reason: str
):
    """RFC 7523 §3 items 1-7: each check refuses with invalid_client and says which."""
    async with machine_gate(_key_client(jwt_issuer, jwks=jwt_issuer.public_jwks())) as gate:
        assertion = _bad_assertions(jwt_issuer, gate.url("/token"))[case]
        answer = await _token(gate, _assertion_form(assertion, gate.url("/a/mcp")))
    assert (answer.status, answer.error) == (401, "invalid_client")
    assert reason in answer.json["error_description"]


async def test_secret_client_presenting_an_assertion_and_key_client_a_secret_are_refused(
    machine_gate: MachineGate, jwt_issuer: LocalIssuer
):
    """RFC 6749 §2.3: a client authenticates the way it was registered, one way at a time."""
    key_client = _key_client(jwt_issuer, "key-bot", jwks=jwt_issuer.public_jwks())
    async with machine_gate(CI_BOT, key_client) as gate:
        assertion = jwt_issuer.sign(
            jwt_issuer.claims(gate.url("/token"), iss="ci-bot", sub="ci-bot")
        )
        by_key = await _token(gate, _assertion_form(assertion, gate.url("/a/mcp")))
        form = {"grant_type": "client_credentials", "client_id": "key-bot", "client_secret": SECRET}
        by_secret = await _token(gate, form)
    assert (by_key.status, by_key.error) == (401, "invalid_client")
    assert (by_secret.status, by_secret.error) == (401, "invalid_client")


async def test_machine_client_cannot_start_a_user_authorization(machine_gate: MachineGate):
    """RFC 6749 §4.4: a client_credentials client acts for itself; /authorize shows a page."""
    async with machine_gate(CI_BOT) as gate:
        answer = await request("GET", gate.url("/authorize?response_type=code&client_id=ci-bot"))
    assert answer.status == 400
    assert "machine client" in answer.text


async def test_revoked_machine_token_stops_working(machine_gate: MachineGate):
    """RFC 7009 §2.1: the client revokes its own access token; the gate refuses it at once."""
    async with machine_gate(CI_BOT) as gate:
        creds = {"client_id": "ci-bot", "client_secret": SECRET}
        form = {"grant_type": "client_credentials", "resource": gate.url("/a/mcp"), **creds}
        issued = await _token(gate, form)
        revoked = await request(
            "POST", gate.url("/revoke"), data={"token": issued.access_token, **creds}
        )
        after = await mcp_initialize(gate.url("/a/mcp"), issued.access_token)
    assert revoked.status == 200
    assert after.status == 401


async def test_metadata_advertises_machine_grants_only_when_configured(
    machine_gate: MachineGate, jwt_issuer: LocalIssuer
):
    """MCP client-credentials extension §Server Metadata Requirements; RFC 8414 §2."""
    metadata_path = "/.well-known/oauth-authorization-server"
    key_client = _key_client(jwt_issuer, "key-bot", jwks=jwt_issuer.public_jwks())
    async with machine_gate(CI_BOT, key_client) as gate:
        machines = (await request("GET", gate.url(metadata_path))).json
    async with machine_gate() as gate:
        plain = (await request("GET", gate.url(metadata_path))).json
    assert "client_credentials" in machines["grant_types_supported"]
    assert {"private_key_jwt", "client_secret_basic"} <= set(
        machines["token_endpoint_auth_methods_supported"]
    )
    assert machines["token_endpoint_auth_signing_alg_values_supported"] == ["RS256", "ES256"]
    assert "client_credentials" not in plain["grant_types_supported"]
    assert "private_key_jwt" not in plain["token_endpoint_auth_methods_supported"]
