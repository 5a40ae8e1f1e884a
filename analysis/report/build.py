"""Assemble the report: sections in the order a policymaker reads them, tables as CSV, figures as PNG."""

from __future__ import annotations

import base64
import datetime as dt
import hmac
import html
import os
import shutil
import stat
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.i18n import DEFAULT_LANGUAGE, Translator, translator
from analysis.report import figures, firm_case, tables, uncertainty, words
from analysis.report.load import Results, load_results
from analysis.report.taskfields import BUDGETS, COST_LINES, NOT_MODELLED, SOURCE_WORDS, TASK_FIELDS
from analysis.report.words import ENGLISH, GROUP_NAMES, GROUP_VALUES
from experiments import stored
from experiments.batch import default_workers, fork_pool
from experiments.store import OutputError, check_output_folder, os_reason
from model.parameters import PARAMETERS, show_path

# What the funding form is; the practices (outreach, household intake, triage, regisseurs) are listed per arm apart.
REGIME_TEXT = {
    "compartmentalised": "separate budgets per law: the Participation Act's income and participation budgets and the "
                         "Wmo budget, each with its own desk, professionals and instruments",
    "integrated": "one pooled budget for participation and the Wmo: one desk decides for both laws and combines their "
                  "instruments (benefits stay on the P-wet income budget)",
    "gradual": "a transformation desk receives a share of the participation and Wmo budgets each year and serves "
               "that share of known households from one pooled budget; the rest stays partitioned",
}
SECTIONS = (
    ("answer", "The answer in short"),
    ("scenario", "The question and the scenario"),
    ("headline", "Headline indicators"),
    ("uncertainty", "How sure: chance and parameter uncertainty"),
    ("over-time", "Over time"),
    ("business-case", "Business case per budget holder"),
    ("wrong-pocket", "Wrong-pocket matrix: who pays, who gains"),
    ("municipal-budget", "On the municipal budget (BBV task fields)"),
    ("groups", "Outcomes by group: who gains"),
    ("social-firm", "The social firm"),
    ("decomposition", "What makes up the difference: pooling the money and each practice"),
    ("own-result", "The municipality's own result per budget holder"),
    ("assumptions", "The assumptions behind the result"),
    ("how-to-read", "How to read this report"),
)
STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;max-width:1150px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.7em;margin-bottom:.2em} h2{border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.8em 0;font-size:.88em} th,td{border:1px solid #ccc;padding:.25em .5em;
vertical-align:top} th{background:#f2f2f2;text-align:left} td.num{text-align:right;white-space:nowrap}
img{max-width:100%;height:auto;border:1px solid #eee} .note{color:#555;font-size:.92em}
.answer li{margin:.3em 0} nav ol{columns:2;font-size:.92em} details{margin:.5em 0} code{background:#f5f5f5;padding:0 .2em}
"""


# The program's own marks on what it writes: only a page and a folder that carry them are ever replaced.
# The page's generator tag carries the SHA-256 of the page's own bytes, computed with the digest left empty
# (``stamp_page``): a page is replaced only when its bytes still give that digest, so a browser's "Save page as"
# or an edited copy, which keep the tag but not the bytes, is never overwritten.
GENERATOR_META = "<meta name='generator' content='ontschot report; sha256="  # then 64 hex digits and "'>"
GENERATOR_END = "'>"
OLD_GENERATOR_META = "<meta name='generator' content='ontschot report'>"  # the bare tag of earlier versions
FILES_MARKER = ".ontschot-report"  # a file in the _files folder
HEAD_BYTES = 64 * 1024  # how far into an existing page its generator tag is looked for
DIGEST_HEX = 64  # hex digits of a SHA-256


def report_paths(out_html: str | Path) -> tuple[Path, Path]:
    """The HTML file and the folder next to it that holds the CSV tables and PNG figures."""
    out_html = Path(out_html)
    return out_html, out_html.with_name(out_html.stem + "_files")


def fmt(x, t: Translator = ENGLISH) -> str:
    """A number as the report prints it: 2 decimals below 100, whole numbers with thousands separators above."""
    return words.fmt(x, t)


def with_interval(mean, lo, hi, show: Callable[[float], str] | None = None, t: Translator = ENGLISH) -> str:
    """``mean [lo, hi]``, or the mean alone when there is no interval (one replication); ``show`` formats each."""
    show = show or (lambda x: fmt(x, t))
    if lo is None or not np.isfinite(lo):
        return show(mean)
    return f"{show(mean)} [{show(lo)}, {show(hi)}]"


def _difference(mean, lo, hi, t: Translator, money: bool = False, show: Callable[[float], str] | None = None) -> str:
    """A signed difference with its interval: ``+12 [11, 15]``, money as ``+€12.93m [11.07, 14.79]``."""
    show = show or (lambda x: fmt(x, t))
    if mean is None or not np.isfinite(mean):
        return t("n/a")
    text = words.signed(show(mean))
    if money:
        sign, amount = (text[0], text[1:]) if text[:1] in "+−" else ("", text)
        text = sign + t("€{amount}m").format(amount=amount)
    return text if lo is None or not np.isfinite(lo) else f"{text} [{show(lo)}, {show(hi)}]"


def _e(text) -> str:
    return html.escape(str(text))


class Page:
    """The HTML page, its CSV tables and its PNG figures, collected while the sections are built."""

    def __init__(self, t: Translator = ENGLISH):
        self.t = t
        self.parts: list[str] = []
        self.csv: dict[str, pd.DataFrame] = {}
        self.png: dict[str, bytes] = {}
        self.pending: list[tuple[str, Callable[[], bytes], str, int]] = []  # name, drawing, caption, place in parts

    def add(self, text: str) -> None:
        self.parts.append(text)

    def para(self, text: str, cls: str = "") -> None:
        self.add(f"<p{f' class={cls!r}' if cls else ''}>{text}</p>")

    def table(self, name: str, header: list[str], rows: list[list[str]], keys: list[str] | None = None,
              numeric_from: int = 1, data: pd.DataFrame | None = None) -> None:
        """An HTML table (``id=name``, each row's ``data-key``); ``data`` is stored as ``<name>.csv``."""
        if data is not None:
            self.csv[name.replace("-", "_")] = data
        head = "".join(f"<th>{_e(h)}</th>" for h in header)
        body = []
        for k, row in enumerate(rows):
            key = f' data-key="{_e(keys[k])}"' if keys else ""
            cells = "".join(f"<td class='num'>{_e(c)}</td>" if j >= numeric_from else f"<td>{_e(c)}</td>"
                            for j, c in enumerate(row))
            body.append(f"<tr{key}>{cells}</tr>")
        self.add(f"<table id='{_e(name)}'><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")

    def figure(self, name: str, draw: Callable[[], bytes], caption: str) -> None:
        """An embedded figure (base64 PNG), also stored as ``<name>.png``; drawn later by ``draw_figures``."""
        self.pending.append((name, draw, caption, len(self.parts)))
        self.add(f"<!-- figure {_e(name)} -->")  # its place, filled when drawn

    def draw_figures(self, workers: int | None = None) -> None:
        """Draw every pending figure, on the machine's cores (each figure is independent and drawn from tables)."""
        drawings = [draw for _, draw, _, _ in self.pending]
        workers = min(len(drawings), default_workers() if workers is None else workers)
        if workers > 1:
            with fork_pool(workers) as pool:
                pngs = pool.map(_draw, drawings, chunksize=1)
        else:
            pngs = [draw() for draw in drawings]
        for (name, _, caption, place), png in zip(self.pending, pngs, strict=True):
            self.png[name] = png
            data = base64.b64encode(png).decode("ascii")
            self.parts[place] = (f"<figure id='fig-{_e(name)}'><img alt='{_e(caption)}' "
                                 f"src='data:image/png;base64,{data}'><figcaption class='note'>{_e(caption)}"
                                 "</figcaption></figure>")
        self.pending = []


def _draw(draw: Callable[[], bytes]) -> bytes:
    return draw()


def _arm_columns(results: Results, t: Translator) -> list[str]:
    return [*(words.arm_name(a, t) for a in results.arms),
            *(t("difference {arm} − {base}").format(arm=words.arm_name(a, t), base=words.arm_name(results.base, t))
              for a in results.others)]


def _arm_cells(row, results: Results, show: Callable[[float], str]) -> list[str]:
    cells = [with_interval(row[f"{a}_mean"], row[f"{a}_lo"], row[f"{a}_hi"], show) for a in results.arms]
    cells += [with_interval(row[f"diff_{a}"], row[f"diff_{a}_lo"], row[f"diff_{a}_hi"], show) for a in results.others]
    return cells


def build_report(results_folder: str | Path, out_html: str | Path, lang: str = DEFAULT_LANGUAGE) -> Path:
    """Write the report of a run or sweep folder to ``out_html`` (and its ``_files`` folder); return its path.

    ``lang`` is the report's language (``nl`` Dutch, the default, or ``en``).

    Raises:
        InputError: the results folder is missing, empty or incompatible (see ``load.load_results``).
        LanguageError: ``lang`` is not a language of the catalogues.
        OutputError: the report cannot be written where asked.
    """
    from analysis.report import discovery

    t = translator(lang, "report")
    if discovery.is_discovery(results_folder):  # a discovery folder: its own section, from its per-point tables
        return discovery.build(Path(results_folder), Path(out_html), t)

    from analysis.report.sweep import build_sweep_report, sweep_target

    target = sweep_target(results_folder)
    if target is not None:  # a sweep or sensitivity folder: the design, its points and indices, not arms
        return build_sweep_report(*target, out_html, t=t)
    results = load_results(results_folder)
    out_html, files = report_paths(out_html)
    check_output_folder(out_html.parent, "--out")
    check_report_target(out_html, files)  # before any work: a page or folder the program did not write stays
    page = Page(t)
    salary = {arm: float(results.arm_settings.get(arm, {}).get("staff.salary", results.params["staff.salary"]))
              for arm in results.arms}  # EUR per FTE per arm (a sweep may vary it)
    cases = [tables.business_case(results.frame, results.base, arm, salary) for arm in results.others]
    headline = tables.headline(results)
    own = tables.own_result(results)
    _answer(page, results, headline, cases, own)
    _scenario(page, results)
    _headline(page, results, headline)
    _section(page, "uncertainty")
    uncertainty.section(page, results.folder, results.base, t)
    _over_time(page, results)
    _business_case(page, results, cases)
    _wrong_pocket(page, results, cases)
    _municipal_budget(page, results, salary)
    _groups(page, results)
    _social_firm(page, results)
    _decomposition(page, results)
    _own_result(page, results, own, salary)
    _assumptions(page, results)
    _how_to_read(page, results)
    page.csv["runs"] = tables.summaries_frame(results)
    page.draw_figures()
    _write(page, results, out_html, files, t)
    return out_html


def _section(page: Page, key: str) -> None:
    title = page.t(dict(SECTIONS)[key])
    if page.parts and page.parts[-1] != "":
        page.add("</section>")
    page.add(f"<section id='{key}'><h2>{_e(title)}</h2>")


def _value(table: pd.DataFrame, summary: str, column: str) -> float:
    return float(table.loc[table["summary"] == summary, column].iloc[0])


def _b(text) -> str:
    return f"<b>{_e(text)}</b>"


def arm_lines(results: Results, t: Translator = ENGLISH) -> list[tuple[str, str, str]]:
    """Per arm: its name, its funding (regime, pooled share) and its practices with their values."""
    out = []
    for arm in results.arms:
        c = results.arm_contents.get(arm)
        if c is None:
            out.append((arm, words.arm_name(arm, t), t("not recorded in this folder")))
            continue
        practices = words.practices(c["practices"], t) or t("none recorded")
        if c.get("bundle"):
            practices += " — " + t("the {bundle} bundle on top of the scenario's practices").format(
                bundle=t(c["bundle"]["name"]))
        out.append((arm, words.funding(c, t), practices))
    return out


def _answer(page: Page, results: Results, headline: pd.DataFrame, cases, own: pd.DataFrame) -> None:
    t = page.t
    _section(page, "answer")
    years = int(results.frame["year"].max())
    base = words.arm_name(results.base, t)
    page.add(f"<p><b>{_e(t('The arms compared'))}</b> {_e(t('(each runs on the same seeds):'))}</p>"
             "<ul class='arms' id='arms-in-short'>"
             + "".join(f"<li data-key='{_e(arm)}'>{_b(words.arm_name(arm, t))}"
                       f"{_e(' ' + t('(baseline)')) if arm == results.base else ''}: "
                       + _e(t("funding {funding}; practices: {practices}").format(funding=funding, practices=practices))
                       + "</li>" for arm, funding, practices in arm_lines(results, t)) + "</ul>")
    same = [a for a in results.others if results.arm_contents.get(a, {}).get("practices") is not None
            and results.arm_contents[a]["practices"] == results.arm_contents.get(results.base, {}).get("practices")]
    if same:
        names = ", ".join(_b(words.arm_name(a, t)) for a in same)
        page.para(t("{names} has the baseline's practices: its difference from the baseline is the funding alone."
                    if len(same) == 1 else "{names} have the baseline's practices: their difference from the baseline "
                    "is the funding alone.").format(names=names), "note")
    items = []
    spread = uncertainty.read(results.folder)
    persons = partial(words.persons, t=t)
    for arm, case in zip(results.others, cases, strict=True):
        def diff(summary, money=False, arm=arm, show=None):
            return _difference(_value(headline, summary, f"diff_{arm}"), _value(headline, summary, f"diff_{arm}_lo"),
                               _value(headline, summary, f"diff_{arm}_hi"), t, money, show)
        row = own[own["key"] == "own_result_total"].iloc[0]
        totals = case.totals.set_index("budget").drop(index="total")
        gains = totals["saving"].idxmax() if totals["saving"].max() > 0 else None
        pays = totals["extra"].idxmax() if totals["extra"].max() > 0 else None
        who = []
        if pays:
            who.append(_e(t("the largest extra spending falls on {budget} ({amount})")).format(
                budget=_b(t(BUDGETS[pays])), amount=_e(t.millions(totals.loc[pays, "extra"] * 1e6))))
        if gains:
            who.append(_e(t("the largest saving on {budget} ({amount})")).format(
                budget=_b(t(BUDGETS[gains])), amount=_e(t.millions(totals.loc[gains, "saving"] * 1e6))))
        lines = [
            t("moves into paid work: {difference} persons ({before} → {after});").format(
                difference=diff("outflow_work", show=persons),
                before=persons(_value(headline, "outflow_work", f"{results.base}_mean")),
                after=persons(_value(headline, "outflow_work", f"{arm}_mean"))),
            t("benefit stock in the final year: {stock} persons; Wmo clients (yearly mean): {wmo};").format(
                stock=diff("benefit_stock_end", show=persons), wmo=diff("wmo_clients", show=persons)),
            t("municipal spending: {difference};").format(difference=diff("spend_total", money=True)),
            t("the municipality's own result (budgets + safety net − spending): {difference};").format(
                difference=_difference(row[f"diff_{arm}"], row[f"diff_{arm}_lo"], row[f"diff_{arm}_hi"], t, True)),
        ]
        items.append(
            "<li>" + _e(t("{arm} against {base} over {years} years (paired mean [95% interval]):")).format(
                arm=_b(words.arm_name(arm, t)), base=_b(base), years=years)
            + "<ul>" + "".join(f"<li>{_e(line)}</li>" for line in lines)
            + f"<li>{_e(t('business case:'))} {_b(payback_words(case, t))}; "
            + ("; ".join(who) or _e(t("no budget spends more"))) + ".</li>"
            + (uncertainty.answer_line(spread[0], arm, t) if spread is not None else "")
            + "</ul></li>")
    page.add(f"<ul class='answer'>{''.join(items)}</ul>")
    page.para(_e(t("An interval that excludes 0 means the model tells the arms apart on that figure; one that includes "
                   "0 means it cannot. These are model results under the stated assumptions, not forecasts.")), "note")
    page.add(f"<nav><b>{_e(t('Contents'))}</b><ol>"
             + "".join(f"<li><a href='#{k}'>{_e(t(title))}</a></li>" for k, title in SECTIONS) + "</ol></nav>")


def payback_words(case, t: Translator) -> str:
    """A business case's payback status in the report's language."""
    if case.payback_year:
        return t("pays back in year {year}").format(year=case.payback_year)
    return t(case.payback_status)


def _scenario(page: Page, results: Results) -> None:
    t = page.t
    _section(page, "scenario")
    p = results.params
    years = int(results.frame["year"].max())
    reps = int(results.frame["replication"].nunique())
    page.para(f"<b>{_e(t('The question:'))}</b> " + _e(t(
        "what does pooling the municipality's social-domain budgets do, for whom, and who pays? The report compares "
        "each funding arrangement with the baseline on the same simulated residents.")))
    page.para(f"<b>{_e(t('The municipality:'))}</b> " + _e(t(
        "{inhabitants} inhabitants, {firms} social firm(s) with {places} places, simulated for {years} years; {reps} "
        "paired replications (every arm runs on the same seeds, and each resident meets the same luck under every "
        "arm).").format(inhabitants=t.number(p["scenario.inhabitants"]), firms=int(p["scenario.social_firms"]),
                        places=int(p["scenario.social_firm_places"]), years=years, reps=reps)))
    rows, keys = [], []
    described = {arm: (funding, practices) for arm, funding, practices in arm_lines(results, t)}
    for arm in results.arms:
        s = results.arm_settings.get(arm, {"scenario.regime": arm})
        regime = s.get("scenario.regime", arm)
        funding, practices = described[arm]
        text = f"{funding}: {t(REGIME_TEXT[regime]) if regime in REGIME_TEXT else words.plain(regime, t)}"
        extra = ", ".join(f"{words.parameter(k, t)} = {words.plain(v, t)}" for k, v in s.items()
                          if k not in ("scenario.regime", "scenario.pooled_share") and not k.startswith("practice.")
                          and not _is_default(k, v))
        name = words.arm_name(arm, t) + (" " + t("(baseline)") if arm == results.base else "")
        rows.append([name, text, practices, extra or "—"])
        keys.append(arm)
    page.table("arms", [t("arm"), t("funding"), t("practices (every lever, with its value)"), t("other settings")],
               rows, keys, numeric_from=99)
    switch = tables.switch_year(results)
    if switch:
        page.para(f"<b>{_e(t('Regime switch:'))}</b> " + _e(t(
            "every arm runs compartmentalised until year {before}; the arm's own regime takes effect from year "
            "{year}.").format(before=switch - 1, year=switch)))
    overrides = results.manifest.get("overrides") or results.manifest.get("design", {}).get("base") or {}
    if overrides:
        page.para(f"<b>{_e(t('Changed from the defaults:'))}</b> "
                  + _e(", ".join(f"{words.parameter(k, t)} = {words.plain(v, t)}" for k, v in overrides.items())))
    code = results.manifest.get("code_version", {})
    made = results.manifest.get("created")
    page.para(_e(t("Source: {kind} folder {folder}, made {when} by code {code}{dirty}.")).format(
        kind=_e(t(results.kind)),
        folder=f"<code>{_e(results.folder)}</code>", when=_e(made or t("at an unknown time")),
        code=_e(code.get("commit", code.get("package", "?"))[:12]),
        dirty=_e(" " + t("(with uncommitted changes)")) if code.get("dirty") else ""), "note")


def _headline(page: Page, results: Results, table: pd.DataFrame) -> None:
    t = page.t
    _section(page, "headline")
    rows = [[t(r["label"].strip()), t(r["unit"]), *_arm_cells(r, results, words.shower(r["unit"], t))]
            for _, r in table.iterrows()]
    page.table("headline", [t("indicator"), t("unit"), *_arm_columns(results, t)], rows, list(table["summary"]),
               numeric_from=2, data=table)
    page.para(_e(t("Per arm the mean over replications with its 95% interval; the difference is paired (same seeds). "
                   "Outflow and spending are horizon totals, the benefit stock the final year, care demand (Wmo "
                   "clients, day activities, guidance hours) yearly means. Counts of people are rounded to whole "
                   "persons.")), "note")


def _over_time(page: Page, results: Results) -> None:
    t = page.t
    _section(page, "over-time")
    series = tables.timeseries(results)
    page.csv["timeseries"] = series
    page.figure("timeseries", partial(figures.timeseries, series, results.arms, tables.switch_year(results), t),
                t("Per year: mean over replications with its 95% band, per arm."))


def _business_case(page: Page, results: Results, cases) -> None:
    t = page.t
    _section(page, "business-case")
    page.para(_e(t("Each cost line is given to the budget that pays for it under partitions (the table in the "
                   "municipal-budget section), so pooled spending is traced back to the law it serves. Against the "
                   "baseline, a line that costs more is that budget's extra spending (its investment), one that costs "
                   "less its saving; the net position is saving minus extra spending. EUR million, paired means.")))
    yearly_all, totals_all = [], []
    show = partial(fmt, t=t)
    base = words.arm_name(results.base, t)
    for case in cases:
        arm = words.arm_name(case.arm, t)
        frame = case.totals
        rows = [[t(BUDGETS.get(r["budget"], r["label"])) if r["budget"] != "total" else t(r["label"]),
                 show(r["extra"]), show(r["saving"]),
                 with_interval(r["net"], r["net_ci_low"], r["net_ci_high"], show)] for _, r in frame.iterrows()]
        page.add(f"<h3>{_e(t('{arm} against {base}: {status}').format(arm=arm, base=base, status=payback_words(case, t)))}"
                 "</h3>")
        page.table(f"business-case-{len(totals_all)}",
                   [t("budget"), t("extra spending"), t("saving"), t("net position [95%]")], rows, list(frame["budget"]))
        years = sorted(case.yearly["year"].unique())
        by = case.yearly.set_index(["budget", "year"])
        rows = []
        names = {"spending_baseline": t("spending ({arm})").format(arm=base),
                 "spending": t("spending ({arm})").format(arm=arm), "extra": t("extra spending"),
                 "saving": t("saving"), "net": t("net position"), "cumulative_net": t("cumulative net position")}
        for budget in BUDGETS:
            for what, name in names.items():
                rows.append([f"{t(BUDGETS[budget])}: {name}", *(show(by.loc[(budget, y), what]) for y in years)])
        rows.append([t("Municipality: net"), *(show(case.yearly[case.yearly["year"] == y]["net"].sum()) for y in years)])
        rows.append([t("Municipality: cumulative net"), *(show(case.cumulative.loc[y]) for y in years)])
        page.add(f"<details><summary>{_e(t('Per year and cumulative'))}</summary>")
        page.table(f"business-case-yearly-{len(totals_all)}",
                   [t("EUR m"), *(t("year {year}").format(year=y) for y in years)], rows)
        page.add("</details>")
        yearly_all.append(case.yearly.assign(arm=case.arm))
        totals_all.append(frame.assign(arm=case.arm, payback_year=case.payback_year, payback=case.payback_status))
    page.csv["business_case_yearly"] = pd.concat(yearly_all, ignore_index=True)
    page.csv["business_case_totals"] = pd.concat(totals_all, ignore_index=True)
    page.figure("business_case", partial(figures.business_case, cases, t),
                t("Cumulative net position per budget and for the municipality; the payback year is dotted."))
    page.para(_e(t("The payback year is the first year from which the municipality's cumulative net position stays at "
                   "or above zero to the horizon, after it has been below zero.")), "note")


def _wrong_pocket(page: Page, results: Results, cases) -> None:
    t = page.t
    _section(page, "wrong-pocket")
    matrices = {case.arm: tables.wrong_pocket(case) for case in cases}
    page.para(_e(t("Rows: the budget that pays for extra spending; columns: the budget whose spending falls (the "
                   "saving). The stored results record how much each budget spends more and saves, not which euro of "
                   "saving followed which euro of spending, so each budget's saving is shared over the payers in "
                   "proportion to their extra spending. Off the diagonal lies the wrong pocket: savings that land in "
                   "a budget that did not pay for them.")))
    frames = []
    show = partial(fmt, t=t)
    for k, (arm, m) in enumerate(matrices.items()):
        names = list(m.columns)
        rows = [[t(BUDGETS[r]), *(show(m.loc[r, c]) for c in names), show(m.loc[r].sum())] for r in m.index]
        rows.append([t("saving gained"), *(show(m[c].sum()) for c in names), show(m.to_numpy().sum())])
        total = m.to_numpy().sum()
        off = total - np.trace(m.to_numpy())
        page.add(f"<h3>{_e(words.arm_name(arm, t))}</h3>")
        page.table(f"wrong-pocket-{k}", [t("pays \\ gains"), *(t(BUDGETS[c]) for c in names), t("total")], rows,
                   [*m.index, "total"])
        page.para(_e(t("Share of the saving that lands in another budget than the one that paid: {share}.").format(
            share=t("n/a") if total <= 0 else words.percent(off / total, t))), "note")
        frames.append(m.reset_index().melt(id_vars="pays", var_name="gains", value_name="eur_m").assign(arm=arm))
    page.csv["wrong_pocket"] = pd.concat(frames, ignore_index=True)
    page.figure("wrong_pocket", partial(figures.wrong_pocket, matrices, t),
                t("Who pays (rows), who gains (columns), EUR m."))


def _municipal_budget(page: Page, results: Results, salary: dict[str, float]) -> None:
    t = page.t
    _section(page, "municipal-budget")
    table = tables.task_field_spending(results, salary)
    show = partial(fmt, t=t)
    rows = [[f"{r['task_field']} {r['name']}", _instruments(r["task_field"], t), *_arm_cells(r, results, show)]
            for _, r in table.iterrows()]
    page.table("task-fields", [t("task field"), t("what the model books there"), *_arm_columns(results, t)], rows,
               list(table["task_field"]), numeric_from=2, data=table)
    page.para(_e(t("EUR million over the horizon per task field (taakveld) of the BBV (Besluit begroting en "
                   "verantwoording provincies en gemeenten), programme 6 Sociaal domein. Not modelled: {fields}.")
                 .format(fields="; ".join(f"{k} {TASK_FIELDS[k]} ({t(v)})" for k, v in NOT_MODELLED.items()))),
              "note")
    page.figure("task_fields", partial(figures.task_fields, table, results.arms, t),
                t("Spending per BBV task field (EUR m)."))
    mapping = tables.cost_line_table()
    page.add(f"<details><summary>{_e(t('Which instrument and which staff go where, and the source'))}</summary>")
    rows = [[t(c.label), t(BUDGETS[c.budget]), f"{c.task_field} {TASK_FIELDS[c.task_field]}",
             t(SOURCE_WORDS.get(c.source, "assumption"))] for c in COST_LINES]
    page.table("cost-lines", [t("cost line"), t("budget"), t("task field"), t("source")], rows,
               list(mapping["model name"]), numeric_from=99, data=mapping)
    page.add("</details>")


def _instruments(field: str, t: Translator) -> str:
    """What the model books on a task field, in the report's language."""
    return "; ".join(t(c.label) for c in COST_LINES if c.task_field == field) or t(NOT_MODELLED.get(field, ""))


def _groups(page: Page, results: Results) -> None:
    t = page.t
    _section(page, "groups")
    table = tables.group_outcomes(results)
    page.para(_e(t("Creaming shows as support and outflow going to the groups closest to work (young, no disability, "
                   "high wage value) rather than to those with the most need; the difference column shows who gains.")))
    for measure in ("outflow_work", "served", "benefit_stock"):
        part = table[table["indicator"] == measure]
        rows = [[f"{t(GROUP_NAMES[r['group_by']])}: {t(GROUP_VALUES.get(r['group'], r['group']))}",
                 *_arm_cells(r, results, partial(words.persons, t=t))] for _, r in part.iterrows()]
        page.add(f"<h3>{_e(t(tables.GROUP_MEASURES[measure][0]))}</h3>")
        page.table(f"groups-{measure}", [t("group"), *_arm_columns(results, t)], rows,
                   [f"{r['group_by']}:{r['group']}" for _, r in part.iterrows()])
    page.csv["groups"] = table
    page.figure("groups", partial(figures.groups, table, results.arms, t),
                t("Moves into paid work by group (95% intervals)."))


def _social_firm(page: Page, results: Results) -> None:
    t = page.t
    _section(page, "social-firm")
    table = tables.firm_view(results)
    rows = [[t(r["measure"]).rstrip() if not r["measure"].startswith(" ") else "  " + t(r["measure"].strip()),
             *_arm_cells(r, results, _firm_show(r["key"], t))] for _, r in table.iterrows()]
    page.table("social-firm", [t("measure"), *_arm_columns(results, t)], rows, list(table["key"]), data=table)
    dropout = tables.firm_dropout(results)
    rows = [[t(GROUP_VALUES.get(r["disability"], r["disability"])),
             *(f"{words.persons(r[f'{a}_starts'], t)} / {words.percent(r[f'{a}_dropout_share'], t)}"
               for a in results.arms)]
            for _, r in dropout.iterrows()]
    page.add(f"<h3>{_e(t('First-year drop-out by disability type'))}</h3>")
    page.table("firm-dropout", [t("disability"), *(t("{arm}: starts / drop-out share").format(
        arm=words.arm_name(a, t)) for a in results.arms)], rows, list(dropout["disability"]), data=dropout)
    series = tables.timeseries(results, ("firm_utilisation",))
    page.figure("social_firm", partial(figures.firm, series, results.arms, tables.switch_year(results), t),
                t("Occupied share of the social firm's places per year (95% band)."))
    page.para(_e(t("Lock-in is the firm keeping a client past the planned end of the trajectory; a high lock-in count "
                   "next to a low share into paid work is the pattern the sources warn about ({source}).").format(
                       source=t(words.SOURCES["SR"]))), "note")
    firm_case.section(page, results, t)  # the firm's business case for the municipality


def _firm_show(key: str, t: Translator) -> Callable[[float], str]:
    if key in ("firm_utilisation", "to_work_share"):
        return partial(words.percent, t=t)
    if key in ("firm_contract_income", "firm_result"):
        return partial(fmt, t=t)
    return partial(words.persons, t=t)


def _decomposition(page: Page, results: Results) -> None:
    t = page.t
    _section(page, "decomposition")
    if results.decomposition is None:
        why = f" ({_e(t(results.decomposition_problem))})" if results.decomposition_problem else ""
        bundled = [a for a in results.others if (results.arm_contents.get(a) or {}).get("bundle")]
        if results.decomposition_problem or bundled:
            page.para(f"<b>{_e(t('No decomposition is stored with these results'))}{why}.</b> " + _e(t(
                "ontschot run splits the difference between the bundle arm and the baseline into pooling the money "
                "and each practice lever and stores it with the results (unless --no-explain); ontschot explain "
                "does only that.")))
        else:
            page.para(f"<b>{_e(t('Nothing to decompose:'))}</b> " + _e(t(
                "every arm has the baseline's practices, so each difference is the funding alone (one player, "
                "pooling the money, holds all of it). A run with a practice bundle arm (the default of ontschot run) "
                "stores the decomposition of that arm into pooling the money and each practice lever.")))
        return
    table = results.decomposition
    if {"arm", "against"} <= set(table.columns) and isinstance(table["arm"].iloc[0], str):
        page.para(_e(t("The difference {arm} minus {against}, split by Shapley values over the players in which the "
                       "two arms differ (pooling the money and each practice lever); every combination of players ran "
                       "on the same seeds, so the parts add up to the total in every replication.")).format(
                           arm=_b(words.arm_name(table["arm"].iloc[0], t)),
                           against=_b(words.arm_name(table["against"].iloc[0], t))))
    rows = [[words.summary(r["indicator"], t), t(r["part"]),
             with_interval(r["mean"], r["ci_low"], r["ci_high"], words.shower(
                 words.SUMMARY_UNITS.get(r["indicator"], ""), t)), t.number(r["replications"])]
            for _, r in table.iterrows()]
    page.table("decomposition-table", [t("indicator"), t("part"), t("mean [95%]"), t("replications")], rows,
               [f"{r['indicator']}:{r['part']}" for _, r in table.iterrows()], numeric_from=2, data=table)
    check = tables.decomposition_check(table)
    off = check[(check["total"] - check["sum_of_parts"]).abs() > 1e-6 * check["total"].abs().clip(lower=1)]
    if len(off):
        page.para(_e(t("Note: for {indicators} the parts do not add up to the total.").format(
            indicators=", ".join(words.summary(str(i), t) for i in off["indicator"]))), "note")
    page.figure("decomposition", partial(figures.waterfall, table, t),
                t("Waterfall: pooling the money, then each practice lever, then the total difference (95% intervals)."))


def _own_result(page: Page, results: Results, table: pd.DataFrame, salary: dict[str, float]) -> None:
    t = page.t
    _section(page, "own-result")
    page.para(_e(t("As the council's accounts show it, per budget holder as booked (the pooled desk is the "
                   "transformation desk or the integrated budget): its grant, its budget (the grant share plus what "
                   "the model adds to it, the staff the holder pays), the safety net on the benefit grant, its gross "
                   "spending and its own result = budget + safety net − spending. EUR million over the horizon.")))
    show = partial(fmt, t=t)
    rows = [[own_label(r["measure"], t), *_arm_cells(r, results, show)] for _, r in table.iterrows()]
    page.table("own-result", [t("EUR m"), *_arm_columns(results, t)], rows, list(table["key"]), data=table)
    rec = tables.reconciliation(results, salary)
    page.add(f"<h3>{_e(t('How the money adds up against the baseline'))}</h3>")
    page.para(_e(t("The spending difference is the same figure summed over the cost lines (the task-field table) and, "
                   "with the opposite sign, the business case's net position over all budgets. The own result moves "
                   "by the budget difference plus the safety-net difference minus the spending difference: staff a "
                   "holder pays are in its budget as well as in its spending, so they change spending without "
                   "changing the own result.")), "note")
    rows = [[words.arm_name(r["arm"], t), t(RECONCILIATION[r["key"]]).strip(),
             with_interval(r["mean"], r["ci_low"], r["ci_high"], show)] for _, r in rec.iterrows()]
    page.table("money-reconciliation", [t("arm"), t("EUR m, difference against {base}").format(
        base=words.arm_name(results.base, t)), t("paired mean [95%]")], rows,
               [f"{r['arm']}:{r['key']}" for _, r in rec.iterrows()], numeric_from=2, data=rec)
    cases = tables.own_result_payback(results)
    for arm, case in cases.items():
        when = (t("year {year}").format(year=case["payback_year"]) if case["payback_year"]
                else t("not within the horizon"))
        page.para(_e(t("{arm}: the cumulative own result reaches the baseline's and stays there from: {when}.").format(
            arm=words.arm_name(arm, t), when=when)), "note")
    page.figure("own_result", partial(figures.own_result, table, results.arms, t),
                t("Gross spending and own result per budget holder (EUR m, 95% intervals)."))


def own_label(measure: str, t: Translator) -> str:
    """An own-result row's label ('Wmo: spending') in the report's language."""
    holder, _, what = measure.partition(": ")
    indent = "  " if what.startswith(" ") else ""
    return f"{t(holder)}: {indent}{t(what.strip())}"


# The reconciliation's rows, said without their indicator keys.
RECONCILIATION = {
    "spend_total": "spending difference",
    "cost_lines": "the same over the cost lines = the task fields' total = minus the business case's net",
    "budget_total": "budget difference (grant shares and the staff each holder pays)",
    "compensation_total": "safety-net difference",
    "own_result_total": "own-result difference = budget + safety net − spending",
}


def _assumptions(page: Page, results: Results) -> None:
    t = page.t
    _section(page, "assumptions")
    table = tables.assumptions(results)
    ranked = any(c.startswith("largest ") for c in table.columns)
    page.para(_e(t("{n} parameters of this scenario have status assumption: no source gives their value, so they "
                   "carry the result as much as the published figures do.").format(n=len(table))) + " "
              + _e(t("They are ranked by the largest sensitivity index measured in this folder.") if ranked else t(
                  "Which of them drive the result most is measured by ontschot sensitivity over a design that varies "
                  "them; this folder holds no such analysis, so they are listed by name. Changed values are marked.")))
    changed = int(table["changed"].sum()) if len(table) else 0
    if changed:
        page.para(_e(t("{n} of them were changed for this scenario; they come first.").format(n=changed)))
    largest = [c for c in table.columns if c.startswith("largest ")]
    rows = []
    for _, r in table.iterrows():
        value = words.plain(_number(r["value"]), t)
        rows.append([t(r["label"]), value + (" " + t("(changed)") if r["changed"] else ""),
                     words.plain(_number(r["default"]), t), _allowed(r["allowed"], t), t(r["unit"]),
                     words.sources_in_words(r["source"], t),
                     *(fmt(r[c], t) for c in largest)])
    page.add(f"<details{' open' if ranked else ''} class='analyst'><summary>"
             + _e(t("For the analyst: the {n} assumption parameters, with the value used, the default, the allowed "
                    "range, the unit and the reason given for the value").format(n=len(table))) + "</summary>")
    page.para(_e(t("A technical appendix: the parameters' descriptions and reasons are those of the model's parameter "
                   "set, in English.")), "note")
    page.table("assumptions-table", [t("parameter"), t("value"), t("default"), t("allowed"), t("unit"),
                                     t("source or reason"), *(t(c) for c in largest)], rows,
               list(table["parameter"]), numeric_from=99, data=table)
    page.add("</details>")


def _number(text):
    """A stored value shown as text ('0.25', 'a, b') back as a number where it is one."""
    try:
        return float(text)
    except (TypeError, ValueError):
        return text


def _allowed(text: str, t: Translator) -> str:
    low, sep, high = str(text).partition(" to ")
    if sep and isinstance(_number(low), float) and isinstance(_number(high), float):
        return t("{low} to {high}").format(low=words.plain(_number(low), t), high=words.plain(_number(high), t))
    return ", ".join(words.plain(v.strip(), t) for v in str(text).split(",")) if text else ""


def _how_to_read(page: Page, results: Results) -> None:
    t = page.t
    _section(page, "how-to-read")
    items = [
        ("Arms and baseline.", t("Every arm is the same municipality under a funding form and a set of practices, "
                                 "both listed at the top; arms with the baseline's practices differ from it in "
                                 "funding alone. The baseline is {base}. Every replication runs all arms on the same "
                                 "seed, so a difference is the effect of the arrangement, not of chance.").format(
                                     base=words.arm_name(results.base, t))),
        ("Statistics.", t("Means over replications with 95% t intervals; differences are paired per replication and "
                          "their interval is the paired t interval. With few replications the intervals are wide: "
                          "more replications (ontschot run --replications N) narrow them. A count of people is "
                          "shown in whole persons.")),
        ("Money.", t("Gross spending is what the municipality pays; the own result is budget plus safety net minus "
                     "spending, where a budget is the holder's share of the grant plus the staff it pays — the "
                     "state's grants do not follow the municipality's own benefit stock. Benefits and Wmo support are "
                     "rights: when more entitled residents come into sight, spending rises, and that is a right "
                     "met.")),
        ("Savings", t("in the business case are spending that falls against the baseline, traced to the budget that "
                      "pays for it under partitions; they are not a forecast of a budget line.")),
        ("Tables for a memo.", t("Every table is next to this file as CSV and every figure as PNG (the folder next to "
                                 "this file whose name ends in _files).")),
    ]
    page.add("<ul>" + "".join(f"<li><b>{_e(t(head))}</b> {_e(text)}</li>" for head, text in items) + "</ul>")
    page.add("</section>")


def _write(page: Page, results: Results, out_html: Path, files: Path, t: Translator = ENGLISH) -> None:
    title = t("Ontschot report — {inhabitants} inhabitants").format(
        inhabitants=t.number(results.params["scenario.inhabitants"]))
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    text = (f"<!DOCTYPE html><html lang='{t.lang}'><head><meta charset='utf-8'><title>{_e(title)}</title>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'><style>{STYLE}</style></head><body>"
            f"<h1>{_e(title)}</h1><p class='note'>"
            + _e(t("What pooling the social-domain budgets does, for whom, and who pays. Written {stamp} from {folder}."))
            .format(stamp=_e(stamp), folder=f"<code>{_e(results.folder)}</code>")
            + f"</p>{''.join(page.parts)}</body></html>")
    publish(page, text, out_html, files)


def publish(page: Page, text: str, out_html: Path, files: Path) -> None:
    """Write the HTML and its tables and figures: all into a temporary folder first, then renamed into place.

    Raises:
        OutputError: the files cannot be written (nothing half-written is left).
    """
    check_report_target(out_html, files)
    page_bytes = stamp_page(text)
    tmp = Path(tempfile.mkdtemp(prefix=f".{files.name}-", dir=out_html.parent))
    try:
        os.chmod(tmp, 0o755)
        (tmp / FILES_MARKER).write_text("Written by ontschot report; the next report to this place replaces this "
                                        "folder.\n", encoding="utf-8")
        for name, frame in page.csv.items():
            frame.to_csv(tmp / f"{name}.csv", index=False)
        for name, png in page.png.items():
            (tmp / f"{name}.png").write_bytes(png)
        html_tmp = tmp / "report.html"
        html_tmp.write_bytes(page_bytes)
        check_report_target(out_html, files)  # again, just before replacing: nothing else took the place since
        if os.path.lexists(files):
            shutil.rmtree(files)
        os.replace(html_tmp, out_html)
        os.replace(tmp, files)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise OutputError(f"--out {show_path(out_html)}: the report could not be written ({os_reason(exc)})") from None


def stamp_page(text: str) -> bytes:
    """The page's bytes with its generator tag right after ``<head>``: the SHA-256 of the page with the digest empty."""
    at = text.index("<head>") + len("<head>")
    blank = (text[:at] + GENERATOR_META + GENERATOR_END + text[at:]).encode("utf-8")
    cut = len(text[:at].encode("utf-8")) + len(GENERATOR_META)
    return blank[:cut] + stored.sha256(blank).encode("ascii") + blank[cut:]


def page_verifies(blob: bytes) -> bool:
    """Whether a page's bytes are byte for byte what ``stamp_page`` wrote: its tag's digest is that of the rest."""
    head = blob[:HEAD_BYTES]
    at = head.find(GENERATOR_META.encode("ascii"))
    if at < 0:
        return False
    cut = at + len(GENERATOR_META)
    digest = blob[cut:cut + DIGEST_HEX]
    if not stored.HEX64.fullmatch(digest.decode("ascii", "replace")) or \
            blob[cut + DIGEST_HEX:cut + DIGEST_HEX + len(GENERATOR_END)] != GENERATOR_END.encode("ascii"):
        return False
    return hmac.compare_digest(stored.sha256(blob[:cut] + blob[cut + DIGEST_HEX:]).encode("ascii"), digest)


def _not_ours(out_html: Path, what: Path, why: str) -> OutputError:
    return OutputError(f"--out {show_path(out_html)} is not allowed: {show_path(what)} {why}; the report never "
                       "deletes or overwrites what it did not write: choose another --out, or remove or move it "
                       "yourself")


def _page_state(path: Path) -> str:
    """What an existing page is: "ours" (verifies), "changed" (the tag, other bytes), "old" (the bare tag), "other".

    Read without following a link or blocking, at most ``LIMITS["html"]`` bytes (a longer file is not ours).
    """
    limit = stored.LIMITS["html"]
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY)
    except OSError:
        return "other"
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return "other"
        chunks, total = [], 0
        while chunk := os.read(fd, min(stored.MIB, limit + 1 - total)):
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                return "other"
    except OSError:
        return "other"
    finally:
        os.close(fd)
    blob = b"".join(chunks)
    if page_verifies(blob):
        return "ours"
    head = blob[:HEAD_BYTES]
    if GENERATOR_META.encode("ascii") in head:
        return "changed"
    return "old" if OLD_GENERATOR_META.encode("ascii") in head else "other"


PAGE_REFUSALS = {
    "changed": "exists and is not byte for byte the page ontschot report wrote (its generator tag's SHA-256 does "
               "not match its bytes: it was edited, or saved by a browser)",
    "old": "exists with only the bare generator tag of reports written before this version; a browser's saved "
           "copy or an edited page keeps that tag too, so it cannot be told from one and is kept",
    "other": "exists and was not written by ontschot report (it lacks the report's generator tag)",
}


def check_report_target(out_html: Path, files: Path) -> None:
    """Refuse to replace a page or a ``_files`` folder the program did not write (they lack its marks).

    A page is replaced only when it is a regular file whose generator tag's SHA-256 matches its bytes
    (``page_verifies``): an edited copy, a browser's saved copy and a page of an earlier version (the bare tag,
    which cannot be told from a saved copy) are refused. A ``_files`` folder is replaced only when it is a folder
    (not a link) holding the ``FILES_MARKER`` file.

    Raises:
        OutputError: naming what is in the way and why, in one line.
    """
    if os.path.lexists(out_html):
        if os.path.islink(out_html):
            raise _not_ours(out_html, out_html, "is a symbolic link")
        state = _page_state(out_html)
        if state != "ours":
            raise _not_ours(out_html, out_html, PAGE_REFUSALS[state])
    if os.path.lexists(files):
        if os.path.islink(files) or not os.path.isdir(files):
            raise _not_ours(out_html, files, "exists and is not a folder the report wrote")
        try:
            marked = stat.S_ISREG(os.lstat(files / FILES_MARKER).st_mode)
        except OSError:
            marked = False
        if not marked:
            raise _not_ours(out_html, files, f"exists and was not written by ontschot report (no {FILES_MARKER} "
                            "file in it)")


def _is_default(key: str, value) -> bool:
    """Whether a setting is the parameter set's default (not worth a line among an arm's other settings)."""
    return key in PARAMETERS and PARAMETERS.get(key).value == value
