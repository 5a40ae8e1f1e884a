"""Named measures of the documents' cases: what a claim needs beyond one indicator reduced over the years.

Each is ``measure(frame, values) -> float`` on one run's whole-population rows (year, indicator, value) and
its resolved parameters; ``experiments/cases.py`` lists the modules holding them (``MEASURE_MODULES``).
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import pandas as pd

from model.constants import PER_10K


def _first_year(frame: pd.DataFrame, indicator: str) -> float:
    rows = frame[frame["indicator"] == indicator].sort_values("year")
    return float(rows["value"].iloc[0]) if len(rows) else float("nan")


def per_10k_first_year(indicator: str) -> Callable[[pd.DataFrame, Mapping[str, Any]], float]:
    """The indicator in the first reported year per 10,000 inhabitants (a municipality's own count, scaled)."""

    def measure(frame: pd.DataFrame, values: Mapping[str, Any]) -> float:
        return _first_year(frame, indicator) / values["scenario.inhabitants"] * PER_10K

    measure.__doc__ = f"{indicator} in year 1 per 10,000 inhabitants"
    return measure


MEASURES = {
    "day_or_guidance_per_10k": per_10k_first_year("day_or_guidance_clients"),
    "benefit_stock_per_10k": per_10k_first_year("benefit_stock"),
}
