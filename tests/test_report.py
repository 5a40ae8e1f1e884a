"""The policymaker's report: a small real run -> report -> headless Chromium offline; business-case arithmetic; bad folders."""

from __future__ import annotations

import html
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.report import build_report, report_paths
from analysis.report.build import SECTIONS, fmt, with_interval
from analysis.report.load import latest_run
from analysis.report.tables import business_case, payback_year, wrong_pocket
from analysis.report.taskfields import BUDGETS, COST_LINES, TASK_FIELDS
from analysis.report.words import SUMMARY_UNITS, persons, shower, signed
from experiments.cli import main
from model.constants import LAW_OF_INSTRUMENT, Instrument, Role
from model.parameters import PARAMETERS
from model.phases.opening import LAW_HOLDER

pytest_plugins = ["tests.report_browser"]  # the browser fixtures

RUN = ["--set", "scenario.inhabitants=6000", "--years", "3", "--replications", "3", "--seed", "5", "--no-progress",
       "--practices", "none", "--workers", "1"]  # the funding alone: two arms with the same practices, nothing to decompose
FIGURES = ("timeseries", "business_case", "wrong_pocket", "task_fields", "groups", "social_firm", "decomposition",
           "own_result")
PARTS = ("total", "pooling the money", "outreach", "household intake", "generalist triage", "regisseurs",
         "desk objective")


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory) -> Path:
    """A small real run of the command line (compartmentalised vs integrated), as `ontschot run` stores it."""
    parent = tmp_path_factory.mktemp("runs")
    assert main(["run", "--out", str(parent), *RUN]) == 0
    (folder,) = [p for p in parent.iterdir() if p.is_dir() and p.name != "sweeps"]
    return folder


def hand_made_decomposition(folder: Path) -> pd.DataFrame:
    """A decomposition.csv in the format of `ontschot explain`: parts that add up to the total."""
    rows = []
    for ind, parts in (("outflow_work", [-30.0, 4.0, -2.0, 1.5, 0.5, -1.0]), ("spend_total", [2.5, 0.4, 0.3, 0.2,
                                                                                              0.1, 0.05])):
        rows.append({"indicator": ind, "part": "total", "mean": sum(parts), "ci_low": sum(parts) - 3,
                     "ci_high": sum(parts) + 3, "replications": 3})
        for name, value in zip(PARTS[1:], parts, strict=True):
            rows.append({"indicator": ind, "part": name, "mean": value, "ci_low": value - 1, "ci_high": value + 1,
                         "replications": 3})
    table = pd.DataFrame(rows)
    table.to_csv(folder / "decomposition.csv", index=False)
    return table


@pytest.fixture(scope="module")
def report(run_folder, tmp_path_factory):
    """The report of a copy of the run with a hand-made decomposition, written through the command line."""
    folder = tmp_path_factory.mktemp("with-decomposition") / "run"
    shutil.copytree(run_folder, folder)
    decomposition = hand_made_decomposition(folder)
    out = folder / "report.html"
    assert main(["report", str(folder), "--out", str(out), "--lang", "en"]) == 0  # English: the assertions read it
    return {"folder": folder, "html": out, "files": report_paths(out)[1], "decomposition": decomposition}


def per_run(folder: Path) -> pd.DataFrame:
    """Recomputed from results.parquet: per (regime, replication) horizon sums, means and final-year values."""
    frame = pd.read_parquet(folder / "results.parquet")
    whole = frame[frame["group_by"] == "all"]
    wide = whole.pivot_table(index=["regime", "replication", "year"], columns="indicator", values="value")
    g = wide.groupby(level=["regime", "replication"])
    return pd.DataFrame({"outflow_work": g["outflow_work"].sum(), "spend_total": g["spend_total"].sum() / 1e6,
                         "benefit_stock_end": g["benefit_stock"].last(), "wmo_clients": g["wmo_clients"].mean(),
                         "own_result_total": g["own_result_total"].sum() / 1e6})


def t_interval(x) -> tuple[float, float, float]:
    x = np.asarray(x, dtype=float)
    half = stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))
    return x.mean(), x.mean() - half, x.mean() + half


def cells(page, table_id: str, key: str) -> list[str]:
    return page.eval_on_selector_all(f"#{table_id} tr[data-key='{key}'] td", "tds => tds.map(t => t.textContent)")


def test_report_opens_offline_with_every_section_and_figure(report, offline_page):
    page = offline_page
    page.goto(report["html"].as_uri())
    assert page.blocked == []  # nothing but the file itself was asked for
    for key, title in SECTIONS:
        assert page.locator(f"section#{key} h2").inner_text() == title
    for name in FIGURES:
        width = page.eval_on_selector(f"#fig-{name} img", "img => img.complete ? img.naturalWidth : 0")
        assert width > 100, name
        assert (report["files"] / f"{name}.png").stat().st_size > 1000
    sources = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.src.slice(0, 22))")
    assert set(sources) == {"data:image/png;base64,"}
    for table in ("headline", "business_case_totals", "wrong_pocket", "task_fields", "cost_lines", "groups",
                  "social_firm", "own_result", "assumptions_table", "decomposition_table", "timeseries"):
        assert (report["files"] / f"{table}.csv").is_file(), table


def test_report_numbers_equal_the_stored_results(report, offline_page):
    page = offline_page
    page.goto(report["html"].as_uri())
    runs = per_run(report["folder"])
    base, arm = runs.xs("compartmentalised"), runs.xs("integrated")
    for key, unit in (("outflow_work", "persons"), ("spend_total", "EUR m"), ("benefit_stock_end", "persons"),
                      ("wmo_clients", "persons")):  # counts of people in whole persons
        row, show = cells(page, "headline", key), shower(unit)
        assert row[2] == with_interval(*t_interval(base[key]), show), key
        assert row[3] == with_interval(*t_interval(arm[key]), show), key
        assert row[4] == with_interval(*t_interval(arm[key] - base[key]), show), key
    # The answer in short repeats the paired differences, signed.
    answer = page.locator("section#answer").inner_text()
    mean, lo, hi = t_interval(arm["outflow_work"] - base["outflow_work"])
    assert f"moves into paid work: {signed(persons(mean))} [{persons(lo)}, {persons(hi)}] persons" in answer
    mean, lo, hi = t_interval(arm["spend_total"] - base["spend_total"])
    assert f"municipal spending: {'−' if mean < 0 else '+'}€{fmt(abs(mean))}m [{fmt(lo)}, {fmt(hi)}]" in answer
    own = cells(page, "own-result", "own_result_total")
    assert own[-1] == with_interval(*t_interval(arm["own_result_total"] - base["own_result_total"]))
    # The business case's net position over all budgets is minus the spending difference.
    total = cells(page, "business-case-0", "total")
    assert total[3] == with_interval(*t_interval(-(arm["spend_total"] - base["spend_total"])))
    # Spending over the task fields adds up to the municipality's spending.
    fields = pd.read_csv(report["files"] / "task_fields.csv")
    assert fields["integrated_mean"].sum() == pytest.approx(arm["spend_total"].mean())
    assert fields["compartmentalised_mean"].sum() == pytest.approx(base["spend_total"].mean())
    # The decomposition table shows the stored file.
    for _, r in report["decomposition"].iterrows():
        shown = cells(page, "decomposition-table", f"{r['indicator']}:{r['part']}")
        show = shower(SUMMARY_UNITS[r["indicator"]])  # outflow in whole persons, money in EUR m
        assert shown[2] == with_interval(r["mean"], r["ci_low"], r["ci_high"], show)


def test_groups_add_up_and_show_the_paired_difference(report):
    groups = pd.read_csv(report["files"] / "groups.csv")
    runs = per_run(report["folder"])
    for by in ("age_band", "disability"):
        part = groups[(groups["group_by"] == by) & (groups["indicator"] == "outflow_work")]
        assert part["integrated_mean"].sum() == pytest.approx(runs.xs("integrated")["outflow_work"].mean())
        assert np.allclose(part["diff_integrated"], part["integrated_mean"] - part["compartmentalised_mean"])


def test_assumptions_are_every_assumption_parameter_the_scenario_uses(report):
    table = pd.read_csv(report["files"] / "assumptions_table.csv")
    manifest = json.loads((report["folder"] / "manifest.json").read_text())
    expected = {p.path for p in PARAMETERS if p.status == "assumption" and p.path in manifest["parameters"]}
    assert set(table["parameter"]) == expected and len(expected) > 10
    assert (table["source"].str.len() > 0).all()


def test_without_a_decomposition_the_section_says_which_command_makes_one(run_folder, tmp_path):
    bare = tmp_path / "run"
    shutil.copytree(run_folder, bare, ignore=shutil.ignore_patterns("decomposition*"))
    out = build_report(bare, tmp_path / "r.html", lang="en")
    text = out.read_text()
    section = text[text.index("<section id='decomposition'>"):text.index("<section id='own-result'>")]
    assert "Nothing to decompose" in section and "the funding alone" in section  # both arms have the same practices
    assert "<img" not in section
    assert not (report_paths(out)[1] / "decomposition.png").exists()


def test_a_regime_switch_is_marked_and_described(tmp_path, capsys):
    assert main(["run", "--out", str(tmp_path), "--scenario", "experiments/scenarios/switch_after_five_years.toml",
                 "--set", "scenario.inhabitants=4000", "--set", "scenario.from_year=3", "--years", "3",
                 "--replications", "2", "--no-progress"]) == 0
    assert main(["report", str(tmp_path), "--latest", "--lang", "en"]) == 0
    printed = capsys.readouterr().out
    folder = latest_run(tmp_path)
    assert f"Report written to {folder / 'report.html'}" in printed
    text = (folder / "report.html").read_text()
    assert "takes effect from year 3" in text


# --- the business case on a hand-made results frame ---------------------------------------------------------------

SALARY = 1e6  # EUR per FTE, so one FTE is one million


def tidy(values: dict[tuple[str, int, int], dict[str, float]]) -> pd.DataFrame:
    """A results frame: every cost-line indicator is 0 unless given (in EUR, staff in FTE); no booked staff sum."""
    rows = []
    for (regime, rep, year), given in values.items():
        for line in COST_LINES:
            if line.kind == "staff_rest":
                continue
            rows.append({"regime": regime, "replication": rep, "seed": rep, "year": year, "indicator": line.column,
                         "group_by": "all", "group": "all", "value": given.get(line.column, 0.0)})
    return pd.DataFrame(rows)


def hand_made() -> pd.DataFrame:
    m = 1e6
    values = {}
    for rep, level in ((0, 10 * m), (1, 12 * m)):
        benefit_saving = {1: 1 * m, 2: (3 * m, 5 * m)[rep], 3: 4 * m}  # mean 1, 4, 4
        for year in (1, 2, 3):
            values[("compartmentalised", rep, year)] = {"spend_instrument_benefit": level,
                                                        "spend_instrument_guidance": 2 * m,
                                                        "spend_instrument_mediation": 1 * m, "active_client_manager": 2}
            values[("integrated", rep, year)] = {"spend_instrument_benefit": level - benefit_saving[year],
                                                 "spend_instrument_guidance": 2 * m - (0 if year == 1 else 2 * m),
                                                 "spend_instrument_mediation": 4 * m, "active_client_manager": 2,
                                                 "active_generalist": 1}
    return tidy(values)


def test_business_case_arithmetic_on_a_hand_made_frame():
    case = business_case(hand_made(), "compartmentalised", "integrated", SALARY)
    y = case.yearly.set_index(["budget", "year"])
    # Year 1: mediation +3 and a generalist +1 (extra), benefits -1 (saving): net -3.
    assert y.loc[("pwet_participation", 1), "extra"] == pytest.approx(3)
    assert y.loc[("wmo", 1), "extra"] == pytest.approx(1)  # the generalist: a Wmo-paid neighbourhood team
    assert y.loc[("pwet_income", 1), "saving"] == pytest.approx(1)
    assert case.cumulative.tolist() == pytest.approx([-3, -1, 1])  # years 2 and 3: 4 + 2 saved, 4 spent more
    assert (case.payback_year, case.payback_status) == (3, "pays back in year 3")
    t = case.totals.set_index("budget")
    assert t.loc["pwet_income", "saving"] == pytest.approx(9) and t.loc["wmo", "saving"] == pytest.approx(4)
    assert t.loc["pwet_participation", "extra"] == pytest.approx(9) and t.loc["wmo", "extra"] == pytest.approx(3)
    assert t.loc["pwet_participation", "net"] == pytest.approx(-9)
    # Savings attributed to each budget sum to the total saving; net positions sum to the total net.
    assert t.drop(index="total")["saving"].sum() == pytest.approx(t.loc["total", "saving"]) == pytest.approx(13)
    assert t.drop(index="total")["net"].sum() == pytest.approx(t.loc["total", "net"]) == pytest.approx(1)
    # The two replications differ in the benefit saving (3 and 5 in year 2): a real interval around +1.
    assert t.loc["total", "net_ci_low"] < 1 < t.loc["total", "net_ci_high"]
    assert (y["cumulative_net"] == y.groupby(level="budget")["net"].cumsum()).all()


def test_wrong_pocket_shares_each_saving_over_the_payers():
    case = business_case(hand_made(), "compartmentalised", "integrated", SALARY)
    m = wrong_pocket(case)
    # Payers: participation 9 of 12 extra, the Wmo (its generalist) 3 of 12; gainers: income 9, Wmo 4.
    assert m.loc["pwet_participation", "pwet_income"] == pytest.approx(6.75)
    assert m.loc["wmo", "wmo"] == pytest.approx(1)
    assert m.sum(axis=0).to_dict() == pytest.approx({"pwet_income": 9, "pwet_participation": 0, "wmo": 4})
    assert m.to_numpy().sum() == pytest.approx(13)
    assert m.loc["pwet_income"].sum() == 0  # the income budget spent nothing more


@pytest.mark.parametrize("path, expected", [
    ([1, 2, 3], (None, "no net investment: the cumulative net position is never below the baseline")),
    ([-1, -2, -0.5], (None, "does not pay back within the horizon")),
    ([-1, 1, -1, 2], (4, "pays back in year 4")),
    ([-1, 0, 0], (2, "pays back in year 2")),
])
def test_payback_year_is_the_first_year_from_which_it_stays_at_or_above_zero(path, expected):
    assert payback_year(pd.Series(path, index=range(1, len(path) + 1), dtype=float)) == expected


def test_every_instrument_and_role_has_one_budget_and_task_field_that_agree_with_the_model():
    instruments = {c.name: c for c in COST_LINES if c.kind == "instrument"}
    roles = {c.name: c for c in COST_LINES if c.kind == "role"}
    assert set(instruments) == {i.name.lower() for i in Instrument if i != Instrument.CASE_MANAGEMENT}
    assert set(roles) == {r.name.lower() for r in Role}
    for i, holder in LAW_OF_INSTRUMENT.items():
        assert instruments[i.name.lower()].budget == holder.name.lower()
    for r, holder in LAW_HOLDER.items():
        assert roles[r.name.lower()].budget == holder.name.lower()
    for c in COST_LINES:
        assert c.task_field in TASK_FIELDS and c.budget in BUDGETS and c.source


# --- bad folders ---------------------------------------------------------------------------------------------------

def damaged(run_folder: Path, tmp_path: Path, how: str) -> Path:
    """A folder as an older version wrote it: its manifest records no hash of results.parquet (nor arms, for one regime)."""
    folder = tmp_path / how
    shutil.copytree(run_folder, folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest.pop("files")
    (folder / "manifest.json").write_text(json.dumps(manifest))
    frame = pd.read_parquet(folder / "results.parquet")
    if how == "old_indicators":
        frame = frame[~frame["indicator"].str.startswith("spend_instrument_")]
        frame.to_parquet(folder / "results.parquet")
    elif how == "old_columns":
        frame.drop(columns=["group_by", "group"]).to_parquet(folder / "results.parquet")
    elif how == "no_manifest":
        (folder / "manifest.json").unlink()
    elif how == "one_regime":
        frame[frame["regime"] == "compartmentalised"].to_parquet(folder / "results.parquet")
        manifest.pop("arms")
        (folder / "manifest.json").write_text(json.dumps({**manifest, "regimes": ["compartmentalised"]}))
    elif how == "garbled":
        (folder / "results.parquet").write_bytes(b"not parquet")
    return folder


@pytest.mark.parametrize("how, fragment", [
    ("old_indicators", "incompatible version of ontschot"),
    ("old_columns", "lacks column(s) group_by, group"),
    ("no_manifest", "no manifest.json"),
    ("one_regime", "hold 1 regime(s) (compartmentalised)"),
    ("garbled", "cannot be read"),
])
def test_an_incompatible_or_damaged_folder_is_one_clear_line(run_folder, tmp_path, capsys, how, fragment):
    folder = damaged(run_folder, tmp_path, how)
    assert main(["report", str(folder)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ontschot: error: ") and fragment in err and err.count("\n") == 1
    assert not (folder / "report.html").exists()


def test_a_missing_empty_or_foreign_folder_is_one_clear_line(run_folder, tmp_path, capsys):
    shutil.copytree(run_folder, tmp_path / "parent" / "run")
    (tmp_path / "empty").mkdir()
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("hello")
    for args, fragment in ((["report", str(tmp_path / "missing")], "does not exist"),
                           (["report", str(tmp_path / "empty")], "is empty"),
                           (["report", str(tmp_path / "other")], "is not a results folder"),
                           (["report", str(tmp_path / "empty"), "--latest"], "holds no run folder"),
                           (["report", str(tmp_path / "parent")], "holds run folders, not results")):
        assert main(args) == 2
        err = capsys.readouterr().err
        assert fragment in err and err.count("\n") == 1, err


def test_latest_picks_the_newest_run_folder(run_folder, tmp_path):
    older, newer = tmp_path / "a-older", tmp_path / "b-newer"
    for folder, created in ((older, "2026-01-02T00:00:00+00:00"), (newer, "2026-01-01T00:00:00+00:00")):
        shutil.copytree(run_folder, folder)
        manifest = json.loads((folder / "manifest.json").read_text())
        (folder / "manifest.json").write_text(json.dumps({**manifest, "created": created}))
    (tmp_path / ".c.partial").mkdir()
    assert latest_run(tmp_path) == older  # by creation time, not by name


def test_numbers_are_printed_with_two_decimals_below_100_and_whole_above():
    assert (fmt(1234.4), fmt(-12.344), fmt(99.994), fmt(float("nan"))) == ("1,234", "−12.34", "99.99", "n/a")
    assert with_interval(1.0, float("nan"), float("nan")) == "1.00"


SWEEP = """
name = "report-sweep"
regimes = ["compartmentalised", "integrated"]
replications = 2
seed = 4
[base]
"scenario.inhabitants" = 3000
"scenario.years" = 2
[vary]
"scenario.social_firm_places" = [10, 30]
"""


def test_a_sweep_folder_gets_a_report_of_its_design_and_points_not_one_arm_per_point(tmp_path, capsys):
    design = tmp_path / "design.toml"
    design.write_text(SWEEP)
    out = tmp_path / "sweep"
    assert main(["sweep", str(design), "--out", str(out), "--workers", "1", "--no-progress"]) == 0
    assert main(["report", str(out)]) == 0
    files = out / "report_files"
    assert not (files / "headline.csv").exists()  # no per-arm sections for a sweep
    points = pd.read_csv(files / "points.csv").set_index("point")
    assert list(points.index) == [0, 1] and list(points["scenario.social_firm_places"]) == [10, 30]
    from experiments.sweep import load_sweep

    frame = load_sweep(out)
    outflow = frame[(frame["group_by"] == "all") & (frame["indicator"] == "outflow_work")]
    per = outflow.groupby(["point", "regime", "replication"])["value"].sum()
    for point in (0, 1):
        diff = per.loc[(point, "integrated")] - per.loc[(point, "compartmentalised")]
        assert points.loc[point, "outflow_work (integrated - compartmentalised)"] == pytest.approx(diff.mean())
        assert points.loc[point, "outflow_work (integrated)"] == pytest.approx(per.loc[(point, "integrated")].mean())
    assert len(pd.read_csv(files / "runs.csv")) == 8  # one row per run: 2 points x 2 regimes x 2 replications
    text = (out / "report.html").read_text()
    assert "Outcome per design point" in text and "id='fig-points'" in text and "8 of 8 planned runs" in text
    assert "id='fig-indices'" not in text  # a factorial sweep has no sensitivity indices


def test_assumptions_are_ranked_by_a_stored_sensitivity_analysis(run_folder, tmp_path):
    folder = tmp_path / "run"
    shutil.copytree(run_folder, folder)
    assumed = [p.path for p in PARAMETERS if p.status == "assumption"][:3]
    pd.DataFrame({"outcome": ["outflow_work"] * 3 + ["spend_total"], "parameter": [*assumed, assumed[0]],
                  "ST": [0.1, 0.7, 0.3, 0.2], "ST_conf": [0.01] * 4, "rank": [3, 1, 2, 1]}).to_csv(
        folder / "sensitivity.csv", index=False)
    out = build_report(folder, folder / "report.html", lang="en")
    table = pd.read_csv(report_paths(out)[1] / "assumptions_table.csv")
    assert table["parameter"].tolist()[:3] == [assumed[1], assumed[2], assumed[0]]
    assert table["largest ST"].tolist()[:3] == [0.7, 0.3, 0.2]
    assert "ranked by the largest sensitivity index" in out.read_text()


def test_out_may_name_a_folder_and_a_system_folder_is_refused(run_folder, tmp_path, capsys):
    target = tmp_path / "memo"
    target.mkdir()
    assert main(["report", str(run_folder), "--out", str(target)]) == 0
    assert (target / "report.html").is_file() and (target / "report_files" / "headline.csv").is_file()
    capsys.readouterr()
    assert main(["report", str(run_folder), "--out", "/usr/lib/ontschot-report.html"]) == 2
    err = capsys.readouterr().err
    assert "is a system folder" in err and err.count("\n") == 1


def test_staff_costs_follow_each_arms_salary():
    case = business_case(hand_made(), "compartmentalised", "integrated", {"compartmentalised": 1e6, "integrated": 2e6})
    t = case.totals.set_index("budget")
    assert t.loc["wmo", "extra"] == pytest.approx(6)  # one generalist at 2 million, three years
    assert t.loc["pwet_participation", "extra"] == pytest.approx(9 + 6)  # mediation, and two client managers dearer


def test_assumptions_changed_by_the_scenario_come_first(run_folder, tmp_path):
    assumed = [p for p in PARAMETERS if p.status == "assumption" and p.kind == "float"][-1]
    value = (assumed.value + assumed.range[1]) / 2  # inside the range, not the default
    assert main(["run", "--out", str(tmp_path), *RUN[:2], "--set", f"{assumed.path}={value}", *RUN[2:]]) == 0
    folder = latest_run(tmp_path)
    out = build_report(folder, folder / "report.html", lang="en")
    table = pd.read_csv(report_paths(out)[1] / "assumptions_table.csv")
    assert table.iloc[0]["parameter"] == assumed.path and bool(table.iloc[0]["changed"])
    assert not table.iloc[1:]["changed"].any()
    assert "1 of them were changed for this scenario" in out.read_text()


def test_business_case_shows_each_budgets_spending_in_both_arms():
    y = business_case(hand_made(), "compartmentalised", "integrated", SALARY).yearly.set_index(["budget", "year"])
    assert y.loc[("pwet_income", 2), "spending_baseline"] == pytest.approx(11)  # benefits 10 and 12 million
    assert y.loc[("pwet_income", 2), "spending"] == pytest.approx(7)
    assert y.loc[("pwet_participation", 1), "spending"] == pytest.approx(4 + 2)  # mediation + two client managers
    assert (y["spending_baseline"] - y["spending"]).to_numpy() == pytest.approx((y["saving"] - y["extra"]).to_numpy())


@pytest.mark.parametrize("change, problem", [
    (lambda t: t.drop(columns=["ci_high"]), "lacks column(s) ci_high"),
    (lambda t: t[~((t["part"] == "total") & (t["indicator"] == "spend_total"))], "no 'total' row for spend_total"),
])
def test_a_decomposition_file_that_does_not_fit_is_named_not_drawn(run_folder, tmp_path, change, problem):
    folder = tmp_path / "run"
    shutil.copytree(run_folder, folder)
    change(hand_made_decomposition(folder)).to_csv(folder / "decomposition.csv", index=False)
    text = build_report(folder, folder / "report.html", lang="en").read_text()
    section = html.unescape(text[text.index("<section id='decomposition'>"):text.index("<section id='own-result'>")])
    assert "No decomposition is stored" in section and problem in section and "<img" not in section


def _png_of(text: str) -> bytes:
    return text.encode()


def test_figures_are_drawn_in_their_places_the_same_on_one_core_and_on_two():
    from functools import partial

    from analysis.report.build import Page

    pages = []
    for workers in (1, 2):
        page = Page()
        page.add("<p>before</p>")
        page.figure("a", partial(_png_of, "first"), "A")
        page.add("<p>between</p>")
        page.figure("b", partial(_png_of, "second"), "B")
        page.draw_figures(workers)
        pages.append(page)
    one, two = pages
    assert one.parts == two.parts and one.png == two.png == {"a": b"first", "b": b"second"}
    assert one.parts[1].startswith("<figure id='fig-a'") and one.parts[3].startswith("<figure id='fig-b'")
    assert not one.pending
