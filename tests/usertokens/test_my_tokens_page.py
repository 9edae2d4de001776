"""/my/tokens over HTTP: sign-in through the IdP, set, replace, delete, CSRF, validation."""

from __future__ import annotations

import time
from contextlib import asynccontextmanager

import aiohttp
from aiohttp import web

from mcp_gate.config.model import Secret
from mcp_gate.cookies import LOGIN_SESSION_SECONDS, BrowserCookies
from mcp_gate.crypto.aead import Sealer, decode_key
from mcp_gate.store.memory import MemoryStore
from tests.fixtures.gate import make_config, running_gate
from tests.fixtures.oauth_flow import oauth_config
from tests.fixtures.ports import free_port
from tests.fixtures.user_tokens import (
    PAGE_TIMEOUT,
    TokenPage,
    new_encryption_key,
    notion_server,
    token_page,
)

TOKEN_A = "ntn_AlphaSecretValue0001"
TOKEN_B = "ntn_BravoSecretValue0002"


@asynccontextmanager
async def token_page_jar():
    """One browser's cookie jar, to carry across gates on the same host."""
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar, timeout=PAGE_TIMEOUT) as http:
        yield http


async def test_page_without_session_signs_in_through_the_idp_and_lists_token_servers(
    oauth_gate_factory, echo_headers_server
):
    """Issue 5 §1: no session → the same IdP login as the OAuth flow, then the page."""
    servers = {"notion": notion_server(echo_headers_server.url + "/mcp")}
    async with oauth_gate_factory(servers) as gate, token_page(gate) as page:
        html = await page.open()
    assert page.status == 200, html
    assert page.url.path == "/my/tokens"
    assert "alice@example.com" in html
    assert "Notion" in html
    assert "Not set" in html
    assert "https://www.notion.so/my-integrations" in html


async def test_token_set_replaced_and_deleted_is_never_shown_back(
    oauth_gate_factory, echo_headers_server
):
    """Issue 5 §2: the value never appears in any page, only a masked hint."""
    servers = {"notion": notion_server(echo_headers_server.url + "/mcp")}
    async with oauth_gate_factory(servers) as gate, token_page(gate) as page:
        await page.open()
        saved = await page.save("notion", TOKEN_A)
        replaced = await page.save("notion", TOKEN_B)
        deleted = await page.delete("notion")
    assert "Your Notion token is saved." in saved
    assert "••••0001" in saved
    assert "••••0002" in replaced
    assert "••••0001" not in replaced
    assert "Your Notion token is deleted." in deleted
    assert "Not set" in deleted
    assert not any(TOKEN_A in body or TOKEN_B in body for body in page.bodies)


async def test_value_failing_the_validation_regex_is_refused_and_not_echoed(
    oauth_gate_factory, echo_headers_server
):
    """Issue 5 §2: `validation` is checked with a clear message; nothing is stored."""
    servers = {"notion": notion_server(echo_headers_server.url + "/mcp")}
    async with oauth_gate_factory(servers) as gate, token_page(gate) as page:
        await page.open()
        html = await page.save("notion", "sk_NotANotionToken99")
        status = page.status
        reloaded = await page.open()
    assert status == 400
    assert 'role="alert"' in html
    assert "This does not look like a Notion token" in html
    assert "sk_NotANotionToken99" not in html
    assert "Not set" in reloaded


async def test_form_without_or_with_a_wrong_csrf_token_changes_nothing(
    oauth_gate_factory, echo_headers_server
):
    """Issue 5 §2: CSRF token on every form; a missing or foreign one gets 403."""
    servers = {"notion": notion_server(echo_headers_server.url + "/mcp")}
    async with oauth_gate_factory(servers) as gate, token_page(gate) as page:
        await page.open()
        logout_csrf = page.csrf("/my/logout")
        await page.post("/my/tokens/notion", {"action": "save", "token": TOKEN_A})
        missing = page.status
        fields = {"csrf": logout_csrf, "action": "save", "token": TOKEN_A}
        await page.post("/my/tokens/notion", fields)
        other_purpose = page.status
        fields = {"csrf": "garbage", "action": "save", "token": TOKEN_A}
        await page.post("/my/tokens/notion", fields)
        garbage = page.status
        after = await page.open()
    assert (missing, other_purpose, garbage) == (403, 403, 403)
    assert "Not set" in after


async def test_csrf_token_from_another_browser_of_the_same_user_is_refused(
    oauth_gate_factory, echo_headers_server
):
    """Issue 5 §2: a form token is bound to the browser's CSRF cookie, not just the user."""
    servers = {"notion": notion_server(echo_headers_server.url + "/mcp")}
    async with (
        oauth_gate_factory(servers) as gate,
        token_page(gate) as first,
        token_page(gate) as second,
    ):
        await first.open()
        await second.open()
        fields = {"csrf": first.csrf("/my/tokens/notion"), "action": "save", "token": TOKEN_A}
        html = await second.post("/my/tokens/notion", fields)
        status = second.status
        after = await first.open()
    assert status == 403
    assert "Request not accepted" in html
    assert "Not set" in after


async def test_tampered_session_cookie_means_signing_in_again(
    oauth_gate_factory, echo_headers_server, oidc_provider
):
    """Issue 5 §1: a tampered cookie is "log in again", never an error page."""
    servers = {"notion": notion_server(echo_headers_server.url + "/mcp")}
    async with oauth_gate_factory(servers) as gate, token_page(gate) as page:
        await page.open()
        sealed = page.cookie("mcp-gate-session")
        flipped = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
        page.set_cookie("mcp-gate-session", flipped)
        status, location = await page.peek()
    assert status == 303
    assert location.startswith(oidc_provider.issuer)


async def test_expired_session_cookie_means_signing_in_again(
    oauth_gate_factory, echo_headers_server, oidc_provider
):
    """Issue 5 §1: the session's expiry is sealed inside it; past it, the user logs in again."""
    key = new_encryption_key()
    servers = {"notion": notion_server(echo_headers_server.url + "/mcp")}
    long_ago = time.time() - LOGIN_SESSION_SECONDS - 60
    cookies = BrowserCookies(Sealer([decode_key(key)]), secure=False, clock=lambda: long_ago)
    response = web.Response()
    cookies.start_session(response, "some-subject", "alice@example.com")
    expired = response.cookies[cookies.session_name].value
    async with (
        oauth_gate_factory(servers, encryption_keys=(Secret(key),)) as gate,
        token_page(gate) as page,
    ):
        page.set_cookie(cookies.session_name, expired)
        status, location = await page.peek()
    assert status == 303
    assert location.startswith(oidc_provider.issuer)


async def test_session_cookie_and_tokens_sealed_with_an_old_key_survive_rotation(
    oauth_gate_factory, echo_headers_server, oidc_provider
):
    """Issue 5 §1 key rotation: a list of keys, the first encrypts, all decrypt."""
    old_key, new_key = Secret(new_encryption_key()), Secret(new_encryption_key())
    servers = {"notion": notion_server(echo_headers_server.url + "/mcp")}
    store = MemoryStore()
    async with token_page_jar() as http:
        async with oauth_gate_factory(servers, store=store, encryption_keys=(old_key,)) as gate:
            page = TokenPage(gate, http)
            await page.open()
            await page.save("notion", TOKEN_A)
        rotated = (new_key, old_key)
        async with oauth_gate_factory(servers, store=store, encryption_keys=rotated) as gate:
            page = TokenPage(gate, http)
            kept = await page.peek()
            html = await page.open()
        async with oauth_gate_factory(servers, store=store, encryption_keys=(new_key,)) as gate:
            dropped = await TokenPage(gate, http).peek()
    assert kept == (200, "")
    assert "••••0001" in html
    assert dropped[0] == 303
    assert dropped[1].startswith(oidc_provider.issuer)


async def test_first_page_after_a_browser_restart_has_every_form_working(
    oauth_gate_factory, echo_headers_server
):
    """policy: with a session cookie but no CSRF cookie (it ends with the browser, the
    session lasts 12 h), one page render mints one CSRF secret, so every form on it works."""
    servers = {"notion": notion_server(echo_headers_server.url + "/mcp")}
    async with oauth_gate_factory(servers) as gate, token_page(gate) as page:
        await page.open()
        page.http.cookie_jar.clear(lambda cookie: cookie.key.endswith("mcp-gate-csrf"))
        await page.open()
        saved = await page.save("notion", TOKEN_A)
        saved_status = page.status
        logout_csrf = page.csrf("/my/logout")
        await page.open()
        page.http.cookie_jar.clear(lambda cookie: cookie.key.endswith("mcp-gate-csrf"))
        await page.open()
        await page.delete("notion")
        deleted_status = page.status
        html = await page.post("/my/logout", {"csrf": page.csrf("/my/logout")})
        logged_out_status = page.status
    assert saved_status == 200
    assert "Not set" not in saved
    assert logout_csrf
    assert deleted_status == 200
    assert logged_out_status == 200
    assert "You are signed out" in html


async def test_form_body_that_is_not_utf8_is_a_400(oauth_gate_factory, echo_headers_server):
    """policy: a form body whose bytes are not UTF-8 is a clear 400, never a 500."""
    servers = {"notion": notion_server(echo_headers_server.url + "/mcp")}
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    async with oauth_gate_factory(servers) as gate, token_page(gate) as page:
        await page.open()
        statuses = {}
        for path in ("/my/tokens/notion", "/my/logout"):
            async with page.http.post(gate.url(path), data=b"\xde\xf5\xb8*", headers=form) as r:
                statuses[path] = (r.status, "Traceback" in await r.text())
        after = await page.open()
    assert statuses == {"/my/tokens/notion": (400, False), "/my/logout": (400, False)}
    assert "alice@example.com" in after


async def test_sign_out_needs_its_csrf_token_and_ends_the_session(
    oauth_gate_factory, echo_headers_server, oidc_provider
):
    """Issue 5 §1: logout, itself a CSRF-protected form."""
    servers = {"notion": notion_server(echo_headers_server.url + "/mcp")}
    async with oauth_gate_factory(servers) as gate, token_page(gate) as page:
        await page.open()
        csrf = page.csrf("/my/logout")
        await page.post("/my/logout", {})
        refused = page.status
        still_in = await page.peek()
        html = await page.post("/my/logout", {"csrf": csrf})
        signed_out = page.status
        status, location = await page.peek()
    assert refused == 403
    assert still_in == (200, "")
    assert signed_out == 200
    assert "You are signed out" in html
    assert status == 303
    assert location.startswith(oidc_provider.issuer)


async def test_user_outside_the_allowed_domains_gets_no_session(
    oauth_gate_factory, echo_headers_server, oidc_provider
):
    """Issue 5 §1: the same allowlist as the OAuth flow; a refused login sets nothing."""
    await oidc_provider.set_next_user(email="eve@elsewhere.test", hd="elsewhere.test")
    servers = {"notion": notion_server(echo_headers_server.url + "/mcp")}
    async with oauth_gate_factory(servers) as gate, token_page(gate) as page:
        html = await page.open()
        status = page.status
        cookies = [cookie.key for cookie in page.http.cookie_jar]
    assert status == 403
    assert "Access refused" in html
    assert "mcp-gate-session" not in cookies


async def test_login_finished_in_another_browser_does_not_sign_that_browser_in(
    oauth_gate_factory, echo_headers_server, oidc_provider
):
    """policy (RFC 6749 §10.12, login CSRF): the IdP's answer counts only where it started."""
    servers = {"notion": notion_server(echo_headers_server.url + "/mcp")}
    async with (
        oauth_gate_factory(servers) as gate,
        token_page(gate) as starter,
        token_page(gate) as victim,
    ):
        _, idp_url = await starter.peek()
        callback = await oidc_provider.follow_login(
            idp_url, redirect_uri=gate.url("/oauth/callback")
        )
        html = await victim.open(f"/oauth/callback?{callback.query_string}")
        status = victim.status
        victim_cookies = [cookie.key for cookie in victim.http.cookie_jar]
        await starter.open(f"/oauth/callback?{callback.query_string}")
        replayed = starter.status
    assert status == 403
    assert "not started in this browser" in html
    assert "mcp-gate-session" not in victim_cookies
    assert replayed == 400  # the state is single-use, even for the browser that started it


async def test_page_and_its_forms_live_under_the_base_url_path(
    oauth_gate_factory, echo_headers_server
):
    """docs/routes.md: every route honours a path in baseURL."""
    servers = {"notion": notion_server(echo_headers_server.url + "/mcp")}
    async with (
        oauth_gate_factory(servers, base_path="/gate") as gate,
        token_page(gate) as page,
    ):
        html = await page.open()
        saved = await page.save("notion", TOKEN_A)
        final = page.url
    assert 'action="/gate/my/tokens/notion"' in html
    assert 'action="/gate/my/logout"' in html
    assert final.path == "/gate/my/tokens"
    assert "••••0001" in saved


async def test_page_sign_in_with_the_idp_unreachable_is_a_clear_502(echo_headers_server):
    """docs/deploy.md: an IdP that cannot be reached is a 502 that says so, never a 500."""
    dead_idp = f"http://127.0.0.1:{free_port()}/.well-known/openid-configuration"
    auth = oauth_config(dead_idp, client_id="gate", client_secret="gate-secret")
    config = make_config({"notion": notion_server(echo_headers_server.url + "/mcp")}, auth=auth)
    async with (
        running_gate(config) as gate,
        aiohttp.ClientSession(timeout=PAGE_TIMEOUT) as http,
        http.get(gate.url("/my/tokens"), allow_redirects=False) as response,
    ):
        body = await response.text()
    assert response.status == 502
    assert "identity provider" in body
    assert "Traceback" not in body
