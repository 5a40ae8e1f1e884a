"""The social firm's business case for the municipality over the years, as [SR] computes it (Resultaten point 5).

The yearly lines are indicators of the model (``model/firm_case.py``): what the municipality pays for its
firms (place contracts per stream, guidance per participant) and what the firms' (former) clients save it
(benefit, Wmo care, and the village channel of [SR] point 1, an assumption shown on its own line). Here they
are averaged over replications per arm and year, the net is cumulated, and the payback year is the first
year in which the cumulative net is >= 0 (NaN, "not within the horizon", if it never is). The payback without
the village line shows how much of a payback rests on that assumption.

``MEASURES`` holds the named measures the case runner (``ontschot cases``) reads in the Superrr case file.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np
import pandas as pd

from model.constants import WHOLE_POPULATION

# (indicator, label, role): role "cost" is paid by the municipality, "saving" saved by it, "firm" the firm's own.
LINES = (
    ("firm_contracts_pwet_participation", "place contracts: P-wet", "cost"),
    ("firm_contracts_wmo", "place contracts: Wmo", "cost"),
    ("firm_contracts_pooled", "place contracts: pooled desk", "cost"),
    ("firm_guidance_cost", "guidance per participant", "cost"),
    ("firm_case_benefit_saving", "benefit saved (leavers to work)", "saving"),
    ("firm_case_care_saving", "Wmo care saved (care exits at the firm)", "saving"),
    ("firm_case_day_activity_saving", "regular day activities not bought (work-like places)", "saving"),
    ("firm_case_village_saving", "village channel (assumption, [SR] point 1)", "saving"),
    ("firm_case_cost", "municipality pays (contracts + guidance)", "total"),
    ("firm_case_savings", "municipality saves", "total"),
    ("firm_case_net", "net for the municipality (saves - pays)", "total"),
    ("firm_sales", "firm: sales (client work + regular staff)", "firm"),
    ("firm_running_costs", "firm: regular staff and running costs", "firm"),
    ("firm_result", "firm: own result (contracts + sales - running costs)", "firm"),
    ("firm_places_taken", "places taken (persons)", "count"),
    ("firm_trajectories_ended", "firm trajectories ended", "count"),
    ("firm_trajectories_to_work", "firm trajectories ended in paid work", "count"),
    ("firm_utilisation", "utilisation at year end (share)", "count"),
    ("firm_utilisation_over_year", "utilisation over the year (place-years / places)", "count"),
)
NET, VILLAGE = "firm_case_net", "firm_case_village_saving"
SHARES = ("firm_utilisation", "firm_utilisation_over_year")  # averaged over the years, not summed
NOT_WITHIN = "not within the horizon"


def _whole(frame: pd.DataFrame) -> pd.DataFrame:
    """Whole-population rows only (a run frame also holds breakdowns; a case frame holds only these)."""
    return frame[frame["group_by"] == WHOLE_POPULATION] if "group_by" in frame.columns else frame


def payback_year(net_by_year: pd.Series) -> float:
    """The first year in which the cumulative net (years in index order) is >= 0; NaN if none within the horizon."""
    cumulative = net_by_year.sort_index().cumsum()
    reached = cumulative.index[cumulative.to_numpy() >= 0]
    return float(reached[0]) if len(reached) else math.nan


def payback_text(year: float) -> str:
    """'year 7' or 'not within the horizon'."""
    return NOT_WITHIN if not np.isfinite(year) else f"year {int(year)}"


def yearly(frame: pd.DataFrame) -> pd.DataFrame:
    """Per arm and year the business-case lines (mean over replications), the cumulative net and that without the village line."""
    rows = _whole(frame)
    if "arm" not in rows.columns:
        rows = rows.assign(arm=rows["regime"] if "regime" in rows.columns else "run")
    names = [name for name, _, _ in LINES]
    rows = rows[rows["indicator"].isin(names)]
    keys = ["arm", "year"] + (["replication"] if "replication" in rows.columns else [])
    wide = rows.pivot_table(index=keys, columns="indicator", values="value", aggfunc="sum")
    mean = wide.groupby(level=["arm", "year"], sort=False).mean().reindex(columns=names, fill_value=0.0)
    mean["cumulative_net"] = mean.groupby(level="arm", sort=False)[NET].cumsum()
    mean["cumulative_net_without_village"] = (mean[NET] - mean[VILLAGE]).groupby(level="arm", sort=False).cumsum()
    return mean.reset_index()


def summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Per arm: the lines summed over the horizon (mean over replications), the payback year with and without the village line."""
    table = yearly(frame)
    out = []
    for arm, part in table.groupby("arm", sort=False):
        part = part.set_index("year")
        row: dict[str, Any] = {"arm": arm, "years": len(part)}
        for name, _, _ in LINES:
            row[name] = float(part[name].mean() if name in SHARES else part[name].sum())
        row["payback_year"] = payback_year(part[NET])
        row["payback_year_without_village"] = payback_year(part[NET] - part[VILLAGE])
        out.append(row)
    return pd.DataFrame(out)


def format_summary(table: pd.DataFrame) -> str:
    """The business case per arm for the terminal (EUR thousand over the horizon, mean over replications)."""
    if table.empty:
        return ""
    lines = ["", "The social firm's business case for the municipality [SR point 5] (EUR thousand over the horizon, "
                 "mean over replications; savings are gross, as in [SR]; util. = places held at year end, used = "
                 "place-years held / places):"]
    head = (f"  {'arm':<34}{'contracts':>11}{'guidance':>10}{'benefit':>10}{'Wmo care':>10}{'day act.':>10}"
            f"{'village':>9}"
            f"{'net':>10}{'util.':>7}{'used':>7}  payback (without village)")
    lines += [head, "  " + "-" * (len(head) - 2)]
    for _, r in table.iterrows():
        contracts = sum(r[n] for n, _, role in LINES if role == "cost" and n.startswith("firm_contracts_"))
        k = 1000.0
        lines.append(f"  {str(r['arm'])[:33]:<34}{contracts / k:>11,.0f}{r['firm_guidance_cost'] / k:>10,.0f}"
                     f"{r['firm_case_benefit_saving'] / k:>10,.0f}{r['firm_case_care_saving'] / k:>10,.0f}"
                     f"{r['firm_case_day_activity_saving'] / k:>10,.0f}"
                     f"{r[VILLAGE] / k:>9,.0f}{r[NET] / k:>10,.0f}{r['firm_utilisation']:>7.2f}"
                     f"{r['firm_utilisation_over_year']:>7.2f}  "
                     f"{payback_text(r['payback_year'])} ({payback_text(r['payback_year_without_village'])})")
    return "\n".join(lines)


PAGE_LINES = ("firm_case_cost", "firm_case_benefit_saving", "firm_case_care_saving", "firm_case_day_activity_saving",
              "firm_case_village_saving", NET)


def so_far(indicator) -> list[tuple[str, str, str]]:
    """The workshop page's rows: each line this year and summed over the years so far (EUR thousand), then the payback.

    ``indicator(name)`` gives one indicator's yearly values so far (``analysis/page/session.Track.indicator``).
    """
    labels = {name: label for name, label, _ in LINES}
    rows = []
    for name in PAGE_LINES:
        values = indicator(name)
        if not values:
            return []
        rows.append((labels[name], f"{values[-1] / 1000:,.0f}", f"{sum(values) / 1000:,.0f}"))
    net = indicator(NET)
    year = payback_year(pd.Series(net, index=range(1, len(net) + 1)))
    rows.append(("payback (first year the cumulative net >= 0)", "", f"year {int(year)}" if np.isfinite(year)
                 else "not yet"))
    return rows


# --- named measures for the case runner: measure(frame, values) -> float, frame = one run's whole-population rows ---

def _net(frame: pd.DataFrame, without_village: bool = False) -> pd.Series:
    rows = _whole(frame)
    wide = rows[rows["indicator"].isin((NET, VILLAGE))].pivot_table(index="year", columns="indicator", values="value",
                                                                     aggfunc="sum")
    net = wide[NET] if NET in wide else pd.Series(dtype=float)
    return net - wide[VILLAGE] if without_village and VILLAGE in wide else net


def firm_payback_year(frame: pd.DataFrame, values: Mapping[str, Any]) -> float:
    """First reported year in which the cumulative net of the firm's business case is >= 0 (NaN if never)."""
    return payback_year(_net(frame))


def firm_payback_year_or_after(frame: pd.DataFrame, values: Mapping[str, Any]) -> float:
    """As ``firm_payback_year``, but the year after the horizon (years + 1) when it does not pay back: contrasts stay finite."""
    year = payback_year(_net(frame))
    return year if np.isfinite(year) else float(values["scenario.years"]) + 1.0


def firm_payback_year_without_village(frame: pd.DataFrame, values: Mapping[str, Any]) -> float:
    """The payback year without the village line (the assumption of [SR] point 1 left out); NaN if never."""
    return payback_year(_net(frame, without_village=True))


def firm_net_horizon(frame: pd.DataFrame, values: Mapping[str, Any]) -> float:
    """The firm's business case for the municipality summed over the reported years (EUR)."""
    return float(_net(frame).sum())


MEASURES = {
    "firm_payback_year": firm_payback_year,
    "firm_payback_year_or_after": firm_payback_year_or_after,
    "firm_payback_year_without_village": firm_payback_year_without_village,
    "firm_net_horizon": firm_net_horizon,
}
