"""The report's table of the social firm's business case for the municipality [SR Resultaten point 5].

One row per line of ``analysis/business_case.py`` (horizon totals, EUR thousand, mean over replications),
one column per arm, then the payback year with and without the village channel; the yearly lines are
stored as ``firm_business_case.csv`` next to the page.
"""

from __future__ import annotations

import html

import numpy as np

from analysis import business_case

NOTE = ("What the municipality pays for its social firms (place contracts per stream, paid filled or not, and "
        "guidance per participant) against what the firms' clients save it: the benefit of those who left a firm "
        "trajectory for work, counted every year while they stay in work and in the social domain, at the benefit "
        "they received when they left; the Wmo care of those whose care ended while they held a firm place; the "
        "regular day activities not bought because a work-like place at the firm was granted instead; and the "
        "village channel of [SR] point 1 (older villagers living at home longer), an assumption that enters only "
        "this table (firm.village_wmo_saving, default 0). The savings are gross, as in [SR]: they do not ask whether "
        "a leaver would have found work without the firm. Payback: the first year in which the cumulative net is at "
        "or above zero. The firm's own lines show whether the shop itself covers its costs.")


def _cell(name: str, value: float) -> str:
    if name in business_case.SHARES:
        return f"{value:.2f}"
    if name in ("firm_places_taken", "firm_trajectories_ended", "firm_trajectories_to_work"):
        return f"{value:,.0f}"
    return f"{value / 1000:,.0f}"


def section(page, results) -> None:
    """Add the business-case table (and its yearly CSV) to the report's social-firm section."""
    summary = business_case.summary(results.frame).set_index("arm")
    arms = [a for a in results.arms if a in summary.index]
    if not arms:
        return
    page.add("<h3>The social firm's business case for the municipality</h3>")
    rows, keys = [], []
    for name, label, _ in business_case.LINES:
        unit = "" if name in (*business_case.SHARES, "firm_places_taken", "firm_trajectories_ended",
                              "firm_trajectories_to_work") else " (EUR thousand)"
        average = " (mean of the years)" if name in business_case.SHARES else ""
        rows.append([f"{label}{unit}{average}", *(_cell(name, summary.loc[a, name]) for a in arms)])
        keys.append(name)
    for name, label in (("payback_year", "payback year"),
                        ("payback_year_without_village", "payback year without the village channel")):
        rows.append([label, *(business_case.payback_text(summary.loc[a, name]) for a in arms)])
        keys.append(name)
    page.table("firm-business-case", ["line (horizon total)", *arms], rows, keys,
               data=business_case.yearly(results.frame))
    village = float(results.params.get("firm.village_wmo_saving", 0.0))
    page.para(html.escape(NOTE) + (f" Village channel in this run: EUR {village:,.0f} per open shop a year."
                                   if np.isfinite(village) else ""), "note")
