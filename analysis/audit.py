"""The controller's audit of a comparison: is it fair, does the money add up, is the baseline steady?

Reads stored results only (the tidy frame of ``results.parquet``). Each check is named, states its
rule and tolerance, and reports the measured figure and a verdict, per arm where it is per arm:

- same discretionary money: the money for discretionary instruments, summed over the budget lines,
  is the same in every arm, year by year (the pooled desk's is what the law-based desks would have had);
- within the discretionary budget: no line spends more on discretionary instruments than its
  discretionary budget plus the price of one trajectory;
- trajectories bought through the horizon: the yearly trajectories bought after year 1 are not a
  small fraction of year 1's (a pot emptied by rights shows as a first-year spree, then nothing);
- firm ledger: no funding stream fills more social-firm places than it bought;
- steady baseline: under the compartmentalised arm the benefit stock, Wmo clients, residents, firm
  utilisation and spending stay within 10% of their first reported year;
- rights paid as overspend: what each line spent above its budget over the horizon (reported, no verdict).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from model.constants import Holder

HOLDERS = tuple(h.name.lower() for h in Holder)
STEADY_SERIES = ("benefit_stock", "wmo_clients", "residents", "firm_utilisation", "spend_total")
STEADY_TOLERANCE = 0.10  # share of the first reported year (issue: a stationary baseline)
TREND_ONLY = ("firm_utilisation",)  # judged by its fitted drift (one client moves a small firm's share a lot)
SPREE_FLOOR = 0.5  # later years' trajectories bought, as a share of year 1's, below which a pot looks emptied
RELATIVE_EQUAL = 1e-9


@dataclass(frozen=True)
class Check:
    """One line of the audit."""

    name: str
    arm: str
    rule: str
    measured: float
    verdict: str  # "holds", "MISSES" or "" (reported only)


def wide(frame: pd.DataFrame, arm_column: str) -> pd.DataFrame:
    """Whole-municipality indicators as columns, one row per arm, replication and year."""
    allrows = frame[(frame["group_by"] == "all")] if "group_by" in frame else frame
    return allrows.pivot_table(index=[arm_column, "replication", "year"], columns="indicator", values="value",
                               aggfunc="first").reset_index()


def audit(frame: pd.DataFrame, one_trajectory: float, arm_column: str | None = None,
          baseline: str = "compartmentalised") -> list[Check]:
    """Run every check on a stored comparison (tidy frame); ``one_trajectory`` is the allowance in EUR."""
    arm_column = arm_column or ("arm" if "arm" in frame.columns else "regime")
    data = wide(frame, arm_column)
    arms = list(dict.fromkeys(frame[arm_column]))  # in the order they ran: the first is the reference
    checks: list[Check] = []
    money = {arm: _discretionary_money(data[data[arm_column] == arm]) for arm in arms}
    reference = money[arms[0]]
    for arm in arms[1:]:
        diff = float(np.max(np.abs(money[arm] - reference) / np.maximum(np.abs(reference), 1.0)))
        checks.append(Check("same discretionary money", arm, f"equal to {arms[0]}'s, year by year (relative)",
                            diff, "holds" if diff <= RELATIVE_EQUAL else "MISSES"))
    for arm in arms:
        rows = data[data[arm_column] == arm]
        over = max(float((rows[f"discretionary_spend_{h}"] - rows[f"discretionary_budget_{h}"]).max())
                   for h in HOLDERS if f"discretionary_spend_{h}" in rows)
        checks.append(Check("within the discretionary budget", arm,
                            f"spend - budget <= one trajectory (EUR {one_trajectory:,.0f})", over,
                            "holds" if over <= one_trajectory else "MISSES"))
        first = rows[rows["year"] == 1]["new_trajectories"].mean()
        later = rows[rows["year"] > 1].groupby("year")["new_trajectories"].mean().min()
        share = float(later / first) if first else np.nan
        checks.append(Check("trajectories bought through the horizon", arm,
                            f"fewest in a later year / year 1 >= {SPREE_FLOOR}", share,
                            "holds" if share >= SPREE_FLOOR else "MISSES"))
        excess = max(float((rows[f"firm_places_filled_{h}"] - rows[f"firm_places_bought_{h}"]).max())
                     for h in HOLDERS if f"firm_places_filled_{h}" in rows)
        checks.append(Check("firm ledger", arm, "places filled - bought <= 0 per stream", excess,
                            "holds" if excess <= 0 else "MISSES"))
        for h in HOLDERS:
            if f"overspend_{h}" in rows:
                total = float(rows.groupby("replication")[f"overspend_{h}"].sum().mean())
                if total:
                    checks.append(Check(f"overspend {h}, horizon (EUR m)", arm,
                                        "rights paid above the budget, covered by the overrun rule", total / 1e6, ""))
        if rows[arm_column].iloc[0] == baseline or arm == baseline:
            checks.extend(steady(rows, arm))
    return checks


def _discretionary_money(rows: pd.DataFrame) -> np.ndarray:
    """Mean over replications of the discretionary money summed over the lines, per year."""
    cols = [f"discretionary_budget_{h}" for h in HOLDERS if f"discretionary_budget_{h}" in rows]
    return rows.assign(total=rows[cols].sum(axis=1)).groupby("year")["total"].mean().to_numpy()


def steady(rows: pd.DataFrame, arm: str) -> list[Check]:
    """The largest yearly deviation from the first reported year of each steady-baseline series (replication means)."""
    out = []
    for name in STEADY_SERIES:
        if name not in rows:
            continue
        series = rows.groupby("year")[name].mean()
        rule = f"|year / year 1 - 1| <= {STEADY_TOLERANCE:.0%}"
        if name in TREND_ONLY and len(series) >= 3:
            # A firm of twenty places moves five points with one client: judge the drift, the fitted
            # straight line over the horizon, against its level in year 1.
            slope, level = np.polyfit(series.index.to_numpy(dtype=float) - series.index[0], series.to_numpy(), 1)
            dev = float(abs(slope) * (len(series) - 1) / level) if level else np.nan
            rule = f"|fitted drift over the horizon / fitted year 1| <= {STEADY_TOLERANCE:.0%}"
        else:
            first = series.iloc[0]
            dev = float(np.max(np.abs(series / first - 1.0))) if first else np.nan
        out.append(Check(f"steady baseline: {name}", arm, rule, dev, "holds" if dev <= STEADY_TOLERANCE else "MISSES"))
    return out


def format_audit(checks: list[Check]) -> str:
    """The audit as a fixed-width table."""
    lines = ["The controller's audit (rule, measured figure, verdict)",
             f"{'check':42s} {'arm':28s} {'measured':>14s}  {'verdict':8s} rule", "-" * 130]
    for c in checks:
        lines.append(f"{c.name:42s} {c.arm:28s} {c.measured:14.4g}  {c.verdict:8s} {c.rule}")
    held = sum(c.verdict == "holds" for c in checks)
    judged = sum(bool(c.verdict) for c in checks)
    lines.append(f"{held} of {judged} checks hold.")
    return "\n".join(lines)
