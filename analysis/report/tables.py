"""The report's tables, computed from the stored tidy results only.

Intervals are 95% paired t intervals over replications (``scipy.stats.t``): each replication runs
every arm on the same seed, so the difference per replication is the effect of the arm, and the
interval is that of its mean. Money is in EUR million unless a column says otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.compare import MILLION, SUMMARIES, compare, payback, run_summaries, t_interval
from analysis.report.load import GROUPS, Results
from analysis.report.taskfields import BUDGETS, COST_LINES, NOT_MODELLED, TASK_FIELDS
from experiments.arms import stored_from_year
from model.parameters import PARAMETERS

HEADLINE = ("outflow_work", "outflow_regular", "outflow_subsidised", "outflow_sheltered", "benefit_stock_end",
            "wmo_clients", "day_activities", "guidance_hours", "spend_total")
KEYS = ["regime", "replication", "year"]


def interval(values) -> tuple[float, float, float]:
    """Mean and 95% t interval of the mean over the finite values (``analysis.validation``'s, on scipy's t)."""
    return t_interval(values)


def whole(frame: pd.DataFrame) -> pd.DataFrame:
    """Whole-population indicators, one row per (arm, replication, year), one column per indicator."""
    rows = frame[frame["group_by"] == "all"]
    return rows.pivot_table(index=KEYS, columns="indicator", values="value", aggfunc="sum")


def line_costs(wide: pd.DataFrame, salary: float | Mapping[str, float]) -> pd.DataFrame:
    """EUR per cost line (``COST_LINES``) and (arm, replication, year); staff as active FTE x salary.

    The staff each holder pays are booked as one sum (``spend_instrument_case_management``); what of
    it the roles' active FTE x salary do not explain is the ``staff_rest`` line (the neighbourhood
    team's triage generalists), so the lines add up to ``spend_total`` to the cent. A frame without
    the booked staff sum (a hand-made one) has no such line. ``salary`` is one EUR-per-FTE figure,
    or one per arm (a sweep may vary ``staff.salary``).
    """
    if isinstance(salary, Mapping):
        salary = np.asarray(wide.index.get_level_values("regime").map(salary), dtype=float)
    lines = {}
    for c in COST_LINES:
        if c.kind == "staff_rest":
            continue
        column = wide[c.column] if c.column in wide.columns else pd.Series(0.0, index=wide.index)
        lines[c.name] = column * (salary if c.kind == "role" else 1.0)
    roles = sum(lines[c.name] for c in COST_LINES if c.kind == "role")
    for c in COST_LINES:
        if c.kind == "staff_rest":
            lines[c.name] = wide[c.column] - roles if c.column in wide.columns else roles * 0.0
    return pd.DataFrame({c.name: lines[c.name] for c in COST_LINES}, index=wide.index)


def _paired(per_run: pd.Series, base: str, arm: str) -> pd.Series:
    """Arm minus base per replication (and any further index level), on the replications both have."""
    a, b = per_run.xs(arm, level="regime"), per_run.xs(base, level="regime")
    return (a - b).dropna()


# --- headline ---------------------------------------------------------------------------------------------------

def headline(results: Results) -> pd.DataFrame:
    """Headline figures per arm with 95% intervals and the paired difference against the baseline (``compare``)."""
    summaries = run_summaries(results.frame.drop(columns=["point"], errors="ignore"))
    table = compare(summaries, results.arms)
    return table[table["summary"].isin(HEADLINE)].reset_index(drop=True)


def summaries_frame(results: Results) -> pd.DataFrame:
    """One row per run with the summaries of ``analysis.compare`` (stored as a CSV next to the report)."""
    return run_summaries(results.frame)


# --- time series --------------------------------------------------------------------------------------------------

SERIES = {
    "outflow_work": ("Moves into paid work", "persons per year", 1.0),
    "benefit_stock": ("Benefit stock (year end)", "persons", 1.0),
    "wmo_clients": ("Wmo clients (year end)", "persons", 1.0),
    "spend_total": ("Municipal spending", "EUR m per year", MILLION),
}


def timeseries(results: Results, indicators=tuple(SERIES)) -> pd.DataFrame:
    """Per indicator, arm and year: mean and 95% interval over replications."""
    wide = whole(results.frame)
    rows = []
    for ind in indicators:
        scale = SERIES.get(ind, ("", "", 1.0))[2]
        for (arm, year), values in (wide[ind] / scale).groupby(level=["regime", "year"]):
            mean, lo, hi = interval(values.to_numpy())
            rows.append({"indicator": ind, "arm": arm, "year": int(year), "mean": mean, "ci_low": lo, "ci_high": hi})
    out = pd.DataFrame(rows)
    out["arm"] = pd.Categorical(out["arm"], categories=results.arms, ordered=True)
    out["indicator"] = pd.Categorical(out["indicator"], categories=list(indicators), ordered=True)
    return out.sort_values(["indicator", "arm", "year"]).reset_index(drop=True)


def switch_year(results: Results) -> int | None:
    """The first simulated year (1-based) in which a regime switch takes effect, or None without a switch."""
    first = stored_from_year(results.params)
    years = results.frame["year"].max()
    return first if 1 < first <= years else None


# --- business case ------------------------------------------------------------------------------------------------

@dataclass
class BusinessCase:
    """Per budget and year what an arm spends more (extra), saves and nets against the baseline."""

    arm: str
    yearly: pd.DataFrame  # year, budget, spending_baseline, spending, extra, saving, net, cumulative_net (EUR m, means)
    totals: pd.DataFrame  # budget, extra, saving, net, net_ci_low, net_ci_high (horizon, EUR m)
    cumulative: pd.Series  # municipality's cumulative net position per year (EUR m)
    payback_year: int | None
    payback_status: str


def business_case(frame: pd.DataFrame, base: str, arm: str, salary: float | Mapping[str, float]) -> BusinessCase:
    """The business case of ``arm`` against ``base``, budget by budget (``BUDGETS``), per year and cumulative.

    For every cost line (``COST_LINES``) the paired difference arm - baseline is averaged over
    replications per year. A line that costs more is the budget's *extra spending* (its
    investment); a line that costs less is its *saving*. The *net position* is saving minus extra
    spending (= minus the budget's spending difference); cumulative sums run over the years. The
    payback year is the first year from which the municipality's cumulative net position stays at
    or above zero until the horizon, after it has been below zero; an arm whose cumulative net
    position is never below zero needs no net investment.
    """
    lines = line_costs(whole(frame), salary)
    diff = lines.xs(arm, level="regime") - lines.xs(base, level="regime")
    mean = diff.dropna().groupby(level="year").mean()
    budget_of = {c.name: c.budget for c in COST_LINES}
    gross = {r: lines.xs(r, level="regime").T.groupby(budget_of).sum().T.groupby(level="year").mean() / MILLION
             for r in (base, arm)}  # mean spending per budget and year
    rows = []
    for year, row in mean.iterrows():
        for budget in BUDGETS:
            values = row[[n for n, b in budget_of.items() if b == budget]]
            extra, saving = float(values.clip(lower=0).sum()), float((-values).clip(lower=0).sum())
            rows.append({"year": int(year), "budget": budget,
                         "spending_baseline": float(gross[base].get(budget, pd.Series(0.0)).get(year, 0.0)),
                         "spending": float(gross[arm].get(budget, pd.Series(0.0)).get(year, 0.0)),
                         "extra": extra / MILLION, "saving": saving / MILLION, "net": (saving - extra) / MILLION})
    yearly = pd.DataFrame(rows)
    yearly["cumulative_net"] = yearly.groupby("budget")["net"].cumsum()
    by_budget = diff.dropna().T.groupby(budget_of).sum().T  # EUR per (replication, year) per budget
    horizon = -by_budget.groupby(level="replication").sum() / MILLION
    sums = yearly.groupby("budget")[["extra", "saving", "net"]].sum()
    totals = []
    for budget in BUDGETS:
        _, lo, hi = interval(horizon[budget].to_numpy()) if budget in horizon else (0.0, 0.0, 0.0)
        totals.append({"budget": budget, "label": BUDGETS[budget], **sums.loc[budget].to_dict(),
                       "net_ci_low": lo, "net_ci_high": hi})
    total_net = horizon.sum(axis=1)
    _, lo, hi = interval(total_net.to_numpy())
    totals.append({"budget": "total", "label": "Municipality (all budgets)", **sums.sum().to_dict(),
                   "net_ci_low": lo, "net_ci_high": hi})
    cumulative = yearly.groupby("year")["net"].sum().cumsum()
    year, status = payback_year(cumulative)
    return BusinessCase(arm, yearly, pd.DataFrame(totals), cumulative, year, status)


def payback_year(cumulative: pd.Series) -> tuple[int | None, str]:
    """The first year from which a cumulative net position stays >= 0 to the horizon, and what that means."""
    if (cumulative >= 0).all():
        return None, "no net investment: the cumulative net position is never below the baseline"
    if cumulative.iloc[-1] < 0:
        return None, "does not pay back within the horizon"
    below = cumulative.index[cumulative < 0]
    year = int(cumulative.index[cumulative.index > below.max()][0])
    return year, f"pays back in year {year}"


def wrong_pocket(case: BusinessCase) -> pd.DataFrame:
    """Who pays (rows) against which budget gains the savings (columns), horizon totals in EUR m.

    The stored results say how much each budget spends more and saves, not which euro of saving
    followed which euro of spending; each budget's saving is therefore shared over the paying
    budgets in proportion to their extra spending. Rows sum to the savings that follow each payer's
    extra spending, columns to each budget's saving, the whole to the total saving.
    """
    totals = case.totals.set_index("budget").drop(index="total")
    extra, saving = totals["extra"], totals["saving"]
    share = extra / extra.sum() if extra.sum() > 0 else extra * 0
    matrix = pd.DataFrame(np.outer(share, saving), index=totals.index, columns=totals.index)
    matrix.index.name, matrix.columns.name = "pays", "gains"
    return matrix


# --- municipal budget (BBV task fields) -----------------------------------------------------------------------------

def task_field_spending(results: Results, salary: float | Mapping[str, float]) -> pd.DataFrame:
    """Horizon spending per BBV task field and arm (mean, 95% interval) and the paired difference (EUR m)."""
    lines = line_costs(whole(results.frame), salary)
    field_of = {c.name: c.task_field for c in COST_LINES}
    per_run = lines.T.groupby(field_of).sum().T.groupby(level=["regime", "replication"]).sum() / MILLION
    rows = []
    for field in TASK_FIELDS:
        row = {"task_field": field, "name": TASK_FIELDS[field],
               "instruments": "; ".join(c.label for c in COST_LINES if c.task_field == field)
               or NOT_MODELLED.get(field, "")}
        for arm in results.arms:
            values = per_run[field].xs(arm, level="regime") if field in per_run else pd.Series([0.0])
            row[f"{arm}_mean"], row[f"{arm}_lo"], row[f"{arm}_hi"] = interval(values.to_numpy())
        for arm in results.others:
            d = _paired(per_run[field], results.base, arm) if field in per_run else pd.Series([0.0])
            row[f"diff_{arm}"], row[f"diff_{arm}_lo"], row[f"diff_{arm}_hi"] = interval(d.to_numpy())
        rows.append(row)
    return pd.DataFrame(rows)


def cost_line_table() -> pd.DataFrame:
    """The mapping itself: each instrument and staff role, its budget under partitions, its task field and source."""
    return pd.DataFrame([{"cost line": c.label, "model name": c.name, "kind": c.kind, "budget": BUDGETS[c.budget],
                          "task field": f"{c.task_field} {TASK_FIELDS[c.task_field]}", "source": c.source}
                         for c in COST_LINES])


# --- groups, firms, own result ------------------------------------------------------------------------------------

GROUP_MEASURES = {
    "outflow_work": ("Moves into paid work (horizon total)", "sum"),
    "benefit_stock": ("On benefit (final year)", "last"),
    "served": ("Holding any support (yearly mean)", "mean"),
    "residents": ("Residents (yearly mean)", "mean"),
}


def group_outcomes(results: Results) -> pd.DataFrame:
    """Outcomes by age band, disability type and wage-value band: per arm mean [95%] and the paired difference."""
    rows = results.frame[results.frame["group_by"].isin(GROUPS) & results.frame["indicator"].isin(GROUP_MEASURES)]
    out = []
    for (group_by, group, ind), part in rows.groupby(["group_by", "group", "indicator"], sort=False):
        how = GROUP_MEASURES[ind][1]
        series = part.sort_values("year").groupby(["regime", "replication"])["value"]
        per_run = {"sum": series.sum(), "mean": series.mean(), "last": series.last()}[how]
        row = {"group_by": group_by, "group": group, "indicator": ind, "measure": GROUP_MEASURES[ind][0]}
        for arm in results.arms:
            row[f"{arm}_mean"], row[f"{arm}_lo"], row[f"{arm}_hi"] = interval(per_run.xs(arm, level="regime"))
        for arm in results.others:
            row[f"diff_{arm}"], row[f"diff_{arm}_lo"], row[f"diff_{arm}_hi"] = interval(
                _paired(per_run, results.base, arm))
        out.append(row)
    return pd.DataFrame(out)


def _per_run(wide: pd.DataFrame, how: dict[str, str]) -> pd.DataFrame:
    grouped = wide.groupby(level=["regime", "replication"])
    return pd.DataFrame({k: getattr(grouped[k], h)() for k, h in how.items()})


def _arm_table(per_run: pd.DataFrame, results: Results, labels: dict[str, str]) -> pd.DataFrame:
    rows = []
    for col, label in labels.items():
        row = {"measure": label, "key": col}
        for arm in results.arms:
            row[f"{arm}_mean"], row[f"{arm}_lo"], row[f"{arm}_hi"] = interval(per_run[col].xs(arm, level="regime"))
        for arm in results.others:
            row[f"diff_{arm}"], row[f"diff_{arm}_lo"], row[f"diff_{arm}_hi"] = interval(
                _paired(per_run[col], results.base, arm))
        rows.append(row)
    return pd.DataFrame(rows)


def firm_view(results: Results) -> pd.DataFrame:
    """The social firm: places, utilisation, trajectories and how they end, lock-in, its own result."""
    wide = whole(results.frame)
    per_run = _per_run(wide, {"firm_places": "mean", "firm_occupied": "mean", "firm_utilisation": "mean",
                              "firm_trajectories_ended": "sum", "firm_trajectories_to_work": "sum", "lock_ins": "sum",
                              "firm_contract_income": "sum", "firm_result": "sum"})
    ended = per_run["firm_trajectories_ended"]
    per_run["to_work_share"] = (per_run["firm_trajectories_to_work"] / ended).where(ended > 0)
    for col in ("firm_contract_income", "firm_result"):
        per_run[col] = per_run[col] / MILLION
    labels = {"firm_places": "Places (yearly mean)", "firm_occupied": "Places occupied (yearly mean)",
              "firm_utilisation": "Utilisation (occupied share, yearly mean)",
              "firm_trajectories_ended": "Trajectories ended (horizon)",
              "firm_trajectories_to_work": "  of which into paid work",
              "to_work_share": "Share of ended trajectories that led to paid work",
              "lock_ins": "Lock-ins: trajectories kept past their planned end (horizon)",
              "firm_contract_income": "Places bought by the municipality (EUR m, horizon)",
              "firm_result": "The firms' own result (EUR m, horizon)"}
    return _arm_table(per_run, results, labels)


def firm_dropout(results: Results) -> pd.DataFrame:
    """First-year drop-out from social-firm places by disability type (share of starts), per arm."""
    rows = results.frame[(results.frame["group_by"] == "disability")
                         & results.frame["indicator"].isin(["firm_starts", "firm_dropouts_first_year"])]
    per = rows.pivot_table(index=["regime", "replication", "group"], columns="indicator", values="value",
                           aggfunc="sum")
    per["dropout_share"] = (per["firm_dropouts_first_year"] / per["firm_starts"]).where(per["firm_starts"] > 0)
    out = []
    for group, part in per.groupby(level="group"):
        row = {"disability": group}
        for arm in results.arms:
            sub = part.xs(arm, level="regime")
            row[f"{arm}_starts"] = float(sub["firm_starts"].mean())
            row[f"{arm}_dropout_share"] = float(sub["dropout_share"].mean())
        out.append(row)
    return pd.DataFrame(out)


HOLDER_NAMES = {"pwet_income": "P-wet income", "pwet_participation": "P-wet participation", "wmo": "Wmo",
                "pooled": "Pooled desk"}
# Per holder, the rows of the own-result table in reading order: (indicator prefix, what it is). Rows whose
# indicator the results lack are left out (discretionary money exists only in newer results).
OWN_RESULT_ROWS = (
    ("grant_", "grant behind its budget"),
    ("budget_", "budget (its grant share plus what the model adds: the staff it pays)"),
    ("budget_beyond_grant_", "  budget minus grant (the staff it pays; where a grant is reported whole, also the "
                             "pooled share moved to or from the desk)"),
    ("discretionary_budget_", "  of the budget: for discretionary instruments (trajectories, firm places)"),
    ("compensation_", "safety net (vangnet) received"),
    ("spend_", "spending"),
    ("discretionary_spend_", "  of the spending: on discretionary instruments (rights are paid outside it)"),
    ("own_result_", "own result = budget + safety net - spending"),
)
COMPENSATED = "pwet_income"  # the holder whose deficit the safety net compensates (``vangnet_compensation``)


def own_result_frame(wide: pd.DataFrame) -> pd.DataFrame:
    """Per (arm, replication, year): every own-result row's indicator that exists, plus the derived ones (EUR).

    ``budget_beyond_grant_<h>`` = budget - grant; ``compensation_<h>`` is the safety net for the income
    holder and 0 for the others; ``*_total`` sums over the holders.
    """
    out = {}
    for h in HOLDER_NAMES:
        for prefix, _ in OWN_RESULT_ROWS:
            column = f"{prefix}{h}"
            if prefix == "budget_beyond_grant_":
                if f"budget_{h}" in wide and f"grant_{h}" in wide:
                    out[column] = wide[f"budget_{h}"] - wide[f"grant_{h}"]
            elif prefix == "compensation_":
                out[column] = wide["vangnet_compensation"] if h == COMPENSATED else wide["spend_total"] * 0.0
            elif column in wide:
                out[column] = wide[column]
    frame = pd.DataFrame(out, index=wide.index)
    for prefix, _ in OWN_RESULT_ROWS:
        parts = [c for c in frame.columns if c.startswith(prefix) and c.removeprefix(prefix) in HOLDER_NAMES]
        if parts:
            frame[f"{prefix}total"] = frame[parts].sum(axis=1)
    return frame


def own_result_identity(frame: pd.DataFrame) -> pd.DataFrame:
    """Per holder and the total: own result - (budget + safety net - spending); zero when the books add up (EUR)."""
    return pd.DataFrame({h: frame[f"own_result_{h}"] - (frame[f"budget_{h}"] + frame[f"compensation_{h}"]
                                                          - frame[f"spend_{h}"])
                         for h in [*HOLDER_NAMES, "total"] if f"own_result_{h}" in frame}, index=frame.index)


def own_result(results: Results) -> pd.DataFrame:
    """Per budget holder as booked: grant, budget, safety net, spending and own result over the horizon (EUR m).

    The rows show the identity own result = budget + safety net - spending, and what the budget holds
    beyond the grant (the staff the holder pays; in a transformation-desk run before the grant
    shares were reported, also the pooled share moved between holders). Discretionary budget and
    spending are shown when the results have them.
    """
    frame = own_result_frame(whole(results.frame))
    per_run = frame.groupby(level=["regime", "replication"]).sum() / MILLION
    labels = {}
    for h, name in {**HOLDER_NAMES, "total": "Municipality"}.items():
        for prefix, what in OWN_RESULT_ROWS:
            if f"{prefix}{h}" in per_run:
                labels[f"{prefix}{h}"] = f"{name}: {what}"
    return _arm_table(per_run, results, labels)


def reconciliation(results: Results, salary: float | Mapping[str, float]) -> pd.DataFrame:
    """Per arm against the baseline: how spending, the task fields, the business case and the own result add up.

    Horizon totals in EUR m, paired means with 95% intervals: the spending difference; the same
    summed over the cost lines (task fields) and as minus the business case's net position; the
    budget difference (grant shares and the staff each holder pays), the safety-net difference, and
    the own-result difference, which equals budget + safety net - spending difference for difference.
    """
    wide = whole(results.frame)
    lines = line_costs(wide, salary).sum(axis=1)
    books = own_result_frame(wide)
    per_run = pd.DataFrame({
        "spend_total": wide["spend_total"], "cost_lines": lines, "budget_total": books["budget_total"],
        "compensation_total": books["compensation_total"], "own_result_total": books["own_result_total"],
    }).groupby(level=["regime", "replication"]).sum() / MILLION
    rows = []
    labels = {"spend_total": "spending difference (spend_total)",
              "cost_lines": "  the same over the cost lines = the task fields' total = minus the business case's net",
              "budget_total": "budget difference (grant shares and the staff each holder pays)",
              "compensation_total": "safety-net difference",
              "own_result_total": "own-result difference = budget + safety net - spending"}
    for arm in results.others:
        for key, label in labels.items():
            mean, lo, hi = interval(_paired(per_run[key], results.base, arm))
            rows.append({"arm": arm, "key": key, "measure": label, "mean": mean, "ci_low": lo, "ci_high": hi})
    return pd.DataFrame(rows)


def own_result_payback(results: Results) -> dict[str, dict]:
    """``analysis.compare.payback`` on the own result (budget + safety net - spending), per arm."""
    return payback(results.frame, results.arms)


# --- decomposition and assumptions -----------------------------------------------------------------------------

def decomposition_check(table: pd.DataFrame) -> pd.DataFrame:
    """Per indicator: the total and the sum of its parts (they should agree)."""
    rows = []
    for ind, part in table.groupby("indicator", sort=False):
        total = float(part.loc[part["part"] == "total", "mean"].sum())
        parts = float(part.loc[part["part"] != "total", "mean"].sum())
        rows.append({"indicator": ind, "total": total, "sum_of_parts": parts})
    return pd.DataFrame(rows)


def assumptions(results: Results) -> pd.DataFrame:
    """Every parameter with status 'assumption' that the scenario resolves, with the value used.

    When the folder holds a sensitivity analysis (``sensitivity.csv``), the largest index measured
    for each parameter is added and the table is ranked by it.
    """
    rows = []
    for p in PARAMETERS:
        if p.status != "assumption" or p.path not in results.params:
            continue
        used = results.params[p.path]
        allowed = ", ".join(p.choices) if p.choices else (f"{p.range[0]:g} to {p.range[1]:g}" if p.range else "")
        rows.append({"parameter": p.path, "label": p.label, "value": _show(used), "default": _show(p.value),
                     "changed": used != p.value, "allowed": allowed, "unit": p.unit, "source": p.source})
    table = pd.DataFrame(rows)
    sens = results.sensitivity
    if sens is not None and not table.empty and {"parameter"} <= set(sens.columns):
        index = "ST" if "ST" in sens.columns else "mu_star" if "mu_star" in sens.columns else None
        if index:
            largest = sens.groupby("parameter")[index].max()
            table[f"largest {index}"] = table["parameter"].map(largest)
            return table.sort_values(f"largest {index}", ascending=False, na_position="last").reset_index(drop=True)
    if not table.empty:
        table = table.sort_values("changed", ascending=False, kind="stable")  # the scenario's own choices first
    return table.reset_index(drop=True)


def _show(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return ", ".join(_show(v) for v in value)
    return str(value)


def summary_labels() -> dict[str, str]:
    """Summary name -> label (``analysis.compare.SUMMARIES``)."""
    return {s.name: s.label.strip() for s in SUMMARIES}
