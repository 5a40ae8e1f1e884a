"""Money as the law counts it: the benefit unit, the entitlement test, grants, Wmo rights, firm contracts."""

from __future__ import annotations

import numpy as np
import pytest

from model import SocialDomainModel, entitlement
from model.constants import WMO_BITS, Desk, Domain, Holder, Instrument, Member, Status
from model.phases import access, allocation, opening, outcomes
from tests.tiny import tiny

SEVERE = 0.9
NEEDS_CARE = {d: SEVERE for d in (Domain.MENTAL, Domain.DEBTS, Domain.ISOLATION, Domain.HOUSEHOLD, Domain.PHYSICAL,
                                   Domain.ADDICTION)}
FOUND = {"access.reach_base": 1.0}


def test_a_person_found_by_outreach_with_a_working_partner_above_the_norm_gets_nothing():
    """Entitlement test (art. 31): the partner's full-time wage is above the couple norm, so no benefit."""
    world = tiny([{"household": 0, "unit": 0, "member": Member.HEAD, "employment": Status.REGULAR_WORK},
                  {"household": 0, "unit": 0, "member": Member.PARTNER, "sev": NEEDS_CARE}], overrides=FOUND)
    access.run(*world.inputs)
    assert world.pop.desk[1] == Desk.PWET, "known now"
    assert not world.pop.on_benefit[1], "but not entitled"
    alone = tiny([{"household": 0, "unit": 0, "sev": NEEDS_CARE}], overrides=FOUND)
    access.run(*alone.inputs)
    assert alone.pop.on_benefit[0], "the same person alone is entitled"


def test_a_third_adult_found_in_a_benefit_household_adds_only_the_cost_sharer_norm():
    """Kostendelersnorm (art. 22a): found, the third adult gets (40 + 30x3)/300 of the couple norm; the couple keeps 100%/3x2."""
    couple = [{"household": 0, "unit": 0, "member": Member.HEAD, "on_benefit": True, "desk": Desk.PWET},
              {"household": 0, "unit": 0, "member": Member.PARTNER, "on_benefit": True, "desk": Desk.PWET}]
    third = {"household": 0, "unit": 2, "member": Member.HOUSEMATE, "age": 30.0, "sev": NEEDS_CARE}
    world = tiny([*couple, third], overrides=FOUND)
    before = world.pop.on_benefit[:3].copy()
    access.run(*world.inputs)
    assert not before[2] and world.pop.on_benefit[2]
    monthly = entitlement.population_benefit(world.pop, world.rows(), world.p)
    norm = world.p["benefit.couple_norm"]
    assert monthly[2] == pytest.approx(1.3 / 3 * norm)
    assert monthly[:2].sum() == pytest.approx(2 * 1.3 / 3 * norm), "the third adult was a cost-sharer all along"
    assert monthly[2] < 0.70 * norm, "less than a single person's own benefit"


def test_a_partners_job_ends_the_couples_benefit_and_the_resident_stays():
    couple = [{"household": 0, "unit": 0, "member": Member.HEAD, "on_benefit": True, "desk": Desk.PWET,
               "wage": 1.0, "provisions": 1 << int(Instrument.MEDIATION)},
              {"household": 0, "unit": 0, "member": Member.PARTNER, "on_benefit": True, "desk": Desk.PWET,
               "wage": 0.1}]
    world = tiny(couple, overrides={"work.base_hazard": 5.0, "benefit.first_year_exit_boost": 3.0,
                                    "benefit.other_exit_rate": 0.0})
    outcomes.run(*world.inputs)
    pop = world.pop
    assert pop.employment[0] == Status.REGULAR_WORK and not pop.on_benefit[1] and pop.alive[1]
    assert "leave_benefit" in world.events()["event"].tolist()
    part_time = tiny(couple, overrides={"work.base_hazard": 5.0, "benefit.first_year_exit_boost": 3.0,
                                        "benefit.other_exit_rate": 0.0, "work.hours_share": 0.5})
    outcomes.run(*part_time.inputs)
    assert part_time.pop.on_benefit[1], "half-time work leaves a top-up for the partner (partial outflow)"


def test_an_empty_contracted_firm_place_is_paid_for():
    world = tiny([{"on_benefit": True, "desk": Desk.PWET, "wage": 0.05}], firm_places=10)
    opening.run(*world.inputs)
    p = world.p
    firm = world.actors.firms[0]
    paid = world.actors.holders[Holder.PWET_PARTICIPATION].spent[Instrument.SOCIAL_FIRM]
    assert paid == pytest.approx(firm.pwet_places * p["firm.place_price"])
    assert world.actors.holders[Holder.WMO].spent[Instrument.DAY_ACTIVITIES_WORKLIKE] == pytest.approx(
        firm.wmo_places * p["wmo.worklike_cost"])
    assert firm.contract_income == pytest.approx(paid + firm.wmo_places * p["wmo.worklike_cost"])


def test_an_eligible_wmo_client_is_served_even_when_the_budget_is_spent():
    world = tiny([{"desk": Desk.WMO, "sev": NEEDS_CARE}])
    wmo = world.actors.holders[Holder.WMO]
    wmo.open_year(0.0, 0.0)
    wmo.commit(1e6)  # the budget is long gone
    allocation.run(*world.inputs)
    assert world.pop.holds(world.rows(), WMO_BITS)[0]
    assert world.year.counts["wmo_granted"] == 1
    assert world.year.support_from[0] == pytest.approx(world.p["wmo.assessment_months"]), "after the assessment"


def test_the_benefit_grant_is_fixed_and_the_safety_net_pays_part_of_a_large_deficit():
    """A grant below the own spending (BUIG set by the state's model) is a deficit; above 7.5% the vangnet pays part."""
    low = SocialDomainModel(inhabitants=6000, years=3, rng=4,
                            params={"grant.buig_factor": 0.6, "grant.subsidy_financing": "fixed"})
    grants = []
    for _ in range(3):
        low.step()
        grants.append(low.indicators["grant_pwet_income"])
    ind = low.indicators
    assert len(set(grants)) == 1, "the grant does not follow the stock"
    deficit = ind["spend_pwet_income"] - ind["budget_pwet_income"]
    assert deficit > 0.075 * ind["budget_pwet_income"]
    assert 0 < ind["vangnet_compensation"] < deficit
    assert ind["own_result_pwet_income"] == pytest.approx(-deficit + ind["vangnet_compensation"])


def test_partners_of_benefit_heads_are_co_claimants_not_second_benefits():
    model = SocialDomainModel(inhabitants=6000, years=1, rng=4, params={"population.partner_share": 1.0})
    pop = model.pop
    rows = pop.alive_rows()
    head_of = {u: r for r, u, m in zip(rows, pop.unit[rows], pop.member[rows], strict=True) if m == Member.HEAD}
    # Partners whose head is still there (after the spin-up some heads have retired, died or moved away).
    partner = (pop.member[rows] == Member.PARTNER) & np.isin(pop.unit[rows], list(head_of))
    heads = np.array([head_of[u] for u in pop.unit[rows][partner]])
    both = pop.on_benefit[heads] & pop.on_benefit[rows[partner]]
    assert both.any()
    units_on = len(np.unique(pop.unit[rows][pop.on_benefit[rows]]))
    assert units_on < pop.on_benefit[rows].sum(), "a couple is one benefit"


@pytest.mark.parametrize(("key", "value", "allowed"), [
    ("benefit.couple_norm", "a lot", "a number from 1,000 to 2,500"),
    ("grant.buig_factor", 3.0, "from 0.5 to 1.5"),
    ("firm.close_after_loss_years", 1.5, "a whole number"),
    ("staff.client_manager_view", "everything", "one of 'work_only'"),
])
def test_a_bad_norm_grant_or_contract_value_is_refused_naming_key_value_and_range(key, value, allowed):
    from model.parameters import ParameterError

    with pytest.raises(ParameterError) as err:
        SocialDomainModel(params={key: value})
    assert key in str(err.value) and repr(value) in str(err.value) and allowed in str(err.value)
