"""`BackendIdentity`: the identity headers, env and JWT a server's backend gets per principal.

The JWT is checked the way a backend would: against the JWK Set a running gate serves at
`/.well-known/jwks.json`, with joserfc, for the audience the server's config names.
"""

from __future__ import annotations

import time

import pytest
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from mcp_gate.appkeys import BACKEND_IDENTITIES
from mcp_gate.backend_identity.backend import BackendIdentity
from mcp_gate.backend_identity.signer import IDENTITY_JWT_TYPE, build_identity_signer
from mcp_gate.config.model import (
    AuthConfig,
    IdentityConfig,
    IdentityJwt,
    IdpConfig,
    Secret,
)
from mcp_gate.principal import Principal
from tests.fixtures.gate import make_config, remote, running_gate
from tests.fixtures.oauth_client import request
from tests.idp.scripted_idp import FakeClock

ALICE = Principal.user("1234", "alice@example.com", client_id="vscode")
KEY_A = "a" * 32
KEY_B = "b" * 32
CRM = "https://crm.example.test/mcp"


def _auth(*keys: str) -> AuthConfig:
    return AuthConfig(idp=IdpConfig(provider="dev"), identity_keys=tuple(Secret(k) for k in keys))


def _identity(**fields: object) -> IdentityConfig:
    return IdentityConfig(
        headers={"X-Forwarded-Email": "{{email}}", "X-Forwarded-Groups": "{{groups}}"},
        jwt=IdentityJwt(header="X-Mcp-Gate-Identity", audience=CRM),
        **fields,  # type: ignore[arg-type]
    )


async def test_identity_jwt_verifies_against_the_gates_jwks_for_the_backend(py_streamable_server):
    """RFC 7515/7517: ES256, kid in the published set; aud the backend, iss the gate."""
    server = remote("crm", "streamable-http", py_streamable_server.url, identity=_identity())
    config = make_config({"crm": server}, auth=_auth(KEY_A))
    async with running_gate(config) as gate:
        headers = gate.app[BACKEND_IDENTITIES]["crm"].headers_for(ALICE)
        published = (await request("GET", gate.url("/.well-known/jwks.json"))).json
        metadata = (await request("GET", gate.url("/.well-known/oauth-authorization-server"))).json
    token = jwt.decode(headers["X-Mcp-Gate-Identity"], KeySet.import_key_set(published))
    claims = token.claims
    assert token.header["typ"] == IDENTITY_JWT_TYPE
    assert (claims["iss"], claims["aud"], claims["sub"]) == (gate.base_url, CRM, "user:1234")
    assert (claims["email"], claims["client_id"], claims["kind"]) == (
        "alice@example.com",
        "vscode",
        "user",
    )
    assert claims["exp"] - claims["iat"] == 60
    assert claims["exp"] > time.time()
    assert headers["X-Forwarded-Email"] == "alice@example.com"
    assert "X-Forwarded-Groups" not in headers  # empty: left out
    assert metadata["jwks_uri"] == f"{gate.base_url}/.well-known/jwks.json"
    assert all("d" not in key for key in published["keys"])


async def test_no_jwks_is_published_without_identity_jwt(py_streamable_server):
    """policy: keys are published only when something is signed with them."""
    server = remote("crm", "streamable-http", py_streamable_server.url)
    async with running_gate(make_config({"crm": server}, auth=_auth(KEY_A))) as gate:
        answer = await request("GET", gate.url("/.well-known/jwks.json"))
    assert answer.status == 404


def test_rotation_signs_with_the_first_key_and_publishes_all():
    """policy (like encryptionKey): a new key first; the old one stays published."""
    signer = build_identity_signer(_auth(KEY_B, KEY_A), "https://gate.example.test")
    old = build_identity_signer(_auth(KEY_A), "https://gate.example.test")
    published = signer.public_jwks()
    token, _ = signer.sign(ALICE, CRM, 60)
    decoded = jwt.decode(token, KeySet.import_key_set(published))
    assert [key["kid"] for key in published["keys"]][1:] == [
        key["kid"] for key in old.public_jwks()["keys"]
    ]
    assert decoded.header["kid"] == published["keys"][0]["kid"]
    with pytest.raises(JoseError):
        jwt.decode(token, KeySet.import_key_set(old.public_jwks()))


def test_same_identity_keys_make_the_same_keys_on_every_replica():
    """policy: keys derived from the configured seeds, so replicas publish one set."""
    one = build_identity_signer(_auth(KEY_A), "https://gate.example.test").public_jwks()
    two = build_identity_signer(_auth(KEY_A), "https://gate.example.test").public_jwks()
    assert one == two


def test_identity_jwt_is_reused_for_half_its_life_then_renewed():
    """policy: one signature per principal per half lifetime, not one per request."""
    clock = FakeClock()
    signer = build_identity_signer(_auth(KEY_A), "https://gate.example.test", clock=clock)
    identity = BackendIdentity(_identity(), signer, clock=clock)
    first = identity.headers_for(ALICE)["X-Mcp-Gate-Identity"]
    clock.advance(29)
    assert identity.headers_for(ALICE)["X-Mcp-Gate-Identity"] == first
    bob = Principal.user("5678", "bob@example.com")
    assert identity.headers_for(bob)["X-Mcp-Gate-Identity"] != first
    clock.advance(2)
    assert identity.headers_for(ALICE)["X-Mcp-Gate-Identity"] != first


def test_jwt_in_authorization_is_a_bearer_and_every_identity_header_is_named():
    """RFC 6750 §2.1 when the backend reads it from Authorization; names to drop upstream."""
    signer = build_identity_signer(_auth(KEY_A), "https://gate.example.test")
    config = IdentityConfig(
        headers={"X-Forwarded-Email": "{{email}}"},
        jwt=IdentityJwt(header="Authorization", audience=CRM),
    )
    identity = BackendIdentity(config, signer)
    assert identity.headers_for(ALICE)["Authorization"].startswith("Bearer ey")
    assert identity.header_names == frozenset({"x-forwarded-email", "authorization"})


def test_env_of_a_stdio_child_names_its_user():
    """policy: a stdio child learns who it serves from its environment, at start."""
    identity = BackendIdentity(IdentityConfig(env={"MCP_USER_EMAIL": "{{email}}"}), None)
    assert identity.env_for(ALICE) == {"MCP_USER_EMAIL": "alice@example.com"}
    assert identity.env_for(Principal.client("ci-bot")) == {"MCP_USER_EMAIL": ""}
