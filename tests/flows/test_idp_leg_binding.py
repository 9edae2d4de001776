"""The IdP leg belongs to the browser that began it: consent splice and login CSRF, tried.

Each test plays the attack with two browsers (two cookie jars) against a real gate and the
real oidc-provider, which signs in whoever it was told to next (the victim "already signed
in at the IdP"). RFC 6749 §10.12 (CSRF against the redirect URI), RFC 9700 §4.7.1 (CSRF
protection binds the flow to the user agent), MCP security best practices §Confused
Deputy (upstream state tied to the consent it follows).
"""

from __future__ import annotations

import pytest
from yarl import URL

from mcp_gate.appkeys import AUTH
from tests.fixtures.gate import remote
from tests.fixtures.oauth_client import Pkce, authorization_url, exchange_code, register
from tests.fixtures.oauth_flow import Browser, FlowStopped
from tests.fixtures.user_tokens import token_page

pytestmark = pytest.mark.usefixtures("oidc_provider")

ATTACKER_REDIRECT_URI = "https://attacker.example/cb"


def _servers(backend):
    return {"py": remote("py", "streamable-http", backend.url)}


def _has_session(browser: Browser) -> bool:
    return any(cookie.key.endswith("mcp-gate-session") for cookie in browser.jar)


async def test_idp_link_of_a_consent_begun_elsewhere_issues_nothing_to_the_attacker(
    oauth_gate_factory, py_streamable_server, oidc_provider
):
    """RFC 9700 §4.7.1 / MCP best practices §Confused Deputy: the consent splice fails."""
    async with oauth_gate_factory(_servers(py_streamable_server)) as gate:
        client = await register(gate.base_url, redirect_uris=(ATTACKER_REDIRECT_URI,))
        pkce = Pkce.new()
        attacker = Browser()
        # The attacker approves consent for their own client and keeps the IdP URL.
        idp_url = await attacker.walk(
            authorization_url(gate.base_url, client, pkce=pkce), stop_at=oidc_provider.issuer
        )
        victim_sub = await oidc_provider.set_next_user(email="victim@example.com")
        victim = Browser()
        with pytest.raises(FlowStopped) as stopped:
            await victim.walk(str(idp_url), stop_at=ATTACKER_REDIRECT_URI)
        consented = await gate.app[AUTH].grants.has_consent(victim_sub, client.client_id)
    assert attacker.pages_seen == ["consent"]
    assert victim.pages_seen == []
    assert stopped.value.status == 403
    assert stopped.value.url.path == "/oauth/callback"
    assert "not started in this browser" in stopped.value.body
    assert not consented
    assert not _has_session(victim)


async def test_callback_url_of_someone_elses_login_does_not_sign_the_victim_in(
    oauth_gate_factory, py_streamable_server, oidc_provider
):
    """RFC 6749 §10.12: login CSRF through /oauth/callback fails; the victim stays signed out."""
    async with oauth_gate_factory(_servers(py_streamable_server)) as gate:
        client = await register(gate.base_url)
        pkce = Pkce.new()
        await oidc_provider.set_next_user(email="mallory@example.com")
        mallory = Browser()
        callback = await mallory.walk(
            authorization_url(gate.base_url, client, pkce=pkce),
            stop_at=gate.url("/oauth/callback"),
        )
        victim = Browser()
        with pytest.raises(FlowStopped) as stopped:
            await victim.walk(str(callback), stop_at=client.redirect_uri)
        # Mallory cannot use it either now: the state was single-use.
        with pytest.raises(FlowStopped) as replayed:
            await mallory.walk(str(callback), stop_at=client.redirect_uri)
    assert stopped.value.status == 403
    assert "not started in this browser" in stopped.value.body
    assert not _has_session(victim)
    assert replayed.value.status == 400


async def test_callback_in_the_browser_that_began_the_login_completes(
    oauth_gate_factory, py_streamable_server, oidc_provider
):
    """The legitimate flow: the same browser from /authorize to the client gets a code."""
    async with oauth_gate_factory(_servers(py_streamable_server)) as gate:
        client = await register(gate.base_url)
        pkce = Pkce.new()
        browser = Browser()
        callback = await browser.walk(authorization_url(gate.base_url, client, pkce=pkce))
        answer = await exchange_code(gate.base_url, client, callback.query["code"], pkce)
    assert answer.status == 200
    assert _has_session(browser)


async def test_signing_in_for_an_application_as_another_user_keeps_the_browsers_own_login(
    oauth_gate_factory, py_streamable_server, oidc_provider
):
    """policy: a browser's login session is never switched to another user unasked."""
    async with oauth_gate_factory(_servers(py_streamable_server)) as gate:
        await oidc_provider.set_next_user(email="alice@example.com")
        async with token_page(gate) as page:
            await page.open()
            assert "alice@example.com" in page.html
            # Same browser, an application's login, and someone else at the IdP.
            await oidc_provider.set_next_user(email="bob@example.com")
            client = await register(gate.base_url)
            pkce = Pkce.new()
            browser = Browser(jar=page.http.cookie_jar)
            callback = await browser.walk(authorization_url(gate.base_url, client, pkce=pkce))
            answer = await exchange_code(gate.base_url, client, callback.query["code"], pkce)
            await page.open()
    assert browser.pages_seen == ["consent"]
    assert answer.status == 200
    assert answer.json is not None
    assert "bob@example.com" not in page.html
    assert "alice@example.com" in page.html
    assert URL(page.url).path == "/my/tokens"
