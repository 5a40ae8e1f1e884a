"""The report in Dutch (the default) and in English: no internal key, tag or file name on a screen, Dutch numbers.

A small real run (three arms: the bundle arm's decomposition is hand-made, as in ``tests/test_report.py``) is
reported in both languages; the HTML text, the figures' texts and the page in headless Chromium are scanned for
every indicator key of ``model.reporters.INDICATORS``, every parameter path, bracketed source tags, the project's
file names, and (in Dutch) English words.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from pathlib import Path

import pytest

from analysis.i18n import translator
from analysis.report import build as report_build
from analysis.report import build_report, figures
from analysis.report.build import SECTIONS
from experiments.cli import main
from model.parameters import PARAMETERS
from model.reporters import INDICATORS
from tests.browser import ROOT
from tests.test_report import hand_made_decomposition

pytest_plugins = ["tests.report_browser"]  # the browser fixtures

RUN = ["--set", "scenario.inhabitants=4000", "--years", "3", "--replications", "2", "--seed", "5", "--no-progress",
       "--workers", "1", "--no-explain"]  # three arms, no Shapley runs: the decomposition is hand-made below
ARTIFACTS = ROOT / "test-artifacts" / "report"
LANGUAGES = ("nl", "en")
# English words that have no place in the Dutch report (outside the analyst's appendix, which quotes the parameter
# set's English descriptions and says so).
ENGLISH = ("the", "and", "with", "persons", "spending", "baseline", "integrated", "compartmentalised", "pooled",
           "which", "year", "years", "saving", "against", "difference", "budget holder", "own result", "arm",
           "benefit", "outflow", "per arm", "not modelled", "business case", "from", "for", "into", "paid", "share",
           "municipality", "budgets", "holder", "people", "residents", "firm", "desk", "staff", "interval that")
KEYS = tuple(INDICATORS)
PATHS = tuple(p.path for p in PARAMETERS)
TAG = re.compile(r"\[[A-Z][A-Za-z]*\d*(?:\]|[ ,:][^\]]*\])")  # [SR], [SR point 5], [FW19, p. 3]
FILES = re.compile(r"\b[\w/.-]+\.(?:py|md|toml|parquet|json)\b|domain\.md")
APPENDIX = re.compile(r"<details[^>]*class='analyst'.*?</details>", re.S)


@pytest.fixture(scope="module")
def run_output(tmp_path_factory) -> tuple[Path, str]:
    """One small real run with ``--report`` (Dutch, unasked), and what ``ontschot run`` printed."""
    import contextlib
    import io

    parent = tmp_path_factory.mktemp("runs")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["run", "--out", str(parent), *RUN, "--report"]) == 0
    (folder,) = [p for p in parent.iterdir() if p.is_dir() and p.name != "sweeps"]
    return folder, printed.getvalue()


def test_run_report_says_where_the_report_is_and_writes_it_in_dutch(run_output):
    folder, printed = run_output
    assert f"Report written to {folder / 'report.html'} (tables and figures in {folder / 'report_files'}/)" in printed
    assert "<html lang='nl'>" in (folder / "report.html").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def reports(run_output) -> dict[str, Path]:
    """The report of the small run (with a hand-made decomposition), written in each language."""
    folder = run_output[0]
    hand_made_decomposition(folder)
    out = {"nl": folder / "report.html", "en": folder / "report-en.html"}
    assert main(["report", str(folder)]) == 0  # Dutch without being asked
    assert main(["report", str(folder), "--out", str(out["en"]), "--lang", "en"]) == 0
    return out


def screen_text(page_html: str, appendix: bool = True) -> str:
    """The text a reader sees: tags, styles and embedded images gone, entities read (the appendix left out if asked)."""
    text = re.sub(r"<style>.*?</style>|<img[^>]*>", " ", page_html, flags=re.S)
    if not appendix:
        text = APPENDIX.sub(" ", text)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split())


def internal_names(text: str, lang: str) -> dict[str, list[str]]:
    """Indicator keys, parameter paths, source tags and file names found in a screen's text."""
    # In English a one-word key ('residents', 'inflow') is also an ordinary word; a key with '_' never is.
    keys = [k for k in KEYS if ("_" in k or lang == "nl") and re.search(rf"(?<![\w.-]){re.escape(k)}(?![\w-])", text)]
    return {"indicator keys": keys, "parameter paths": [p for p in PATHS if p in text],
            "tags": TAG.findall(text), "file names": FILES.findall(text)}


def english_words(text: str) -> Counter:
    return Counter(m.group(1).lower() for m in re.finditer(rf"\b({'|'.join(ENGLISH)})\b", text, re.I))


def test_the_dutch_report_is_dutch_and_the_english_one_english(reports):
    nl, en = reports["nl"].read_text(encoding="utf-8"), reports["en"].read_text(encoding="utf-8")
    assert "<html lang='nl'>" in nl and "<html lang='en'>" in en
    t = translator("nl", "report")
    for key, title in SECTIONS:
        assert f"<section id='{key}'><h2>{html.escape(t(title))}</h2>" in nl, key
        assert f"<section id='{key}'><h2>{html.escape(title)}</h2>" in en, key
        assert t(title) != title, f"section {key!r} has no Dutch title"
    text = screen_text(nl, appendix=False)
    assert english_words(text) == Counter(), english_words(text)
    for term in ("bijstand", "BUIG", "participatiebudget", "maatwerkvoorziening", "eigen resultaat", "taakveld",
                 "verkokerd", "ontschot", "beschut werk", "loonkostensubsidie", "vangnet"):
        assert term in text, term
    assert english_words(screen_text(en, appendix=False))["the"] > 100  # the English report is English


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_internal_key_tag_or_file_name_reaches_a_screen(reports, lang):
    page_html = reports[lang].read_text(encoding="utf-8")
    found = internal_names(screen_text(page_html, appendix=False), lang)
    assert found == {"indicator keys": [], "parameter paths": [], "tags": [], "file names": []}, found
    # The analyst's appendix (explicitly marked) may name a parameter by its path, nothing else internal.
    appendix = " ".join(screen_text(part) for part in APPENDIX.findall(page_html))
    assert appendix and ("Voor de analist" if lang == "nl" else "For the analyst") in appendix
    found = internal_names(appendix, "en")  # it quotes the parameter set's English descriptions
    assert (found["indicator keys"], found["tags"], found["file names"]) == ([], [], []), found


def headline_cells(page_html: str, key: str) -> list[str]:
    table = re.search(r"<table id='headline'>.*?</table>", page_html, re.S).group(0)
    row = re.search(rf'<tr data-key="{key}">(.*?)</tr>', table, re.S).group(1)
    return [html.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]


def test_dutch_numbers_money_and_whole_persons(reports):
    nl, en = reports["nl"].read_text(encoding="utf-8"), reports["en"].read_text(encoding="utf-8")
    text = screen_text(nl)
    assert "4.000 inwoners" in text and "4,000 inhabitants" in screen_text(en)
    assert re.search(r"€ \d+,\d\d mln", text), "no Dutch money form (€ 3,73 mln)"
    spending = headline_cells(nl, "spend_total")  # EUR million: decimal comma
    assert all(re.fullmatch(r"−?\d+,\d\d \[−?\d+,\d\d, −?\d+,\d\d\]", c) for c in spending[2:]), spending
    whole = re.compile(r"[+−]?\d{1,3}(\.\d{3})*( \[−?\d{1,3}(\.\d{3})*, −?\d{1,3}(\.\d{3})*\])?")
    for key in ("outflow_work", "benefit_stock_end", "wmo_clients", "day_activities"):  # counts of people
        for lang, page_html in (("nl", nl), ("en", en)):
            cells = headline_cells(page_html, key)[2:]
            shown = [re.sub(r",(?=\d{3})", ".", c) if lang == "en" else c for c in cells]  # 1,234 as 1.234
            assert all(whole.fullmatch(c) for c in shown), (lang, key, cells)
    assert re.search(r"uitstroom naar betaald werk: [+−]?\d+ \[−?\d+, −?\d+\] personen", text)


def test_the_figures_speak_the_reports_language(reports, monkeypatch, tmp_path):
    """Every figure's title, axis labels, tick labels and legend, drawn in Dutch: no key, no English word."""
    seen: dict[str, list[str]] = {}
    drawn = figures._png

    def keep_texts(fig) -> bytes:
        texts = [fig._suptitle.get_text()] if fig._suptitle else []
        for ax in fig.axes:
            texts += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
            texts += [label.get_text() for label in ax.get_xticklabels() + ax.get_yticklabels()]
            texts += [text.get_text() for text in ax.texts]
            legend = ax.get_legend()
            if legend is not None:
                texts += [text.get_text() for text in legend.get_texts()]
        for legend in fig.legends:
            texts += [text.get_text() for text in legend.get_texts()]
        seen[f"figure {len(seen)}"] = [t for t in texts if t]
        return drawn(fig)

    monkeypatch.setattr(figures, "_png", keep_texts)
    monkeypatch.setattr(report_build, "default_workers", lambda: 1)  # draw here, where the texts are kept
    build_report(reports["nl"].parent, tmp_path / "nl.html")
    assert len(seen) >= 8  # time series, business case, wrong pocket, task fields, groups, firm, waterfall, own result
    text = " | ".join(t for texts in seen.values() for t in texts)
    assert internal_names(text, "nl") == {"indicator keys": [], "parameter paths": [], "tags": [], "file names": []}
    assert english_words(text) == Counter(), english_words(text)
    for dutch in ("jaar", "mln euro", "verkokerd", "ontschot", "Gemeente", "Uitstroom naar betaald werk"):
        assert dutch in text, dutch
    assert re.search(r"\d,\d", text), "no decimal comma on any axis"


@pytest.mark.parametrize("command", ["report", "run"])
def test_an_unknown_language_is_one_line_before_any_work(command, capsys, tmp_path):
    where = [str(tmp_path)] if command == "report" else ["--out", str(tmp_path), *RUN]
    with pytest.raises(SystemExit) as stop:
        main([command, *where, "--lang", "fr"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--lang" in err and "'fr'" in err and "nl, en" in err, err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_report_in_a_browser_in_each_language(reports, offline_page, lang):
    """Every section renders with its title in the language; no internal name in the page's visible text."""
    page = offline_page
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(reports[lang].as_uri())
    assert page.blocked == []
    t = translator(lang, "report")
    for key, title in SECTIONS:
        heading = page.locator(f"section#{key} h2")
        assert heading.is_visible() and heading.inner_text() == t(title), key
    visible = page.locator("body").inner_text()  # what a reader sees (the closed appendix is not visible)
    assert internal_names(visible, lang) == {"indicator keys": [], "parameter paths": [], "tags": [],
                                             "file names": []}
    widths = page.eval_on_selector_all("figure img", "imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)")
    assert len(widths) >= 8 and min(widths) > 100
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"report-{lang}-first-screen.png"))
    page.screenshot(path=str(ARTIFACTS / f"report-{lang}.png"), full_page=True)
    assert (ARTIFACTS / f"report-{lang}.png").stat().st_size > 50_000


def test_sources_are_cited_in_words_and_files_and_keys_are_not_named():
    from analysis.report.words import minus, sources_in_words

    t = translator("nl", "report")
    text = sources_in_words("assumption: [SR] point 1 and [FW19] give no count (tests/test_baseline.py); "
                            "see firm_case_village_saving", t)
    assert "(ZonMw, eindrapport buurtsupers (2016)) point 1" in text and "(Ferm Werk (2019))" in text
    found = internal_names(text, "en")  # the key's description names its parameter: the appendix may
    assert (found["indicator keys"], found["tags"], found["file names"]) == ([], [], []), found
    assert (minus("-0,00"), minus("-0"), minus("-1,50"), minus("2")) == ("0,00", "0", "−1,50", "2")


def test_an_analysts_report_says_in_dutch_that_it_is_written_in_english():
    from analysis.report.build import Page
    from analysis.report.sweep import analyst_note

    dutch, english = Page(), Page()
    analyst_note(dutch, translator("nl", "report"))
    analyst_note(english, translator("en", "report"))
    assert len(dutch.parts) == 1 and "in het Engels geschreven" in dutch.parts[0] and english.parts == []
