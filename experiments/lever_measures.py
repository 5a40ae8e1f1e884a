"""Named measures of the [FW19] and [M16] case files, a check of a case file, and a small evaluation of its claims.

``MEASURES`` maps a name used as ``measure`` in a case file's claim to ``measure(frame, values) -> float``:
``frame`` is one run's tidy whole-population frame (year, indicator, value), ``values`` its resolved
parameters. ``check_case`` checks a case file against the parameter set and the indicators;
``evaluate`` runs a case's variants (the same seeds for all) and reports each claim's value, for the
levers' tests and their report (the project's case runner reads the same files).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from analysis import validation
from model.parameters import PARAMETERS, InputError, flatten, read_toml

REDUCERS = ("sum", "mean", "last", "first")
EXPECT_KEYS = ("at_least", "at_most")
CASE_KEYS = ("title", "document", "where", "setting")
CLAIM_KEYS = ("claim", "quote", "where", "measure", "expect", "mechanism")
CASES = Path(__file__).resolve().parent / "scenarios" / "cases"


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


# ------------------------------------------------------------------ a case file
def read_case(path: str | Path) -> tuple[dict, dict, dict]:
    """A case file as (its [case] table, its validated overrides, each variant's validated overrides on top)."""
    tree = read_toml(path, "case file")
    case = tree.pop("case", None)
    if not isinstance(case, dict):
        raise InputError(f"{path}: a case file needs a [case] table")
    base = PARAMETERS.validate(flatten(tree, origin=str(path)), origin=str(path))
    variants = {}
    for name, changes in (case.get("variants") or {"today": {}}).items():
        clean = PARAMETERS.validate(flatten(changes, origin=f"{path} variant {name}"), origin=f"{path} variant {name}")
        variants[name] = {**base, **clean}
    return case, base, variants


def check_case(path: str | Path) -> list[str]:
    """What is wrong with a case file (an empty list when it is sound): keys, variants, measures, expectations."""
    from model.reporters import INDICATORS

    problems = []
    try:
        case, _, variants = read_case(path)
    except InputError as err:
        return [str(err)]
    problems += [f"[case] lacks {k}" for k in CASE_KEYS if not case.get(k)]
    claims = case.get("claims") or []
    if not claims:
        problems.append("no [[case.claims]]")
    for k, claim in enumerate(claims):
        where = f"claim {k + 1}"
        problems += [f"{where} lacks {key}" for key in CLAIM_KEYS if not claim.get(key)]
        for name in (claim.get("measure"), claim.get("per")):
            if name is not None and name not in INDICATORS and name not in MEASURES:
                problems.append(f"{where}: unknown measure {name!r}")
        if claim.get("per") is not None and claim.get("measure") in MEASURES:
            problems.append(f"{where}: 'per' applies to indicators only")
        if claim.get("reduce", "mean") not in REDUCERS:
            problems.append(f"{where}: reduce must be one of {REDUCERS}")
        expect = claim.get("expect") or {}
        if not expect or set(expect) - set(EXPECT_KEYS):
            problems.append(f"{where}: expect takes at_least and/or at_most")
        named = [claim["variant"]] if "variant" in claim else list(claim.get("contrast") or [])
        if ("variant" in claim) == ("contrast" in claim) or (claim.get("contrast") is not None and len(named) != 2):
            problems.append(f"{where}: give a variant or a contrast of two variants")
        problems += [f"{where}: unknown variant {v!r}" for v in named if v not in variants]
    return problems


# ------------------------------------------------------------------ evaluating a case
def _reduce(series: pd.Series, how: str) -> float:
    return float({"sum": series.sum, "mean": series.mean, "last": lambda: series.iloc[-1],
                  "first": lambda: series.iloc[0]}[how]())


def claim_value(claim: dict, frame: pd.DataFrame, values) -> float:
    """One run's value of a claim's measure (reduced over the years; as a ratio when ``per`` is given)."""
    name = claim["measure"]
    if name in MEASURES:
        return MEASURES[name](frame, values)
    how = claim.get("reduce", "mean")
    value = _reduce(_series(frame, name), how)
    if claim.get("per"):
        whole = _reduce(_series(frame, claim["per"]), how)
        return value / whole if whole else float("nan")
    return value


def evaluate(path: str | Path, *, inhabitants: int, years: int, seeds: tuple[int, ...]) -> list[dict]:
    """Run every variant of a case with the same seeds; each claim's value (mean over the seeds) and whether it holds."""
    from model.model import SocialDomainModel

    case, _, variants = read_case(path)
    runs: dict[str, list[tuple[pd.DataFrame, object]]] = {}
    for name, overrides in variants.items():
        runs[name] = []
        for seed in seeds:
            model = SocialDomainModel(params={**overrides, "scenario.inhabitants": inhabitants, "scenario.years": years},
                                      rng=seed, breakdowns=False)
            for _ in range(years):
                model.step()
            tidy = model.tidy()
            runs[name].append((tidy[tidy["group_by"] == "all"], model.p))
    results = []
    for claim in case["claims"]:
        mean = {name: float(np.mean([claim_value(claim, frame, values) for frame, values in pairs]))
                for name, pairs in runs.items()}
        a, b = claim["contrast"] if "contrast" in claim else (claim["variant"], None)
        v = mean[a] - (mean[b] if b is not None else 0.0)
        expect = claim["expect"]
        holds = expect.get("at_least", -np.inf) <= v <= expect.get("at_most", np.inf)
        results.append({"claim": claim["claim"], "value": v, "expect": expect, "holds": bool(holds)})
    return results
