"""The workshop page in a real browser: Debian's Chromium, driven by Playwright, against the served page.

One server (``ontschot page`` on 127.0.0.1 and a free port) and one browser for the module; every test
opens its own browser context, which the server treats as its own session. Screenshots go to
``test-artifacts/page/`` (ignored by git). The server's log must hold no error when the module ends.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.page.session import DEFAULT_SEED, PAIR, STATUS_LABELS, Workshop
from model.constants import Status
from tests.browser import ROOT, chromium, page_server  # noqa: F401  (fixtures)

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

ARTIFACTS = ROOT / "test-artifacts" / "page"
VIEWS = ("view-run", "view-switch", "view-settings", "view-sankey", "view-ladder", "view-flow", "view-spending",
         "view-firms", "view-side-by-side", "view-persona")
CHARTS = ("chart-ladder", "chart-flow", "chart-spending", "chart-firms", *(f"chart-{r}" for r in PAIR),
          "chart-business-case")
VIEWPORT = {"width": 1600, "height": 1000}
TIMEOUT_MS = 60_000  # a cold first render on a busy 2-core machine; a step usually takes well under a second
expect.set_options(timeout=30_000)  # a re-render on a 2-core machine shared with other work can take seconds


@pytest.fixture
def open_page(chromium, page_server):  # noqa: F811
    """A function opening the page in a new browser context (a new session); contexts are closed afterwards."""
    contexts = []

    def opener():
        context = chromium.new_context(viewport=VIEWPORT)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.goto(page_server.url + "/?lang=en")  # the page's English texts (Dutch: test_page_languages.py)
        expect(page.locator(".ontschot-year")).to_have_text("Year 0 of 15")
        return page

    yield opener
    for context in contexts:
        context.close()


def shot(page, name: str) -> Path:
    """A full-page screenshot as a test artefact."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def step(page, year: int) -> None:
    page.locator(".button-step").click()
    expect(page.locator(".ontschot-year")).to_have_text(f"Year {year} of 15")


def chart(page, name: str) -> bytes:
    """The pixels of one chart (its canvas, drawn by the browser)."""
    locator = page.locator(f".{name} canvas").first
    expect(locator).to_be_visible()
    return locator.screenshot()


def test_the_page_loads_with_all_views(open_page):
    page = open_page()
    for view in VIEWS:
        expect(page.locator(f".{view}")).to_be_visible()
    for name in CHARTS:
        expect(page.locator(f".{name} canvas").first).to_be_visible()
    expect(page.locator(".view-settings")).to_contain_text("Inhabitants")  # labels from the parameter metadata
    expect(page.locator(".view-persona")).to_contain_text("Step a year to see the path")
    assert shot(page, "loaded").stat().st_size > 0


def test_a_step_advances_the_year_and_changes_the_charts(open_page):
    page = open_page()
    before = {name: chart(page, name) for name in ("chart-flow", "chart-ladder", "chart-spending")}
    step(page, 1)
    expect(page.locator(".view-ladder")).to_contain_text("moved up")
    for name, pixels in before.items():
        assert chart(page, name) != pixels, f"{name} did not change after a step"
    step(page, 2)
    shot(page, "after-two-years")


def test_switching_the_regime_changes_the_allocation_the_next_year(open_page):
    page = open_page()
    step(page, 1)
    spending = page.locator(".view-spending")
    expect(spending).to_contain_text("year 1")
    assert _row(spending, "pooled desk") == "0.00"  # compartmentalised: the desk has no budget
    page.locator(".button-switch").click()  # the target offered is the other regime: integrated
    expect(page.locator(".switch-message")).to_have_text("From year 1: compartmentalised; From year 2: integrated")
    step(page, 2)
    expect(spending).to_contain_text("year 2")
    assert float(_row(spending, "pooled desk").replace(",", "")) > 0
    assert _row(spending, "Wmo") == "0.00"  # integrated: the Wmo's budget is in the desk
    expect(page.locator(".ontschot-regime")).to_contain_text("regime in force this year (year 2): integrated")
    shot(page, "regime-switched")


def _row(card, label: str) -> str:
    """The value cell (the last) of the table row whose first cell is ``label``."""
    row = card.locator("tr", has=card.page.locator("td", has_text=label)).first
    return row.locator("td").last.inner_text().strip()


def test_the_persona_panel_shows_myras_status_in_both_regimes(open_page):
    page = open_page()
    step(page, 1)
    expected = Workshop(seed=DEFAULT_SEED)  # the same settings and seed as the page's first run
    expected.step()
    panel = page.locator(".view-persona")
    expect(panel).to_contain_text("Myra")
    for regime in PAIR:
        record = next(r for r in expected.pair[regime].persona("myra") if r["member"] == "Myra")
        status = STATUS_LABELS[Status[record["status"].upper()]]
        column = panel.locator(f".persona-{regime}")
        row = column.locator("tr", has=page.locator("td", has_text="Myra")).first
        expect(row).to_contain_text(status)
    page.get_by_role("button", name="Theo").click()
    expect(panel.locator(".persona-integrated td", has_text="Theo").first).to_be_visible()
    expect(panel.locator("td", has_text="Myra")).to_have_count(0)
    shot(page, "persona")


def test_two_sessions_are_isolated(open_page):
    first, second = open_page(), open_page()
    step(first, 1)
    step(first, 2)
    expect(second.locator(".ontschot-year")).to_have_text("Year 0 of 15")
    step(second, 1)
    expect(first.locator(".ontschot-year")).to_have_text("Year 2 of 15")
    expect(second.locator(".ontschot-year")).to_have_text("Year 1 of 15")


def test_play_runs_years_until_paused(open_page):
    page = open_page()
    page.locator(".button-play").click()
    expect(page.locator(".ontschot-year")).to_have_text("Year 2 of 15")
    page.locator(".button-play").click()  # now labelled Pause
    expect(page.locator(".button-play")).to_have_text("Play")
    year = page.locator(".ontschot-year").inner_text()
    page.wait_for_timeout(2500)  # longer than the pause between played years
    expect(page.locator(".ontschot-year")).to_have_text(year)
    expect(page.locator(".button-step")).to_be_enabled()


def test_reset_applies_the_settings_and_refuses_bad_ones(open_page):
    page = open_page()
    step(page, 1)
    field = page.locator(".control-scenario-inhabitants input")
    field.fill("10")
    field.press("Enter")
    page.locator(".button-reset").click()
    expect(page.locator(".settings-error")).to_contain_text("Inhabitants: 10 is not allowed")
    expect(page.locator(".ontschot-year")).to_have_text("Year 1 of 15")  # the run goes on unchanged
    field.fill("8000")
    field.press("Enter")
    page.locator(".button-reset").click()
    expect(page.locator(".ontschot-year")).to_have_text("Year 0 of 15")
    expect(page.locator(".ontschot-regime")).to_contain_text("8,000 inhabitants")
    expect(page.locator(".settings-error")).to_have_count(0)
