"""A fair comparison: every arm gets the same money, the same budget rule and the same practices.

What the pooled desk changes is configuration of the one allocation pipeline (``model/desks.py``);
with budgets that never bind and the configuration fields made equal, the arms are the same.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from model.budget_holder import BudgetHolder
from model.case_worker import Team
from model.constants import DISCRETIONARY_INSTRUMENTS, Holder, Instrument
from model.desks import POOLING_FIELDS, desks
from model.model import SocialDomainModel
from model.parameters import PARAMETERS
from model.phases import allocation, opening
from tests.tiny import tiny

SMALL = {"inhabitants": 8000, "years": 6}
# The pooled desk configured as the law-based desks, field by field (model/desks.py POOLING_FIELDS but its staff).
POOLED_AS_LAW_DESKS = {"practice.desk_objective": "outflow-chance", "firm.wmo_referral_pooled": 0.1,
                       "desk.pooled_help": "sequential", "desk.pooled_care_to_work": "intake",
                       "desk.lock_in_reduction": 0.0, "desk.pooled_sees": "as-law-desks"}
HOLDERS = [h.name.lower() for h in Holder]
ARMS = [("compartmentalised", 0.0), ("integrated", 1.0), ("gradual", 0.3), ("gradual", 0.5)]
# Indicators of what happens to residents and money, apart from who books it.
OUTCOMES = ("benefit_stock", "outflow_work", "outflow_subsidised_work", "wmo_clients", "new_trajectories",
            "firm_occupied", "care_exits", "job_losses", "spend_instrument_benefit", "spend_instrument_guidance",
            "spend_instrument_social_firm", "spend_instrument_training", "spend_instrument_mediation",
            "spend_instrument_day_activities", "spend_instrument_day_activities_worklike", "spend_instrument_wage_subsidy")


def _run(regime, share=0.0, seed=3, params=None, **kwargs):
    model = SocialDomainModel(regime=regime, pooled_share=share, rng=seed, params=params, **{**SMALL, **kwargs})
    for _ in range(model.years):
        model.step()
    return model.datacollector.get_model_vars_dataframe()


def _law_value(name: str):
    """The law-based desks' value of a configuration field (the P-wet desk's, or the Wmo desk's referral)."""
    law = desks(PARAMETERS.resolve({}))
    return getattr(law["wmo"] if name == "firm_referral" else law["pwet"], name)


def test_the_pooled_desk_differs_from_the_law_based_desks_only_in_the_named_fields():
    found = desks(PARAMETERS.resolve({}))
    pooled = found["pooled"]
    differing = {f.name for f in dataclasses.fields(pooled)
                 if f.name not in ("name", "holder", "laws") and getattr(pooled, f.name) != _law_value(f.name)}
    assert differing == set(POOLING_FIELDS)


def test_with_budgets_that_never_bind_and_equal_desks_the_arms_are_the_same(monkeypatch):
    """Money never binds, caseloads and firm places never bind, the pooled desk configured as the law-based desks.

    Then compartmentalised and integrated funding give the same residents' outcomes and the same spending
    on every instrument; only the staff differ (generalists instead of client managers and consultants).
    With the pooled desk acting as the law-based desks (``POOLED_AS_LAW_DESKS``) the generalist's caseload
    is its only difference, and with caseloads that never bind that is none.
    """
    monkeypatch.setattr(BudgetHolder, "remaining", property(lambda self: np.inf))
    monkeypatch.setattr(Team, "room", lambda self, in_care: 10**9)
    params = {**POOLED_AS_LAW_DESKS, "scenario.social_firm_places": 2000}
    part = _run("compartmentalised", params=params)
    pooled = _run("integrated", params=params)
    for name in OUTCOMES:
        assert np.allclose(part[name], pooled[name]), name
    staff = "spend_instrument_case_management"
    assert np.allclose(part["spend_total"] - part[staff], pooled["spend_total"] - pooled[staff])
    # And each field the pooled desk has by default makes a difference of its own; the objective only ranks,
    # so it matters only where money or caseloads bind (tests/test_rules.py ranks the presets).
    defaults = PARAMETERS.resolve({})
    assert POOLED_AS_LAW_DESKS["firm.wmo_referral_pooled"] == defaults["firm.wmo_referral_partitioned"]
    for key in POOLED_AS_LAW_DESKS:
        if key == "practice.desk_objective":
            continue
        own = _run("integrated", params={**params, key: defaults[key]})
        assert any(not np.allclose(own[name], part[name]) for name in OUTCOMES), key


@pytest.mark.parametrize(("regime", "share"), ARMS)
def test_discretionary_spending_stays_within_the_discretionary_budget(regime, share):
    frame = _run(regime, share)
    one_trajectory = max(PARAMETERS.resolve({})[k] for k in ("pwet.training_cost", "pwet.mediation_cost",
                                                            "pwet.sheltered_cost", "firm.place_price"))
    for h in HOLDERS:
        over = frame[f"discretionary_spend_{h}"] - frame[f"discretionary_budget_{h}"]
        assert (over <= one_trajectory).all(), (h, over.max())


def test_the_discretionary_money_is_the_same_in_every_arm_year_by_year():
    totals = []
    for regime, share in ARMS:
        frame = _run(regime, share)
        totals.append(sum(frame[f"discretionary_budget_{h}"] for h in HOLDERS).to_numpy())
    for other in totals[1:]:
        assert np.allclose(other, totals[0])
    assert totals[0].min() > 0


@pytest.mark.parametrize(("regime", "share"), ARMS)
def test_no_stream_fills_more_firm_places_than_it_bought(regime, share):
    frame = _run(regime, share, inhabitants=20000)
    for h in HOLDERS:
        assert (frame[f"firm_places_filled_{h}"] <= frame[f"firm_places_bought_{h}"]).all(), h
    bought = sum(frame[f"firm_places_bought_{h}"] for h in HOLDERS)
    assert (bought == frame["firm_places"]).all()


def test_rights_never_take_money_from_the_discretionary_instruments():
    """Wmo support granted by the pooled desk is a right: trajectories are bought as if it cost nothing."""
    frame = _run("integrated", 1.0)
    spent = frame["discretionary_spend_pooled"]
    budget = frame["discretionary_budget_pooled"]
    # The pooled desk spends its discretionary money year after year (no first-year spree, then nothing).
    assert (spent >= 0.8 * budget).all()
    assert (frame["new_trajectories"].iloc[1:] > 0.5 * frame["new_trajectories"].iloc[0]).all()


def test_the_pwet_desk_selects_at_the_price_it_then_buys():
    """No firm place left: a firm-trajectory candidate gets training, and is priced at training when selected."""
    clients = [{"wage": 0.6, "on_benefit": True, "desk": 1, "years_out": float(k)} for k in range(6)]
    world = tiny(clients, firm_places=0, caseload=50)
    p = world.p
    holder = world.actors.holders[Holder.PWET_PARTICIPATION]
    budget = 2.5 * p["pwet.training_cost"]
    holder.open_year(budget, budget)
    allocation.run(*world.inputs)
    assert holder.discretionary_committed <= budget
    starts = world.events()
    starts = starts[starts["event"] == "start"]
    assert len(starts) == 2 and set(starts["instrument"]) == {"training"}


def test_the_same_desk_configuration_makes_the_same_decisions():
    """The pooled desk configured as the P-wet and Wmo desks decides as they do, resident by resident."""
    clients = [{"wage": w, "on_benefit": True, "desk": 3, "years_out": y,
                "sev": {1: s, 4: s, 5: s, 7: s, 6: s}} for w, y, s in
               [(0.95, 1.0, 0.1), (0.6, 3.0, 0.9), (0.35, 6.0, 0.9), (0.05, 2.0, 0.9), (0.7, 0.5, 0.2)]]
    decisions = []
    for share in (0.0, 1.0):
        world = tiny(clients, share=share, caseload=50)
        law = world.funding.desks
        fields = {name: getattr(law["wmo"] if name == "firm_referral" else law["pwet"], name)
                  for name in POOLING_FIELDS if name != "role"}
        world.funding.desks = {**law, "pooled": dataclasses.replace(law["pooled"], **fields)}
        allocation.run(*world.inputs)
        ev = world.events()
        decisions.append(sorted(zip(ev["uid"], ev["event"], ev["instrument"], strict=True)))
    assert decisions[0] == decisions[1]


def test_under_the_cap_rule_the_social_domain_lines_share_one_ceiling_rights_first():
    """cap-social-domain: a Wmo right paid above its line takes money from the P-wet's trajectories too, in every arm."""
    world = tiny([{"wage": 0.6, "on_benefit": True, "desk": 1}], overrides={"budget.overrun_rule": "cap-social-domain"})
    holders = world.actors.holders
    for h in holders.values():
        h.set_grant(0.0)
    holders[Holder.PWET_PARTICIPATION].set_grant(100_000.0)
    holders[Holder.WMO].set_grant(50_000.0)
    world.year.index = 1  # the grants stay as set (they are fixed in year 0)
    opening.run(*world.inputs)
    part, wmo = holders[Holder.PWET_PARTICIPATION], holders[Holder.WMO]
    free = part.remaining
    wmo.commit(wmo.budget - wmo.committed + 4_000.0)  # Wmo rights 4,000 above the Wmo line
    assert part.remaining == pytest.approx(free - 4_000.0)
    general = tiny([{"wage": 0.6, "on_benefit": True, "desk": 1}])
    for h in general.actors.holders.values():
        h.set_grant(0.0)
    general.actors.holders[Holder.PWET_PARTICIPATION].set_grant(100_000.0)
    general.year.index = 1
    opening.run(*general.inputs)
    general.actors.holders[Holder.WMO].commit(1e6)
    assert general.actors.holders[Holder.PWET_PARTICIPATION].ceiling is None
    assert general.actors.holders[Holder.PWET_PARTICIPATION].remaining > 0


def test_cut_next_year_takes_last_years_deficit_from_the_reintegration_money():
    world = tiny([{"wage": 0.6, "on_benefit": True, "desk": 1}], overrides={"budget.overrun_rule": "cut-next-year"})
    holders = world.actors.holders
    holders[Holder.PWET_PARTICIPATION].set_grant(100_000.0)
    holders[Holder.WMO].set_grant(50_000.0)
    for h in holders.values():
        h.open_year(0.0, 0.0)
    holders[Holder.WMO].book(np.eye(len(Instrument))[Instrument.GUIDANCE] * 30_000.0)  # a 30,000 deficit
    budgets = opening.year_budgets(holders, world.actors.firms, 0.0, 1, world.p)
    firm_wmo = world.actors.firms[0].wmo_places * world.p["wmo.worklike_cost"]
    assert budgets[Holder.PWET_PARTICIPATION][1] == pytest.approx(100_000.0 - 30_000.0)
    assert budgets[Holder.WMO][1] == pytest.approx(firm_wmo)  # the places are contracted for the year
    pooled = opening.year_budgets(holders, world.actors.firms, 1.0, 1, world.p)
    assert pooled[Holder.POOLED][1] == pytest.approx(100_000.0 - 30_000.0 + firm_wmo)
    general = opening.year_budgets(holders, world.actors.firms, 0.0, 1, {**world.p,
                                                                          "budget.overrun_rule": "general-resources"})
    assert general[Holder.PWET_PARTICIPATION][1] == pytest.approx(100_000.0)


def test_the_buig_follows_realised_subsidy_spending_from_2022_and_is_fixed_before():
    realised = _run("compartmentalised", params={"grant.subsidy_financing": "realised"})
    fixed = _run("compartmentalised", params={"grant.subsidy_financing": "fixed"})
    assert fixed["grant_pwet_income"].nunique() == 1
    factor = PARAMETERS.resolve({})["grant.buig_factor"]
    follows = realised["grant_pwet_income"].iloc[1:].to_numpy() - fixed["grant_pwet_income"].iloc[0]
    subsidy_part = fixed["grant_pwet_income"].iloc[0] - realised["grant_pwet_income"].iloc[0]
    assert subsidy_part == pytest.approx(0.0)  # the first year is the same
    expected = factor * realised["spend_instrument_wage_subsidy"].iloc[:-1].to_numpy()
    start_subsidy = fixed["grant_pwet_income"].iloc[0] - (realised["grant_pwet_income"].iloc[1] - expected[0])
    assert np.allclose(follows + start_subsidy, expected)
    # Euro for euro, whatever the grant factor: from year 2 the grant moves as last year's subsidy spending did.
    scaled = {"grant.subsidy_financing": "realised", "grant.buig_factor": 0.8}
    frame = _run("compartmentalised", params=scaled)
    grant, spent = frame["grant_pwet_income"].to_numpy(), frame["spend_instrument_wage_subsidy"].to_numpy()
    assert np.allclose(np.diff(grant[1:]), np.diff(spent[:-1]))
    assert not np.allclose(np.diff(spent[:-1]), 0.0)


def test_the_transformation_desks_grants_follow_its_clients():
    """Gradual funding: the desk holding three of the four benefit recipients gets three quarters of the participation grant."""
    clients = [{"on_benefit": True, "desk": 1, "desk_draw": draw} for draw in (0.0, 0.0, 0.0, 1.0)]
    for rule, share in (("follows-clients", 0.75), ("share", 0.5)):
        world = tiny(clients, share=0.5, overrides={"desk.gradual_budget": rule})
        holders = world.actors.holders
        holders[Holder.PWET_PARTICIPATION].set_grant(100_000.0)
        holders[Holder.WMO].set_grant(0.0)
        world.year.index = 1
        opening.run(*world.inputs)
        rows = world.rows()
        opening.follow_the_clients(world.pop, rows, world.year.handled(world.pop.desk_draw[rows]), world.year,
                                   world.actors, world.p)
        assert holders[Holder.POOLED].grant == pytest.approx(share * 100_000.0), rule
        assert holders[Holder.PWET_PARTICIPATION].grant == pytest.approx((1 - share) * 100_000.0), rule


def test_discretionary_instruments_are_the_pwet_reintegration_instruments():
    assert set(DISCRETIONARY_INSTRUMENTS) == {Instrument.MEDIATION, Instrument.TRAINING, Instrument.SOCIAL_FIRM}
