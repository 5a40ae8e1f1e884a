"""Tier 3b: determinism, the gradual identities, the regime switch and common random numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from model import SocialDomainModel
from model.constants import Holder
from model.parameters import PARAMETERS, ParameterError
from tests.conftest import run_model


def tidy(**kwargs) -> pd.DataFrame:
    return run_model(years=5, **kwargs).tidy()


def test_same_seed_same_results():
    pd.testing.assert_frame_equal(tidy(regime="integrated", rng=21), tidy(regime="integrated", rng=21))


def test_other_seed_other_results():
    a, b = tidy(rng=21), tidy(rng=22)
    assert not a["value"].equals(b["value"])


@pytest.mark.parametrize(("share", "regime"), [(0.0, "compartmentalised"), (1.0, "integrated")])
def test_gradual_endpoints_reproduce_the_pure_regimes(share, regime):
    pd.testing.assert_frame_equal(tidy(regime="gradual", pooled_share=share, rng=4), tidy(regime=regime, rng=4))


def test_gradual_middle_differs_from_both_ends_and_splits_the_budget():
    model = run_model(years=3, regime="gradual", pooled_share=0.3, rng=4)
    ind = model.indicators
    assert ind["pooled_share"] == 0.3
    assert ind["spend_pooled"] > 0 and ind["spend_pwet_participation"] > 0 and ind["spend_wmo"] > 0
    assert model.holders[Holder.POOLED].budget < model.holders[Holder.PWET_PARTICIPATION].budget * 3


def test_regime_switch_takes_effect_from_the_named_year():
    """'From year 4' means year 4: three years compartmentalised, then pooled (the yearly rows are years 1 to 6)."""
    switched = run_model(years=6, regime="integrated", from_year=4, rng=8)
    pure = run_model(years=6, regime="compartmentalised", rng=8)
    a = switched.datacollector.get_model_vars_dataframe()
    b = pure.datacollector.get_model_vars_dataframe()
    assert a["pooled_share"].tolist() == [0, 0, 0, 1, 1, 1]
    assert (a["spend_pooled"].iloc[:3] == 0).all() and (a["spend_pooled"].iloc[3:] > 0).all()
    # Before the switch both runs are the same municipality with the same luck.
    pd.testing.assert_frame_equal(a.iloc[:3], b.iloc[:3])
    assert not a.iloc[3:].equals(b.iloc[3:])


def test_set_regime_mid_run_switches_from_the_next_year():
    model = SocialDomainModel(inhabitants=6000, years=4, rng=8)
    model.step()
    model.set_regime("integrated")
    model.step()
    assert model.indicators["pooled_share"] == 1.0
    reference = run_model(years=2, regime="integrated", from_year=2, rng=8)
    assert model.indicators == reference.indicators


def test_common_random_numbers_give_each_resident_the_same_start_and_inflow():
    a = SocialDomainModel(regime="compartmentalised", inhabitants=6000, rng=30)
    b = SocialDomainModel(regime="integrated", inhabitants=6000, rng=30)
    n = a.pop.n
    assert n == b.pop.n
    for field in ("uid", "age", "sev", "wage", "motivation", "household", "on_benefit"):
        assert np.array_equal(getattr(a.pop, field)[:n], getattr(b.pop, field)[:n]), field
    a.step()
    b.step()
    # Inflow in year 1 is the same people with the same profiles, whatever the regime did.
    new_a = a.pop.uid[n:a.pop.n]
    new_b = b.pop.uid[n:b.pop.n]
    assert np.array_equal(new_a, new_b) and len(new_a) > 0
    assert np.array_equal(a.pop.motivation[n:a.pop.n], b.pop.motivation[n:b.pop.n])


def test_set_regime_is_recorded_in_the_parameters_that_ran():
    """A manifest written after a mid-run switch says what ran: regime, share and the year it took effect."""
    model = SocialDomainModel(inhabitants=6000, years=4, rng=8)
    model.step()
    model.step()
    model.set_regime("gradual", pooled_share=0.4)
    assert model.p["scenario.regime"] == "gradual"
    assert model.p["scenario.pooled_share"] == 0.4
    assert model.p["scenario.from_year"] == 3  # two years ran: the switch takes effect in year 3
    model.step()
    assert model.indicators["pooled_share"] == 0.4
    with pytest.raises(ValueError, match="scenario.pooled_share"):
        model.set_regime("gradual", pooled_share=1.5)
    assert model.p["scenario.pooled_share"] == 0.4


def test_the_transformation_desk_takes_the_households_with_the_most_problems():
    """Gradual funding is a desk with its own rule [SR], not a lottery: its households carry more severe problems."""
    from model.constants import Domain
    from model.rules import problems as prob

    model = run_model(years=2, regime="gradual", pooled_share=0.2, inhabitants=10000)
    pop, rows = model.pop, model.pop.alive_rows()
    known = pop.desk[rows] != 0
    handled = model.year_state.handled(pop.desk_draw[rows])
    severe = prob.count_severe(pop.sev[rows], tuple(Domain)[1:], model.p["problems.severe_threshold"])
    assert handled.any()
    assert severe[handled].mean() > 1.5 * severe[known & ~handled].mean()
    households = np.unique(pop.household[rows][known])
    assert np.isclose(len(np.unique(pop.household[rows][handled])), 0.2 * len(households), rtol=0.1)


def test_the_old_switch_year_key_is_refused_with_what_to_write_instead():
    with pytest.raises(ParameterError, match=r"'scenario.switch_year' .*no longer used: write 'scenario.from_year'"):
        PARAMETERS.resolve({"scenario.switch_year": 2})


def test_from_year_after_the_horizon_means_never_and_one_further_is_refused():
    never = run_model(years=3, regime="integrated", from_year=4, rng=8)
    assert never.datacollector.get_model_vars_dataframe()["pooled_share"].tolist() == [0, 0, 0]
    with pytest.raises(ParameterError, match=r"from_year' = 5 is after the horizon .* allowed 1 to 4"):
        SocialDomainModel(years=3, from_year=5)
