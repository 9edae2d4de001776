"""Access tokens at the MCP routes (the resource-server side): which are refused, and how.

MCP authorization §Token Handling: a token must be ours, unexpired, untampered, issued for
this very server, and not revoked; anything else gets 401 with `error="invalid_token"` and
the resource metadata URL (RFC 6750 §3.1, RFC 9728 §5.1), on every method.
"""

from __future__ import annotations

import base64
import json
import time

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey

from mcp_gate.config.model import Secret
from mcp_gate.oauth.access_tokens import AccessTokens
from mcp_gate.oauth.models import Grant
from tests.fixtures.gate import remote
from tests.fixtures.mcp_clients import streamable_client
from tests.fixtures.oauth_client import (
    log_in,
    mcp_initialize,
    refresh,
    register,
    request,
    revoke,
    unverified_claims,
)

pytestmark = pytest.mark.usefixtures("oidc_provider")

JWT_SECRET = "a-test-signing-secret-of-forty-bytes-long"


def _two_servers(backend):
    return {
        "alpha": remote("alpha", "streamable-http", backend.url),
        "beta": remote("beta", "streamable-http", backend.url),
    }


def _assert_invalid_token(answer, gate, server: str = "alpha", front: str = "mcp") -> None:
    assert answer.status == 401, answer.text
    challenge = answer.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ")
    assert 'error="invalid_token"' in challenge
    metadata = f"{gate.base_url}/.well-known/oauth-protected-resource/{server}/{front}"
    assert f'resource_metadata="{metadata}"' in challenge


async def test_token_of_server_a_is_refused_on_server_b(oauth_gate_factory, py_streamable_server):
    """MCP authorization §Token Handling / RFC 8707: a token works only for its audience."""
    async with oauth_gate_factory(_two_servers(py_streamable_server)) as gate:
        client = await register(gate.base_url)
        tokens = await log_in(gate.base_url, client, resource=gate.url("/alpha/mcp"))
        on_alpha = await mcp_initialize(gate.url("/alpha/mcp"), tokens.access_token)
        on_beta = await mcp_initialize(gate.url("/beta/mcp"), tokens.access_token)
    assert unverified_claims(tokens.access_token)["aud"] == gate.url("/alpha/mcp")
    assert on_alpha.status == 200
    _assert_invalid_token(on_beta, gate, "beta")


async def test_token_is_used_for_a_real_tool_call(oauth_gate_factory, py_streamable_server):
    """README, What it is: a gate token carries a client through to the backend's tools."""
    async with oauth_gate_factory(_two_servers(py_streamable_server)) as gate:
        client = await register(gate.base_url)
        tokens = await log_in(gate.base_url, client, resource=gate.url("/beta/mcp"))
        headers = {"Authorization": f"Bearer {tokens.access_token}"}
        async with streamable_client(gate.url("/beta/mcp"), headers) as mcp:
            result = await mcp.call_tool("echo", {"text": "through the gate"})
    assert result.content[0].text == "through the gate"


@pytest.mark.parametrize("which", ["access", "refresh"])
async def test_revoked_token_is_refused_at_once_with_its_whole_grant(
    oauth_gate_factory, py_streamable_server, which
):
    """RFC 7009 §2.1: revoking either token revokes the grant, hence the other token too."""
    async with oauth_gate_factory(_two_servers(py_streamable_server)) as gate:
        client = await register(gate.base_url)
        tokens = await log_in(gate.base_url, client, resource=gate.url("/alpha/mcp"))
        before = await mcp_initialize(gate.url("/alpha/mcp"), tokens.access_token)
        token = tokens.access_token if which == "access" else tokens.refresh_token
        revoked = await revoke(gate.base_url, client, token)
        after = await mcp_initialize(gate.url("/alpha/mcp"), tokens.access_token)
        refreshed = await refresh(gate.base_url, client, tokens.refresh_token)
    assert before.status == 200
    assert revoked.status == 200
    assert revoked.headers["Cache-Control"] == "no-store"
    _assert_invalid_token(after, gate)
    assert refreshed.error == "invalid_grant"


async def test_revoking_an_unknown_token_is_not_an_error(oauth_gate_factory, py_streamable_server):
    """RFC 7009 §2.2: invalid tokens do not cause an error response."""
    async with oauth_gate_factory(_two_servers(py_streamable_server)) as gate:
        client = await register(gate.base_url)
        answer = await revoke(gate.base_url, client, "not-a-token-of-ours")
    assert answer.status == 200


async def test_client_cannot_revoke_another_clients_token(oauth_gate_factory, py_streamable_server):
    """RFC 7009 §2.1: the server checks that the token was issued to the requesting client."""
    async with oauth_gate_factory(_two_servers(py_streamable_server)) as gate:
        client = await register(gate.base_url)
        other = await register(gate.base_url)
        tokens = await log_in(gate.base_url, client, resource=gate.url("/alpha/mcp"))
        await revoke(gate.base_url, other, tokens.access_token)
        still = await mcp_initialize(gate.url("/alpha/mcp"), tokens.access_token)
    assert still.status == 200


def _grant_of(access_token: str) -> Grant:
    claims = unverified_claims(access_token)
    return Grant(
        id=claims["gid"],
        subject=claims["sub"],
        email=claims["email"],
        client_id=claims["client_id"],
        resource=claims["aud"],
        server="alpha",
        scope=claims["scope"],
        created_at=claims["iat"],
        expires_at=claims["iat"] + 3600,
    )


async def test_expired_token_is_refused(oauth_gate_factory, py_streamable_server):
    """MCP authorization §Token Handling: expired tokens get 401 (minted with a past clock)."""
    secret = JWT_SECRET.encode()
    async with oauth_gate_factory(
        _two_servers(py_streamable_server), jwt_secret=Secret(JWT_SECRET)
    ) as gate:
        client = await register(gate.base_url)
        tokens = await log_in(gate.base_url, client, resource=gate.url("/alpha/mcp"))
        grant = _grant_of(tokens.access_token)
        two_hours_ago = AccessTokens(secret, gate.base_url, clock=lambda: time.time() - 7200)
        expired = two_hours_ago.issue(grant, 3600)
        fresh = AccessTokens(secret, gate.base_url).issue(grant, 3600)
        refused = await mcp_initialize(gate.url("/alpha/mcp"), expired)
        accepted = await mcp_initialize(gate.url("/alpha/mcp"), fresh)
    _assert_invalid_token(refused, gate)
    assert accepted.status == 200  # the same token, minted now, is good: only time differs


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _flip(text: str, index: int) -> str:
    return text[:index] + ("A" if text[index] != "A" else "B") + text[index + 1 :]


async def test_tampered_token_is_refused(oauth_gate_factory, py_streamable_server):
    """RFC 7515 §5.2: a token whose payload or signature changed does not verify."""
    async with oauth_gate_factory(_two_servers(py_streamable_server)) as gate:
        client = await register(gate.base_url)
        tokens = await log_in(gate.base_url, client, resource=gate.url("/alpha/mcp"))
        header, payload, signature = tokens.access_token.split(".")
        claims = unverified_claims(tokens.access_token) | {"aud": gate.url("/beta/mcp")}
        retargeted = f"{header}.{_b64(json.dumps(claims).encode())}.{signature}"
        variants = {
            "payload character": f"{header}.{_flip(payload, 10)}.{signature}",
            "signature character": f"{header}.{payload}.{_flip(signature, 5)}",
            "audience rewritten": retargeted,
            "signature dropped": f"{header}.{payload}.",
            "alg none": f"{_b64(json.dumps({'alg': 'none', 'typ': 'at+jwt'}).encode())}.{payload}.",
            "not a jwt": "garbage",
        }
        answers = {
            name: await mcp_initialize(
                gate.url(f"/{'beta' if 'audience' in name else 'alpha'}/mcp"), token
            )
            for name, token in variants.items()
        }
    for name, answer in answers.items():
        assert answer.status == 401, name
        assert 'error="invalid_token"' in answer.headers["WWW-Authenticate"], name


async def test_token_signed_with_another_key_is_refused(oauth_gate_factory, py_streamable_server):
    """MCP 2025-11-25 authorization §Token Handling: only the gate's own tokens are accepted, never
    one signed elsewhere."""
    async with oauth_gate_factory(_two_servers(py_streamable_server)) as gate:
        client = await register(gate.base_url)
        tokens = await log_in(gate.base_url, client, resource=gate.url("/alpha/mcp"))
        claims = unverified_claims(tokens.access_token)
        forged = jwt.encode({"alg": "HS256", "typ": "at+jwt"}, claims, OctKey.import_key(b"k" * 32))
        answer = await mcp_initialize(gate.url("/alpha/mcp"), forged)
    _assert_invalid_token(answer, gate)


async def test_token_in_the_query_string_is_not_accepted(oauth_gate_factory, py_streamable_server):
    """MCP authorization §Token Requirements: tokens MUST NOT be in the query string."""
    async with oauth_gate_factory(_two_servers(py_streamable_server)) as gate:
        client = await register(gate.base_url)
        tokens = await log_in(gate.base_url, client, resource=gate.url("/alpha/mcp"))
        answer = await mcp_initialize(
            gate.url(f"/alpha/mcp?access_token={tokens.access_token}"), None
        )
    assert answer.status == 401
    assert 'error="invalid_token"' not in answer.headers["WWW-Authenticate"]


@pytest.mark.parametrize(
    ("method", "path", "front"),
    [
        ("GET", "/alpha/mcp", "mcp"),
        ("DELETE", "/alpha/mcp", "mcp"),
        ("GET", "/alpha/sse", "sse"),
        ("POST", "/alpha/message?sessionId=x", "sse"),
    ],
)
async def test_every_method_of_every_front_asks_for_a_token(
    oauth_gate_factory, py_streamable_server, method, path, front
):
    """RFC 6750 §3: the challenge on POST, GET and DELETE, and the legacy routes."""
    async with oauth_gate_factory(_two_servers(py_streamable_server)) as gate:
        answer = await request(method, gate.url(path), headers={"Accept": "text/event-stream"})
    assert answer.status == 401
    metadata = f"{gate.base_url}/.well-known/oauth-protected-resource/alpha/{front}"
    assert f'resource_metadata="{metadata}"' in answer.headers["WWW-Authenticate"]
    assert 'scope="mcp"' in answer.headers["WWW-Authenticate"]
