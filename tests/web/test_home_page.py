"""The home page `/`: what the gate is, signing in, and each server with its client setup.

In Chromium (Playwright) signed out and signed in through the dev login, light and dark;
over plain HTTP for the gate without logins, the redirect to `<baseURL>/` and the sign-in.
"""

from __future__ import annotations

import json

import aiohttp
from playwright.async_api import Page, expect

from mcp_gate.config.model import AuthConfig, IdpConfig, Secret, ServiceAuth
from tests.fixtures.browser import chromium_page
from tests.fixtures.gate import make_config, remote, running_gate
from tests.fixtures.user_tokens import notion_server

DEV_AUTH = AuthConfig(idp=IdpConfig(provider="dev"), allowed_domains=("example.com",))
NOWHERE = "http://127.0.0.1:9/mcp"  # the page never calls a backend
TIMEOUT = aiohttp.ClientTimeout(total=20)


def _servers() -> dict:
    return {"docs": remote("docs", "streamable-http", NOWHERE), "notion": notion_server(NOWHERE)}


async def _sign_in_with_the_dev_login(page: Page, home: str, email: str) -> None:
    await page.get_by_role("link", name="Sign in").click()
    await page.get_by_label("Email").fill(email)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(home)


async def _snippet(region, client: str) -> str:
    await region.get_by_text(client, exact=True).click()  # opens its <details>
    code = region.locator("details[open] pre code")
    await expect(code).to_be_visible()
    text = await code.inner_text()
    await region.get_by_text(client, exact=True).click()  # and closes it again
    return text


async def test_home_signed_out_then_signed_in_shows_each_server_with_its_client_setup(
    browser_page: Page,
):
    """Issue 14 §8 (policy): signed out, what the gate is and a sign-in; signed in through
    the same browser login as /my/tokens, every server with its MCP URL and setup for
    Claude Code, Cursor, VS Code and Claude Desktop; nothing loaded from elsewhere."""
    page = browser_page
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    async with running_gate(make_config(_servers(), auth=DEV_AUTH)) as gate:
        home = gate.url("/")
        first = await page.goto(home)
        assert first is not None
        await expect(page.get_by_role("heading", name="mcp-gate")).to_be_visible()
        await expect(page.get_by_text("puts MCP servers behind single sign-on")).to_be_visible()
        await expect(page.get_by_text("demo login")).to_be_visible()
        signed_out = await page.content()

        await _sign_in_with_the_dev_login(page, home, "alice@example.com")
        await expect(page.get_by_role("heading", name="Your MCP servers")).to_be_visible()
        await expect(page.get_by_text("alice@example.com")).to_be_visible()
        await expect(page.get_by_role("button", name="Sign out")).to_be_visible()

        url = gate.url("/docs/mcp")
        docs = page.get_by_role("region", name="docs")
        await expect(docs.get_by_text(url, exact=True)).to_be_visible()
        await expect(docs.get_by_text(gate.url("/docs/sse"), exact=True)).to_be_visible()
        claude_code = await _snippet(docs, "Claude Code")
        cursor = json.loads(await _snippet(docs, "Cursor"))
        vscode = json.loads(await _snippet(docs, "VS Code"))
        desktop = json.loads(await _snippet(docs, "Claude Desktop"))

        notion = page.get_by_role("region", name="notion")
        token_link = notion.get_by_role("link", name="your service tokens")
        await expect(token_link).to_have_attribute("href", "/my/tokens")
        my_tokens = page.get_by_role("link", name="Your service tokens", exact=True)
        await expect(my_tokens).to_have_attribute("href", "/my/tokens")

        await page.goto(gate.url("/sign-in"))  # already signed in: straight back home
        await expect(page).to_have_url(home)
    assert claude_code == f"claude mcp add --transport http docs {url}"
    assert cursor == {"mcpServers": {"docs": {"url": url}}}
    assert vscode == {"servers": {"docs": {"type": "http", "url": url}}}
    assert desktop == {"mcpServers": {"docs": {"command": "npx", "args": ["mcp-remote", url]}}}
    assert "/docs/mcp" not in signed_out  # the servers are for signed-in users
    csp = first.headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    assert [request for request in requested if not request.startswith(gate.base_url)] == []


async def test_home_follows_the_browser_light_or_dark_preference():
    """Policy: the page follows `prefers-color-scheme`, like every page of the gate."""
    backgrounds = {}
    async with running_gate(make_config(_servers(), auth=DEV_AUTH)) as gate:
        for scheme in ("light", "dark"):
            async with chromium_page(color_scheme=scheme) as page:
                await page.goto(gate.url("/"))
                backgrounds[scheme] = await page.evaluate(
                    "getComputedStyle(document.body).backgroundColor"
                )
    assert backgrounds == {"light": "rgb(246, 248, 250)", "dark": "rgb(13, 17, 23)"}


async def test_sign_in_from_the_home_page_goes_to_the_identity_provider(
    oauth_gate_factory, oidc_provider
):
    """Issue 14 §8: the sign-in button starts the browser login /my/tokens uses (OIDC)."""
    async with (
        oauth_gate_factory(_servers()) as gate,
        aiohttp.ClientSession(timeout=TIMEOUT) as http,
        http.get(gate.url("/sign-in"), allow_redirects=False) as answer,
    ):
        location = answer.headers["Location"]
        status = answer.status
    assert status == 303
    assert location.startswith(oidc_provider.issuer)


async def test_home_of_a_gate_without_logins_lists_only_the_open_servers():
    """Policy: with no sign-in, the page lists the servers anyone may use; those that ask
    for service credentials are for machines and stay unlisted."""
    ci = ServiceAuth(type="bearer", tokens=(Secret("ci-token"),))
    servers = {
        "open": remote("open", "streamable-http", NOWHERE),
        "ci": remote("ci", "streamable-http", NOWHERE, service_auths=(ci,)),
    }
    async with (
        running_gate(make_config(servers)) as gate,
        aiohttp.ClientSession(timeout=TIMEOUT) as http,
        http.get(gate.url("/")) as answer,
    ):
        html = await answer.text()
        status = answer.status
    assert status == 200
    assert gate.url("/open/mcp") in html
    assert "/ci/mcp" not in html
    assert "Sign in" not in html


async def test_base_url_without_its_trailing_slash_redirects_to_the_home_page():
    """Policy: a gate under a path (`https://host/gate`) has its home page at `/gate/`."""
    async with (
        running_gate(make_config(_servers(), auth=DEV_AUTH, base_path="/gate")) as gate,
        aiohttp.ClientSession(timeout=TIMEOUT) as http,
    ):
        async with http.get(gate.url(""), allow_redirects=False) as bare:
            redirect = (bare.status, bare.headers["Location"])
        async with http.get(gate.url("/")) as home:
            home_status = home.status
            html = await home.text()
    assert redirect == (308, "/gate/")
    assert home_status == 200
    assert 'href="/gate/sign-in"' in html
