"""Headless Chromium for the report tests: Debian's chromium driven by Playwright, with no network.

Playwright's own browser download cannot work here, so the fixture points Playwright at the real
binary of Debian's ``chromium`` package (``make browser`` installs it). Every request that is not
the local file itself is aborted, so a page that needed the network would show it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CANDIDATES = ("/usr/lib/chromium/chromium", "/usr/lib/chromium-browser/chromium-browser")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--disable-default-apps", "--disable-sync", "--no-first-run",
        "--metrics-recording-only", "--disable-domain-reliability"]


def chromium_binary() -> str | None:
    """The real Chromium binary: $CHROMIUM_PATH, Debian's package (not its wrapper script), or one on PATH."""
    env = os.environ.get("CHROMIUM_PATH")
    if env:
        return env if Path(env).is_file() else None
    for path in CANDIDATES:
        if Path(path).is_file():
            return path
    return shutil.which("chromium")


@pytest.fixture(scope="module")
def report_browser():
    """A headless Chromium (skipped only when Debian's chromium is not installed and could not be)."""
    binary = chromium_binary()
    if binary is None:
        pytest.skip("Debian's chromium is not installed and could not be (`make browser` installs it: apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=binary, headless=True, args=ARGS)
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
