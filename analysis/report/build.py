"""Assemble the report: sections in the order a policymaker reads them, tables as CSV, figures as PNG."""

from __future__ import annotations

import base64
import datetime as dt
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

from analysis.report import figures, firm_case, tables, uncertainty
from analysis.report.load import DECOMPOSITION, Results, load_results
from analysis.report.taskfields import BUDGETS, NOT_MODELLED, TASK_FIELDS
from experiments.arms import describe_funding, describe_practices
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
GENERATOR_META = "<meta name='generator' content='ontschot report'>"
FILES_MARKER = ".ontschot-report"  # a file in the _files folder
HEAD_BYTES = 64 * 1024  # how much of an existing page is read to find the generator tag


def report_paths(out_html: str | Path) -> tuple[Path, Path]:
    """The HTML file and the folder next to it that holds the CSV tables and PNG figures."""
    out_html = Path(out_html)
    return out_html, out_html.with_name(out_html.stem + "_files")


def fmt(x) -> str:
    """A number as the report prints it: 2 decimals below 100, whole numbers with thousands separators above."""
    if x is None or (isinstance(x, float) and not np.isfinite(x)):
        return "n/a"
    x = float(x)
    return f"{x:,.2f}" if abs(x) < 100 else f"{x:,.0f}"


def with_interval(mean, lo, hi) -> str:
    """``mean [lo, hi]``, or the mean alone when there is no interval (one replication)."""
    if lo is None or not np.isfinite(lo):
        return fmt(mean)
    return f"{fmt(mean)} [{fmt(lo)}, {fmt(hi)}]"


def _signed(x) -> str:
    text = fmt(x)
    return text if text.startswith("-") or text == "n/a" else f"+{text}"


def _difference(mean, lo, hi, money: bool = False) -> str:
    """A signed difference with its interval: ``+12.93 [11.07, 14.79]``, money as ``+€12.93m [11.07, 14.79]``."""
    text = _signed(mean)
    if money and text != "n/a":
        text = f"{text[0]}€{text[1:]}m"
    return text if lo is None or not np.isfinite(lo) else f"{text} [{fmt(lo)}, {fmt(hi)}]"


def _e(text) -> str:
    return html.escape(str(text))


class Page:
    """The HTML page, its CSV tables and its PNG figures, collected while the sections are built."""

    def __init__(self):
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


def _arm_columns(results: Results) -> list[str]:
    return [*results.arms, *(f"difference {a} - {results.base}" for a in results.others)]


def _arm_cells(row, results: Results) -> list[str]:
    cells = [with_interval(row[f"{a}_mean"], row[f"{a}_lo"], row[f"{a}_hi"]) for a in results.arms]
    cells += [with_interval(row[f"diff_{a}"], row[f"diff_{a}_lo"], row[f"diff_{a}_hi"]) for a in results.others]
    return cells


def build_report(results_folder: str | Path, out_html: str | Path) -> Path:
    """Write the report of a run or sweep folder to ``out_html`` (and its ``_files`` folder); return its path.

    Raises:
        InputError: the results folder is missing, empty or incompatible (see ``load.load_results``).
        OutputError: the report cannot be written where asked.
    """
    from analysis.report import discovery

    if discovery.is_discovery(results_folder):  # a discovery folder: its own section, from its per-point tables
        return discovery.build(Path(results_folder), Path(out_html))

    from analysis.report.sweep import build_sweep_report, sweep_target

    target = sweep_target(results_folder)
    if target is not None:  # a sweep or sensitivity folder: the design, its points and indices, not arms
        return build_sweep_report(*target, out_html)
    results = load_results(results_folder)
    out_html, files = report_paths(out_html)
    check_output_folder(out_html.parent, "--out")
    check_report_target(out_html, files)  # before any work: a page or folder the program did not write stays
    page = Page()
    salary = {arm: float(results.arm_settings.get(arm, {}).get("staff.salary", results.params["staff.salary"]))
              for arm in results.arms}  # EUR per FTE per arm (a sweep may vary it)
    cases = [tables.business_case(results.frame, results.base, arm, salary) for arm in results.others]
    headline = tables.headline(results)
    own = tables.own_result(results)
    _answer(page, results, headline, cases, own)
    _scenario(page, results)
    _headline(page, results, headline)
    _section(page, "uncertainty")
    uncertainty.section(page, results.folder, results.base)
    _over_time(page, results)
    _business_case(page, results, cases)
    _wrong_pocket(page, cases)
    _municipal_budget(page, results, salary)
    _groups(page, results)
    _social_firm(page, results)
    _decomposition(page, results)
    _own_result(page, results, own, salary)
    _assumptions(page, results)
    _how_to_read(page, results)
    page.csv["runs"] = tables.summaries_frame(results)
    page.draw_figures()
    _write(page, results, out_html, files)
    return out_html


def _section(page: Page, key: str) -> None:
    title = dict(SECTIONS)[key]
    if page.parts and page.parts[-1] != "":
        page.add("</section>")
    page.add(f"<section id='{key}'><h2>{_e(title)}</h2>")


def _value(table: pd.DataFrame, summary: str, column: str) -> float:
    return float(table.loc[table["summary"] == summary, column].iloc[0])


def arm_lines(results: Results) -> list[tuple[str, str, str]]:
    """Per arm: its name, its funding (regime, pooled share) and its practices with their values."""
    out = []
    for arm in results.arms:
        c = results.arm_contents.get(arm)
        if c is None:
            out.append((arm, arm, "not recorded in this folder"))
            continue
        practices = describe_practices(c["practices"]) or "none recorded"
        if c.get("bundle"):
            practices += f" — the {c['bundle']['name']} bundle on top of the scenario's practices"
        out.append((arm, describe_funding(c), practices))
    return out


def _answer(page: Page, results: Results, headline: pd.DataFrame, cases, own: pd.DataFrame) -> None:
    _section(page, "answer")
    years = int(results.frame["year"].max())
    page.add("<p><b>The arms compared</b> (each runs on the same seeds):</p><ul class='arms' id='arms-in-short'>"
             + "".join(f"<li data-key='{_e(arm)}'><b>{_e(arm)}</b>{' (baseline)' if arm == results.base else ''}: "
                       f"funding {_e(funding)}; practices: {_e(practices)}</li>"
                       for arm, funding, practices in arm_lines(results)) + "</ul>")
    same = [a for a in results.others if results.arm_contents.get(a, {}).get("practices") is not None
            and results.arm_contents[a]["practices"] == results.arm_contents.get(results.base, {}).get("practices")]
    if same:
        page.para(f"{', '.join(f'<b>{_e(a)}</b>' for a in same)} "
                  f"{'has' if len(same) == 1 else 'have'} the baseline's practices: "
                  f"{'its' if len(same) == 1 else 'their'} difference from the baseline is the funding alone.", "note")
    items = []
    spread = uncertainty.read(results.folder)
    for arm, case in zip(results.others, cases, strict=True):
        def diff(summary, money=False, arm=arm):
            return _difference(_value(headline, summary, f"diff_{arm}"), _value(headline, summary, f"diff_{arm}_lo"),
                               _value(headline, summary, f"diff_{arm}_hi"), money)
        row = own[own["key"] == "own_result_total"].iloc[0]
        totals = case.totals.set_index("budget").drop(index="total")
        gains = totals["saving"].idxmax() if totals["saving"].max() > 0 else None
        pays = totals["extra"].idxmax() if totals["extra"].max() > 0 else None
        who = []
        if pays:
            who.append(f"the largest extra spending falls on <b>{_e(BUDGETS[pays])}</b> (€{fmt(totals.loc[pays, 'extra'])}m)")
        if gains:
            who.append(f"the largest saving on <b>{_e(BUDGETS[gains])}</b> (€{fmt(totals.loc[gains, 'saving'])}m)")
        items.append(
            f"<li><b>{_e(arm)}</b> against <b>{_e(results.base)}</b> over {years} years "
            f"(paired mean [95% interval]):<ul>"
            f"<li>moves into paid work: {diff('outflow_work')} persons "
            f"({fmt(_value(headline, 'outflow_work', f'{results.base}_mean'))} → "
            f"{fmt(_value(headline, 'outflow_work', f'{arm}_mean'))});</li>"
            f"<li>benefit stock in the final year: {diff('benefit_stock_end')} persons; "
            f"Wmo clients (yearly mean): {diff('wmo_clients')};</li>"
            f"<li>municipal spending: {diff('spend_total', money=True)};</li>"
            f"<li>the municipality's own result (budgets + safety net − spending): "
            f"{_difference(row[f'diff_{arm}'], row[f'diff_{arm}_lo'], row[f'diff_{arm}_hi'], True)};</li>"
            f"<li>business case: <b>{_e(case.payback_status)}</b>; {'; '.join(who) or 'no budget spends more'}.</li>"
            + (uncertainty.answer_line(spread[0], arm) if spread is not None else "")
            + "</ul></li>")
    page.add(f"<ul class='answer'>{''.join(items)}</ul>")
    page.para("An interval that excludes 0 means the model tells the arms apart on that figure; one that includes 0 "
              "means it cannot. These are model results under the stated assumptions, not forecasts.", "note")
    page.add("<nav><b>Contents</b><ol>" + "".join(f"<li><a href='#{k}'>{_e(t)}</a></li>" for k, t in SECTIONS)
             + "</ol></nav>")


def _scenario(page: Page, results: Results) -> None:
    _section(page, "scenario")
    p = results.params
    years = int(results.frame["year"].max())
    reps = int(results.frame["replication"].nunique())
    page.para("<b>The question:</b> what does pooling the municipality's social-domain budgets do, for whom, and who "
              "pays? The report compares each funding arrangement with the baseline on the same simulated residents.")
    page.para(f"<b>The municipality:</b> {int(p['scenario.inhabitants']):,} inhabitants, {int(p['scenario.social_firms'])} "
              f"social firm(s) with {int(p['scenario.social_firm_places'])} places, simulated for {years} years; "
              f"{reps} paired replications (every arm runs on the same seeds, and each resident meets the same luck "
              f"under every arm).")
    rows, keys = [], []
    described = dict((arm, (funding, practices)) for arm, funding, practices in arm_lines(results))
    for arm in results.arms:
        s = results.arm_settings.get(arm, {"scenario.regime": arm})
        regime = s.get("scenario.regime", arm)
        funding, practices = described[arm]
        text = f"{funding}: {REGIME_TEXT.get(regime, regime)}"
        extra = ", ".join(f"{k} = {v}" for k, v in s.items()
                          if k not in ("scenario.regime", "scenario.pooled_share") and not k.startswith("practice.")
                          and not _is_default(k, v))
        rows.append([arm + (" (baseline)" if arm == results.base else ""), text, practices, extra or "—"])
        keys.append(arm)
    page.table("arms", ["arm", "funding", "practices (every lever, with its value)", "other settings"], rows, keys,
               numeric_from=99)
    switch = tables.switch_year(results)
    if switch:
        page.para(f"<b>Regime switch:</b> every arm runs compartmentalised until year {switch - 1}; the arm's own "
                  f"regime takes effect from year {switch}.")
    overrides = results.manifest.get("overrides") or results.manifest.get("design", {}).get("base") or {}
    if overrides:
        page.para("<b>Changed from the defaults:</b> " + _e(", ".join(f"{k} = {v}" for k, v in overrides.items())))
    code = results.manifest.get("code_version", {})
    page.para(f"Source: {_e(results.kind)} folder <code>{_e(results.folder)}</code>, made "
              f"{_e(results.manifest.get('created', 'at an unknown time'))} by code {_e(code.get('commit', code.get('package', '?'))[:12])}"
              f"{' (with uncommitted changes)' if code.get('dirty') else ''}.", "note")


def _headline(page: Page, results: Results, table: pd.DataFrame) -> None:
    _section(page, "headline")
    rows = [[r["label"].strip(), r["unit"], *_arm_cells(r, results)] for _, r in table.iterrows()]
    page.table("headline", ["indicator", "unit", *_arm_columns(results)], rows, list(table["summary"]),
               numeric_from=2, data=table)
    page.para("Per arm the mean over replications with its 95% interval; the difference is paired (same seeds). "
              "Outflow and spending are horizon totals, the benefit stock the final year, care demand (Wmo clients, "
              "day activities, guidance hours) yearly means.", "note")


def _over_time(page: Page, results: Results) -> None:
    _section(page, "over-time")
    series = tables.timeseries(results)
    page.csv["timeseries"] = series
    page.figure("timeseries", partial(figures.timeseries, series, results.arms, tables.switch_year(results)),
                "Per year: mean over replications with its 95% band, per arm.")


def _business_case(page: Page, results: Results, cases) -> None:
    _section(page, "business-case")
    page.para("Each cost line is given to the budget that pays for it under partitions (the table in the municipal-"
              "budget section), so pooled spending is traced back to the law it serves. Against the baseline, a "
              "line that costs more is that budget's <b>extra spending</b> (its investment), one that costs less its "
              "<b>saving</b>; the <b>net position</b> is saving minus extra spending. EUR million, paired means.")
    yearly_all, totals_all = [], []
    for case in cases:
        t = case.totals
        rows = [[r["label"], fmt(r["extra"]), fmt(r["saving"]), with_interval(r["net"], r["net_ci_low"], r["net_ci_high"])]
                for _, r in t.iterrows()]
        page.add(f"<h3>{_e(case.arm)} against {_e(results.base)}: {_e(case.payback_status)}</h3>")
        page.table(f"business-case-{len(totals_all)}", ["budget", "extra spending", "saving", "net position [95%]"],
                   rows, list(t["budget"]))
        years = sorted(case.yearly["year"].unique())
        by = case.yearly.set_index(["budget", "year"])
        rows = []
        for budget in BUDGETS:
            for what in ("spending_baseline", "spending", "extra", "saving", "net", "cumulative_net"):
                name = {"spending_baseline": f"spending ({results.base})", "spending": f"spending ({case.arm})"}.get(
                    what, what.replace("_", " "))
                rows.append([f"{BUDGETS[budget]}: {name}",
                             *(fmt(by.loc[(budget, y), what]) for y in years)])
        rows.append(["Municipality: net", *(fmt(case.yearly[case.yearly['year'] == y]['net'].sum()) for y in years)])
        rows.append(["Municipality: cumulative net", *(fmt(case.cumulative.loc[y]) for y in years)])
        page.add("<details><summary>Per year and cumulative</summary>")
        page.table(f"business-case-yearly-{len(totals_all)}", ["EUR m", *(f"year {y}" for y in years)], rows)
        page.add("</details>")
        yearly_all.append(case.yearly.assign(arm=case.arm))
        totals_all.append(t.assign(arm=case.arm, payback_year=case.payback_year, payback=case.payback_status))
    page.csv["business_case_yearly"] = pd.concat(yearly_all, ignore_index=True)
    page.csv["business_case_totals"] = pd.concat(totals_all, ignore_index=True)
    page.figure("business_case", partial(figures.business_case, cases),
                "Cumulative net position per budget and for the municipality; the payback year is dotted.")
    page.para("The payback year is the first year from which the municipality's cumulative net position stays at or "
              "above zero to the horizon, after it has been below zero.", "note")


def _wrong_pocket(page: Page, cases) -> None:
    _section(page, "wrong-pocket")
    matrices = {case.arm: tables.wrong_pocket(case) for case in cases}
    page.para("Rows: the budget that pays for extra spending; columns: the budget whose spending falls (the saving). "
              "The stored results record how much each budget spends more and saves, not which euro of saving "
              "followed which euro of spending, so each budget's saving is shared over the payers in proportion to "
              "their extra spending. Off the diagonal lies the wrong pocket: savings that land in a budget that did "
              "not pay for them.")
    frames = []
    for k, (arm, m) in enumerate(matrices.items()):
        names = list(m.columns)
        rows = [[BUDGETS[r], *(fmt(m.loc[r, c]) for c in names), fmt(m.loc[r].sum())] for r in m.index]
        rows.append(["saving gained", *(fmt(m[c].sum()) for c in names), fmt(m.to_numpy().sum())])
        total = m.to_numpy().sum()
        off = total - np.trace(m.to_numpy())
        page.add(f"<h3>{_e(arm)}</h3>")
        page.table(f"wrong-pocket-{k}", ["pays \\ gains", *(BUDGETS[c] for c in names), "total"], rows,
                   [*m.index, "total"])
        page.para(f"Share of the saving that lands in another budget than the one that paid: "
                  f"{'n/a' if total <= 0 else f'{off / total:.0%}'}.", "note")
        frames.append(m.reset_index().melt(id_vars="pays", var_name="gains", value_name="eur_m").assign(arm=arm))
    page.csv["wrong_pocket"] = pd.concat(frames, ignore_index=True)
    page.figure("wrong_pocket", partial(figures.wrong_pocket, matrices), "Who pays (rows), who gains (columns), EUR m.")


def _municipal_budget(page: Page, results: Results, salary: dict[str, float]) -> None:
    _section(page, "municipal-budget")
    table = tables.task_field_spending(results, salary)
    rows = [[f"{r['task_field']} {r['name']}", r["instruments"], *_arm_cells(r, results)] for _, r in table.iterrows()]
    page.table("task-fields", ["task field", "what the model books there", *_arm_columns(results)], rows,
               list(table["task_field"]), numeric_from=2, data=table)
    page.para("EUR million over the horizon per task field of the BBV (Besluit begroting en verantwoording provincies "
              "en gemeenten), programme 6 Sociaal domein. Not modelled: "
              + "; ".join(f"{k} {TASK_FIELDS[k]} ({v})" for k, v in NOT_MODELLED.items()) + ".", "note")
    page.figure("task_fields", partial(figures.task_fields, table, results.arms), "Spending per BBV task field (EUR m).")
    mapping = tables.cost_line_table()
    page.add("<details><summary>Which instrument and which staff go where, and the source</summary>")
    page.table("cost-lines", list(mapping.columns), mapping.astype(str).values.tolist(), list(mapping["model name"]),
               numeric_from=99, data=mapping)
    page.add("</details>")


def _groups(page: Page, results: Results) -> None:
    _section(page, "groups")
    table = tables.group_outcomes(results)
    page.para("Creaming shows as support and outflow going to the groups closest to work (young, no disability, high "
              "wage value) rather than to those with the most need; the difference column shows who gains.")
    for measure in ("outflow_work", "served", "benefit_stock"):
        part = table[table["indicator"] == measure]
        rows = [[f"{r['group_by'].replace('_', ' ')}: {r['group']}", *_arm_cells(r, results)] for _, r in part.iterrows()]
        page.add(f"<h3>{_e(tables.GROUP_MEASURES[measure][0])}</h3>")
        page.table(f"groups-{measure}", ["group", *_arm_columns(results)], rows,
                   [f"{r['group_by']}:{r['group']}" for _, r in part.iterrows()])
    page.csv["groups"] = table
    page.figure("groups", partial(figures.groups, table, results.arms), "Moves into paid work by group (95% intervals).")


def _social_firm(page: Page, results: Results) -> None:
    _section(page, "social-firm")
    table = tables.firm_view(results)
    rows = [[r["measure"], *_arm_cells(r, results)] for _, r in table.iterrows()]
    page.table("social-firm", ["measure", *_arm_columns(results)], rows, list(table["key"]), data=table)
    dropout = tables.firm_dropout(results)
    rows = [[r["disability"], *(f"{fmt(r[f'{a}_starts'])} / {fmt(r[f'{a}_dropout_share'])}" for a in results.arms)]
            for _, r in dropout.iterrows()]
    page.add("<h3>First-year drop-out by disability type</h3>")
    page.table("firm-dropout", ["disability", *(f"{a}: starts / drop-out share" for a in results.arms)], rows,
               list(dropout["disability"]), data=dropout)
    series = tables.timeseries(results, ("firm_utilisation",))
    page.figure("social_firm", partial(figures.firm, series, results.arms, tables.switch_year(results)),
                "Occupied share of the social firm's places per year (95% band).")
    page.para("Lock-in is the firm keeping a client past the planned end of the trajectory; a high lock-in count next "
              "to a low share into paid work is the pattern the sources warn about [SR].", "note")
    firm_case.section(page, results)  # the firm's business case for the municipality [SR]


def _decomposition(page: Page, results: Results) -> None:
    _section(page, "decomposition")
    if results.decomposition is None:
        why = f" ({_e(results.decomposition_problem)})" if results.decomposition_problem else ""
        bundled = [a for a in results.others if (results.arm_contents.get(a) or {}).get("bundle")]
        if results.decomposition_problem or bundled:
            page.para(f"<b>No decomposition is stored with these results{why}.</b> <code>ontschot run</code> splits "
                      f"the difference between the bundle arm and the baseline into pooling the money and each "
                      f"practice lever and writes <code>{DECOMPOSITION}</code> into the results folder (unless "
                      f"<code>--no-explain</code>); <code>ontschot explain</code> does only that.")
        else:
            page.para("<b>Nothing to decompose:</b> every arm has the baseline's practices, so each difference is "
                      "the funding alone (one player, pooling the money, holds all of it). A run with a practice "
                      "bundle arm (the default of <code>ontschot run</code>) stores the decomposition of that arm "
                      f"into pooling the money and each practice lever as <code>{DECOMPOSITION}</code>.")
        return
    table = results.decomposition
    if {"arm", "against"} <= set(table.columns) and isinstance(table["arm"].iloc[0], str):
        page.para(f"The difference <b>{_e(table['arm'].iloc[0])}</b> minus <b>{_e(table['against'].iloc[0])}</b>, "
                  "split by Shapley values over the players in which the two arms differ (pooling the money and "
                  "each practice lever); every combination of players ran on the same seeds, so the parts add up "
                  "to the total in every replication.")
    rows = [[r["indicator"], r["part"], with_interval(r["mean"], r["ci_low"], r["ci_high"]), str(r["replications"])]
            for _, r in table.iterrows()]
    page.table("decomposition-table", ["indicator", "part", "mean [95%]", "replications"], rows,
               [f"{r['indicator']}:{r['part']}" for _, r in table.iterrows()], numeric_from=2, data=table)
    check = tables.decomposition_check(table)
    off = check[(check["total"] - check["sum_of_parts"]).abs() > 1e-6 * check["total"].abs().clip(lower=1)]
    if len(off):
        page.para("Note: for " + _e(", ".join(map(str, off["indicator"]))) + " the parts do not add up to the total.",
                  "note")
    page.figure("decomposition", partial(figures.waterfall, table),
                "Waterfall: pooling the money, then each practice lever, then the total difference (95% intervals).")


def _own_result(page: Page, results: Results, table: pd.DataFrame, salary: dict[str, float]) -> None:
    _section(page, "own-result")
    page.para("As the council's accounts show it, per budget holder as booked (the pooled desk is the transformation "
              "desk or the integrated budget): its grant, its budget (the grant share plus what the model adds to it, "
              "the staff the holder pays), the safety net on the benefit grant, its gross spending and its own result "
              "= budget + safety net − spending. EUR million over the horizon.")
    rows = [[r["measure"], *_arm_cells(r, results)] for _, r in table.iterrows()]
    page.table("own-result", ["EUR m", *_arm_columns(results)], rows, list(table["key"]), data=table)
    rec = tables.reconciliation(results, salary)
    page.add("<h3>How the money adds up against the baseline</h3>")
    page.para("The spending difference is the same figure summed over the cost lines (the task-field table) and, with "
              "the opposite sign, the business case's net position over all budgets. The own result moves by the "
              "budget difference plus the safety-net difference minus the spending difference: staff a holder pays "
              "are in its budget as well as in its spending, so they change spending without changing the own "
              "result.", "note")
    rows = [[r["arm"], r["measure"], with_interval(r["mean"], r["ci_low"], r["ci_high"])] for _, r in rec.iterrows()]
    page.table("money-reconciliation", ["arm", "EUR m, difference against " + results.base, "paired mean [95%]"], rows,
               [f"{r['arm']}:{r['key']}" for _, r in rec.iterrows()], numeric_from=2, data=rec)
    cases = tables.own_result_payback(results)
    for arm, case in cases.items():
        when = f"year {case['payback_year']}" if case["payback_year"] else "not within the horizon"
        page.para(f"{_e(arm)}: the cumulative own result reaches the baseline's and stays there from: {when}.", "note")
    page.figure("own_result", partial(figures.own_result, table, results.arms),
                "Gross spending and own result per budget holder (EUR m, 95% intervals).")


def _assumptions(page: Page, results: Results) -> None:
    _section(page, "assumptions")
    table = tables.assumptions(results)
    ranked = any(c.startswith("largest ") for c in table.columns)
    page.para(f"{len(table)} parameters of this scenario have status <i>assumption</i>: no source gives their value, "
              "so they carry the result as much as the published figures do. "
              + ("They are ranked by the largest sensitivity index measured in this folder."
                 if ranked else "Which of them drive the result most is measured by "
                                "<code>ontschot sensitivity</code> over a design that varies them; this folder holds "
                                "no such analysis, so they are listed by name. Changed values are marked."))
    cols = ["parameter", "label", "value", "default", "allowed", "unit", "source"] + \
           [c for c in table.columns if c.startswith("largest ")]
    rows = [[str(r[c]) if c != "value" or not r["changed"] else f"{r[c]} (changed)" for c in cols]
            for _, r in table.iterrows()]
    changed = int(table["changed"].sum()) if len(table) else 0
    if changed:
        page.para(f"{changed} of them were changed for this scenario; they come first.")
    page.add(f"<details{' open' if ranked else ''}><summary>The {len(table)} assumption parameters: value used, "
             "default, allowed range, unit and the reason given for the value</summary>")
    page.table("assumptions-table", cols, rows, list(table["parameter"]), numeric_from=99, data=table)
    page.add("</details>")


def _how_to_read(page: Page, results: Results) -> None:
    _section(page, "how-to-read")
    page.add("<ul>"
             "<li><b>Arms and baseline.</b> Every arm is the same municipality under a funding form and a set of "
             "practices, both listed at the top; arms with the baseline's practices differ from it in funding "
             f"alone. The baseline is <b>{_e(results.base)}</b>. Every replication runs all arms on the same seed, so a "
             "difference is the effect of the arrangement, not of chance.</li>"
             "<li><b>Statistics.</b> Means over replications with 95% t intervals (scipy.stats.t); differences are "
             "paired per replication and their interval is the paired t interval. With few replications the "
             "intervals are wide: more replications (<code>ontschot run --replications N</code>) narrow them.</li>"
             "<li><b>Money.</b> Gross spending is what the municipality pays; the own result is budget plus safety "
             "net minus spending, where a budget is the holder's share of the grant plus the staff it pays "
             "— the state's grants do not follow the municipality's own benefit stock. Benefits and Wmo support are "
             "rights: when more entitled residents come into sight, spending rises, and that is a right met.</li>"
             "<li><b>Savings</b> in the business case are spending that falls against the baseline, traced to the "
             "budget that pays for it under partitions; they are not a forecast of a budget line.</li>"
             "<li><b>Tables for a memo.</b> Every table is next to this file as CSV and every figure as PNG "
             "(the <code>_files</code> folder).</li>"
             "</ul>")
    page.add("</section>")


def _write(page: Page, results: Results, out_html: Path, files: Path) -> None:
    title = f"Ontschot report — {int(results.params['scenario.inhabitants']):,} inhabitants"
    stamp = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    text = (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{_e(title)}</title>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'><style>{STYLE}</style></head><body>"
            f"<h1>{_e(title)}</h1><p class='note'>What pooling the social-domain budgets does, for whom, and who pays. "
            f"Written {stamp} from <code>{_e(results.folder)}</code>.</p>{''.join(page.parts)}</body></html>")
    publish(page, text, out_html, files)


def publish(page: Page, text: str, out_html: Path, files: Path) -> None:
    """Write the HTML and its tables and figures: all into a temporary folder first, then renamed into place.

    Raises:
        OutputError: the files cannot be written (nothing half-written is left).
    """
    check_report_target(out_html, files)
    if GENERATOR_META not in text:
        text = text.replace("<head>", f"<head>{GENERATOR_META}", 1)
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
        html_tmp.write_text(text, encoding="utf-8")
        check_report_target(out_html, files)  # again, just before replacing: nothing else took the place since
        if os.path.lexists(files):
            shutil.rmtree(files)
        os.replace(html_tmp, out_html)
        os.replace(tmp, files)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise OutputError(f"--out {show_path(out_html)}: the report could not be written ({os_reason(exc)})") from None


def _not_ours(out_html: Path, what: Path, why: str) -> OutputError:
    return OutputError(f"--out {show_path(out_html)} is not allowed: {show_path(what)} {why}; the report never "
                       "deletes or overwrites what it did not write: choose another --out, or move it away")


def _page_is_ours(path: Path) -> bool:
    """Whether an existing page is a regular file (not a link) whose head carries the report's generator tag."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY)
    except OSError:
        return False
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return False
        return GENERATOR_META.encode() in os.read(fd, HEAD_BYTES)
    except OSError:
        return False
    finally:
        os.close(fd)


def check_report_target(out_html: Path, files: Path) -> None:
    """Refuse to replace a page or a ``_files`` folder the program did not write (they lack its marks).

    A page is replaced only when it is a regular file whose head carries ``GENERATOR_META``; a
    ``_files`` folder only when it is a folder (not a link) holding the ``FILES_MARKER`` file.

    Raises:
        OutputError: naming what is in the way and why, in one line.
    """
    if os.path.lexists(out_html):
        if os.path.islink(out_html):
            raise _not_ours(out_html, out_html, "is a symbolic link")
        if not _page_is_ours(out_html):
            raise _not_ours(out_html, out_html, "exists and was not written by ontschot report (it lacks the "
                            "report's generator tag)")
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
