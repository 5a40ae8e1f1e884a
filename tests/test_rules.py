"""Tier 1: rule functions, tested without a model."""

from __future__ import annotations

import numpy as np
import pytest

from model.constants import N_DOMAINS, Disability, Domain, Instrument, Status, Step
from model.parameters import PARAMETERS
from model.random_streams import Streams
from model.rules import allocation as alloc
from model.rules import benefit as ben
from model.rules import demography as demo
from model.rules import dynamics as dyn
from model.rules import outcomes as out
from model.rules import problems as prob

P = PARAMETERS.resolve()


def test_streams_depend_only_on_key_uid_year_event():
    s = Streams(123)
    a = s.uniform(np.array([5, 6, 7]), 3, 100)
    b = s.uniform(np.array([7, 5]), 3, 100)  # other order, other company: same draws per uid
    assert a[2] == b[0] and a[0] == b[1]
    assert not np.allclose(s.uniform(np.array([5]), 4, 100), a[0])
    assert not np.allclose(s.uniform(np.array([5]), 3, 101), a[0])
    assert not np.allclose(Streams(124).uniform(np.array([5]), 3, 100), a[0])


def test_streams_are_uniform_and_normal():
    s = Streams(9)
    u = s.uniform(np.arange(200_000), 1, 1)
    assert 0 < u.min() and u.max() < 1
    assert abs(u.mean() - 0.5) < 0.005 and abs(u.var() - 1 / 12) < 0.002
    z = s.normal(np.arange(200_000), 1, 2)
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01


def test_select_within_limits_serves_in_priority_order_and_stops_at_budget():
    priority = np.array([1.0, 5.0, 3.0, 4.0])
    cost = np.array([10.0, 10.0, 10.0, 10.0])
    chosen = alloc.select_within_limits(priority, cost, budget=25.0, capacity=10)
    assert chosen.tolist() == [False, True, False, True]
    assert alloc.select_within_limits(priority, cost, budget=100.0, capacity=1).sum() == 1
    assert not alloc.select_within_limits(priority, cost, budget=0.0, capacity=10).any()


def test_select_within_limits_does_not_let_a_cheaper_case_jump_the_queue():
    chosen = alloc.select_within_limits(np.array([3.0, 2.0, 1.0]), np.array([5.0, 50.0, 1.0]), 20.0, 10)
    assert chosen.tolist() == [True, False, False]


def test_creaming_priority_prefers_high_wage_value_and_short_spells():
    pr = alloc.pwet_priority(np.array([0.9, 0.5, 0.9]), np.array([1.0, 1.0, 8.0]), P)
    assert pr[0] > pr[1] and pr[0] > pr[2]


def test_pwet_instrument_leaves_care_clients_out():
    wage = np.array([0.1, P["wage.care_client_threshold"] - 0.01, 0.6, 0.95])
    got = alloc.pwet_instrument(wage, P)
    assert got.tolist() == [alloc.NONE, alloc.NONE, Instrument.SOCIAL_FIRM, Instrument.MEDIATION]


def test_places_go_in_the_order_the_money_is_spent():
    wants = np.array([True, False, True, True])
    priority = np.array([1.0, 9.0, 3.0, 2.0])
    def placed(free):
        return (alloc.assign_slots(wants, priority, np.zeros(free, dtype=np.int32)) >= 0).tolist()

    # Two places: the two best-ranked who want one, whatever their position in the list.
    assert placed(2) == [False, False, True, True]
    assert not any(placed(0))
    assert placed(10) == wants.tolist()


def test_assign_slots_gives_places_to_the_best_first():
    got = alloc.assign_slots(np.array([True, True, False, True]), np.array([1.0, 3.0, 9.0, 2.0]),
                             np.array([4, 7], dtype=np.int32))
    assert got.tolist() == [alloc.NONE, 4, alloc.NONE, 7]


def test_job_hazard_falls_with_duration_problems_and_low_wage_value():
    base = out.job_hazard(np.array([0.8]), np.array([1.0]), np.array([0.2]), np.array([0.8]), P)
    assert out.job_hazard(np.array([0.8]), np.array([5.0]), np.array([0.2]), np.array([0.8]), P) < base
    assert out.job_hazard(np.array([0.8]), np.array([1.0]), np.array([0.6]), np.array([0.8]), P) < base
    assert out.job_hazard(np.array([0.4]), np.array([1.0]), np.array([0.2]), np.array([0.8]), P) < base


def test_cycle_touches_only_those_close_to_work():
    m = out.cycle_multiplier(8.0, 4.0, 0.5, np.array([False, True]))
    assert m[0] == pytest.approx(0.5**0.5) and m[1] == 1.0


def test_firm_group_effects_follow_the_social_firm_study():
    p = P
    young_long = out.firm_group_multiplier(np.array([25.0]), np.array([3.0]), np.array([False]), p)
    older_disc = out.firm_group_multiplier(np.array([58.0]), np.array([3.0]), np.array([True]), p)
    assert young_long[0] == p["firm.young_long_gain"] > 1
    assert older_disc[0] == p["firm.discrimination_factor"] < 1


def test_psychiatric_dropout_higher_and_guidance_lowers_it():
    d = out.dropout_probability(np.array([Disability.NONE, Disability.PSYCHIATRIC, Disability.PSYCHIATRIC]),
                                np.array([False, False, True]), P)
    assert d[1] > d[0] and d[2] < d[1]


def test_job_loss_falls_with_tenure_and_rises_with_problems_and_low_wage_value():
    """[CBS24] most jobs after benefit end early; problems and a low wage value shorten them (assumption)."""
    year = np.array([1.0])
    first = out.job_loss_probability(np.array([0.0]), year, np.array([0.2]), np.array([0.9]), P)
    assert out.job_loss_probability(np.array([5.0]), year, np.array([0.2]), np.array([0.9]), P) < first
    assert out.job_loss_probability(np.array([0.0]), year, np.array([0.6]), np.array([0.9]), P) > first
    assert out.job_loss_probability(np.array([0.0]), year, np.array([0.2]), np.array([0.4]), P) > first
    half = out.job_loss_probability(np.array([0.0]), np.array([0.5]), np.array([0.2]), np.array([0.9]), P)
    assert 0 < half < first, "a shorter exposure (a hire later in the year) gives a smaller chance"


def test_a_decaying_hazard_integrates_piece_by_piece():
    """The integral over [0, 2] is the integral over [0, 1] plus that over [1, 2]; it tends to the long-run level."""
    whole = out.decaying_hazard_integral(np.array([0.0]), np.array([2.0]), 0.6, 0.1, 0.8)
    parts = (out.decaying_hazard_integral(np.array([0.0]), np.array([1.0]), 0.6, 0.1, 0.8)
             + out.decaying_hazard_integral(np.array([1.0]), np.array([1.0]), 0.6, 0.1, 0.8))
    assert whole == pytest.approx(parts)
    late = out.decaying_hazard_integral(np.array([50.0]), np.array([1.0]), 0.6, 0.1, 0.8)
    assert late == pytest.approx(0.1)
    assert out.decaying_hazard_integral(np.array([3.0]), np.array([1.0]), 0.6, 0.1, 0.0) == pytest.approx(0.6)


def test_returns_from_other_income_fall_with_time_since_it_began():
    """[DIV19] returns come early and level off."""
    early = out.return_probability(np.array([0.0]), np.array([1.0]), P)
    late = out.return_probability(np.array([4.0]), np.array([1.0]), P)
    assert 0 < late < early < 1


def test_lock_in_grows_with_productivity_and_is_curbed_by_monitoring():
    li = out.lock_in_probability(np.array([0.2, 0.9, 0.9]), np.array([False, False, True]), P["firm.lock_in"],
                                 P["desk.lock_in_reduction"])
    assert li[1] > li[0] and li[2] < li[1]


def test_months_in_state_covers_each_case():
    before = np.array([True, True, False, False])
    after = np.array([True, False, True, False])
    m = out.months_in_state(before, after, np.array([12.0, 4.0, 9.0, 6.0]), np.array([2.0, 0.0, 0.0, 0.0]), 12.0)
    assert m.tolist() == [10.0, 4.0, 3.0, 0.0]


def test_severities_rise_with_the_shared_factor():
    eps = np.zeros((2, N_DOMAINS))
    sev = prob.severities(np.array([-1.0, 2.0]), eps, P["problems.baseline_logit"], 1.0, 1.0)
    assert (sev[1] > sev[0]).all() and ((0 < sev) & (sev < 1)).all()


def test_wage_value_falls_with_health_problems():
    sev = np.zeros((2, N_DOMAINS))
    sev[1, Domain.MENTAL] = 0.9
    w = prob.wage_value(sev, 1.0, 1.0, 0.0, np.zeros(2))
    assert w[1] < w[0] <= 1


def test_disability_type_priority():
    sev = np.zeros((3, N_DOMAINS))
    sev[0, [Domain.MENTAL, Domain.INTELLECTUAL]] = 0.8
    sev[1, Domain.MENTAL] = 0.8
    sev[2, Domain.PHYSICAL] = 0.8
    assert prob.disability_type(sev, 0.5).tolist() == [Disability.INTELLECTUAL, Disability.PSYCHIATRIC,
                                                       Disability.PHYSICAL]


def test_participation_step_ladder():
    status = np.array([Status.NOT_IN_SIGHT, Status.BENEFIT_NO_SUPPORT, Status.DAY_ACTIVITIES, Status.TRAJECTORY,
                       Status.SHELTERED_WORK, Status.REGULAR_WORK])
    iso = np.array([0.9, 0.1, 0.9, 0.9, 0.9, 0.9])
    assert prob.participation_step(status, iso, 0.5).tolist() == [Step.ISOLATED, Step.SOCIAL_CONTACTS,
                                                                  Step.ORGANISED_ACTIVITY, Step.UNPAID_WORK,
                                                                  Step.SUPPORTED_WORK, Step.PAID_WORK]


def test_other_members_load_excludes_oneself():
    other, has = dyn.other_members_load(np.array([1, 1, 1, 2]), np.array([0.2, 0.4, 0.9, 0.5]))
    assert other[0] == pytest.approx(0.65) and other[2] == pytest.approx(0.3)
    assert has.tolist() == [True, True, True, False] and other[3] == 0.5


def test_severity_change_work_heals_inactivity_harms_household_spills_over():
    sev = np.full((4, N_DOMAINS), 0.5)
    z = np.zeros(4)
    noise = np.zeros((4, N_DOMAINS))
    working = np.array([True, False, False, False])
    inactive = ~working
    other = np.array([0.5, 0.5, 0.5, 0.9])  # the last one lives with someone much worse off
    new = dyn.severity_change(sev, working, z.astype(bool), z.astype(bool), inactive, np.full(4, 0.5), other, noise, P)
    assert new[0, Domain.MENTAL] < 0.5 < new[1, Domain.MENTAL]
    assert new[3, Domain.DEBTS] > new[1, Domain.DEBTS]
    assert (new[:, Domain.INTELLECTUAL] == 0.5).all()


def test_mortality_rises_with_age_and_stochastic_round_is_unbiased():
    assert demo.mortality(np.array([60.0]), 0.001, 0.09)[0] > demo.mortality(np.array([30.0]), 0.001, 0.09)[0]
    u = Streams(3).uniform(np.arange(20_000), 0, 0)
    assert abs(np.mean([demo.stochastic_round(2.3, x) for x in u]) - 2.3) < 0.02


def test_household_sizes_follow_the_distribution():
    sizes = demo.household_sizes(Streams(1).uniform(np.arange(100_000), 0, 0), [0.5, 0.3, 0.2])
    shares = np.bincount(sizes, minlength=4)[1:] / len(sizes)
    assert np.allclose(shares, [0.5, 0.3, 0.2], atol=0.01)


def test_households_leave_the_social_domain_together():
    leaves = demo.household_leaves(np.array([1, 1, 2, 3, 3]), np.array([True, False, True, True, True]))
    assert leaves.tolist() == [False, False, True, True, True]


def test_coordinated_households_go_first():
    key = alloc.coordinated_first(np.array([5.0, -3.0, 1.0]), np.array([False, True, False]))
    assert np.argmax(key) == 1 and key[0] > key[2]


def test_cost_sharer_norm_follows_article_22a():
    """Named year 2015: 70% of the couple norm alone, 50% each for two, 43.3% each for three adults (art. 22a)."""
    couple = P["benefit.couple_norm"]
    age = np.array([40.0, 40.0, 40.0, 30.0, 19.0])
    household = np.array([0, 1, 1, 2, 2])
    sharers = ben.cost_sharers(household, age, P["benefit.cost_sharer_min_age"])
    assert sharers.tolist() == [1, 2, 2, 1, 1]
    norm = ben.person_norm(age, sharers, P)
    assert norm[0] == pytest.approx(0.70 * couple) and norm[1] == pytest.approx(0.50 * couple)
    assert norm[4] == P["benefit.youth_norm"], "an 18-20-year-old has the youth norm and is no cost-sharer"
    three = ben.person_norm(np.full(3, 30.0), np.full(3, 3.0), P)
    assert three[0] == pytest.approx(1.3 / 3 * couple)
    # A couple with one partner under 21: the youth amount plus half the couple norm = 923.47 (art. 20(1)(c), 2015).
    youth_partner = ben.person_norm(np.array([19.0]), np.array([1.0]), P)[0]
    assert youth_partner + 0.5 * couple == pytest.approx(923.47, abs=0.01)


def test_income_counts_against_the_norm_and_the_safety_net_compensates_large_deficits():
    assert ben.unit_benefit(np.array([1000.0, 1000.0]), np.array([400.0, 1200.0])).tolist() == [600.0, 0.0]
    args = (P["grant.vangnet_threshold"], P["grant.vangnet_full_from"], P["grant.vangnet_partial_share"])
    assert ben.safety_net(50.0, 1000.0, *args) == 0.0
    assert ben.safety_net(100.0, 1000.0, *args) == pytest.approx(0.5 * 25.0)
    assert ben.safety_net(200.0, 1000.0, *args) == pytest.approx(0.5 * 50.0 + 75.0)


def test_the_transformation_desk_keeps_its_households_then_takes_the_heaviest():
    weight = np.array([1.0, 5.0, 3.0, 5.0, 0.0])
    lottery = np.array([0.1, 0.9, 0.2, 0.3, 0.0])
    candidate = np.array([True, True, True, True, False])
    kept = np.array([True, False, False, False, False])
    # Kept first, then the heaviest; never a household no desk knows.
    assert alloc.desk_households(weight, lottery, candidate, kept, 3).tolist() == [True, True, False, True, False]
    # A tie in weight goes to the lower lottery draw.
    assert alloc.desk_households(weight, lottery, candidate, np.zeros(5, bool), 1).tolist() == [
        False, False, False, True, False]
    # A desk whose share fell keeps its heaviest households.
    assert alloc.desk_households(weight, lottery, candidate, candidate, 1).tolist() == [
        False, False, False, True, False]


def test_the_desk_objective_presets_rank_as_named():
    gain = np.array([0.5, 0.5, 0.1])
    benefit = np.array([15000.0, 15000.0, 15000.0])
    subsidy = np.array([0.0, 20000.0, 0.0])  # the second leads to a subsidised job costing more than the benefit
    care = np.array([0.0, 0.0, 30000.0])  # the third's day care ends with a job
    need = np.array([0.2, 0.3, 0.9])
    cost = np.array([1000.0, 1000.0, 1000.0])
    horizon = 2.0
    money = alloc.desk_priority("all-budgets", gain, benefit, subsidy, care, need, cost, horizon)
    assert np.allclose(money, gain * (benefit - subsidy + care) * horizon - cost)
    single = alloc.desk_priority("benefit-savings", gain, benefit, subsidy, care, need, cost, horizon)
    assert np.allclose(single, gain * benefit * horizon - cost)  # neither the subsidy nor the care counts
    assert np.argsort(-money).tolist() == [0, 2, 1] and np.argsort(-single).tolist() == [0, 1, 2]
    first = alloc.desk_priority("need-first", gain, benefit, subsidy, care, need, cost, horizon)
    assert np.argsort(-first).tolist() == [2, 1, 0]
    with pytest.raises(ValueError, match="desk_objective"):
        alloc.desk_priority("cheapest", gain, benefit, subsidy, care, need, cost, horizon)
