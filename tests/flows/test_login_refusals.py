"""Logins the gate refuses, through the real OpenID provider: who may enter, and the IdP leg.

Each refusal ends on a clear page at the gate, and nothing is issued: no code reaches the
client, no login session is set. The ID-token checks themselves (signature, `nonce`, `aud`
…) have their own tests in tests/idp/; here is what a person at the browser sees.
"""

from __future__ import annotations

import pytest
from yarl import URL

from tests.fixtures.gate import make_config, remote, running_gate
from tests.fixtures.oauth_client import Pkce, authorization_url, register
from tests.fixtures.oauth_flow import Browser, FlowStopped, oauth_config
from tests.fixtures.ports import free_port

pytestmark = pytest.mark.usefixtures("oidc_provider")


def _servers(py_streamable_server):
    return {"py": remote("py", "streamable-http", py_streamable_server.url)}


def _has_login_session(browser: Browser) -> bool:
    return any(cookie.key.endswith("mcp-gate-session") for cookie in browser.jar)


async def _refused_login(gate, browser: Browser) -> FlowStopped:
    client = await register(gate.base_url)
    url = authorization_url(gate.base_url, client, pkce=Pkce.new())
    with pytest.raises(FlowStopped) as stopped:
        await browser.walk(url)
    return stopped.value


async def test_user_of_a_domain_not_allowed_is_refused_with_a_page(
    oauth_gate_factory, oidc_provider, py_streamable_server
):
    """docs/identity-providers.md: a generic OIDC login is allowed by the verified email's
    domain."""
    await oidc_provider.set_next_user(email="mallory@other.test")
    browser = Browser()
    async with oauth_gate_factory(_servers(py_streamable_server)) as gate:
        stopped = await _refused_login(gate, browser)
    assert stopped.status == 403
    assert stopped.url.path == "/oauth/callback"
    assert "Accounts of other.test may not use this gate" in stopped.body
    assert "example.com" in stopped.body
    assert not _has_login_session(browser)


async def test_google_login_of_another_workspace_is_refused_whatever_the_email(
    oauth_gate_factory, oidc_provider, py_streamable_server
):
    """docs/identity-providers.md: for Google the signed `hd` claim decides, not the email
    address."""
    await oidc_provider.set_next_user(email="alice@example.com", hd="evil.test")
    browser = Browser()
    async with oauth_gate_factory(_servers(py_streamable_server), provider="google") as gate:
        stopped = await _refused_login(gate, browser)
    assert stopped.status == 403
    assert "Google Workspace of evil.test" in stopped.body
    assert not _has_login_session(browser)


async def test_google_personal_account_without_hd_is_refused(
    oauth_gate_factory, oidc_provider, py_streamable_server
):
    """docs/identity-providers.md: a Google account without `hd` belongs to no allowed Workspace."""
    await oidc_provider.set_next_user(email="alice@example.com", hd=None)
    async with oauth_gate_factory(_servers(py_streamable_server), provider="google") as gate:
        stopped = await _refused_login(gate, Browser())
    assert stopped.status == 403
    assert "personal Google account" in stopped.body


async def test_unverified_email_is_refused(oauth_gate_factory, oidc_provider, py_streamable_server):
    """docs/identity-providers.md: `email_verified` must be true, whatever the domain."""
    await oidc_provider.set_next_user(email="alice@example.com", email_verified=False)
    browser = Browser()
    async with oauth_gate_factory(_servers(py_streamable_server)) as gate:
        stopped = await _refused_login(gate, browser)
    assert stopped.status == 403
    assert "has not verified the email address" in stopped.body
    assert not _has_login_session(browser)


async def _idp_callback(gate, browser: Browser) -> URL:
    """Walk one authorization up to the IdP's redirect to the gate, and stop there."""
    client = await register(gate.base_url)
    url = authorization_url(gate.base_url, client, pkce=Pkce.new())
    return await browser.walk(url, stop_at=gate.url("/oauth/callback"))


async def test_callback_with_an_altered_state_shows_a_page_and_issues_nothing(
    oauth_gate_factory, py_streamable_server
):
    """MCP security best practices §Confused Deputy: the IdP state must match exactly."""
    browser = Browser()
    async with oauth_gate_factory(_servers(py_streamable_server)) as gate:
        callback = await _idp_callback(gate, browser)
        altered = callback.update_query(state=callback.query["state"][:-1] + "x")
        with pytest.raises(FlowStopped) as stopped:
            await browser.walk(str(altered))
        missing = callback.with_query(code=callback.query["code"])
        with pytest.raises(FlowStopped) as without_state:
            await browser.walk(str(missing))
    assert stopped.value.status == 400
    assert "Sign-in not recognised" in stopped.value.body
    assert without_state.value.status == 400
    assert not _has_login_session(browser)


async def test_callback_replayed_shows_a_page_and_issues_nothing_more(
    oauth_gate_factory, py_streamable_server
):
    """MCP security best practices §Confused Deputy: the IdP state is single-use."""
    browser = Browser()
    async with oauth_gate_factory(_servers(py_streamable_server)) as gate:
        callback = await _idp_callback(gate, browser)
        first = await browser.walk(str(callback))
        with pytest.raises(FlowStopped) as replayed:
            await Browser().walk(str(callback))
    assert "code" in first.query
    assert replayed.value.status == 400
    assert "already used" in replayed.value.body


async def test_idp_code_of_another_sign_in_is_refused(oauth_gate_factory, py_streamable_server):
    """OIDC Core §3.1.3.7 / RFC 7636: a code bound to another sign-in's nonce and PKCE fails."""
    browser = Browser()
    async with oauth_gate_factory(_servers(py_streamable_server)) as gate:
        first = await _idp_callback(gate, browser)
        second = await _idp_callback(gate, browser)
        swapped = second.update_query(code=first.query["code"])
        with pytest.raises(FlowStopped) as stopped:
            await browser.walk(str(swapped))
    assert stopped.value.status == 403
    assert "expired or was already used" in stopped.value.body
    assert not _has_login_session(browser)


async def test_sign_in_abandoned_at_the_idp_reaches_the_client_as_access_denied(
    oauth_gate_factory, py_streamable_server
):
    """RFC 6749 §4.1.2.1 with RFC 9207 §2: the error goes to the client with state and iss."""
    browser = Browser()
    async with oauth_gate_factory(_servers(py_streamable_server)) as gate:
        callback = await _idp_callback(gate, browser)
        idp_error = callback.with_query(error="access_denied", state=callback.query["state"])
        answer = await browser.walk(str(idp_error))
    assert answer.query["error"] == "access_denied"
    assert answer.query["state"] == "state-of-the-client"
    assert answer.query["iss"] == gate.base_url
    assert "code" not in answer.query


async def test_idp_unreachable_when_the_sign_in_starts_shows_a_502_page(py_streamable_server):
    """docs/deploy.md: an IdP outage is a clear 502 page at the gate, never a 500."""
    unreachable = f"http://127.0.0.1:{free_port()}/.well-known/openid-configuration"
    auth = oauth_config(unreachable, client_id="gate", client_secret="not-used")
    config = make_config(_servers(py_streamable_server), auth=auth)
    async with running_gate(config) as gate:
        client = await register(gate.base_url)
        url = authorization_url(gate.base_url, client, pkce=Pkce.new())
        with pytest.raises(FlowStopped) as stopped:
            await Browser().walk(url)
    assert stopped.value.status == 502
    assert stopped.value.url.path == "/consent"
    assert "could not be reached" in stopped.value.body
