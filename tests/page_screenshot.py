"""Redraw the README's picture of the workshop page: ``python -m tests.page_screenshot`` (not collected by pytest).

Serves the page on loopback, opens it in Debian's Chromium at a height that shows every view, steps two
years compartmentalised, switches to integrated, steps three more years, and saves
``docs/workshop-page.png``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

from tests.browser import ROOT, PageServer, launch

OUT = ROOT / "docs" / "workshop-page.png"
VIEWPORT = {"width": 1600, "height": 2350}  # tall enough for all views without scrolling


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        server = PageServer(Path(folder) / "server.log")
        try:
            with sync_playwright() as pw:
                browser = launch(pw)
                page = browser.new_page(viewport=VIEWPORT)
                page.set_default_timeout(120_000)
                page.goto(server.url)
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
                browser.close()
        finally:
            server.stop()
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
