"""The social firm's business case for the municipality [SR] (model/firm_case.py, analysis/business_case.py).

Its lines add up, its payback year is the first year the cumulative net is >= 0, the village channel enters
only the business case, the full-utilisation lever fills places, both levers at their defaults change
nothing, and the Superrr case file is valid.
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import business_case as bc
from model import firm_case
from model.model import SocialDomainModel
from model.parameters import PARAMETERS, flatten
from model.reporters import INDICATORS

SMALL = {"inhabitants": 5000, "years": 4}
QUICK = {"scenario.spin_up_years": 3}
CASE = Path(__file__).resolve().parents[1] / "experiments" / "scenarios" / "cases" / "superrr.toml"
CONTRACTS = [f"firm_contracts_{h.name.lower()}" for h in firm_case.STREAMS]


def _run(params=None, regime="compartmentalised", seed=5) -> pd.DataFrame:
    model = SocialDomainModel(regime=regime, rng=seed, params={**QUICK, **(params or {})}, **SMALL)
    for _ in range(model.years):
        model.step()
    return model.datacollector.get_model_vars_dataframe()


@pytest.fixture(scope="module")
def default_run() -> pd.DataFrame:
    return _run()


def test_the_lines_add_up(default_run):
    y = default_run
    assert (y["firm_case_cost"] > 0).all()
    np.testing.assert_allclose(y[CONTRACTS].sum(axis=1), y["firm_contract_income"])
    np.testing.assert_allclose(y["firm_case_cost"], y[CONTRACTS].sum(axis=1) + y["firm_guidance_cost"])
    parts = ("firm_case_benefit_saving", "firm_case_care_saving", "firm_case_day_activity_saving",
             "firm_case_village_saving")
    np.testing.assert_allclose(y["firm_case_savings"], y[list(parts)].sum(axis=1))
    np.testing.assert_allclose(y["firm_case_net"], y["firm_case_savings"] - y["firm_case_cost"])
    np.testing.assert_allclose(y["firm_result"], y["firm_contract_income"] + y["firm_sales"] - y["firm_running_costs"])
    guidance = PARAMETERS.get("firm.guidance_hours").value * PARAMETERS.get("wmo.hourly_rate").value
    np.testing.assert_allclose(y["firm_place_years"] * guidance, y["firm_guidance_cost"])
    assert (y["firm_place_years"] <= y["firm_places"] + 1e-9).all()
    np.testing.assert_allclose(y["firm_utilisation_over_year"], y["firm_place_years"] / y["firm_places"])
    # The firm's savings are part of the municipality's: its benefit saving counts the firm's leavers only.
    assert (y["firm_case_benefit_saving"] > 0).any()
    assert (y["firm_case_care_saving"] <= y[["savings_care_wmo", "savings_care_pooled"]].sum(axis=1) + 1e-6).all()
    for name in firm_case.INDICATORS:
        assert name in INDICATORS


def _frame(nets: dict[str, list[list[float]]]) -> pd.DataFrame:
    """A tidy run frame with only the net line: arm -> replications -> yearly nets."""
    rows = []
    for arm, reps in nets.items():
        for rep, values in enumerate(reps):
            for year, v in enumerate(values, 1):
                rows.append({"arm": arm, "replication": rep, "year": year, "indicator": "firm_case_net",
                             "group_by": "all", "group": "all", "value": v})
                rows.append({"arm": arm, "replication": rep, "year": year, "indicator": "firm_case_village_saving",
                             "group_by": "all", "group": "all", "value": 10.0})
    return pd.DataFrame(rows)


def test_payback_is_the_first_year_the_cumulative_net_is_not_negative():
    assert bc.payback_year(pd.Series([-100.0, 50.0, 40.0, 20.0], index=[1, 2, 3, 4])) == 4  # -100, -50, -10, 10
    assert bc.payback_year(pd.Series([-100.0, 100.0, -5.0], index=[1, 2, 3])) == 2  # reaches 0 in year 2
    assert bc.payback_year(pd.Series([5.0, -50.0], index=[1, 2])) == 1
    assert math.isnan(bc.payback_year(pd.Series([-1.0, -1.0], index=[1, 2])))
    assert bc.payback_text(math.nan) == bc.NOT_WITHIN and bc.payback_text(3.0) == "year 3"
    frame = _frame({"today": [[-30.0, -30.0, -30.0], [-10.0, -10.0, -10.0]],
                    "full": [[-30.0, 20.0, 20.0], [-10.0, 20.0, 20.0]]})
    summary = bc.summary(frame).set_index("arm")
    assert math.isnan(summary.loc["today", "payback_year"])
    assert summary.loc["full", "payback_year"] == 2  # mean nets -20, 20, 20: cumulative -20, 0, 20
    assert summary.loc["full", "firm_case_net"] == pytest.approx(20.0)  # summed over the years, mean over reps
    assert math.isnan(summary.loc["full", "payback_year_without_village"])  # nets -30, 10, 10: never >= 0
    yearly = bc.yearly(frame).set_index(["arm", "year"])
    assert yearly.loc[("full", 3), "cumulative_net"] == pytest.approx(20.0)
    assert yearly.loc[("full", 3), "cumulative_net_without_village"] == pytest.approx(-10.0)
    one = frame[(frame["arm"] == "full") & (frame["replication"] == 1)][["year", "indicator", "value"]]
    values = {"scenario.years": 3}
    assert bc.MEASURES["firm_payback_year"](one, values) == 2  # -10, 10
    assert bc.MEASURES["firm_payback_year_without_village"](one, values) == 3  # -20, -10, 0
    never = frame[(frame["arm"] == "today") & (frame["replication"] == 0)][["year", "indicator", "value"]]
    assert math.isnan(bc.MEASURES["firm_payback_year"](never, values))
    assert bc.MEASURES["firm_payback_year_or_after"](never, values) == 4
    assert bc.MEASURES["firm_net_horizon"](never, values) == pytest.approx(-90.0)


def test_the_village_channel_enters_only_the_business_case(default_run):
    amount = 12345.0
    with_village = _run({"firm.village_wmo_saving": amount})
    lines = ("firm_case_village_saving", "firm_case_savings", "firm_case_net")
    rest = [c for c in default_run.columns if c not in lines]
    pd.testing.assert_frame_equal(default_run[rest], with_village[rest])
    assert (default_run["firm_case_village_saving"] == 0).all()
    added = amount * with_village["firms_open"]
    np.testing.assert_allclose(with_village["firm_case_village_saving"], added)
    np.testing.assert_allclose(with_village["firm_case_savings"] - default_run["firm_case_savings"], added)
    np.testing.assert_allclose(with_village["firm_case_net"] - default_run["firm_case_net"], added)


def test_the_fill_target_raises_utilisation_within_the_ledger(default_run):
    full = _run({"firm.fill_target": 1.0})
    assert full["firm_utilisation"].mean() > default_run["firm_utilisation"].mean() + 0.1
    assert full["firm_places_taken"].sum() > default_run["firm_places_taken"].sum()
    for stream in ("pwet_participation", "wmo", "pooled"):  # no stream fills more places than it bought
        assert (full[f"firm_places_filled_{stream}"] <= full[f"firm_places_bought_{stream}"]).all()


def test_the_new_levers_at_their_defaults_change_nothing(default_run):
    assert PARAMETERS.get("firm.fill_target").value == 0.0
    assert PARAMETERS.get("firm.village_wmo_saving").value == 0.0
    explicit = _run({"firm.fill_target": 0.0, "firm.village_wmo_saving": 0.0})
    pd.testing.assert_frame_equal(default_run, explicit)
    integrated = _run(regime="integrated")
    integrated_explicit = _run({"firm.fill_target": 0.0, "firm.village_wmo_saving": 0.0}, regime="integrated")
    pd.testing.assert_frame_equal(integrated, integrated_explicit)


def test_the_superrr_case_file_is_valid():
    doc = tomllib.loads(CASE.read_text())
    case = doc.pop("case")
    overrides = PARAMETERS.validate(flatten(doc, origin=str(CASE)), origin=str(CASE))
    assert overrides["scenario.regime"] == "compartmentalised"
    variants = case["variants"]
    assert {"today", "full"} <= set(variants)
    for name, table in variants.items():
        clean = PARAMETERS.validate(flatten(table, origin=name), origin=name)
        PARAMETERS.resolve({**overrides, **clean}, origin=name)
    assert variants["today"] == {} and variants["full"]["firm.fill_target"] == 1.0
    for claim in case["claims"]:
        assert claim["measure"] in INDICATORS or claim["measure"] in bc.MEASURES, claim["measure"]
        assert claim.get("per") is None or claim["per"] in INDICATORS
        for v in claim.get("contrast", []) + ([claim["variant"]] if "variant" in claim else []):
            assert v in variants
        assert claim["expect"] and set(claim["expect"]) <= {"at_least", "at_most"}
