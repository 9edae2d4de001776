"""/my/apps in a real browser (Chromium via Playwright): a user sees the applications that
act as them and revokes one; that one loses access, the other keeps it
(docs/deploy.md#offboarding)."""

from __future__ import annotations

from playwright.async_api import Page, expect

from mcp_gate.appkeys import AUTH
from tests.fixtures.gate import remote
from tests.fixtures.oauth_client import log_in, mcp_initialize, refresh, register


async def test_revoking_one_application_in_the_browser_ends_its_access_only(
    oauth_gate_factory, py_streamable_server, oidc_provider, browser_page: Page
):
    """Two MCP clients logged in as alice; in Chromium she signs in at the home page,
    follows the link to /my/apps, revokes "Client A" after a confirmation step: its next MCP
    call gets 401 and its refresh token invalid_grant; "Client B" still calls and refreshes."""
    page = browser_page
    servers = {"py": remote("py", "streamable-http", py_streamable_server.url)}
    async with oauth_gate_factory(servers) as gate:
        client_a = await register(gate.base_url, client_name="Client A")
        client_b = await register(gate.base_url, client_name="Client B")
        tokens_a = await log_in(gate.base_url, client_a)
        tokens_b = await log_in(gate.base_url, client_b)
        used_by_b = await mcp_initialize(gate.url("/py/mcp"), tokens_b.access_token)

        await page.goto(gate.url("/sign-in"))
        await page.get_by_role("link", name="Your connected applications").click()
        await expect(page).to_have_url(gate.url("/my/apps"))
        card_a = page.get_by_role("region", name="Client A")
        card_b = page.get_by_role("region", name="Client B")
        await expect(card_a.get_by_text("127.0.0.1")).to_be_visible()
        await expect(card_a.get_by_text("mcp", exact=True)).to_be_visible()
        await expect(card_b).to_be_visible()

        await card_a.get_by_role("button", name="Revoke Client A").click()
        await expect(page.get_by_role("heading", name="Revoke Client A?")).to_be_visible()
        await page.get_by_role("button", name="Revoke access Client A").click()
        await expect(page.get_by_role("status")).to_have_text(
            "The application's access is revoked."
        )
        await expect(page.get_by_role("region", name="Client A")).to_have_count(0)
        await expect(page.get_by_role("region", name="Client B")).to_be_visible()

        call_a = await mcp_initialize(gate.url("/py/mcp"), tokens_a.access_token)
        refresh_a = await refresh(gate.base_url, client_a, tokens_a.refresh_token)
        call_b = await mcp_initialize(gate.url("/py/mcp"), tokens_b.access_token)
        refresh_b = await refresh(gate.base_url, client_b, tokens_b.refresh_token)
        listed = await gate.app[AUTH].grants.list_user_grants("alice@example.com")
    assert used_by_b.status == 200
    assert call_a.status == 401
    assert refresh_a.error == "invalid_grant"
    assert call_b.status == 200
    assert refresh_b.status == 200, refresh_b.text
    assert {entry.grant.client_id for entry in listed} == {client_b.client_id}


async def test_a_revoke_form_without_its_csrf_token_changes_nothing(
    oauth_gate_factory, py_streamable_server, oidc_provider, browser_page: Page
):
    """A cross-site form (no CSRF token of this browser) gets 403 and the grant stays."""
    page = browser_page
    servers = {"py": remote("py", "streamable-http", py_streamable_server.url)}
    async with oauth_gate_factory(servers) as gate:
        client = await register(gate.base_url, client_name="Client A")
        tokens = await log_in(gate.base_url, client)
        await page.goto(gate.url("/my/apps"))
        await expect(page.get_by_role("region", name="Client A")).to_be_visible()
        answer = await page.request.post(
            gate.url("/my/apps/revoke"),
            form={"client_id": client.client_id, "confirm": "yes", "csrf": "forged"},
        )
        call = await mcp_initialize(gate.url("/py/mcp"), tokens.access_token)
    assert answer.status == 403
    assert call.status == 200
