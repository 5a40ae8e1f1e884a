"""Calibration targets: what the sources say next to what the compartmentalised baseline produces.

Each target names its source tag (docs/sources.md), the value, a tolerance with its reason, and
how the simulated figure is computed from one run's yearly indicators. Statistics use the years
after a burn-in (the first years carry the transient of a synthetic starting population). A
target *holds* when the mean over replications lies within the tolerance of the target value;
the 95% interval of that mean is shown next to it. Works only on the stored tidy results.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from analysis.compare import t_interval

BURN_IN_YEARS = 2


@dataclass(frozen=True)
class Target:
    """One published figure the baseline should reproduce."""

    name: str
    label: str
    source: str
    value: float
    tolerance: float
    unit: str
    why: str
    compute: Callable[[pd.DataFrame, int], float]


def _outflow(w: pd.DataFrame) -> pd.Series:
    return w["leavers_for_work"] + w["leavers_for_other_income"] + w["benefit_exits_demographic"]


def _exits_to_jobs(w: pd.DataFrame) -> pd.Series:
    """Moves from benefit into regular or subsidised work (the exits whose returns and retention are followed)."""
    return w[[c for c in w.columns if c.startswith("exits_work_spell_")]].sum(axis=1)


def _ratio(num: pd.Series, den: pd.Series) -> float:
    total = float(den.sum())
    return float(num.sum()) / total if total else float("nan")


def outflow_rate(w: pd.DataFrame, inhabitants: int) -> float:
    """Yearly outflow from benefit (work, other reasons, demography) over the stock at the start of the year."""
    start_stock = w["benefit_stock"].shift(1)
    keep = start_stock.notna()
    return _ratio(_outflow(w)[keep], start_stock[keep])


def work_share_of_outflow(w: pd.DataFrame, inhabitants: int) -> float:
    """Share of all outflow from benefit that goes to paid work."""
    return _ratio(w["leavers_for_work"], _outflow(w))


def mean_elapsed_spell(w: pd.DataFrame, inhabitants: int) -> float:
    """Mean elapsed duration of the benefit stock (months), averaged over years."""
    return float(w["benefit_mean_spell_months"].mean())


def work_within_half_year(w: pd.DataFrame, inhabitants: int) -> float:
    """Share of moves from benefit to work that happen within six months of the spell's start."""
    to_work = w[[c for c in w.columns if c.startswith("exits_work_spell_")]].sum(axis=1)
    return _ratio(w["outflow_work_within_half_year"], to_work)


def firm_trajectories_to_work(w: pd.DataFrame, inhabitants: int) -> float:
    """Share of ended social-firm trajectories that ended in paid work."""
    return _ratio(w["firm_trajectories_to_work"], w["firm_trajectories_ended"])


def reintegration_coverage(w: pd.DataFrame, inhabitants: int) -> float:
    """Share of the benefit stock holding a re-integration instrument during the year."""
    return _ratio(w["reintegration_served"], w["benefit_stock_at_allocation"])


def care_client_share(w: pd.DataFrame, inhabitants: int) -> float:
    """Share of the benefit stock with a wage value below the care-client threshold."""
    return _ratio(w["care_clients_on_benefit"], w["benefit_stock"])


def benefit_cost_per_unit(w: pd.DataFrame, inhabitants: int) -> float:
    """Benefit spending per year of a benefit unit (single or couple) on benefit (EUR)."""
    return _ratio(w["spend_instrument_benefit"], w["benefit_unit_years"])


def trajectory_cost(w: pd.DataFrame, inhabitants: int) -> float:
    """Re-integration spending (mediation, training, firm places, job coaching) per trajectory started (EUR)."""
    spend = sum(w[f"spend_instrument_{i}"] for i in ("mediation", "training", "social_firm", "job_coaching"))
    return _ratio(spend, w["new_trajectories"])


def stock_per_inhabitant(w: pd.DataFrame, inhabitants: int) -> float:
    """Benefits (benefit units: a single person or a couple) per inhabitant (mean over years)."""
    return float(w["benefit_units"].mean()) / inhabitants


def wmo_per_inhabitant(w: pd.DataFrame, inhabitants: int) -> float:
    """Working-age residents with Wmo day activities or guidance per inhabitant (mean over years)."""
    return float(w["wmo_clients"].mean()) / inhabitants


def returns_after_work_within_year(w: pd.DataFrame, inhabitants: int) -> float:
    """Share of exits from benefit to a job followed by a return to benefit within a year (flows over the same years)."""
    return _ratio(w["returns_within_1y"], _exits_to_jobs(w))


def returns_after_any_exit_within_year(w: pd.DataFrame, inhabitants: int) -> float:
    """Share of exits from benefit (to a job or to other income) followed by a return within a year."""
    return _ratio(w["returns_within_1y"] + w["returns_other_within_1y"],
                  _exits_to_jobs(w) + w["leavers_for_other_income"])


def work_kept_18_months(w: pd.DataFrame, inhabitants: int) -> float:
    """Share of exits from benefit to a job whose job lasted 18 months without a break (1 - first ends within 18 months)."""
    ended = _ratio(w["work_ends_within_18m"], _exits_to_jobs(w))
    return 1.0 - ended


def non_take_up(w: pd.DataFrame, inhabitants: int) -> float:
    """Entitled benefit units not claiming per entitled benefit unit (summed over years, as at a reference date each)."""
    return _ratio(w["entitled_not_claiming"], w["entitled_units"])


TARGETS = (
    Target("outflow_rate", "Yearly outflow from the benefit stock", "[FW19]", 0.30, 0.05, "share",
           "'about 30%': +/-5 points covers the rounding of 'about' and year-to-year variation", outflow_rate),
    Target("work_share", "  of which to paid work", "[FW19]", 0.50, 0.10, "share",
           "'about half': +/-10 points", work_share_of_outflow),
    Target("mean_spell", "Mean benefit duration (elapsed, stock)", "[M16]", 56.0, 8.0, "months",
           "compared with the elapsed durations of the stock, as a mean over recipients at a moment; "
           "+/-8 months (about 15%) for a single national figure applied to one municipality", mean_elapsed_spell),
    Target("work_within_6m", "Outflow to work within six months of applying", "[M16]", 0.45, 0.10, "share",
           "'almost half': 0.45 +/-10 points", work_within_half_year),
    Target("firm_to_work", "Social-firm trajectories ending in paid work", "[SR]", 0.30, 0.10, "share",
           "30% over 2007-2016 in two small municipalities: few trajectories, so +/-10 points", firm_trajectories_to_work),
    Target("reintegration_coverage", "Benefit stock served by re-integration money", "[M16]", 1 / 3, 0.08, "share",
           "'about a third': +/-8 points", reintegration_coverage),
    Target("care_clients", "Care clients in the benefit stock", "[M16]", 0.50, 0.10, "share",
           "'almost half': +/-10 points", care_client_share),
    Target("benefit_cost", "Cost of one benefit per year (per benefit unit)", "[M16][R12]", 14000.0, 1000.0, "EUR",
           "EUR 14,000 [M16] to 15,000 [R12] for one benefit (a single person or a couple, the household norm "
           "of the Participatiewet): the tolerance spans both", benefit_cost_per_unit),
    Target("trajectory_cost", "Re-integration spending per trajectory started", "[M16]", 5000.0, 1500.0, "EUR",
           "average activation trajectory EUR 5,000; +/-30% since instruments differ in price", trajectory_cost),
    Target("stock_per_inhabitant", "Benefits (households) per inhabitant", "[M16]", 0.027, 0.004, "share",
           "463,000 / 17 million, read as benefits (one per benefit unit); +/-15% for local variation",
           stock_per_inhabitant),
    Target("wmo_per_inhabitant", "Working-age Wmo activity/guidance clients per inhabitant", "[BK18]", 0.0062, 0.002,
           "share", "68 of about 11,000 in one small municipality: +/-0.002", wmo_per_inhabitant),
    Target("returns_work_1y", "Exits to work back on benefit within a year", "[DIV19][CBS24]", 0.12, 0.05, "share",
           "16% of exits to work back on benefit after a year (Divosa benchmark, 2013-mid 2018) and 9% back after "
           "18 months of the 2021 cohort of full exits to employment (CBS): 0.12 +/-0.05 spans both",
           returns_after_work_within_year),
    Target("returns_all_1y", "Exits (work or other income) back within a year", "[DIV19]", 0.20, 0.05, "share",
           "20% of all who left benefit were back after a year (14% after half a year; Divosa benchmark, 180 "
           "municipalities, 2013-mid 2018); +/-5 points for the cycle (31% of the 2013 leavers were back within two "
           "years, 19% of the 2017 leavers)", returns_after_any_exit_within_year),
    Target("work_kept_18m", "Exits to a job still in work without a break after 18 months", "[CBS24]", 0.51, 0.08,
           "share", "25,000 of the 49,000 who left benefit for a job in 2021 worked in employment without a break and "
           "without benefit for 18 months (CBS); +/-8 points for a single cohort in a tight labour market",
           work_kept_18_months),
    Target("non_take_up", "Entitled households not claiming social assistance", "[ISZW21]", 0.35, 0.10, "share",
           "170,000 of about 490,000 entitled households did not claim on 1 January 2018 (CBS microdata); +/-10 "
           "points for a national reference date against one synthetic municipality ([SCP07]: 68% for top-ups, 2003)",
           non_take_up),
)


def per_run_wide(frame: pd.DataFrame) -> dict[tuple, pd.DataFrame]:
    """Yearly indicators per run (regime, replication), years after the burn-in."""
    whole = frame[(frame["group_by"] == "all") & (frame["year"] > BURN_IN_YEARS)]
    wide = whole.pivot_table(index=["regime", "replication", "year"], columns="indicator", values="value")
    return {key: df.droplevel([0, 1]) for key, df in wide.groupby(level=["regime", "replication"])}


def validation_table(frame: pd.DataFrame, inhabitants: int) -> pd.DataFrame:
    """One row per target: source, target and tolerance, simulated mean with 95% interval, holds or misses."""
    runs = per_run_wide(frame)
    rows = []
    for t in TARGETS:
        values = np.array([t.compute(w, inhabitants) for w in runs.values()])
        mean, lo, hi = t_interval(values)
        rows.append({"target": t.name, "label": t.label, "source": t.source, "value": t.value,
                     "tolerance": t.tolerance, "unit": t.unit, "simulated": mean, "lo": lo, "hi": hi,
                     "holds": bool(abs(mean - t.value) <= t.tolerance), "why_tolerance": t.why})
    return pd.DataFrame(rows)


def dynamics_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Figures without a published target, shown to check the dynamics (means over runs and years)."""
    runs = list(per_run_wide(frame).values())

    def mean_of(fn) -> tuple[float, float, float]:
        return t_interval(np.array([fn(w) for w in runs]))

    def share(col_prefix: str, label: str):
        return lambda w: _ratio(w[f"{col_prefix}{label}"], w[[c for c in w.columns if c.startswith(col_prefix)]].sum(axis=1))

    items = {
        "mean completed spell (months)": lambda w: _ratio(w["completed_spell_months"], w["completed_spells"]),
        **{f"stock share, spell {b} years": share("benefit_stock_spell_", b) for b in ("lt1", "1to2", "2to5", "gt5")},
        **{f"exits to work, spell {b} years (share)": share("exits_work_spell_", b) for b in ("lt1", "1to3", "gt3")},
        **{f"other exits, spell {b} years (share)": share("exits_other_spell_", b) for b in ("lt1", "1to3", "gt3")},
        **{f"returns to benefit within {k} year(s), per exit to a job [DIV19]": _share_of_job_exits(f"returns_within_{k}y")
           for k in (1, 2, 5)},
        **{f"returns within {k} year(s), per exit to other income": _share_of_other_exits(f"returns_other_within_{k}y")
           for k in (1, 2, 5)},
        **{f"jobs kept without a break {m} months after leaving benefit [CBS24]": _kept(m) for m in (6, 12, 18)},
        "mean length of jobs that ended (years)": lambda w: _ratio(w["work_spell_years_sum"], w["work_spells_ended"]),
        "residents on other income (share of residents)": lambda w: _ratio(w["on_other_income"], w["residents"]),
        "residents with provisions of both laws (share of users)": lambda w: float(w["multi_law_share"].mean()),
    }
    rows = [{"figure": k, **dict(zip(("mean", "lo", "hi"), mean_of(fn), strict=True))} for k, fn in items.items()]
    return pd.DataFrame(rows)


def _share_of_job_exits(column: str) -> Callable[[pd.DataFrame], float]:
    return lambda w: _ratio(w[column], _exits_to_jobs(w))


def _share_of_other_exits(column: str) -> Callable[[pd.DataFrame], float]:
    return lambda w: _ratio(w[column], w["leavers_for_other_income"])


def _kept(months: int) -> Callable[[pd.DataFrame], float]:
    return lambda w: 1.0 - _ratio(w[f"work_ends_within_{months}m"], _exits_to_jobs(w))


def firm_dropout_by_disability(frame: pd.DataFrame) -> pd.DataFrame:
    """Social-firm drop-out within the first year, by disability type (all runs and years pooled)."""
    part = frame[(frame["group_by"] == "disability") & (frame["year"] > BURN_IN_YEARS)
                 & frame["indicator"].isin(["firm_starts", "firm_dropouts_first_year"])]
    sums = part.pivot_table(index="group", columns="indicator", values="value", aggfunc="sum")
    sums["dropout_share"] = sums["firm_dropouts_first_year"] / sums["firm_starts"].where(sums["firm_starts"] > 0)
    return sums.reset_index()


def format_validation(table: pd.DataFrame, dynamics: pd.DataFrame, dropout: pd.DataFrame, meta: dict) -> str:
    """The validation as text: targets first, then the dynamics without a target."""

    def num(x: float, unit: str) -> str:
        if not np.isfinite(x):
            return "n/a"
        if unit == "EUR":
            return f"{x:,.0f}"
        if unit == "months":
            return f"{x:.1f}"
        return f"{x:.4f}" if abs(x) < 0.1 else f"{x:.3f}"

    lines = [
        f"Ontschot validation — compartmentalised baseline, {meta['inhabitants']:,} inhabitants, {meta['years']} years "
        f"(first {BURN_IN_YEARS} left out as burn-in), {meta['replications']} replications (root seed {meta['seed']})",
        "A target holds when the simulated mean lies within the tolerance; [..] is the 95% interval of that mean.",
        "",
        f"{'target':<54}{'source':>11}{'target ± tol':>22}{'simulated [95% interval]':>34}  verdict",
    ]
    lines.append("-" * len(lines[-1]))
    for _, r in table.iterrows():
        tgt = f"{num(r['value'], r['unit'])} ± {num(r['tolerance'], r['unit'])}"
        sim = f"{num(r['simulated'], r['unit'])} [{num(r['lo'], r['unit'])}, {num(r['hi'], r['unit'])}]"
        lines.append(f"{r['label'][:54]:<54}{r['source']:>11}{tgt:>22}{sim:>34}  {'holds' if r['holds'] else 'MISSES'}")
    held = int(table["holds"].sum())
    lines += ["", f"{held} of {len(table)} targets hold.", "", "Dynamics without a published target:"]
    for _, r in dynamics.iterrows():
        lines.append(f"  {r['figure']:<58}{num(r['mean'], ''):>10} [{num(r['lo'], '')}, {num(r['hi'], '')}]")
    lines += ["", "Social-firm drop-out within the first year, by disability type:"]
    for _, r in dropout.iterrows():
        lines.append(f"  {r['group']:<14} starts {r['firm_starts']:>7.0f}   drop-out share {num(r['dropout_share'], '')}")
    return "\n".join(lines)
