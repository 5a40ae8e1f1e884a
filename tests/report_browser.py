"""Headless Chromium for the report tests: Debian's chromium driven by Playwright, with no network.

The browser is the shared one of ``tests/browser.py`` (Debian's chromium, the real binary, offline
flags; ``make browser`` installs it). Every request that is not
the local file itself is aborted, so a page that needed the network would show it.
"""

from __future__ import annotations

import pytest

from tests.browser import chromium_path, launch


@pytest.fixture(scope="module")
def report_browser():
    """A headless Chromium (skipped only when Debian's chromium is not installed and could not be)."""
    if chromium_path() is None:
        pytest.skip("Debian's chromium is not installed and could not be (`make browser` installs it: apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = launch(pw)
        yield instance
        instance.close()


@pytest.fixture
def offline_page(report_browser):
    """A page whose requests are refused unless they read a local file; ``page.blocked`` lists the refused URLs."""
    context = report_browser.new_context(offline=True)
    page = context.new_page()
    page.blocked = []

    def route(r):
        if r.request.url.startswith("file://") or r.request.url.startswith("data:"):
            r.continue_()
        else:
            page.blocked.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    yield page
    context.close()
