"""/token: code exchange, PKCE, client authentication, refresh rotation and reuse detection.

Every answer is JSON with `Cache-Control: no-store` (RFC 6749 §5.1); errors follow RFC 6749
§5.2 (400 `invalid_grant` and friends, 401 `invalid_client`).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

import pytest
from structlog.testing import capture_logs

from mcp_gate.appkeys import AUTH
from mcp_gate.crypto.digest import token_digest
from mcp_gate.oauth.token_endpoint import REFRESH_REUSE_GRACE_SECONDS
from mcp_gate.store.memory import MemoryStore
from tests.fixtures.gate import remote
from tests.fixtures.oauth_client import (
    Pkce,
    RegisteredClient,
    authorization_url,
    exchange_code,
    log_in,
    mcp_initialize,
    refresh,
    register,
    request,
    token_request,
    unverified_claims,
)
from tests.fixtures.oauth_flow import Browser

pytestmark = pytest.mark.usefixtures("oidc_provider")


def _servers(backend):
    return {"py": remote("py", "streamable-http", backend.url)}


async def _code(gate, client: RegisteredClient, pkce: Pkce, **params: str | None) -> str:
    url = authorization_url(gate.base_url, client, pkce=pkce, **params)
    callback = await Browser().walk(url, stop_at=client.redirect_uri)
    return callback.query["code"]


async def test_token_response_is_not_cacheable_and_its_expires_in_is_accurate(
    oauth_gate_factory, py_streamable_server
):
    """RFC 6749 §5.1 no-store; `expires_in` always, and true (the Python SDK refreshes by it)."""
    async with oauth_gate_factory(_servers(py_streamable_server), token_ttl_seconds=1800.0) as gate:
        client = await register(gate.base_url)
        before = int(time.time())
        answer = await log_in(gate.base_url, client)
        claims = unverified_claims(answer.access_token)
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.headers["Content-Type"].startswith("application/json")
    assert answer.json["token_type"] == "Bearer"
    assert answer.json["expires_in"] == 1800
    assert answer.json["scope"] == "mcp"
    assert claims["exp"] - claims["iat"] == 1800
    assert before <= claims["iat"] <= int(time.time())


async def test_token_errors_are_not_cacheable_either(oauth_gate_factory, py_streamable_server):
    """RFC 6749 §5.2 errors are JSON with no-store."""
    async with oauth_gate_factory(_servers(py_streamable_server)) as gate:
        client = await register(gate.base_url)
        answer = await token_request(
            gate.base_url, client, {"grant_type": "authorization_code", "code": "nope"}
        )
    assert answer.status == 400
    assert answer.error == "invalid_grant"
    assert answer.headers["Cache-Control"] == "no-store"


async def test_code_presented_twice_is_refused_and_revokes_what_it_issued(
    oauth_gate_factory, py_streamable_server
):
    """OAuth 2.1 §4.1.3 / RFC 6749 §4.1.2: single-use codes; a replay revokes the tokens."""
    async with oauth_gate_factory(_servers(py_streamable_server)) as gate:
        client = await register(gate.base_url)
        pkce = Pkce.new()
        code = await _code(gate, client, pkce)
        first = await exchange_code(gate.base_url, client, code, pkce)
        assert (await mcp_initialize(gate.url("/py/mcp"), first.access_token)).status == 200
        replay = await exchange_code(gate.base_url, client, code, pkce)
        after = await mcp_initialize(gate.url("/py/mcp"), first.access_token)
        refreshed = await refresh(gate.base_url, client, first.refresh_token)
    assert first.status == 200
    assert replay.status == 400
    assert replay.error == "invalid_grant"
    assert after.status == 401
    assert refreshed.error == "invalid_grant"


@pytest.mark.parametrize("verifier", ["wrong", "missing"])
async def test_code_with_a_wrong_or_missing_verifier_is_refused(
    oauth_gate_factory, py_streamable_server, verifier
):
    """RFC 7636 §4.6: the verifier must hash to the challenge."""
    async with oauth_gate_factory(_servers(py_streamable_server)) as gate:
        client = await register(gate.base_url)
        pkce = Pkce.new()
        code = await _code(gate, client, pkce)
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": client.redirect_uri,
        }
        if verifier == "wrong":
            form["code_verifier"] = Pkce.new().verifier
        answer = await token_request(gate.base_url, client, form)
        retry = await exchange_code(gate.base_url, client, code, pkce)
    assert answer.status == 400
    assert answer.error == "invalid_grant"
    assert retry.status == 400  # the code was spent by the failed attempt


async def test_code_with_another_redirect_uri_is_refused(oauth_gate_factory, py_streamable_server):
    """OAuth 2.1 §4.1.3: a redirect_uri sent at /token must be the authorization request's."""
    async with oauth_gate_factory(_servers(py_streamable_server)) as gate:
        client = await register(
            gate.base_url,
            redirect_uris=("http://127.0.0.1:33418/callback", "http://127.0.0.1:33418/other"),
        )
        pkce = Pkce.new()
        code = await _code(gate, client, pkce)
        answer = await exchange_code(
            gate.base_url, client, code, pkce, redirect_uri="http://127.0.0.1:33418/other"
        )
    assert answer.status == 400
    assert answer.error == "invalid_grant"


async def test_code_of_another_client_is_refused(oauth_gate_factory, py_streamable_server):
    """RFC 6749 §4.1.3: the code was issued to the authenticated client, or it is invalid."""
    async with oauth_gate_factory(_servers(py_streamable_server)) as gate:
        client = await register(gate.base_url)
        thief = await register(gate.base_url)
        pkce = Pkce.new()
        code = await _code(gate, client, pkce)
        answer = await exchange_code(gate.base_url, thief, code, pkce)
    assert answer.error == "invalid_grant"


async def test_code_redeemed_for_another_resource_is_invalid_target(
    oauth_gate_factory, py_streamable_server
):
    """RFC 8707 §2.2: the token request's resource must be the authorized one."""
    servers = {
        "alpha": remote("alpha", "streamable-http", py_streamable_server.url),
        "beta": remote("beta", "streamable-http", py_streamable_server.url),
    }
    async with oauth_gate_factory(servers) as gate:
        client = await register(gate.base_url)
        pkce = Pkce.new()
        code = await _code(gate, client, pkce, resource=gate.url("/alpha/mcp"))
        answer = await exchange_code(
            gate.base_url, client, code, pkce, resource=gate.url("/beta/mcp")
        )
        code = await _code(gate, client, pkce, resource=gate.url("/alpha/mcp"))
        malformed = await exchange_code(gate.base_url, client, code, pkce, resource="http://[x")
    assert answer.status == 400
    assert answer.error == "invalid_target"
    assert malformed.status == 400
    assert malformed.error == "invalid_target"


@pytest.mark.parametrize(
    ("method", "basic"),
    [
        ("client_secret_basic", "form-urlencoded"),  # the Python SDK
        ("client_secret_basic", "raw"),  # the TypeScript SDK
        ("client_secret_post", "form-urlencoded"),
        ("none", "form-urlencoded"),
    ],
)
async def test_each_client_authentication_method_gets_tokens(
    oauth_gate_factory, py_streamable_server, method, basic
):
    """RFC 6749 §2.3.1: none, client_secret_post, client_secret_basic."""
    async with oauth_gate_factory(_servers(py_streamable_server)) as gate:
        client = await register(gate.base_url, token_endpoint_auth_method=method)
        pkce = Pkce.new()
        code = await _code(gate, client, pkce)
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": pkce.verifier,
            "redirect_uri": client.redirect_uri,
        }
        answer = await token_request(gate.base_url, client, form, basic=basic)
        refreshed = await token_request(
            gate.base_url,
            client,
            {"grant_type": "refresh_token", "refresh_token": answer.refresh_token},
            basic=basic,
        )
    assert (client.client_secret is None) == (method == "none")
    assert answer.status == 200, answer.text
    assert refreshed.status == 200, refreshed.text


async def test_wrong_client_secret_is_invalid_client_with_401(
    oauth_gate_factory, py_streamable_server
):
    """RFC 6749 §5.2: failed client authentication is 401 `invalid_client`."""
    async with oauth_gate_factory(_servers(py_streamable_server)) as gate:
        client = await register(gate.base_url, token_endpoint_auth_method="client_secret_basic")
        pkce = Pkce.new()
        code = await _code(gate, client, pkce)
        impostor = replace(client, client_secret="not-the-secret")
        answer = await exchange_code(gate.base_url, impostor, code, pkce)
        missing = await exchange_code(
            gate.base_url, replace(client, auth_method="none", client_secret=None), code, pkce
        )
        genuine = await exchange_code(gate.base_url, client, code, pkce)
    assert answer.status == 401
    assert answer.error == "invalid_client"
    assert missing.status == 401
    assert genuine.status == 200  # failed authentication did not spend the code


async def test_python_sdk_default_registration_authenticates_with_basic(
    oauth_gate_factory, py_streamable_server
):
    """RFC 7591 §2: an omitted method is client_secret_basic, with a secret to use."""
    async with oauth_gate_factory(_servers(py_streamable_server)) as gate:
        client = await register(gate.base_url, token_endpoint_auth_method=None)
        answer = await log_in(gate.base_url, client)
    assert client.auth_method == "client_secret_basic"
    assert client.client_secret
    assert answer.status == 200


async def test_refresh_rotates_the_refresh_token_and_the_new_one_works(
    oauth_gate_factory, py_streamable_server
):
    """MCP authorization §Token Theft: refresh tokens of public clients rotate on use."""
    async with oauth_gate_factory(_servers(py_streamable_server)) as gate:
        client = await register(gate.base_url)
        first = await log_in(gate.base_url, client)
        second = await refresh(
            gate.base_url, client, first.refresh_token, resource=gate.url("/py/mcp")
        )
        third = await refresh(gate.base_url, client, second.refresh_token)
        works = await mcp_initialize(gate.url("/py/mcp"), third.access_token)
    assert second.status == 200
    assert third.status == 200
    assert len({first.refresh_token, second.refresh_token, third.refresh_token}) == 3
    assert second.headers["Cache-Control"] == "no-store"
    assert works.status == 200


async def test_refresh_token_presented_again_within_the_grace_window_gets_the_same_answer(
    oauth_gate_factory, py_streamable_server
):
    """policy (RFC 9700 §4.14.2 with a grace for concurrent refreshes): a replay inside the
    window gets the one successor its rotation made, never a second live token chain, and
    every such replay is logged."""
    async with oauth_gate_factory(_servers(py_streamable_server)) as gate:
        client = await register(gate.base_url)
        first = await log_in(gate.base_url, client)
        with capture_logs() as logs:
            answers = [await refresh(gate.base_url, client, first.refresh_token) for _ in range(5)]
        successor = answers[0]
        onward = await refresh(gate.base_url, client, successor.refresh_token)
        works = await mcp_initialize(gate.url("/py/mcp"), successor.access_token)
    assert [answer.status for answer in answers] == [200] * 5
    assert {answer.refresh_token for answer in answers} == {successor.refresh_token}
    assert {answer.access_token for answer in answers} == {successor.access_token}
    assert all(0 < answer.json["expires_in"] <= successor.json["expires_in"] for answer in answers)
    reuses = [entry for entry in logs if entry["event"] == "refresh_token_reused_within_grace"]
    assert len(reuses) == 4
    assert all(first.refresh_token not in str(entry) for entry in logs)
    assert onward.status == 200
    assert works.status == 200


async def test_concurrent_refreshes_of_one_token_share_one_successor(
    oauth_gate_factory, py_streamable_server
):
    """policy: ten refreshes of one token at once (the MCP Inspector's race) all succeed
    with the same tokens: the grant is never forked."""
    async with oauth_gate_factory(_servers(py_streamable_server)) as gate:
        client = await register(gate.base_url)
        first = await log_in(gate.base_url, client)
        answers = await asyncio.gather(
            *(refresh(gate.base_url, client, first.refresh_token) for _ in range(10))
        )
    assert [answer.status for answer in answers] == [200] * 10
    assert len({answer.refresh_token for answer in answers}) == 1


async def test_refresh_token_reused_after_rotation_revokes_the_whole_family(
    oauth_gate_factory, py_streamable_server
):
    """RFC 9700 §4.14.2 / MCP authorization §Token Theft: reuse detection revokes the grant."""
    async with oauth_gate_factory(_servers(py_streamable_server)) as gate:
        client = await register(gate.base_url)
        first = await log_in(gate.base_url, client)
        second = await refresh(gate.base_url, client, first.refresh_token)
        await _age_used_refresh_token(gate, first.refresh_token, REFRESH_REUSE_GRACE_SECONDS + 1)
        reused = await refresh(gate.base_url, client, first.refresh_token)
        rotated = await refresh(gate.base_url, client, second.refresh_token)
        access = await mcp_initialize(gate.url("/py/mcp"), second.access_token)
    assert second.status == 200
    assert reused.status == 400
    assert reused.error == "invalid_grant"
    assert rotated.error == "invalid_grant"
    assert access.status == 401


async def _age_used_refresh_token(gate, token: str, seconds: float) -> None:
    """Make the record of a rotated refresh token say it was used `seconds` ago (no sleeping)."""
    grants = gate.app[AUTH].grants
    record = await grants.load_refresh(token)
    assert record is not None
    assert record.used_at is not None
    await grants.save_refresh(
        token, replace(record, used_at=record.used_at - seconds), now=time.time()
    )


async def test_refresh_token_of_another_client_is_refused(oauth_gate_factory, py_streamable_server):
    """RFC 6749 §6: a refresh token is bound to the client it was issued to."""
    async with oauth_gate_factory(_servers(py_streamable_server)) as gate:
        client = await register(gate.base_url)
        thief = await register(gate.base_url)
        first = await log_in(gate.base_url, client)
        stolen = await refresh(gate.base_url, thief, first.refresh_token)
        genuine = await refresh(gate.base_url, client, first.refresh_token)
    assert stolen.error == "invalid_grant"
    assert genuine.status == 200


async def test_access_and_refresh_tokens_are_never_taken_for_one_another(
    oauth_gate_factory, py_streamable_server
):
    """RFC 9068 §2.1 (`typ: at+jwt`): tokens are typed; an access token is never a refresh token and
    vice versa."""
    async with oauth_gate_factory(_servers(py_streamable_server)) as gate:
        client = await register(gate.base_url)
        tokens = await log_in(gate.base_url, client)
        as_refresh = await refresh(gate.base_url, client, tokens.access_token)
        as_access = await mcp_initialize(gate.url("/py/mcp"), tokens.refresh_token)
    assert as_refresh.error == "invalid_grant"
    assert as_access.status == 401


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"grant_type": "password", "username": "a", "password": "b"}, "unsupported_grant_type"),
        # A registered (DCR) client may not use it; pre-registered machines may.
        ({"grant_type": "client_credentials"}, "unauthorized_client"),
        ({"grant_type": "authorization_code"}, "invalid_request"),
        ({"grant_type": "refresh_token"}, "invalid_request"),
    ],
)
async def test_unsupported_or_incomplete_grant_is_a_clear_400(
    oauth_gate_factory, py_streamable_server, form, error
):
    """RFC 6749 §5.2: `unsupported_grant_type`, `unauthorized_client`, `invalid_request`."""
    async with oauth_gate_factory(_servers(py_streamable_server)) as gate:
        client = await register(gate.base_url)
        answer = await token_request(gate.base_url, client, form)
    assert answer.status == 400
    assert answer.error == error


async def test_token_request_as_json_is_refused_with_invalid_request(
    oauth_gate_factory, py_streamable_server
):
    """RFC 6749 §3.2: the token endpoint takes application/x-www-form-urlencoded."""
    async with oauth_gate_factory(_servers(py_streamable_server)) as gate:
        answer = await request(
            "POST", gate.url("/token"), json={"grant_type": "authorization_code"}
        )
    assert answer.status == 400
    assert answer.error == "invalid_request"


async def test_refresh_for_another_servers_resource_is_invalid_target(
    oauth_gate_factory, py_streamable_server
):
    """RFC 8707 §2.2: a refresh may name the granted server's resource, no other."""
    servers = {
        "alpha": remote("alpha", "streamable-http", py_streamable_server.url),
        "beta": remote("beta", "streamable-http", py_streamable_server.url),
    }
    async with oauth_gate_factory(servers) as gate:
        client = await register(gate.base_url)
        tokens = await log_in(gate.base_url, client, resource=gate.url("/alpha/mcp"))
        other = await refresh(
            gate.base_url, client, tokens.refresh_token, resource=gate.url("/beta/mcp")
        )
        legacy_front = await refresh(
            gate.base_url, client, tokens.refresh_token, resource=gate.url("/alpha/sse")
        )
    assert other.status == 400
    assert other.error == "invalid_target"
    assert legacy_front.status == 200


@pytest.mark.parametrize(
    "stored",
    [b"not json", b'{"grant_id": 1' + b"0" * 5000 + b"}", b"[1, 2]", b'{"grant_id": {}}'],
    ids=["not-json", "huge-integer", "array", "wrong-shape"],
)
async def test_refresh_record_altered_in_the_store_is_invalid_grant_not_a_500(
    oauth_gate_factory, py_streamable_server, stored
):
    """policy: a stored record that no longer reads as one is absent (RFC 6749 §5.2)."""
    store = MemoryStore()
    async with oauth_gate_factory(_servers(py_streamable_server), store=store) as gate:
        client = await register(gate.base_url)
        first = await log_in(gate.base_url, client)
        await store.put("refresh", token_digest(first.refresh_token), stored)
        answer = await refresh(gate.base_url, client, first.refresh_token)
    assert answer.status == 400
    assert answer.error == "invalid_grant"
