"""Redraw the README's pictures of the workshop page: ``python -m tests.page_screenshot`` (not collected by pytest).

Serves the page on loopback, opens it in Debian's Chromium. ``docs/workshop-page.png``: the English page at a
height that shows every view, two years compartmentalised, switched to integrated, three more years.
``docs/page-sankey-nl.png``: the Dutch page (the default) with the flow diagram of year 1 in view, the run
integrated from year 1 (switched before the first step), so the care-to-work route has residents on it.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

from tests.browser import ROOT, PageServer, launch

OUT = ROOT / "docs" / "workshop-page.png"
SANKEY_OUT = ROOT / "docs" / "page-sankey-nl.png"
VIEWPORT = {"width": 1600, "height": 2900}  # tall enough for all views without scrolling
SANKEY_VIEWPORT = {"width": 1600, "height": 900}  # the top of the page: the run, the switch, the flow diagram


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        server = PageServer(Path(folder) / "server.log")
        try:
            with sync_playwright() as pw:
                browser = launch(pw)
                page = browser.new_page(viewport=VIEWPORT)
                page.set_default_timeout(120_000)
                page.goto(server.url + "/?lang=en")
                year = page.locator(".ontschot-year")
                expect(year).to_contain_text("Year 0 of")
                for k in range(1, 6):
                    if k == 3:
                        page.locator(".button-switch").click()
                        expect(page.locator(".switch-message")).to_contain_text("From year 3")
                    page.locator(".button-step").click()
                    expect(year).to_contain_text(f"Year {k} of")
                expect(page.locator(".view-spending")).to_contain_text("year 5")
                page.wait_for_timeout(1000)  # the browser finishes drawing the charts
                page.screenshot(path=str(OUT))
                sankey_picture(browser, server.url)
                browser.close()
        finally:
            server.stop()
    print(f"wrote {OUT.relative_to(ROOT)} and {SANKEY_OUT.relative_to(ROOT)}")
    return 0


def sankey_picture(browser, url: str) -> None:
    """The Dutch page after year 1, integrated from year 1: the flow diagram with the care-to-work route."""
    page = browser.new_page(viewport=SANKEY_VIEWPORT)
    page.set_default_timeout(120_000)
    page.goto(url)
    expect(page.locator(".ontschot-year")).to_contain_text("Jaar 0 van")
    page.locator(".button-switch").click()  # the other regime (ontschot), from year 1
    expect(page.locator(".switch-message")).to_contain_text("Vanaf jaar 1: ontschot")
    page.locator(".button-step").click()
    expect(page.locator(".ontschot-year")).to_contain_text("Jaar 1 van")
    expect(page.locator(".sankey-within svg")).to_be_visible()
    page.wait_for_timeout(1000)
    page.screenshot(path=str(SANKEY_OUT))


if __name__ == "__main__":
    sys.exit(main())
