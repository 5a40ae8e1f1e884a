"""The report's table of the social firm's business case for the municipality (the ZonMw buurtsupers report's results, point 5).

One row per line of ``analysis/business_case.py`` (horizon totals, EUR thousand, mean over replications),
one column per arm, then the payback year with and without the village channel; the yearly lines are
stored as ``firm_business_case.csv`` next to the page.
"""

from __future__ import annotations

import html

import numpy as np

from analysis import business_case
from analysis.i18n import Translator
from analysis.report.words import ENGLISH, SOURCES, arm_name, minus, percent, persons, sources_in_words

NOTE = ("What the municipality pays for its social firms (place contracts per stream, paid filled or not, and "
        "guidance per participant) against what the firms' clients save it: the benefit of those who left a firm "
        "trajectory for work, counted every year while they stay in work and in the social domain, at the benefit "
        "they received when they left; the Wmo care of those whose care ended while they held a firm place; the "
        "regular day activities not bought because a work-like place at the firm was granted instead; and the "
        "village channel of the buurtsupers report's point 1 (older villagers living at home longer), an assumption that "
        "enters only this table (its value is 0 unless the scenario sets it). The savings are gross, as in that "
        "report ({source}): they do not ask whether "
        "a leaver would have found work without the firm. Payback: the first year in which the cumulative net is at "
        "or above zero. The firm's own lines show whether the shop itself covers its costs.")


def _cell(name: str, value: float, t: Translator = ENGLISH) -> str:
    if name in business_case.SHARES:
        return percent(value, t)
    if name in ("firm_places_taken", "firm_trajectories_ended", "firm_trajectories_to_work"):
        return persons(value, t)
    return minus(t.number(value / 1000))


def _payback(year: float, t: Translator) -> str:
    return t("not within the horizon") if not np.isfinite(year) else t("year {year}").format(year=int(year))


def section(page, results, t: Translator = ENGLISH) -> None:
    """Add the business-case table (and its yearly CSV) to the report's social-firm section."""
    summary = business_case.summary(results.frame).set_index("arm")
    arms = [a for a in results.arms if a in summary.index]
    if not arms:
        return
    title = t("The social firm's business case for the municipality")
    page.add(f"<h3>{html.escape(title)}</h3>")
    rows, keys = [], []
    for name, label, _ in business_case.LINES:
        unit = "" if name in (*business_case.SHARES, "firm_places_taken", "firm_trajectories_ended",
                              "firm_trajectories_to_work") else " " + t("(EUR thousand)")
        average = " " + t("(mean of the years)") if name in business_case.SHARES else ""
        rows.append([f"{sources_in_words(t(label), t)}{unit}{average}", *(_cell(name, summary.loc[a, name], t) for a in arms)])
        keys.append(name)
    for name, label in (("payback_year", "payback year"),
                        ("payback_year_without_village", "payback year without the village channel")):
        rows.append([t(label), *(_payback(summary.loc[a, name], t) for a in arms)])
        keys.append(name)
    page.table("firm-business-case", [t("line (horizon total)"), *(arm_name(a, t) for a in arms)], rows, keys,
               data=business_case.yearly(results.frame))
    village = float(results.params.get("firm.village_wmo_saving", 0.0))
    page.para(html.escape(t(NOTE).format(source=t(SOURCES["SR"]))) + (
        " " + html.escape(t("Village channel in this run: {amount} per open shop a year.").format(
            amount=t.money(village))) if np.isfinite(village) else ""), "note")
