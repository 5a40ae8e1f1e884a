"""The workshop page in both languages, in a real browser (Debian's Chromium, Playwright, ``ontschot page``).

Every view and the presenter view render in Dutch and English, no internal key (parameter path, snake_case
name, source tag) is in the page's text, the flow diagram changes after a step, the language switch, the
pooled-share slider and the run in force after a Reset. Screenshots go to ``test-artifacts/page/``.
"""

from __future__ import annotations

import time

import pytest

from tests.browser import ROOT, chromium, page_server  # noqa: F401  (fixtures)
from tests.test_page_views import INTERNAL

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

ARTIFACTS = ROOT / "test-artifacts" / "page"
VIEWPORT = {"width": 1600, "height": 1000}
TIMEOUT_MS = 60_000
expect.set_options(timeout=30_000)  # a re-render on a 2-core machine shared with other work can take seconds
VIEWS = ("view-run", "view-switch", "view-settings", "view-sankey", "view-ladder", "view-flow", "view-spending",
         "view-firms", "view-side-by-side", "view-persona")
WORDS = {  # per language: the year line, a status, a word of the other language that must not be there
    "nl": {"year": "Jaar {year} van 15", "status": "bijstand zonder ondersteuning", "foreign": "benefit without",
           "switched": "Vanaf jaar 1: verkokerd; Vanaf jaar 2: ontschot", "reset": "Vanaf jaar 1: verkokerd"},
    "en": {"year": "Year {year} of 15", "status": "benefit without support", "foreign": "bijstand zonder",
           "switched": "From year 1: compartmentalised; From year 2: integrated",
           "reset": "From year 1: compartmentalised"},
}


@pytest.fixture
def open_page(chromium, page_server):  # noqa: F811
    """Open the page at ``query`` in a new browser context (a new session); contexts are closed afterwards."""
    contexts = []

    def opener(query: str = "", lang: str = "nl"):
        context = chromium.new_context(viewport=VIEWPORT)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.goto(page_server.url + "/" + query)
        expect(page.locator(".ontschot-year")).to_have_text(WORDS[lang]["year"].format(year=0))
        return page

    yield opener
    for context in contexts:
        context.close()


def step(page, lang: str, year: int) -> None:
    page.locator(".button-step").click()
    expect(page.locator(".ontschot-year")).to_have_text(WORDS[lang]["year"].format(year=year))


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def redrawn(locator, before: str, seconds: float = 30.0) -> bool:
    """Whether ``locator``'s markup differs from ``before`` within ``seconds`` (a view's redraw may reach the
    browser in a message after the one that shows the new year)."""
    deadline = time.monotonic() + seconds
    while locator.inner_html() == before:
        if time.monotonic() > deadline:
            return False
        locator.page.wait_for_timeout(100)
    return True


def no_internal_key(page) -> str:
    text = page.locator("body").inner_text()
    found = INTERNAL.search(text)
    assert found is None, f"internal key on the page: {found.group(0)!r}"
    return text


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_every_view_renders_and_the_diagram_follows_the_steps(open_page, lang):
    page = open_page("" if lang == "nl" else "?lang=en", lang)
    for view in VIEWS:
        expect(page.locator(f".{view}")).to_be_visible()
    no_internal_key(page)
    step(page, lang, 1)
    diagram = page.locator(".sankey-within svg")
    expect(diagram).to_be_visible()
    first = diagram.inner_html()
    expect(page.locator(".view-persona .persona-why")).to_have_count(2)  # a why table under each regime
    step(page, lang, 2)
    expect(page.locator(".view-sankey")).to_contain_text(WORDS[lang]["year"].split()[0].lower() + " 2")
    assert redrawn(diagram, first), "the flow diagram did not change after a step"
    expect(page.locator(".sankey-entries svg")).to_be_visible()
    expect(page.locator(".sankey-exits svg")).to_be_visible()
    text = no_internal_key(page)
    assert WORDS[lang]["status"] in text and WORDS[lang]["foreign"] not in text
    shot(page, f"languages-{lang}")


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_presenter_view_has_few_controls_large_numbers_and_the_diagram(open_page, lang):
    page = open_page(f"?view=presenter&lang={lang}", lang)
    for button in ("button-step", "button-play", "button-reset", "button-switch"):
        expect(page.locator(f".{button}")).to_be_visible()
    expect(page.locator(".view-settings")).to_have_count(0)
    expect(page.locator(".view-persona")).to_have_count(0)
    step(page, lang, 1)
    expect(page.locator(".big-number")).to_have_count(5)
    first = page.locator(".sankey-within svg").inner_html()
    page.locator(".button-switch").click()  # to the other regime, from year 2
    expect(page.locator(".switch-message")).to_have_text(WORDS[lang]["switched"])
    step(page, lang, 2)
    assert redrawn(page.locator(".sankey-within svg"), first), "the flow diagram did not change after the switch"
    no_internal_key(page)
    shot(page, f"presenter-{lang}")
    page.locator(".button-reset").click()
    expect(page.locator(".ontschot-year")).to_have_text(WORDS[lang]["year"].format(year=0))
    expect(page.locator(".switch-message")).to_have_text(WORDS[lang]["reset"])


def test_the_language_switch_changes_every_text(open_page):
    page = open_page()
    expect(page.locator(".view-settings")).to_contain_text("Inwoners")
    page.locator(".language-switch").get_by_text("English").click()
    expect(page.locator(".ontschot-year")).to_have_text("Year 0 of 15")
    expect(page.locator(".view-settings")).to_contain_text("Inhabitants")
    expect(page.locator(".view-run")).to_contain_text("30,000 inhabitants")
    no_internal_key(page)


def test_the_pooled_share_slider_is_usable_and_the_run_in_force_follows_reset(open_page):
    page = open_page()
    step(page, "nl", 1)
    page.locator(".switch-target").click()
    page.locator(".v-menu__content .v-list-item", has_text="geleidelijk").click()
    share = page.locator(".switch-share")
    expect(share).to_be_visible()
    expect(page.locator(".switch-share-value")).to_have_text("Ontschot deel (transformatieloket): 50%")
    assert share.bounding_box()["width"] >= 200  # the whole card wide, not a few pixels
    assert share.locator(".v-slider").bounding_box()["width"] >= 150
    page.locator(".button-switch").click()
    expect(page.locator(".switch-message")).to_have_text("Vanaf jaar 1: verkokerd; Vanaf jaar 2: geleidelijk (50% ontschot)")
    shot(page, "switch-gradual-nl")
    page.locator(".button-reset").click()
    expect(page.locator(".ontschot-year")).to_have_text("Jaar 0 van 15")
    expect(page.locator(".switch-message")).to_have_text("Vanaf jaar 1: verkokerd")  # the run in force is the new one
