"""Screenshots of the home page for the README: `make screenshots` writes docs/images/.

Runs the embedded demo config (what `make run` serves, at http://127.0.0.1:8080 unless
`--port` says otherwise) in this process, opens it in the tests' Chromium
(tests/fixtures/browser.py), and saves the page signed out, signed in through the demo
login, and signed in with the dark colour scheme. Run by hand when the page changes; the
test suite checks the page itself (tests/web/test_home_page.py).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mcp_gate.demo import demo_config  # noqa: E402
from tests.fixtures.browser import chromium_page  # noqa: E402
from tests.fixtures.gate import running_gate  # noqa: E402

IMAGES = REPO / "docs" / "images"
VIEWPORT = {"width": 900, "height": 760}
DEMO_EMAIL = "alice@example.com"


async def capture(port: int) -> list[Path]:
    demo = demo_config()
    proxy = replace(
        demo.proxy, addr=f"127.0.0.1:{port}", base_url=f"http://127.0.0.1:{port}", metrics_addr=""
    )
    written = []
    async with running_gate(replace(demo, proxy=proxy)) as gate:
        for scheme in ("light", "dark"):
            async with chromium_page(color_scheme=scheme, viewport=VIEWPORT) as page:
                await page.goto(gate.url("/"))
                if scheme == "light":
                    written.append(IMAGES / "home-signed-out.png")
                    await page.screenshot(path=written[-1], full_page=True)
                await page.get_by_role("link", name="Sign in").click()
                await page.get_by_label("Email").fill(DEMO_EMAIL)
                await page.get_by_role("button", name="Sign in").click()
                await page.wait_for_url(gate.url("/"))
                await page.get_by_text("Claude Code", exact=True).first.click()
                suffix = "" if scheme == "light" else "-dark"
                written.append(IMAGES / f"home-signed-in{suffix}.png")
                await page.screenshot(path=written[-1], full_page=True)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8080, help="the demo's port (default 8080)")
    args = parser.parse_args()
    IMAGES.mkdir(parents=True, exist_ok=True)
    for path in asyncio.run(capture(args.port)):
        print(path.relative_to(REPO))


if __name__ == "__main__":
    main()
