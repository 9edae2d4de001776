"""The consent step: what the page shows, how it is protected, and when it is remembered.

MCP security best practices §Confused Deputy: before the first redirect to the IdP for a
client, the user sees the client's name and redirect URI and approves, on a page that
cannot be framed, through a CSRF-protected form; approval is remembered per (user, client).
"""

from __future__ import annotations

import re
from html import unescape

import aiohttp
import pytest
from yarl import URL

from tests.fixtures.gate import make_config, remote, running_gate
from tests.fixtures.oauth_client import Pkce, authorization_url, register, request
from tests.fixtures.oauth_flow import Browser, oauth_config
from tests.fixtures.ports import free_port

pytestmark = pytest.mark.usefixtures("oidc_provider")

_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def _servers(backend):
    return {"py": remote("py", "streamable-http", backend.url)}


async def _consent_url(gate, client) -> URL:
    answer = await request("GET", authorization_url(gate.base_url, client, pkce=Pkce.new()))
    assert answer.status == 302, answer.text
    return URL(gate.base_url).join(URL(answer.headers["Location"]))


async def _open_consent(browser: Browser, url: URL) -> tuple[int, dict[str, str], str]:
    """GET the consent page with the browser's cookies: status, hidden fields, body."""
    async with (
        aiohttp.ClientSession(cookie_jar=browser.jar) as http,
        http.get(url, allow_redirects=False) as response,
    ):
        body = await response.text()
        fields = {unescape(k): unescape(v) for k, v in _HIDDEN.findall(body)}
        return response.status, fields, body


async def _post_consent(browser: Browser, gate, form: dict[str, str]):
    async with (
        aiohttp.ClientSession(cookie_jar=browser.jar) as http,
        http.post(gate.url("/consent"), data=form, allow_redirects=False) as response,
    ):
        return response.status, response.headers.get("Location"), await response.text()


async def test_consent_page_names_the_client_and_its_redirect_host_and_cannot_be_framed(
    oauth_gate_factory, py_streamable_server
):
    """MCP security best practices §Confused Deputy: name, redirect URI, no framing, no caching."""
    async with oauth_gate_factory(_servers(py_streamable_server)) as gate:
        client = await register(
            gate.base_url,
            client_name="Cursor <b>Pro</b>",
            redirect_uris=("http://127.0.0.1:33418/callback",),
        )
        url = await _consent_url(gate, client)
        answer = await request("GET", str(url))
    assert answer.status == 200
    csp = answer.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert answer.headers["Cache-Control"] == "no-store"
    assert "Cursor &lt;b&gt;Pro&lt;/b&gt;" in answer.text
    assert "<b>Pro</b>" not in answer.text
    assert "<strong>127.0.0.1</strong>" in answer.text
    assert "http://127.0.0.1:33418/callback" in answer.text
    assert client.client_id in answer.text
    assert "on this computer" in answer.text  # security §Localhost Redirect URI Risks
    assert "<strong>py</strong>" in answer.text


async def test_consent_denied_reaches_the_client_as_access_denied_with_state_and_iss(
    oauth_gate_factory, py_streamable_server
):
    """RFC 6749 §4.1.2.1 `access_denied`, with `state` and RFC 9207 `iss`."""
    browser = Browser(consent="deny")
    async with oauth_gate_factory(_servers(py_streamable_server)) as gate:
        client = await register(gate.base_url)
        callback = await browser.walk(authorization_url(gate.base_url, client, pkce=Pkce.new()))
    assert callback.query["error"] == "access_denied"
    assert callback.query["state"] == "state-of-the-client"
    assert callback.query["iss"] == gate.base_url
    assert "code" not in callback.query
    assert browser.pages_seen == ["consent"]


@pytest.mark.parametrize("csrf", [None, "forged", "from-another-browser"])
async def test_consent_post_without_a_valid_csrf_token_is_refused_and_nothing_is_issued(
    oauth_gate_factory, py_streamable_server, csrf
):
    """MCP security best practices §Confused Deputy: the consent form is CSRF-protected."""
    browser = Browser()
    async with oauth_gate_factory(_servers(py_streamable_server)) as gate:
        client = await register(gate.base_url)
        url = await _consent_url(gate, client)
        status, fields, _ = await _open_consent(browser, url)
        assert status == 200
        form = {"request": fields["request"], "decision": "approve"}
        if csrf == "forged":
            token = fields["csrf"]
            form["csrf"] = token[:20] + ("B" if token[20] == "A" else "A") + token[21:]
        elif csrf == "from-another-browser":
            _, other_fields, _ = await _open_consent(Browser(), url)
            form["csrf"] = other_fields["csrf"]
        status, location, body = await _post_consent(browser, gate, form)
        still_pending, _, _ = await _open_consent(browser, url)
    assert status == 403
    assert location is None
    assert "did not come from this browser" in body
    assert still_pending == 200  # refused, not consumed: the real page still works


async def test_consent_post_from_a_browser_without_the_csrf_cookie_is_refused(
    oauth_gate_factory, py_streamable_server
):
    """A cross-site POST carries no SameSite=Lax cookie, so it cannot pass the CSRF check."""
    async with oauth_gate_factory(_servers(py_streamable_server)) as gate:
        client = await register(gate.base_url)
        url = await _consent_url(gate, client)
        _, fields, _ = await _open_consent(Browser(), url)
        status, location, _ = await _post_consent(
            Browser(), gate, {**fields, "decision": "approve"}
        )
    assert status == 403
    assert location is None


async def test_consent_cookies_are_httponly_and_samesite_lax(
    oauth_gate_factory, py_streamable_server
):
    """MCP security best practices §Confused Deputy: consent cookies HttpOnly, SameSite=Lax."""
    async with oauth_gate_factory(_servers(py_streamable_server)) as gate:
        client = await register(gate.base_url)
        url = await _consent_url(gate, client)
        answer = await request("GET", str(url))
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Path=/" in cookie


async def test_second_authorization_in_the_same_browser_skips_the_consent_page(
    oauth_gate_factory, py_streamable_server
):
    """docs/THREAT_MODEL.md, confused deputy: approval is remembered per (user, client)."""
    browser = Browser()
    async with oauth_gate_factory(_servers(py_streamable_server)) as gate:
        client = await register(gate.base_url)
        first = await browser.walk(authorization_url(gate.base_url, client, pkce=Pkce.new()))
        second = await browser.walk(authorization_url(gate.base_url, client, pkce=Pkce.new()))
        other_client = await register(gate.base_url)
        third = await browser.walk(authorization_url(gate.base_url, other_client, pkce=Pkce.new()))
    assert all(url.query["code"] for url in (first, second, third))
    assert browser.pages_seen == ["consent", "consent"]  # the first client once, the other once


async def test_other_user_signing_in_through_a_remembering_browser_gets_the_consent_page(
    oauth_gate_factory, oidc_provider, py_streamable_server
):
    """docs/THREAT_MODEL.md, confused deputy: consent belongs to the user; a remembered one is not
    lent to someone else."""
    browser = Browser()
    async with oauth_gate_factory(_servers(py_streamable_server)) as gate:
        client = await register(gate.base_url)
        await browser.walk(authorization_url(gate.base_url, client, pkce=Pkce.new()))
        # Alice signs out at the IdP (its cookies go; the gate's stay) and Bob signs in.
        browser.jar.clear(lambda cookie: not cookie.key.startswith("mcp-gate-"))
        await oidc_provider.set_next_user(email="bob@example.com", hd="example.com")
        callback = await browser.walk(authorization_url(gate.base_url, client, pkce=Pkce.new()))
        again = await browser.walk(authorization_url(gate.base_url, client, pkce=Pkce.new()))
    assert callback.query["code"]
    assert again.query["code"]
    assert browser.pages_seen == ["consent", "consent"]


async def test_consent_page_of_an_unknown_request_says_it_expired(
    oauth_gate_factory, py_streamable_server
):
    """policy: a stale or forged request id gets a page, not an error trace."""
    async with oauth_gate_factory(_servers(py_streamable_server)) as gate:
        answer = await request("GET", gate.url("/consent?request=nothing-here"))
    assert answer.status == 400
    assert "expired" in answer.text


async def test_cookies_behind_https_are_host_prefixed_and_secure(
    oidc_provider, py_streamable_server
):
    """MCP security best practices §Confused Deputy: `__Host-` prefix, Secure, on https."""
    port = free_port()
    auth = oauth_config(oidc_provider.discovery_url, client_id="unused", client_secret="unused")
    # TLS ends in front of the gate: it listens on plain http, its baseURL is https.
    config = make_config(
        _servers(py_streamable_server), port=port, auth=auth, base_url=f"https://127.0.0.1:{port}"
    )
    plain = f"http://127.0.0.1:{port}"
    async with running_gate(config):
        client = await register(plain)
        started = await request("GET", authorization_url(plain, client, pkce=Pkce.new()))
        answer = await request("GET", plain + started.headers["Location"])
    cookie = answer.headers["Set-Cookie"]
    assert cookie.startswith("__Host-mcp-gate-csrf=")
    assert "Secure" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Path=/" in cookie
    assert "Domain" not in cookie
