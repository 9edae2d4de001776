"""/my/tokens in a real browser (Chromium via Playwright): sign in, set, replace, delete."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from playwright.async_api import Page, Response, expect

from tests.fixtures.ports import free_port
from tests.fixtures.user_tokens import notion_server, register_service_client, service_server

TOKEN_A = "ntn_BrowserSecretAAAA1111"
TOKEN_B = "ntn_BrowserSecretBBBB2222"


def _is_page(response: Response) -> bool:
    return response.request.resource_type == "document" and response.status in (200, 400)


async def _load(page: Page, action: Callable[[], Awaitable[object]]) -> tuple[Response, str]:
    """Run `action`; the document it ends on, and that document's source as received."""
    async with page.expect_response(_is_page) as arrival:
        await action()
    response = await arrival.value
    return response, await response.text()


async def test_browser_signs_in_and_sets_replaces_and_deletes_a_token_never_shown_back(
    oauth_gate_factory, echo_headers_server, oidc_provider, browser_page: Page
):
    """Issue 5 §1-2 end to end: IdP login, then the token only ever as a masked hint."""
    page = browser_page
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    servers = {"notion": notion_server(echo_headers_server.url + "/mcp")}
    sources = []
    async with oauth_gate_factory(servers) as gate:
        first, source = await _load(page, lambda: page.goto(gate.url("/my/tokens")))
        sources.append(source)
        await expect(page).to_have_url(gate.url("/my/tokens"))
        await expect(page.get_by_role("heading", name="Your service tokens")).to_be_visible()
        await expect(page.get_by_text("alice@example.com")).to_be_visible()
        notion = page.get_by_role("region", name="Notion")
        await expect(notion.get_by_text("Not set")).to_be_visible()

        await notion.get_by_label("Token for Notion").fill(TOKEN_A)
        save = notion.get_by_role("button", name="Save token")
        sources.append((await _load(page, save.click))[1])
        await expect(page.get_by_role("status")).to_have_text("Your Notion token is saved.")
        await expect(notion.get_by_text("••••1111")).to_be_visible()

        await notion.get_by_label("New token for Notion").fill(TOKEN_B)
        replace = notion.get_by_role("button", name="Replace token")
        sources.append((await _load(page, replace.click))[1])
        await expect(notion.get_by_text("••••2222")).to_be_visible()
        await expect(notion.get_by_text("••••1111")).to_have_count(0)

        await notion.get_by_label("New token for Notion").fill("not-a-notion-token")
        refused, source = await _load(page, replace.click)
        sources.append(source)
        await expect(notion.get_by_role("alert")).to_contain_text("does not look like a Notion")
        await expect(notion.get_by_text("••••2222")).to_be_visible()

        delete = notion.get_by_role("button", name="Delete token")
        sources.append((await _load(page, delete.click))[1])
        await expect(page.get_by_role("status")).to_have_text("Your Notion token is deleted.")
        await expect(notion.get_by_text("Not set")).to_be_visible()
        sources.append(await page.content())
    assert refused.status == 400
    assert not [s for s in sources if TOKEN_A in s or TOKEN_B in s or "not-a-notion" in s]
    assert "frame-ancestors 'none'" in first.headers["content-security-policy"]
    # No external assets: the browser only ever talked to the gate and the IdP.
    origins = (gate.base_url, oidc_provider.issuer)
    assert [url for url in requested if not url.startswith(origins)] == []


async def test_browser_connects_a_service_account_through_its_oauth_server(
    oauth_gate_factory, echo_headers_server, service_provider, browser_page: Page
):
    """Issue 5 §5: the "Connect" button runs the service's code + PKCE flow and comes back."""
    page = browser_page
    port = free_port()
    client_id = await register_service_client(service_provider, port)
    token_url = f"{service_provider.issuer}/token"
    server = service_server(
        echo_headers_server.url + "/mcp", service_provider, client_id, token_url
    )
    async with oauth_gate_factory({"linear": server}, port=port) as gate:
        await page.goto(gate.url("/my/tokens"))
        linear = page.get_by_role("region", name="Linear")
        await expect(linear.get_by_text("Not connected")).to_be_visible()
        await linear.get_by_role("button", name="Connect Linear").click()
        await expect(page.get_by_role("status")).to_have_text("Linear is connected.")
        await expect(linear.get_by_text("Connected", exact=True)).to_be_visible()
        await linear.get_by_role("button", name="Disconnect").click()
        await expect(page.get_by_role("status")).to_have_text("Linear is disconnected.")
        await expect(linear.get_by_text("Not connected")).to_be_visible()
