"""The signed-in home page lists only the servers the user's `access` admits (Chromium)."""

from __future__ import annotations

from playwright.async_api import Page, expect

from mcp_gate.config.model import AccessRule, Selector, ServerPolicy
from tests.fixtures.gate import make_config, remote, running_gate
from tests.web.test_home_page import DEV_AUTH, NOWHERE, _sign_in_with_the_dev_login


async def test_home_hides_a_server_whose_access_does_not_admit_the_user(
    browser_page: Page,
) -> None:
    """policy: a server the user would get 403 on is not offered to them."""
    only_bob = ServerPolicy(access=AccessRule(who=Selector(emails=("bob@example.com",))))
    servers = {
        "docs": remote("docs", "streamable-http", NOWHERE),
        "payroll": remote("payroll", "streamable-http", NOWHERE, policy=only_bob),
    }
    async with running_gate(make_config(servers, auth=DEV_AUTH)) as gate:
        home = gate.url("/")
        await browser_page.goto(home)
        await _sign_in_with_the_dev_login(browser_page, home, "alice@example.com")
        await expect(browser_page.get_by_role("region", name="docs")).to_be_visible()
        html = await browser_page.content()
    assert "/payroll/mcp" not in html
