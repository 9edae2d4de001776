"""Workload identity: a trusted issuer's JWT exchanged at /token for a gate access token.

The issuer is `tests/fixtures/jwt_issuer.py`, a local issuer whose JWK Set (and OpenID
discovery document) the test serves, signing tokens shaped like GitHub Actions' OIDC
tokens. The exchange is RFC 8693's (and RFC 7523 §2.1's JWT bearer grant, which the MCP
workload-identity-federation extension profiles); the token it gives is the gate's own,
for one resource, and calls a tool through the official SDK client.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import mcp_types as types
import pytest
from joserfc.jwk import ECKey

from mcp_gate.appkeys import AUTH
from mcp_gate.config.model import TrustedIssuer
from mcp_gate.oauth.metadata import JWT_BEARER_GRANT, TOKEN_EXCHANGE_GRANT
from mcp_gate.oauth.token_exchange import ACCESS_TOKEN_TYPE, JWT_TOKEN_TYPE
from mcp_gate.principal import Principal
from tests.fixtures.gate import RunningGate, make_config, remote, running_gate
from tests.fixtures.jwt_issuer import LocalIssuer
from tests.fixtures.mcp_clients import streamable_client
from tests.fixtures.oauth_client import Answer, mcp_initialize, request
from tests.fixtures.oauth_flow import oauth_config
from tests.fixtures.ports import free_port

AUDIENCE = "https://mcp.example.test"
ExchangeGate = Callable[..., AbstractAsyncContextManager[RunningGate]]


def _actions_claims(issuer: LocalIssuer, **overrides: object) -> dict[str, object]:
    """A GitHub Actions OIDC token's claims (its documented shape), for `AUDIENCE`."""
    return (
        issuer.claims(
            AUDIENCE,
            sub="repo:acme/tools:ref:refs/heads/main",
            repository="acme/tools",
            repository_owner="acme",
            ref="refs/heads/main",
            workflow="deploy",
            event_name="push",
        )
        | overrides
    )


@pytest.fixture
def exchange_gate(py_streamable_server, jwt_issuer: LocalIssuer) -> ExchangeGate:
    """A gate trusting the local issuer (no user signs in: the IdP points nowhere)."""

    @asynccontextmanager
    async def start(*, discover: bool = False) -> AsyncIterator[RunningGate]:
        trusted = TrustedIssuer(
            issuer=jwt_issuer.url,
            audiences=(AUDIENCE,),
            principal="github:{{repository}}",
            jwks_url="" if discover else jwt_issuer.jwks_url,
            require={"repository_owner": ("acme",)},
        )
        nowhere = f"http://127.0.0.1:{free_port()}/.well-known/openid-configuration"
        auth = oauth_config(
            nowhere, client_id="gate", client_secret="unused", trusted_issuers=(trusted,)
        )
        servers = {
            name: remote(name, "streamable-http", py_streamable_server.url) for name in ("a", "b")
        }
        async with running_gate(make_config(servers, auth=auth)) as gate:
            yield gate

    return start


def _exchange_form(subject_token: str, resource: str, **extra: str) -> dict[str, str]:
    return {
        "grant_type": TOKEN_EXCHANGE_GRANT,
        "subject_token": subject_token,
        "subject_token_type": JWT_TOKEN_TYPE,
        "resource": resource,
        **extra,
    }


async def _token(gate: RunningGate, form: dict[str, str]) -> Answer:
    return await request("POST", gate.url("/token"), data=form)


async def test_workload_jwt_exchanged_for_a_gate_token_calls_a_tool(
    exchange_gate: ExchangeGate, jwt_issuer: LocalIssuer
):
    """RFC 8693 §2.1-2.2: the subject token verifies; a gate token for one resource."""
    async with exchange_gate() as gate:
        subject = jwt_issuer.sign(_actions_claims(jwt_issuer))
        answer = await _token(gate, _exchange_form(subject, gate.url("/a/mcp")))
        assert answer.status == 200, answer.text
        principal = await gate.app[AUTH].verifier.verify(answer.access_token, "a")
        headers = {"Authorization": f"Bearer {answer.access_token}"}
        async with streamable_client(gate.url("/a/mcp"), headers) as client:
            result = await client.call_tool("echo", {"text": "deployed"})
        elsewhere = await mcp_initialize(gate.url("/b/mcp"), answer.access_token)
    assert answer.json["issued_token_type"] == ACCESS_TOKEN_TYPE
    assert answer.json["token_type"] == "Bearer"
    assert "refresh_token" not in answer.json
    assert principal == Principal.workload("github:acme/tools")
    assert isinstance(result.content[0], types.TextContent)
    assert result.content[0].text == "deployed"
    assert elsewhere.status == 401


async def test_jwt_bearer_grant_gives_the_same_principal_with_keys_from_discovery(
    exchange_gate: ExchangeGate, jwt_issuer: LocalIssuer
):
    """RFC 7523 §2.1 (MCP workload identity federation); OIDC Discovery 1.0 §3 jwks_uri."""
    async with exchange_gate(discover=True) as gate:
        assertion = jwt_issuer.sign(_actions_claims(jwt_issuer))
        form = {
            "grant_type": JWT_BEARER_GRANT,
            "assertion": assertion,
            "resource": gate.url("/a/mcp"),
        }
        answer = await _token(gate, form)
        assert answer.status == 200, answer.text
        principal = await gate.app[AUTH].verifier.verify(answer.access_token, "a")
    assert principal == Principal.workload("github:acme/tools")
    assert "issued_token_type" not in answer.json
    assert jwt_issuer.jwks_requests == 1


def _refused_subject_tokens(issuer: LocalIssuer) -> dict[str, str]:
    stranger = ECKey.generate_key("P-256", {"kid": "key-1"})
    expired = {"exp": 1_700_000_000, "iat": 1_699_999_000, "nbf": 1_699_999_000}
    owner_missing = {k: v for k, v in _actions_claims(issuer).items() if k != "repository_owner"}
    return {
        "wrong audience": issuer.sign(_actions_claims(issuer, aud="https://elsewhere.test")),
        "expired": issuer.sign(_actions_claims(issuer, **expired)),
        "required claim missing": issuer.sign(owner_missing),
        "required claim differs": issuer.sign(_actions_claims(issuer, repository_owner="evil")),
        "principal claim missing": issuer.sign(_actions_claims(issuer, repository=None)),
        "unknown issuer": issuer.sign(_actions_claims(issuer, iss="https://evil.example.test")),
        "signed by another key": issuer.sign(_actions_claims(issuer), key=stranger),
    }


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("wrong audience", "aud is not an audience of this gate"),
        ("expired", "the JWT has expired"),
        ("required claim missing", "claim repository_owner is not one required"),
        ("required claim differs", "claim repository_owner is not one required"),
        ("principal claim missing", "claim repository, which names the principal, is missing"),
        ("unknown issuer", "is not a trusted issuer"),
        ("signed by another key", "the signature does not verify"),
    ],
)
async def test_refused_subject_token_gets_invalid_grant_with_its_reason(
    exchange_gate: ExchangeGate, jwt_issuer: LocalIssuer, case: str, reason: str
):
    """RFC 8693 §2.2.2, RFC 6749 §5.2: an invalid subject token is `invalid_grant`."""
    async with exchange_gate() as gate:
        subject = _refused_subject_tokens(jwt_issuer)[case]
        answer = await _token(gate, _exchange_form(subject, gate.url("/a/mcp")))
    assert (answer.status, answer.error) == (400, "invalid_grant")
    assert reason in answer.json["error_description"]


@pytest.mark.parametrize(
    ("change", "error", "reason"),
    [
        ({"subject_token": ""}, "invalid_request", "subject_token is required"),
        ({"subject_token_type": "urn:x"}, "invalid_request", "subject_token_type must be"),
        ({"actor_token": "x", "actor_token_type": JWT_TOKEN_TYPE}, "invalid_request", "actor"),
        ({"requested_token_type": "urn:x"}, "invalid_request", "requested_token_type"),
        ({"resource": "https://unknown.example.test/mcp"}, "invalid_target", "unknown resource"),
    ],
)
async def test_malformed_exchange_request_is_refused_with_its_code(
    exchange_gate: ExchangeGate, jwt_issuer: LocalIssuer, change, error, reason
):
    """RFC 8693 §2.2.2: `invalid_request`; RFC 8707 §2: `invalid_target`."""
    async with exchange_gate() as gate:
        subject = jwt_issuer.sign(_actions_claims(jwt_issuer))
        answer = await _token(gate, _exchange_form(subject, gate.url("/a/mcp")) | change)
    assert (answer.status, answer.error) == (400, error)
    assert reason in answer.json["error_description"]


async def test_workload_jwt_is_never_accepted_on_an_mcp_route(
    exchange_gate: ExchangeGate, jwt_issuer: LocalIssuer
):
    """MCP authorization §Token Handling: only the gate's own tokens open an MCP route."""
    async with exchange_gate() as gate:
        subject = jwt_issuer.sign(_actions_claims(jwt_issuer, aud=gate.url("/a/mcp")))
        answer = await mcp_initialize(gate.url("/a/mcp"), subject)
    assert answer.status == 401


async def test_metadata_lists_the_workload_grants(exchange_gate: ExchangeGate):
    """RFC 8414 §2; MCP workload-identity-federation extension: grant_types_supported."""
    async with exchange_gate() as gate:
        metadata = (await request("GET", gate.url("/.well-known/oauth-authorization-server"))).json
    assert {TOKEN_EXCHANGE_GRANT, JWT_BEARER_GRANT} <= set(metadata["grant_types_supported"])


async def test_subject_token_with_a_time_that_is_no_number_is_refused(
    exchange_gate: ExchangeGate, jwt_issuer: LocalIssuer
):
    """RFC 7519 §2 NumericDate: NaN or infinity is no time (a JSON reader may let it in)."""
    async with exchange_gate() as gate:
        claims = _actions_claims(jwt_issuer, exp=float("nan"))
        subject = jwt_issuer.sign(claims)
        answer = await _token(gate, _exchange_form(subject, gate.url("/a/mcp")))
    assert (answer.status, answer.error) == (400, "invalid_grant")
    assert "exp is required" in answer.json["error_description"]
