"""Named measures of the [FW19] and [M16] case files (experiments/cases.py reads them from ``MEASURES``).

Each maps a name used as ``measure`` in a case file's claim to ``measure(frame, values) -> float``: ``frame`` is
one run's tidy whole-population frame (year, indicator, value), ``values`` its resolved parameters.
"""

from __future__ import annotations

import pandas as pd

from analysis import validation


def _series(frame: pd.DataFrame, indicator: str) -> pd.Series:
    """One indicator's yearly values, by year."""
    rows = frame[frame["indicator"] == indicator]
    return rows.set_index("year")["value"].sort_index()


def short_term_recipients(frame: pd.DataFrame, values) -> float:
    """Mean yearly number of benefit recipients in [FW19] categories 1-2 (short spells, close to work)."""
    return float((_series(frame, "benefit_category_1") + _series(frame, "benefit_category_2")).mean())


def long_term_recipients(frame: pd.DataFrame, values) -> float:
    """Mean yearly number of benefit recipients in [FW19] categories 3-4 (long-term dependent)."""
    return float(_series(frame, "benefit_long_term").mean())


def sheltered_places_per_wsw_place_left(frame: pd.DataFrame, values) -> float:
    """New sheltered-work places over the run per old Wsw place that left (1/3 under the three-to-one rule) [FW19]."""
    places = _series(frame, "sheltered_places")
    left = float(_series(frame, "wsw_places_left").iloc[-1])
    return float(places.iloc[-1] - places.iloc[0]) / left if left > 0 else 0.0


def wsw_remaining_share(frame: pd.DataFrame, values) -> float:
    """The old Wsw workforce in the last year as a share of the first (no inflow since 2015) [FW19]."""
    workers = _series(frame, "wsw_workers")
    return float(workers.iloc[-1] / workers.iloc[0]) if workers.iloc[0] > 0 else 0.0


def _wide(frame: pd.DataFrame) -> pd.DataFrame:
    """Years by indicators."""
    return frame.pivot_table(index="year", columns="indicator", values="value", aggfunc="first").sort_index()


def benefit_outflow_rate(frame: pd.DataFrame, values) -> float:
    """Yearly outflow from benefit (work, other income, demography) over the stock at the year's start, as validated [FW19]."""
    return validation.outflow_rate(_wide(frame), values["scenario.inhabitants"])


def work_share_of_outflow(frame: pd.DataFrame, values) -> float:
    """Share of the outflow from benefit that goes to paid work, as validated [FW19]."""
    return validation.work_share_of_outflow(_wide(frame), values["scenario.inhabitants"])


MEASURES = {
    "benefit_outflow_rate": benefit_outflow_rate,
    "work_share_of_outflow": work_share_of_outflow,
    "short_term_recipients": short_term_recipients,
    "long_term_recipients": long_term_recipients,
    "sheltered_places_per_wsw_place_left": sheltered_places_per_wsw_place_left,
    "wsw_remaining_share": wsw_remaining_share,
}
