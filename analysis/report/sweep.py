"""The report of a sweep or sensitivity folder: the design, the outcome per point, the indices and their convergence.

A sweep is not a comparison of a few arms: it has one design point per parameter combination, often
hundreds. So this report reads per-run aggregates (``analysis/aggregates.py``: one run file at a
time, one row per run kept) and shows

- the design (sampler, varied parameters and ranges, regimes, replications, seeds, runs made);
- the outcome of every point (a table: the first rows on the page, all of them as CSV; and one
  figure: each outcome against each varied parameter);
- for a Sobol or Morris design, the indices with their 95% intervals (table and figure) and, for
  Sobol, the same indices at N/8, N/4, N/2 and N base samples with the stopping rule's verdict.

Memory is bounded by a batch of run files, whatever the sweep's size.
"""

from __future__ import annotations

import datetime as dt
from functools import partial
from pathlib import Path

import pandas as pd

from analysis.aggregates import check_once, outcomes_from_runs, sweep_summaries
from analysis.compare import SUMMARIES
from analysis.convergence import DEFAULT_TOLERANCE, convergence, format_convergence, stability
from analysis.report import sensitivity_figures as figures
from analysis.report.build import STYLE, Page, _e, check_report_target, fmt, publish, report_paths
from analysis.report.load import read_json
from analysis.sensitivity import analyse
from experiments.runfiles import param_key
from experiments.store import check_output_folder
from experiments.stored import check_sweep_manifest, present, refuse
from model.parameters import InputError, show_path

MANIFEST = "sweep.json"
STABILITY = "stability.json"
UNTIL_STABLE = "until_stable.json"
SWEEP_INDICATORS = ("outflow_work", "spend_total")  # a plain sweep's outcomes (a sensitivity design names its own)
SHOWN_ROWS = 40  # points listed on the page; every point is in points.csv
FIGURE_OUTCOMES = 4  # outcomes drawn against the parameters (the rest are in the table)
LABELS = {s.name: (s.label.strip(), s.unit) for s in SUMMARIES}
SECTIONS = (
    ("design", "The design"),
    ("points", "Outcome per design point"),
    ("indices", "Sensitivity indices"),
    ("convergence", "Convergence: do the indices answer?"),
    ("how-to-read", "How to read this report"),
)


def analyst_note(page: Page, t) -> None:
    """In a language other than English: one line saying that this analyst's report is in English."""
    if t is not None and t.lang != "en":
        page.para(_e(t("This is a technical report for the analyst (a sweep, sensitivity analysis or scenario "
                       "discovery); it is written in English.")), "note")


def sweep_target(folder: str | Path) -> tuple[Path, dict | None] | None:
    """The sweep folder to report on and the --until-stable record, or None when ``folder`` holds no sweep.

    A sweep or sensitivity folder is itself; an ``--until-stable`` folder is its largest size's folder.
    """
    folder = Path(folder)
    if present(folder / MANIFEST):
        return folder, None
    if present(folder / UNTIL_STABLE):
        record = _read_json(folder / UNTIL_STABLE)
        steps = record.get("steps") or []
        if not isinstance(steps, list) or not all(
                isinstance(s, dict) and isinstance(s.get("runs", 0), int) and isinstance(s.get("folder"), str)
                and "/" not in s["folder"] and s["folder"] not in ("", ".", "..") for s in steps):
            raise refuse(folder / UNTIL_STABLE, "steps", steps, "a list of sizes, each with its folder's name and "
                         "its number of runs")
        steps = [s for s in steps if present(folder / s["folder"] / MANIFEST)]
        if not steps:
            raise InputError(f"{show_path(folder)} holds no finished size of its --until-stable run yet: run the "
                             "sensitivity command again")
        return folder / str(steps[-1]["folder"]), record
    return None


def design_from_manifest(manifest: dict, folder: Path):
    """The design as the folder's manifest stored it (its plan is not remade: the run files carry their labels)."""
    from experiments.design import Design

    src = manifest.get("design")
    if not isinstance(src, dict) or not isinstance(src.get("sampler"), dict) or not isinstance(src.get("vary"), dict):
        raise InputError(f"{show_path(folder / MANIFEST)} holds no design (sampler, vary): it comes from an "
                         "incompatible version of ontschot; run the sweep again into a new folder")
    source = {k: v for k, v in src.items() if k != "name"}
    return Design(name=str(src.get("name", folder.name)), regimes=list(src.get("regimes", [])),
                  replications=int(src.get("replications", 1)), seed=int(src.get("seed", 0)),
                  max_retries=int(src.get("max_retries", 0)), base=src.get("base", {}),
                  method=src["sampler"].get("method", "factorial"), sampler=src["sampler"], vary=src["vary"],
                  outcomes=src.get("outcomes", {}), source=source)


def _read_json(path: Path) -> dict:
    return read_json(path, "sweep manifest")


def build_sweep_report(folder: str | Path, record: dict | None, out_html: str | Path, t=None) -> Path:
    """Write the report of a sweep or sensitivity folder to ``out_html`` (and its ``_files`` folder); return its path.

    ``record`` is the ``--until-stable`` record when the folder is that run's largest size (else None). A sweep's
    report is the analyst's (designs, indices, convergence) and is written in English; asked for in another
    language (``t``), it says so at the top in that language.

    Raises:
        InputError: not a sweep folder, no finished run, or a damaged run file; OutputError: cannot write.
    """
    folder = Path(folder)
    manifest = check_sweep_manifest(_read_json(folder / MANIFEST), folder / MANIFEST)  # types as this version writes
    design = design_from_manifest(manifest, folder)
    out_html, files = report_paths(out_html)
    check_output_folder(out_html.parent, "--out")
    check_report_target(out_html, files)
    per_run = sweep_summaries(folder)
    if per_run.empty:
        raise InputError(f"sweep folder {show_path(folder)} holds no finished run yet: run the sweep command first")
    check_once(per_run)
    planned = pd.DataFrame(manifest.get("planned") or [])
    varied = _varied(planned, per_run)
    by_plan = _by_plan(planned, per_run)
    outcomes = _outcomes(design, by_plan, len(varied))
    page = Page()
    analyst_note(page, t)
    _design_section(page, design, manifest, planned, per_run)
    if record:
        _doubling(page, record)
    _points(page, design, varied, outcomes, by_plan)
    if design.method in ("sobol", "morris"):
        _sensitivity(page, design, folder, outcomes)
    _how_to_read(page, design)
    page.csv["runs"] = per_run
    page.draw_figures()
    _write(page, design, folder, out_html, files)
    return out_html


def _varied(planned: pd.DataFrame, per_run: pd.DataFrame) -> pd.DataFrame:
    """One row per design point: its varied values (from the plan, so points not yet run are listed too)."""
    if "varied" in planned.columns and len(planned):
        first = planned.drop_duplicates("point").sort_values("point")
        table = pd.DataFrame(list(first["varied"]), index=first["point"].to_numpy())
    else:
        params = [c for c in per_run.columns if param_key(c)]
        table = per_run.drop_duplicates("point").set_index("point")[params].sort_index()
        table.columns = [param_key(c) for c in params]
    table.index.name = "point"
    return table


def _by_plan(planned: pd.DataFrame, per_run: pd.DataFrame) -> pd.DataFrame:
    """Each planned (point, regime, replication) with its run's summaries: points that repeat another share its run."""
    keys = ["run_id", "point", "regime", "replication"]
    if not set(keys) <= set(planned.columns):
        return per_run
    summaries = per_run.drop(columns=["point", "regime", "replication"]).set_index("run_id")
    return planned[keys].join(summaries, on="run_id", how="inner")


def _outcomes(design, per_run: pd.DataFrame, points: int) -> pd.DataFrame:
    if design.method in ("sobol", "morris"):
        indicators = design.outcomes.get("indicators") or ["outflow_work"]
        return outcomes_from_runs(per_run, indicators, design.regimes, design.outcomes.get("difference"), points)
    indicators = list(SWEEP_INDICATORS)
    out = outcomes_from_runs(per_run, indicators, design.regimes, None, points)
    if len(design.regimes) >= 2:
        pair = [design.regimes[1], design.regimes[0]]
        out = out.join(outcomes_from_runs(per_run, indicators, design.regimes, pair, points))
    return out


def _section(page: Page, key: str) -> None:
    if page.parts:
        page.add("</section>")
    page.add(f"<section id='{key}'><h2>{_e(dict(SECTIONS)[key])}</h2>")


def _design_section(page: Page, design, manifest: dict, planned: pd.DataFrame, per_run: pd.DataFrame) -> None:
    _section(page, "design")
    sampler = ", ".join(f"{k} = {v}" for k, v in design.sampler.items() if k != "method") or "every combination"
    n_points = planned["point"].nunique() if len(planned) else per_run["point"].nunique()
    n_planned = len(manifest.get("planned_run_ids") or [])
    page.para(f"<b>{_e(design.name)}</b>: sampler <b>{_e(design.method)}</b> ({_e(sampler)}); "
              f"{n_points:,} design points × {len(design.regimes)} regime(s) ({_e(', '.join(design.regimes))}) × "
              f"{design.replications} replication(s), design seed {design.seed}. "
              f"<b>{len(per_run):,} of {n_planned:,} planned runs</b> are finished and verified.")
    rows = []
    for key, spec in design.vary.items():
        allowed = (f"range [{spec['range'][0]:g}, {spec['range'][1]:g}]" if isinstance(spec, dict)
                   else "levels " + ", ".join(str(v) for v in spec))
        rows.append([key, allowed])
    page.table("design-vary", ["varied parameter", "values"], rows, list(design.vary), numeric_from=99,
               data=pd.DataFrame(rows, columns=["parameter", "values"]))
    if design.base:
        page.para("<b>Fixed for every run:</b> " + _e(", ".join(f"{k} = {v}" for k, v in design.base.items())))
    if design.outcomes:
        diff = design.outcomes.get("difference")
        page.para("<b>Outcomes analysed:</b> " + _e(", ".join(design.outcomes.get("indicators") or ["outflow_work"]))
                  + (f", as the paired difference {_e(diff[0])} − {_e(diff[1])} per replication" if diff else ""))
    code = manifest.get("code_version", {})
    page.para(f"Made {_e(manifest.get('created', 'at an unknown time'))} by code "
              f"{_e(str(code.get('commit', code.get('package', '?')))[:12])}"
              f"{' (with uncommitted changes)' if code.get('dirty') else ''}; design hash "
              f"{_e(manifest.get('design_hash', '?'))}. Every run file carries its parameters, seed and run id.", "note")


def _doubling(page: Page, record: dict) -> None:
    """The sizes --until-stable tried, and why it stopped."""
    steps = [s for s in record.get("steps") or [] if isinstance(s, dict)]
    stopped = {"stable": "because the indices are stable", "bound": "at the bound, NOT because the indices are "
               "stable"}.get(record.get("stopped"), "not yet (the run was interrupted; the same command resumes)")
    page.para(f"<b>--until-stable</b> (tolerance {_e(record.get('tolerance'))}, at most "
              f"{_e(record.get('max_runs'))} runs) stopped {stopped}"
              + (f": {_e(record['reason'])}" if record.get("stopped") == "bound" and record.get("reason") else "")
              + ". This report shows its largest size.")
    page.table("doubling", ["N", "runs", "folder", "verdict"],
               [[str(s.get("n")), f"{s.get('runs', 0):,}", str(s.get("folder")), str(s.get("verdict"))] for s in steps],
               [str(s.get("n")) for s in steps], numeric_from=99, data=pd.DataFrame(steps))


def _label(column: str) -> str:
    name, _, rest = column.partition(" (")
    label, unit = LABELS.get(name, (name, ""))
    return f"{label} ({rest.rstrip(')')}){f' [{unit}]' if unit else ''}"


def _points(page: Page, design, varied: pd.DataFrame, outcomes: pd.DataFrame, per_run: pd.DataFrame) -> None:
    _section(page, "points")
    runs = per_run.groupby("point").size().reindex(varied.index, fill_value=0).rename("runs")
    table = varied.join(runs).join(outcomes)
    shown = table.head(SHOWN_ROWS)
    header = ["point", *varied.columns, "runs", *[_label(c) for c in outcomes.columns]]
    rows = [[str(p), *[_value(r[c]) for c in varied.columns], str(int(r["runs"])),
             *[fmt(r[c]) for c in outcomes.columns]] for p, r in shown.iterrows()]
    page.para(f"Per design point the outcome, averaged over its replications ({'the paired difference' if any(' - ' in c for c in outcomes.columns) else 'per regime'}"
              f"{' and the paired difference' if design.method not in ('sobol', 'morris') and len(design.regimes) > 1 else ''}). "
              + (f"The first {SHOWN_ROWS} of {len(table):,} points are listed; every point is in points.csv."
                 if len(table) > SHOWN_ROWS else ""))
    page.table("points", header, rows, [str(p) for p in shown.index], numeric_from=1,
               data=table.reset_index())
    drawn = list(outcomes.columns[:FIGURE_OUTCOMES])
    numeric = [c for c in varied.columns if pd.api.types.is_numeric_dtype(varied[c])]
    if numeric and drawn:
        data = varied[numeric].join(outcomes[drawn]).dropna()
        page.figure("points", partial(figures.outcomes_by_parameter, data, numeric, drawn),
                    "Each design point's outcome against each varied parameter (one dot per point).")


def _value(v) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def _sensitivity(page: Page, design, folder: Path, outcomes: pd.DataFrame) -> None:
    _section(page, "indices")
    if outcomes.isna().any().any():
        lacking = int(outcomes.isna().any(axis=1).sum())
        page.para(f"The indices need every design point; {lacking:,} of {len(outcomes):,} points lack runs. Run the "
                  "sensitivity command again to finish the sweep.")
        return
    table = analyse(design, outcomes)
    rows, keys = [], []
    sobol = design.method == "sobol"
    for _, r in table.iterrows():
        cells = ([f"{r['S1']:.3f} ± {r['S1_conf']:.3f}", f"{r['ST']:.3f} ± {r['ST_conf']:.3f}"] if sobol
                 else [f"{r['mu_star']:.3f} ± {r['mu_star_conf']:.3f}", f"{r['sigma']:.3f}"])
        rows.append([r["outcome"], str(r["rank"]), r["parameter"], *cells])
        keys.append(f"{r['outcome']}|{r['parameter']}")
    page.table("indices", ["outcome", "rank", "parameter",
                           *(["first order S1 ± 95%", "total ST ± 95%"] if sobol else ["mu* ± 95%", "sigma"])],
               rows, keys, numeric_from=3, data=table)
    page.figure("indices", partial(figures.indices, table),
                "Sensitivity indices per parameter with their 95% bootstrap intervals, per outcome.")
    if not sobol:
        return
    _section(page, "convergence")
    conv = convergence(design.salib_problem(), outcomes, int(design.sampler["n"]),
                       int(design.sampler.get("seed", design.seed)))
    tolerance = _tolerance(folder)
    verdict = stability(conv, tolerance)
    page.para(f"<b>Stopping rule:</b> {_e(verdict.describe())}.", "verdict")
    page.para("The first N/8, N/4 and N/2 base samples of a Saltelli design are a design of their own (SALib's "
              "sample for N begins with the sample for N/2, same seed), so the same runs give the indices at each "
              "size. Stable means: between the two largest sizes every S1 and ST moved less than the tolerance, and "
              "the ranking by ST did not change (pairs within the tolerance of each other count as tied). "
              "<code>ontschot sensitivity DESIGN --until-stable</code> doubles N until it holds.", "note")
    page.figure("convergence", partial(figures.convergence, conv),
                "S1 and ST of each parameter against the base samples N, with their 95% intervals as bands.")
    page.add("<details><summary>The indices at each size</summary><pre>" + _e(format_convergence(conv)) + "</pre>")
    page.csv["convergence"] = conv
    page.add("</details>")


def _tolerance(folder: Path) -> float:
    """The tolerance the sensitivity command used (its stability.json), else the default."""
    if not present(folder / STABILITY):
        return DEFAULT_TOLERANCE
    tolerance = _read_json(folder / STABILITY).get("tolerance")  # a regular file of bounded size, never a pipe
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or not 0 < tolerance <= 1:
        raise refuse(folder / STABILITY, "tolerance", tolerance, "a number above 0 and at most 1")
    return float(tolerance)


def _how_to_read(page: Page, design) -> None:
    _section(page, "how-to-read")
    page.add("<ul>"
             "<li><b>A design point</b> is one combination of the varied parameters; each runs under every regime "
             "on the same seeds (paired), so a difference between regimes is the regime's effect at that point.</li>"
             "<li><b>First-order index S1</b>: the share of the outcome's variance that a parameter explains alone; "
             "<b>total index ST</b>: alone and in interaction with the others. A negative S1 or an interval "
             "including 0 means the runs cannot tell the parameter's share from zero.</li>"
             "<li><b>Intervals</b> are 95% bootstrap intervals over the design's base samples: they narrow as N "
             "grows. An index whose interval is as wide as the index itself does not answer yet.</li>"
             "<li><b>Morris mu*</b> ranks parameters by their mean absolute elementary effect (screening).</li>"
             "<li>Every table is next to this file as CSV (runs.csv: one row per run with every summary) and every "
             "figure as PNG.</li></ul>")
    page.add("</section>")


def _write(page: Page, design, folder: Path, out_html: Path, files: Path) -> None:
    title = f"Ontschot sweep report — {design.name}"
    stamp = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    nav = "<nav><b>Contents</b><ol>" + "".join(f"<li><a href='#{k}'>{_e(t)}</a></li>" for k, t in SECTIONS) + "</ol></nav>"
    text = (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{_e(title)}</title>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'><style>{STYLE}</style></head><body>"
            f"<h1>{_e(title)}</h1><p class='note'>A sweep folder: written {stamp} from <code>{_e(folder)}</code>.</p>"
            f"{nav}{''.join(page.parts)}</body></html>")
    publish(page, text, out_html, files)
