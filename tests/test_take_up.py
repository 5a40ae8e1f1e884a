"""Take-up as behaviour (issue 16, finding 8): a found, entitled household claims, less often for a small top-up.

Anchors: [ISZW21] Inspectie SZW (2021), non-take-up of social assistance on 1 January 2018: 35% of the entitled
households; a quarter of the non-users without income, a third with at most 20% of the norm. [SCP07] SCP (2007),
Geld op de plank: 68% of the households entitled to social assistance as a top-up to other income did not claim it.
"""

from __future__ import annotations

import numpy as np
import pytest

from model import SocialDomainModel, entitlement
from model.constants import Domain, Status
from model.parameters import PARAMETERS
from model.phases import access
from model.reporters import INDICATORS
from model.rules import benefit as ben
from model.year import YearState
from tests.tiny import tiny

SEVERE = 0.9
IN_NEED = {"sev": {Domain.MENTAL: SEVERE, Domain.DEBTS: SEVERE, Domain.ISOLATION: SEVERE}}
PUBLISHED_NON_TAKE_UP = 0.35  # [ISZW21], all entitled households, 1 January 2018
TOLERANCE = 0.10  # as the validation's shares: a national figure against one synthetic municipality


def _value(path):
    return PARAMETERS.get(path).value


def test_the_claim_chance_falls_for_smaller_top_ups_and_keeps_its_published_anchors():
    full, top_up, limit = _value("take_up.full_claim"), _value("take_up.top_up_claim"), _value(
        "take_up.full_benefit_income")
    shares = np.linspace(0.01, 1.0, 100)  # the top-up as a share of the household's norm
    chance = ben.claim_probability(shares, full, top_up, 1.0 - limit)
    assert np.all(np.diff(chance) >= 0)  # never more likely for a smaller top-up
    assert chance[0] < chance[-1]
    assert chance[-1] == pytest.approx(full) and chance[0] == pytest.approx(top_up)
    assert top_up == pytest.approx(1 - 0.68)  # [SCP07]: 68% of the entitled to a top-up do not claim
    assert 1 - full == pytest.approx(57 / (57 + 290), abs=0.01)  # [ISZW21] derived: about 16% with (nearly) no income
    assert limit == pytest.approx(0.2)  # [ISZW21] band: own income at most 20% of the norm


def test_own_income_of_entitled_households_out_of_sight_follows_the_published_bands():
    u_class, u_level = np.meshgrid(np.linspace(0.0005, 0.9995, 1000), np.linspace(0.0005, 0.9995, 50))
    share = ben.own_income_share(u_class.ravel(), u_level.ravel(), _value("take_up.entitled_no_income"),
                                 _value("take_up.entitled_low_income"), _value("take_up.full_benefit_income"))
    assert np.mean(share == 0) == pytest.approx(0.25, abs=0.002)  # a quarter without income
    assert np.mean(share <= 0.2) == pytest.approx((57 + 290) / 490, abs=0.005)  # [ISZW21] derived: 71% at most 20%
    assert share.max() < 1.0  # every non-user stays entitled to at least a top-up


def test_a_small_top_up_found_by_outreach_is_claimed_less_often_than_a_full_benefit():
    """Two single residents out of sight, in need, both reached by outreach every time: one without income
    (a full benefit), one with own income of 80% of the norm (a top-up of 20%). Over 400 fixed seeds the
    household with the small top-up claims about a third as often [ISZW21][SCP07]."""
    claims = np.zeros(2)
    draws = 400
    for key in range(draws):
        world = tiny([IN_NEED, IN_NEED], key=key,
                     overrides={"access.reach_base": 0.0, "practice.outreach": 1.0,
                                "inflow.benefit_reports_per_inhabitant": 0.0})
        pop, rows = world.pop, world.rows()
        norm = entitlement.population_benefit(pop, rows, world.p)[1]
        pop.own_income[rows[1]] = 0.8 * norm
        shares = entitlement.population_top_up_share(pop, rows, world.p)
        assert shares[0] == pytest.approx(1.0) and shares[1] == pytest.approx(0.2)
        access.run(*world.inputs)
        claims += pop.on_benefit[rows]
        declined = int(world.year.counts["declined"])
        assert declined == 2 - int(pop.on_benefit[rows].sum())  # who does not claim stays out of sight
        assert (pop.desk[rows][~pop.on_benefit[rows]] == 0).all()
    rate = claims / draws
    assert rate[1] < rate[0]
    assert rate[0] == pytest.approx(_value("take_up.full_claim"), abs=0.05)
    assert rate[1] == pytest.approx(_value("take_up.top_up_claim"), abs=0.05)


@pytest.fixture(scope="module")
def default_run():
    model = SocialDomainModel(years=5, rng=11)
    while model.running:
        model.step()
    return model


def test_non_take_up_is_an_indicator_within_the_published_range(default_run):
    assert INDICATORS["non_take_up"][0] == "share"
    series = default_run.datacollector.get_model_vars_dataframe()["non_take_up"]
    assert len(series) == 5 and series.notna().all()
    assert abs(series.mean() - PUBLISHED_NON_TAKE_UP) <= TOLERANCE
    ind = default_run.indicators
    assert ind["entitled_not_claiming"] < ind["entitled_units"]
    assert ind["non_take_up"] == pytest.approx(ind["entitled_not_claiming"] / ind["entitled_units"])


def test_residents_out_of_sight_have_own_income_and_claimants_can_hold_top_ups(default_run):
    pop = default_run.pop
    rows = pop.alive_rows()
    hidden = default_run.status_of(rows) == Status.NOT_IN_SIGHT
    assert 0.5 < np.mean(pop.own_income[rows][hidden] > 0) < 0.9  # a quarter of non-users have none [ISZW21]
    on_benefit = pop.on_benefit[rows]
    share = entitlement.population_top_up_share(pop, rows, default_run.p)[on_benefit]
    assert (share < 1 - _value("take_up.full_benefit_income")).any()  # some claim a top-up only
    assert np.median(share) == pytest.approx(1.0)  # most claimants receive a full benefit


def test_a_household_that_declines_a_top_up_declines_it_again_when_found_next_year():
    """Non-take-up is persistent [ISZW21]: the inclination to claim is drawn once, so the same top-up found again is
    declined again, in every world where it was declined the first time."""
    declined_twice = declined_once = 0
    for key in range(60):
        world = tiny([IN_NEED], key=key, overrides={"access.reach_base": 0.0, "practice.outreach": 1.0,
                                                   "inflow.benefit_reports_per_inhabitant": 0.0})
        pop, rows = world.pop, world.rows()
        pop.own_income[rows[0]] = 0.8 * entitlement.population_benefit(pop, rows, world.p)[0]
        access.run(*world.inputs)
        if pop.on_benefit[0]:
            continue
        declined_once += 1
        world.year = YearState(index=1, share=0.0, slack=world.year.slack)
        world.year.track(pop.n)
        access.run(*world.inputs)
        declined_twice += int(not pop.on_benefit[0])
    assert declined_once > 20  # most decline a small top-up [SCP07]
    assert declined_twice == declined_once
