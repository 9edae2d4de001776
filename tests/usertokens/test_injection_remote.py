"""`$userToken` on remote backends: each user's own token on every request, and without one
a JSON-RPC error carrying the /my/tokens URL, the backend never called."""

from __future__ import annotations

import base64
import json

import aiohttp
import pytest

from mcp_gate.appkeys import AUTH
from mcp_gate.config.model import UserTokenTemplate
from mcp_gate.proxy.user_credentials import USER_TOKEN_UNAVAILABLE
from tests.fixtures.gate import RunningGate
from tests.fixtures.oidc_provider import OidcTestProvider
from tests.fixtures.stdio_backends import RawLegacySession
from tests.fixtures.user_tokens import (
    PAGE_TIMEOUT,
    bearer,
    notion_server,
    post_mcp,
    running_recorder,
    sign_in_mcp_user,
)

ALICE_TOKEN = "ntn_AliceOwnToken0000aaaa"
BOB_TOKEN = "ntn_BobOwnToken00000bbbb"
CALL = {"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "search"}}


async def sign_in(gate, server: str, idp: OidcTestProvider, email: str) -> tuple[str, str]:
    """(subject, gate access token) of `email`, signed in through the real OAuth flow."""
    subject = await idp.set_next_user(email=email, hd="example.com")
    return subject, await sign_in_mcp_user(gate, server)


async def test_each_user_gets_their_own_token_and_never_another_users(
    oauth_gate_factory, echo_headers_server, oidc_provider
):
    """Issue 5 §4: headers filled per request with the caller's own token."""
    servers = {"notion": notion_server(echo_headers_server.url + "/mcp")}
    async with oauth_gate_factory(servers) as gate:
        tokens = gate.app[AUTH].user_tokens
        alice, alice_bearer = await sign_in(gate, "notion", oidc_provider, "alice@example.com")
        bob, bob_bearer = await sign_in(gate, "notion", oidc_provider, "bob@example.com")
        await tokens.save(alice, "notion", ALICE_TOKEN)
        _, alice_echo = await post_mcp(gate, "notion", alice_bearer, CALL)
        bob_status, bob_refusal = await post_mcp(gate, "notion", bob_bearer, CALL)
        await tokens.save(bob, "notion", BOB_TOKEN)
        _, bob_echo = await post_mcp(gate, "notion", bob_bearer, CALL)
        _, alice_again = await post_mcp(gate, "notion", alice_bearer, CALL)
    assert alice_echo["headers"]["authorization"] == f"Bearer {ALICE_TOKEN}"
    assert bob_status == 200
    assert bob_refusal["id"] == 7
    assert bob_refusal["error"]["code"] == USER_TOKEN_UNAVAILABLE
    assert gate.url("/my/tokens") in bob_refusal["error"]["message"]
    assert bob_echo["headers"]["authorization"] == f"Bearer {BOB_TOKEN}"
    assert ALICE_TOKEN not in json.dumps(bob_echo)
    assert alice_again["headers"]["authorization"] == f"Bearer {ALICE_TOKEN}"


async def test_user_without_a_token_is_answered_by_the_gate_and_the_backend_never_called(
    oauth_gate_factory, oidc_provider
):
    """Issue 5 §4: one JSON-RPC error per request, the full /my/tokens URL in each."""
    async with running_recorder() as recorder:
        servers = {"notion": notion_server(recorder.url + "/mcp")}
        async with oauth_gate_factory(servers) as gate:
            _, token = await sign_in(gate, "notion", oidc_provider, "bob@example.com")
            batch = [CALL, {"jsonrpc": "2.0", "method": "notifications/x"}, {**CALL, "id": 8}]
            batch_status, answers = await post_mcp(gate, "notion", token, batch)
            note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
            note_status, note_body = await post_mcp(gate, "notion", token, note)
            async with (
                aiohttp.ClientSession(timeout=PAGE_TIMEOUT) as http,
                http.get(gate.url("/notion/mcp"), headers=bearer(token)) as response,
            ):
                get_status = response.status
                get_body = await response.json()
    assert batch_status == 200
    assert [a["id"] for a in answers] == [7, 8]
    assert all(gate.url("/my/tokens") in a["error"]["message"] for a in answers)
    assert answers[0]["error"]["data"] == {"url": gate.url("/my/tokens")}
    assert (note_status, note_body) == (202, None)
    assert get_status == 400
    assert gate.url("/my/tokens") in get_body["error"]["message"]
    assert recorder.requests == []


async def _call_with_url_token(
    gate_factory, idp: OidcTestProvider, template: str, token: str
) -> tuple[RunningGate, int, object]:
    """One tools/call by a user who stored `token`, on a server whose url is `template`:
    the gate (stopped by then), the status and the reply."""
    servers = {"notion": notion_server(UserTokenTemplate(template), headers={})}  # type: ignore[arg-type]
    async with gate_factory(servers) as gate:
        alice, bearer_token = await sign_in(gate, "notion", idp, "alice@example.com")
        await gate.app[AUTH].user_tokens.save(alice, "notion", token)
        status, reply = await post_mcp(gate, "notion", bearer_token, CALL)
    return gate, status, reply


async def test_token_in_the_url_template_is_filled_per_request(oauth_gate_factory, oidc_provider):
    """Issue 5 §4: `{$userToken}` in `url`, filled on every request to the remote backend."""
    async with running_recorder() as recorder:
        template = recorder.url + "/u/{{token}}/mcp"
        _, status, _ = await _call_with_url_token(
            oauth_gate_factory, oidc_provider, template, ALICE_TOKEN
        )
    assert status == 200
    assert [r["path"] for r in recorder.requests] == [f"/u/{ALICE_TOKEN}/mcp"]


@pytest.mark.parametrize(
    ("template", "token", "raw_path"),
    [
        ("/t/{{token}}/mcp?scope=readonly", "x/../../admin/delete-all?",
         "/t/x%2F..%2F..%2Fadmin%2Fdelete-all%3F/mcp?scope=readonly"),
        ("/mcp?key={{token}}&scope=readonly", "a&scope=admin#frag",
         "/mcp?key=a%26scope%3Dadmin%23frag&scope=readonly"),
        # Every byte of the token but the unreserved ones is percent-encoded, `@` and `:`
        # too (RFC 3986 §2.1; equivalent to them in a path, §6.2.2.2).
        ("/t/{{token}}/mcp", "@evil.test:80/x", "/t/%40evil.test%3A80%2Fx/mcp"),
    ],
    ids=["path", "query", "at-sign"],
)  # fmt: skip
async def test_url_syntax_in_a_token_stays_percent_encoded_in_its_place(
    oauth_gate_factory, oidc_provider, template: str, token: str, raw_path: str
):
    """Issue 17 §2 (RFC 3986 §2.1): `/ ? # @ & ..` in a user's token reach the configured
    backend percent-encoded, in the token's own path segment or query value."""
    async with running_recorder() as recorder:
        _, status, _ = await _call_with_url_token(
            oauth_gate_factory, oidc_provider, recorder.url + template, token
        )
    assert status == 200
    assert [r["raw_path"] for r in recorder.requests] == [raw_path]


async def test_a_token_in_the_userinfo_cannot_move_the_request_to_another_host(
    oauth_gate_factory, oidc_provider
):
    """Issue 17 §2: `x@<other host>/internal#` as the password of `apikey:{{token}}@backend`
    stays the password: the backend gets it in Basic auth, the other host gets nothing."""
    async with running_recorder() as backend, running_recorder() as other:
        port = backend.url.rsplit(":", 1)[1]
        template = f"http://apikey:{{{{token}}}}@127.0.0.1:{port}/mcp"
        token = f"x@{other.url.removeprefix('http://')}/internal/secret#"
        _, status, _ = await _call_with_url_token(
            oauth_gate_factory, oidc_provider, template, token
        )
    assert status == 200
    assert other.requests == []
    [seen] = backend.requests
    assert seen["raw_path"] == "/mcp"
    assert seen["authorization"] == "Basic " + base64.b64encode(f"apikey:{token}".encode()).decode()


@pytest.mark.parametrize("token", ["..", "."])
async def test_a_token_that_would_shorten_the_url_path_is_refused_before_the_backend(
    oauth_gate_factory, oidc_provider, token: str
):
    """Issue 17 §2: a token of dots only would be a `..` segment, which climbs out of the
    configured path; the user is told to replace it and the backend is never called."""
    async with running_recorder() as recorder:
        template = recorder.url + "/tenants/{{token}}/mcp"
        gate, status, refusal = await _call_with_url_token(
            oauth_gate_factory, oidc_provider, template, token
        )
    assert status == 200
    assert isinstance(refusal, dict)
    assert refusal["error"]["code"] == USER_TOKEN_UNAVAILABLE
    assert gate.url("/my/tokens") in refusal["error"]["message"]
    assert recorder.requests == []


async def test_legacy_sse_client_without_a_token_reads_the_error_on_its_stream(
    oauth_gate_factory, oidc_provider
):
    """Issue 5 §4 on the legacy front: the gate's own session answers on the SSE stream."""
    async with running_recorder() as recorder:
        server = notion_server(recorder.url + "/sse", name="legacy", transport_type="sse")
        async with oauth_gate_factory({"legacy": server}) as gate:
            _, token = await sign_in(gate, "legacy", oidc_provider, "bob@example.com")
            async with (
                aiohttp.ClientSession(timeout=PAGE_TIMEOUT) as http,
                RawLegacySession(http, gate.base_url, "legacy", bearer(token)) as legacy,
            ):
                reply = await legacy.request("tools/call", {"name": "search"})
    assert reply["error"]["code"] == USER_TOKEN_UNAVAILABLE
    assert gate.url("/my/tokens") in reply["error"]["message"]
    assert recorder.requests == []


async def test_legacy_sse_stream_carries_the_users_token_to_an_sse_backend(
    oauth_gate_factory, echo_headers_server, oidc_provider
):
    """Issue 5 §4: the legacy stream's upstream GET carries the token too."""
    server = notion_server(echo_headers_server.url + "/sse", name="legacy", transport_type="sse")
    async with oauth_gate_factory({"legacy": server}) as gate:
        alice, token = await sign_in(gate, "legacy", oidc_provider, "alice@example.com")
        await gate.app[AUTH].user_tokens.save(alice, "legacy", ALICE_TOKEN)
        headers = {**bearer(token), "Accept": "text/event-stream"}
        async with (
            aiohttp.ClientSession(timeout=PAGE_TIMEOUT) as http,
            http.get(gate.url("/legacy/sse"), headers=headers) as response,
        ):
            first_event = (await response.content.readuntil(b"\n\n")).decode()
    data = json.loads(first_event.split("data: ", 1)[1])
    assert data["headers"]["authorization"] == f"Bearer {ALICE_TOKEN}"
