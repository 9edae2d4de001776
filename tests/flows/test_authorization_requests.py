"""/authorize: which requests go on to consent, which come back to the client as errors,
and which stop at the gate because their redirect URI cannot be trusted.

Every answer sent to the client's redirect URI carries `iss`, equal to the metadata
issuer (RFC 9207 §2), and the client's `state` unchanged (RFC 6749 §4.1.2).
"""

from __future__ import annotations

import aiohttp
import pytest
from yarl import URL

from mcp_gate.store.memory import MemoryStore
from tests.fixtures.gate import remote
from tests.fixtures.oauth_client import (
    Pkce,
    authorization_url,
    exchange_code,
    log_in,
    mcp_initialize,
    register,
    request,
)
from tests.fixtures.oauth_flow import Browser

pytestmark = pytest.mark.usefixtures("oidc_provider")


def _one_server(backend):
    return {"py": remote("py", "streamable-http", backend.url)}


def _two_servers(backend):
    return {
        "alpha": remote("alpha", "streamable-http", backend.url),
        "beta": remote("beta", "streamable-http", backend.url),
    }


async def _metadata_issuer(gate) -> str:
    answer = await request("GET", f"{gate.base_url}/.well-known/oauth-authorization-server")
    return str(answer.json["issuer"])


async def _error_at_client(gate, url: str) -> URL:
    """The redirect /authorize answers with (it must redirect to the client at once)."""
    answer = await request("GET", url)
    assert answer.status == 302, answer.text
    return URL(answer.headers["Location"])


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"code_challenge": None, "code_challenge_method": None}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": None}, "invalid_request"),
        ({"code_challenge": "too-short"}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"resource": "http://elsewhere.test/mcp"}, "invalid_target"),
        ({"resource": "http://[not-a-host/mcp"}, "invalid_target"),
    ],
    ids=[
        "no-pkce",
        "plain-pkce",
        "no-method",
        "malformed-challenge",
        "implicit",
        "foreign-resource",
        "malformed-resource",
    ],
)
async def test_bad_authorization_request_returns_to_the_client_with_error_state_and_iss(
    oauth_gate_factory, py_streamable_server, overrides, error
):
    """RFC 6749 §4.1.2.1, RFC 7636 §4.4.1 (S256: OAuth 2.1 §7.5.2), RFC 8707 §2, RFC 9207 §2."""
    async with oauth_gate_factory(_one_server(py_streamable_server)) as gate:
        client = await register(gate.base_url)
        url = authorization_url(gate.base_url, client, pkce=Pkce.new(), **overrides)
        location = await _error_at_client(gate, url)
        issuer = await _metadata_issuer(gate)
    assert str(location).startswith(client.redirect_uri)
    assert location.query["error"] == error
    assert location.query["state"] == "state-of-the-client"
    assert location.query["iss"] == issuer == gate.base_url
    assert "code" not in location.query


async def test_successful_authorization_response_carries_iss_equal_to_the_metadata_issuer(
    oauth_gate_factory, py_streamable_server
):
    """RFC 9207 §2: `iss` in the success response too, byte-identical to the metadata issuer."""
    async with oauth_gate_factory(_one_server(py_streamable_server)) as gate:
        client = await register(gate.base_url)
        url = authorization_url(gate.base_url, client, pkce=Pkce.new(), state="s p/a+c=e&")
        callback = await Browser().walk(url)
        issuer = await _metadata_issuer(gate)
    assert callback.query["iss"] == issuer
    assert callback.query["state"] == "s p/a+c=e&"
    assert callback.query["code"]


async def test_unregistered_redirect_uri_stops_at_a_page_and_redirects_nowhere(
    oauth_gate_factory, py_streamable_server
):
    """OAuth 2.1 §4.1.2.1, MCP security §Open Redirection: never to an unregistered URI."""
    async with oauth_gate_factory(_one_server(py_streamable_server)) as gate:
        client = await register(gate.base_url)
        for other in (
            "https://attacker.test/callback",
            "http://127.0.0.1:33418/other-path",
            "http://localhost:33418/callback",
        ):
            url = authorization_url(gate.base_url, client, pkce=Pkce.new(), redirect_uri=other)
            answer = await request("GET", url)
            assert answer.status == 400, other
            assert "Location" not in answer.headers
            assert "did not register" in answer.text


async def test_loopback_redirect_uri_matches_on_any_port(oauth_gate_factory, py_streamable_server):
    """RFC 8252 §7.3: a loopback redirect URI matches whatever its port."""
    async with oauth_gate_factory(_one_server(py_streamable_server)) as gate:
        client = await register(gate.base_url)
        pkce = Pkce.new()
        ephemeral = "http://127.0.0.1:51234/callback"
        url = authorization_url(gate.base_url, client, pkce=pkce, redirect_uri=ephemeral)
        callback = await Browser().walk(url, stop_at=ephemeral)
        answer = await exchange_code(
            gate.base_url, client, callback.query["code"], pkce, redirect_uri=ephemeral
        )
    assert answer.status == 200


async def test_unknown_client_stops_at_a_page(oauth_gate_factory, py_streamable_server):
    """RFC 6749 §4.1.2.1: an invalid client_id is shown to the user, not redirected."""
    async with oauth_gate_factory(_one_server(py_streamable_server)) as gate:
        url = f"{gate.base_url}/authorize?response_type=code&client_id=nobody&redirect_uri=https://attacker.test/cb"
        answer = await request("GET", url)
    assert answer.status == 400
    assert "Location" not in answer.headers
    assert "not registered" in answer.text


@pytest.mark.parametrize("variant", ["/py/mcp/", "/py/mcp", "/py/sse", "/py"])
async def test_resource_variants_of_the_server_are_accepted(
    oauth_gate_factory, py_streamable_server, variant
):
    """RFC 8707 §2, MCP 2025-11-25 authorization §Canonical Server URI: trailing slash tolerated;
    each front is the server."""
    async with oauth_gate_factory(_one_server(py_streamable_server)) as gate:
        client = await register(gate.base_url)
        resource = gate.url(variant)
        answer = await log_in(gate.base_url, client, resource=resource)
        works = await mcp_initialize(gate.url("/py/mcp"), answer.access_token)
    assert works.status == 200


async def test_resource_in_uppercase_host_is_accepted(oauth_gate_factory, py_streamable_server):
    """MCP authorization §Canonical Server URI: SHOULD accept an uppercase scheme and host."""
    async with oauth_gate_factory(_one_server(py_streamable_server)) as gate:
        client = await register(gate.base_url)
        resource = gate.url("/py/mcp").replace("http://", "HTTP://")
        answer = await log_in(gate.base_url, client, resource=resource)
    assert answer.status == 200


async def test_missing_resource_with_one_server_defaults_to_it(
    oauth_gate_factory, py_streamable_server
):
    """policy (RFC 8707 §2 leaves it to the AS): a legacy client without `resource` gets the only
    server."""
    async with oauth_gate_factory(_one_server(py_streamable_server)) as gate:
        client = await register(gate.base_url)
        answer = await log_in(gate.base_url, client, resource=None)
        works = await mcp_initialize(gate.url("/py/mcp"), answer.access_token)
    assert works.status == 200


async def test_missing_resource_with_two_servers_is_invalid_target(
    oauth_gate_factory, py_streamable_server
):
    """policy (RFC 8707 §2 leaves it to the AS): with several servers the client must name one."""
    async with oauth_gate_factory(_two_servers(py_streamable_server)) as gate:
        client = await register(gate.base_url)
        url = authorization_url(gate.base_url, client, pkce=Pkce.new(), resource=None)
        location = await _error_at_client(gate, url)
    assert location.query["error"] == "invalid_target"
    assert gate.url("/alpha/mcp") in location.query["error_description"]
    assert location.query["iss"] == gate.base_url


async def test_authorization_without_state_still_answers_with_iss(
    oauth_gate_factory, py_streamable_server
):
    """RFC 6749 §4.1.2: `state` is echoed only when sent; `iss` always (RFC 9207 §2)."""
    async with oauth_gate_factory(_one_server(py_streamable_server)) as gate:
        client = await register(gate.base_url)
        url = authorization_url(gate.base_url, client, pkce=Pkce.new(), state=None)
        callback = await Browser().walk(url)
    assert "state" not in callback.query
    assert callback.query["iss"] == gate.base_url


async def test_request_object_is_refused(oauth_gate_factory, py_streamable_server):
    """policy: JAR request objects (RFC 9101) are not supported; the client is told so."""
    async with oauth_gate_factory(_one_server(py_streamable_server)) as gate:
        client = await register(gate.base_url)
        url = authorization_url(
            gate.base_url, client, pkce=Pkce.new(), request_uri="https://attacker.test/r"
        )
        location = await _error_at_client(gate, url)
    assert location.query["error"] == "invalid_request"


async def test_redirect_uri_may_be_left_out_when_one_is_registered(
    oauth_gate_factory, py_streamable_server
):
    """RFC 6749 §3.1.2.3: with a single registered redirect URI the parameter is optional."""
    async with oauth_gate_factory(_one_server(py_streamable_server)) as gate:
        client = await register(gate.base_url)
        url = URL(authorization_url(gate.base_url, client, pkce=Pkce.new()))
        callback = await Browser().walk(str(url.without_query_params("redirect_uri")))
    assert callback.query["code"]


async def test_idp_leg_has_its_own_client_state_nonce_and_pkce_and_no_resource(
    oauth_gate_factory, oidc_provider, py_streamable_server
):
    """MCP security best practices §Token Passthrough: the IdP leg is the gate's own flow;
    `resource` stays here."""
    async with oauth_gate_factory(_one_server(py_streamable_server)) as gate:
        client = await register(gate.base_url)
        pkce = Pkce.new()
        url = authorization_url(gate.base_url, client, pkce=pkce, resource=gate.url("/py/mcp"))
        at_idp = await Browser().walk(url, stop_at=oidc_provider.issuer)
    query = at_idp.query
    assert "resource" not in query
    assert query["client_id"] != client.client_id
    assert query["redirect_uri"] == gate.url("/oauth/callback")
    assert query["state"] != "state-of-the-client"
    assert query["nonce"]
    assert query["code_challenge_method"] == "S256"
    assert query["code_challenge"] != pkce.challenge


@pytest.mark.parametrize(
    "overrides",
    [
        {"scope": None},
        {"scope": "openid offline_access something-else"},
        {"prompt": "consent"},
    ],
    ids=["no-scope", "unknown-scopes", "prompt-consent"],
)
async def test_missing_or_unknown_scope_and_prompt_consent_still_get_the_mcp_scope(
    oauth_gate_factory, py_streamable_server, overrides
):
    """Policy (RFC 6749 §3.3 lets the AS grant less): one coarse scope, granted whatever was
    asked."""
    async with oauth_gate_factory(_one_server(py_streamable_server)) as gate:
        client = await register(gate.base_url)
        pkce = Pkce.new()
        url = authorization_url(gate.base_url, client, pkce=pkce, **overrides)
        callback = await Browser().walk(url)
        answer = await exchange_code(gate.base_url, client, callback.query["code"], pkce)
    assert answer.status == 200
    assert answer.json["scope"] == "mcp"


async def test_flood_of_anonymous_authorization_requests_keeps_nothing(
    oauth_gate_factory, py_streamable_server
):
    """policy: nothing is stored for an /authorize until the user acts on its consent page,
    so 300 anonymous requests (each with a 2,000-character state) leave the store as it was
    but for one counter (the address's `authorizePerAddress` window, which they just fill);
    each still reaches a working consent page."""
    store = MemoryStore()
    async with oauth_gate_factory(_one_server(py_streamable_server), store=store) as gate:
        client = await register(gate.base_url)
        before = len(store)
        url = authorization_url(gate.base_url, client, pkce=Pkce.new(), state="s" * 2000)
        async with aiohttp.ClientSession() as http:
            for _ in range(300):
                async with http.get(url, allow_redirects=False) as response:
                    assert response.status == 302
                    consent = response.headers["Location"]
            async with http.get(gate.url(consent)) as page:
                consent_status, consent_html = page.status, await page.text()
        after = len(store)
    assert after == before + 1
    assert consent_status == 200
    assert 'name="decision"' in consent_html


async def test_state_longer_than_the_cap_is_refused_at_the_redirect_uri(
    oauth_gate_factory, py_streamable_server
):
    """policy: a `state` over 2,048 characters is an invalid_request, not carried along."""
    async with oauth_gate_factory(_one_server(py_streamable_server)) as gate:
        client = await register(gate.base_url)
        url = authorization_url(gate.base_url, client, pkce=Pkce.new(), state="s" * 2049)
        answer = await request("GET", url)
    location = URL(answer.headers["Location"])
    assert answer.status == 302
    assert str(location).startswith(client.redirect_uri)
    assert location.query["error"] == "invalid_request"
    assert "state" not in location.query
