"""The reports as a person sees them: opened in headless Chromium (Debian's package, installed
by `make setup`), with no network."""

from __future__ import annotations

import shutil
from pathlib import Path

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# As this machine's notes advise: no sandbox as root, and no background calls home.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def test_index_and_a_tier_report_render_offline(reports: Path) -> None:
    from playwright.sync_api import sync_playwright

    requested: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page()
            page.on("request", lambda request: requested.append(request.url))
            page.goto((reports / "index.html").as_uri())
            assert page.locator("table tr").count() == 5  # header + four tiers
            page.click("text=warm-standby")
            assert page.url.endswith("warm-standby.html")
            loaded = page.eval_on_selector(
                "img.diagram", "img => img.complete && img.naturalWidth > 0"
            )
            assert loaded, "the architecture diagram did not load"
            assert page.locator("table").count() >= 6
            for section in ("estimate", "cost", "inventory", "gates", "failover", "failback"):
                assert page.locator(f"#{section}").count() == 1
        finally:
            browser.close()
    assert requested, "the pages were not loaded at all"
    assert all(url.startswith(("file:", "data:")) for url in requested), requested
