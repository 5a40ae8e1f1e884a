"""Named situations: the participation ladder, wage value that follows practice and health, and the care-to-work route.

A care client in work-like day activities at a social firm whose health improves reaches the
subsidy band; under pooling the place continues as a firm trajectory without a new intake, under
partitions the same resident is referred to a P-wet intake and waits for it [BK18][FW19][SR].
"""

from __future__ import annotations

import numpy as np
import pytest

from model.constants import (
    DAY_BITS,
    WORKLIKE_BIT,
    Desk,
    Domain,
    Holder,
    Instrument,
    Intake,
    Status,
    Step,
)
from model.phases import access, allocation, dynamics
from model.population import Population
from model.rules import dynamics as dyn
from model.rules import problems as prob
from model.year import YearState
from tests.tiny import tiny

FIRM_PLACE = 1 << int(Instrument.SOCIAL_FIRM)
MEDIATION = 1 << int(Instrument.MEDIATION)
GUIDANCE = 1 << int(Instrument.GUIDANCE)
QUIET = {"dynamics.noise_sd": 0.0, "firm.wmo_referral_partitioned": 0.0}
# An LVB client at the firm [SR]: a lasting severe problem keeps the Wmo place (no care exit).
LVB_AT_FIRM = {"wage": 0.24, "on_benefit": True, "desk": Desk.PWET | Desk.WMO, "provisions": WORKLIKE_BIT,
               "firm": 0, "years_out": 6.0,
               "sev": {Domain.INTELLECTUAL: 0.9, Domain.MENTAL: 0.7, Domain.ISOLATION: 0.7, Domain.PHYSICAL: 0.4}}


def _next_year(world, index: int) -> None:
    """Open year ``index`` of a tiny world: a fresh year state and budgets, as the model's opening does."""
    world.year = YearState(index=index, share=world.year.share, slack=world.year.slack)
    world.year.track(world.pop.n)
    for holder in world.actors.holders.values():
        holder.open_year(1e9, 1e9)


def _year(world, index: int) -> None:
    """Dynamics, access and allocation of one year (outcomes are left out: no job or drop-out draws)."""
    _next_year(world, index)
    dynamics.run(*world.inputs)
    access.run(*world.inputs)
    allocation.run(*world.inputs)


def _events(world, kind: str):
    ev = world.events()
    return ev[ev["event"] == kind]


# ---------------------------------------------------------------- rules
def test_wage_value_grows_in_worklike_day_activities_holds_in_other_ones_and_erodes_when_inactive():
    world = tiny([{}])
    p = world.p
    sev = np.zeros((4, len(Domain)))
    wage = np.full(4, 0.2)
    no = np.zeros(4, dtype=bool)
    working, worklike, day = no.copy(), no.copy(), no.copy()
    working[0] = True
    worklike[1] = day[1] = True
    day[2] = True
    new = dyn.wage_value_change(wage, sev, sev, working, no, worklike, day, p)
    assert new.tolist() == pytest.approx([0.2 + p["wage.learning"], 0.2 + p["wage.learning_worklike"], 0.2,
                                          0.2 - p["wage.decay"]])
    assert new[0] > new[1] > new[2] > new[3], "work-like day activities build more than recreational ones"


def test_wage_value_follows_health_along_the_slope_of_the_initial_profile():
    world = tiny([{}])
    p = world.p
    old = np.zeros((1, len(Domain)))
    old[0, Domain.MENTAL] = 0.8
    better = old.copy()
    better[0, Domain.MENTAL] = 0.4
    no = np.zeros(1, dtype=bool)
    wage = np.array([0.2])
    gained = dyn.wage_value_change(wage, old, better, no, no, no, no, p) - dyn.wage_value_change(
        wage, old, old, no, no, no, no, p)
    expected = p["wage.health_tracking"] * p["wage.severity_weight"] * 0.4 / len(dyn.WAGE_DOMAINS)
    assert gained[0] == pytest.approx(expected)


def test_the_ladder_moves_up_with_activity_down_with_inactivity_and_work_sets_it():
    level = np.array([Step.UNPAID_WORK, Step.SOCIAL_CONTACTS, Step.PAID_WORK, Step.SOCIAL_CONTACTS], dtype=np.int8)
    step = np.array([Step.SOCIAL_CONTACTS, Step.ORGANISED_ACTIVITY, Step.SOCIAL_CONTACTS, Step.PAID_WORK])
    employed = np.array([False, False, True, False])
    moved = dyn.ladder_move(step, level, employed, np.ones(4), 1.0, np.zeros(4))
    # Up one step towards what activity sustains; down one without it; work sets the step; out of work at most 4.
    assert moved.tolist() == [Step.ORGANISED_ACTIVITY, Step.SOCIAL_CONTACTS, Step.PAID_WORK, Step.ORGANISED_ACTIVITY]
    stays = dyn.ladder_move(step, level, employed, np.zeros(4), 0.0, np.full(4, 0.5))
    assert stays.tolist()[:2] == step.tolist()[:2], "no move when the draw says no"


def test_worklike_day_activities_sustain_a_higher_step_than_recreational_ones():
    status = np.full(2, Status.DAY_ACTIVITIES)
    label = prob.participation_step(status, np.zeros(2), 0.5)
    level = dyn.ladder_level(label, status, np.array([True, False]), np.zeros(2, dtype=bool))
    assert level.tolist() == [Step.UNPAID_WORK, Step.ORGANISED_ACTIVITY]


def test_guidance_brings_an_isolated_resident_to_social_contacts():
    status = np.full(2, Status.GUIDANCE_ONLY)
    label = prob.participation_step(status, np.ones(2), 0.5)
    level = dyn.ladder_level(label, status, np.zeros(2, dtype=bool), np.array([True, False]))
    assert level.tolist() == [Step.SOCIAL_CONTACTS, Step.ISOLATED]


# ---------------------------------------------------------------- the ladder as state
def test_the_yearly_review_places_new_residents_and_moves_the_others_with_events():
    """Day activities move a resident up, inactivity moves one down; each move is an event and a counter."""
    overrides = {**QUIET, "ladder.up_worklike": 1.0, "ladder.down_inactive": 1.0}
    world = tiny([{"provisions": WORKLIKE_BIT, "firm": 0, "on_benefit": True, "desk": Desk.PWET | Desk.WMO},
                  {"on_benefit": True, "desk": Desk.PWET},
                  {"employment": Status.REGULAR_WORK}], overrides=overrides)
    dynamics.review_ladder(world.pop, world.rows(), world.year, world.p, world.streams)
    assert world.pop.step[:3].tolist() == [Step.UNPAID_WORK, Step.SOCIAL_CONTACTS, Step.PAID_WORK]
    assert world.year.counts["ladder_moves_up"] == 0, "a first placement is no move"
    world.pop.step[:2] = [Step.SOCIAL_CONTACTS, Step.ORGANISED_ACTIVITY]  # as a year earlier
    _next_year(world, 1)
    dynamics.review_ladder(world.pop, world.rows(), world.year, world.p, world.streams)
    assert world.pop.step[:2].tolist() == [Step.ORGANISED_ACTIVITY, Step.SOCIAL_CONTACTS]
    assert world.year.counts["ladder_moves_up"] == 1 and world.year.counts["ladder_moves_down"] == 1
    assert _events(world, "step_up")["uid"].tolist() == [0]
    assert _events(world, "step_down")["step"].tolist() == [Step.SOCIAL_CONTACTS]


# ---------------------------------------------------------------- care to work
def _until_ready(share: float, overrides: dict | None = None):
    """Run a tiny world with the LVB client at the firm until its wage value reaches the subsidy band."""
    world = tiny([LVB_AT_FIRM], share=share, overrides={**QUIET, **(overrides or {})}, sheltered_places=0)
    start_wage = world.pop.wage[0]
    assert start_wage < world.p["wage.subsidy_min"]
    for index in range(12):
        before = world.pop.holds(world.rows(), WORKLIKE_BIT)[0]
        _year(world, index)
        if world.pop.wage[0] >= world.p["wage.subsidy_min"] and world.pop.step[0] >= world.p["ladder.ready_step"]:
            assert before, "still in work-like day activities when the band was reached"
            return world, index
    raise AssertionError("the client never reached the subsidy band")


def test_under_pooling_a_care_client_whose_health_improves_continues_at_the_firm_without_a_new_intake():
    world, ready_year = _until_ready(share=1.0)
    assert world.pop.sev[0, Domain.MENTAL] < LVB_AT_FIRM["sev"][Domain.MENTAL], "health improved"
    assert world.pop.holds(world.rows(), FIRM_PLACE)[0] and not world.pop.holds(world.rows(), DAY_BITS)[0]
    assert world.pop.firm[0] == 0, "the same place"
    start = _events(world, "start")
    moved = start[(start["instrument"] == "social_firm")]
    assert moved["year"].tolist() == [ready_year + 1] and moved["payer"].tolist() == ["pooled"]
    assert _events(world, "referral").empty and _events(world, "intake").empty and _events(world, "join_desk").empty
    assert world.year.counts["care_to_work"] == 1 and world.year.counts["new_traj"] == 1


def test_under_partitions_the_same_client_is_referred_and_waits_for_a_pwet_intake():
    pooled, ready_year = _until_ready(share=1.0)
    world = tiny([LVB_AT_FIRM], share=0.0, overrides={**QUIET, "pwet.cross_law_intake_prob": 1.0}, sheltered_places=0)
    for index in range(ready_year + 1):
        _year(world, index)
    pop = world.pop
    assert pop.wage[0] == pytest.approx(pooled.pop.wage[0]), "common random numbers: the same resident"
    assert pop.holds(world.rows(), WORKLIKE_BIT)[0] and not pop.holds(world.rows(), FIRM_PLACE)[0]
    assert pop.intake[0] == Intake.WAITING
    referral = _events(world, "referral")
    assert referral["year"].tolist() == [ready_year + 1]
    months = world.p["pwet.cross_law_intake_months"]
    assert pop.intake_due[0] == pytest.approx(ready_year + (referral["month"].iloc[0] + months) / 12, abs=1e-5)
    assert pop.intake_due[0] > ready_year, "not before the next yearly allocation"
    assert world.year.counts["cross_law_referrals"] == 1 and world.year.counts["care_to_work"] == 0


def test_under_partitions_after_the_intake_the_client_manager_offers_a_trajectory_paid_by_the_pwet():
    """Closer to work (wage value 0.45): referred, the intake takes place next year, the Wmo place ends as the trajectory starts."""
    client = {**LVB_AT_FIRM, "wage": 0.45}
    overrides = {**QUIET, "pwet.cross_law_intake_prob": 1.0, "pwet.cross_law_fall_through": 0.0}
    world = tiny([client], share=0.0, overrides=overrides, sheltered_places=0)
    world.pop.step[0] = Step.UNPAID_WORK
    _year(world, 0)
    assert world.pop.intake[0] == Intake.WAITING and world.pop.holds(world.rows(), WORKLIKE_BIT)[0]
    _year(world, 1)
    assert world.year.counts["cross_law_intakes"] == 1 and world.year.counts["care_to_work"] == 1
    assert not world.pop.holds(world.rows(), DAY_BITS)[0]
    start = _events(world, "start")
    traj = start[start["instrument"].isin(["social_firm", "training"])]
    assert traj["year"].tolist() == [2] and traj["payer"].tolist() == ["pwet_participation"]
    assert _events(world, "intake")["year"].tolist() == [2]
    assert world.pop.intake[0] == Intake.NONE


def test_under_partitions_a_referral_can_fall_through_and_the_client_stays_in_day_activities():
    client = {**LVB_AT_FIRM, "wage": 0.45}
    overrides = {**QUIET, "pwet.cross_law_intake_prob": 1.0, "pwet.cross_law_fall_through": 1.0}
    world = tiny([client], share=0.0, overrides=overrides, sheltered_places=0)
    world.pop.step[0] = Step.UNPAID_WORK
    _year(world, 0)
    _year(world, 1)
    assert world.year.counts["cross_law_fell_through"] == 1 and world.year.counts["care_to_work"] == 0
    assert world.pop.holds(world.rows(), WORKLIKE_BIT)[0]
    assert _events(world, "fell_through")["year"].tolist() == [2]


# ---------------------------------------------------------------- both laws under partitions
def test_a_wmo_client_on_benefit_gets_a_pwet_trajectory_and_each_law_pays_its_own():
    """Sequential help through separate desks [R12]: the client manager pays the trajectory, the Wmo the guidance."""
    needs_care = {d: 0.9 for d in (Domain.MENTAL, Domain.DEBTS, Domain.ISOLATION, Domain.HOUSEHOLD)}
    world = tiny([{"wage": 0.95, "on_benefit": True, "desk": Desk.PWET | Desk.WMO, "provisions": GUIDANCE,
                   "sev": needs_care}])
    allocation.run(*world.inputs)
    assert world.pop.holds(world.rows(), GUIDANCE)[0] and world.pop.holds(world.rows(), MEDIATION)[0]
    start = _events(world, "start").set_index("instrument")
    assert start.loc["mediation", "payer"] == "pwet_participation"
    assert world.year.counts["new_traj_wmo_clients"] == 1
    assert world.funding.payer_of(Instrument.GUIDANCE, False) == Holder.WMO
    assert world.funding.payer_of(Instrument.MEDIATION, False) == Holder.PWET_PARTICIPATION


# ---------------------------------------------------------------- the population's transitions
def _pop_at_firm(n: int = 2) -> Population:
    pop = Population(capacity=2)
    pop.enter({"uid": np.arange(n), "household": np.arange(n), "on_benefit": np.ones(n, dtype=bool),
               "desk": np.full(n, Desk.PWET | Desk.WMO)}, year=0)
    pop.start(np.arange(n), np.full(n, Instrument.DAY_ACTIVITIES_WORKLIKE), year=0, firm=np.full(n, 3))
    return pop


def test_continuing_at_the_firm_swaps_the_instrument_and_keeps_the_place():
    pop = _pop_at_firm(1)
    pop.trajectory_years[0] = 2.0
    pop.continue_at_firm(np.array([0]), year=4, payer=Holder.POOLED)
    assert pop.provisions[0] == FIRM_PLACE and pop.firm[0] == 3
    assert pop.trajectory_years[0] == 0 and pop.activity_start_year[0] == 4
    ev = pop.events.frame()
    start, lapse = ev.iloc[-2], ev.iloc[-1]
    assert (start["event"], start["instrument"], start["status_after"]) == ("start", "social_firm", "trajectory")
    # The work-like day activity's spell closes right after it (docs/events.md).
    assert (lapse["event"], lapse["instrument"], lapse["status_before"]) == ("lapse", "day_activities_worklike",
                                                                             "trajectory")
    assert lapse["instrument_spell"] == ev.loc[ev["event"] == "start", "instrument_spell"].iloc[0]


def test_a_pending_intake_lapses_with_the_day_activity_and_steps_are_recorded():
    pop = _pop_at_firm(2)
    rows = np.array([0, 1])
    pop.refer_to_intake(rows, np.array([1.5, 1.5]), year=0, month=np.array([3.0, 4.0]))
    pop.end(rows[:1], DAY_BITS, year=1)
    assert pop.intake[rows].tolist() == [Intake.NONE, Intake.WAITING] and np.isnan(pop.intake_due[0])
    pop.take_intake(rows[1:], Desk.PWET, year=2)
    assert pop.intake[1] == Intake.TAKEN
    pop.place_on_ladder(rows, np.array([Step.ORGANISED_ACTIVITY, Step.ORGANISED_ACTIVITY]))
    pop.move_on_ladder(rows, np.array([Step.UNPAID_WORK, Step.SOCIAL_CONTACTS]), year=2)
    ev = pop.events.frame()
    assert ev["event"].tolist()[-3:] == ["intake", "step_up", "step_down"]
    assert ev["step"].tolist()[-2:] == [Step.UNPAID_WORK, Step.SOCIAL_CONTACTS]


def test_a_benefit_client_in_a_trajectory_gets_wmo_guidance_through_a_separate_wmo_intake():
    """Under partitions the benefit client applies to the Wmo; the Wmo pays the guidance, the trajectory stays the P-wet's."""
    problems = {d: 0.9 for d in (Domain.MENTAL, Domain.DEBTS, Domain.ISOLATION, Domain.HOUSEHOLD, Domain.ADDICTION)}
    world = tiny([{"wage": 0.6, "on_benefit": True, "desk": Desk.PWET, "provisions": FIRM_PLACE, "firm": 0,
                   "sev": problems}], overrides={"pwet.wmo_self_referral": 1.0})
    access.run(*world.inputs)
    assert world.pop.desk[0] == Desk.PWET | Desk.WMO and _events(world, "join_desk")["uid"].tolist() == [0]
    allocation.run(*world.inputs)
    assert world.pop.holds(world.rows(), GUIDANCE)[0] and world.pop.holds(world.rows(), FIRM_PLACE)[0]
    assert _events(world, "start").set_index("instrument").loc["guidance", "payer"] == "wmo"
    assert not world.pop.holds(world.rows(), DAY_BITS)[0], "no day activities beside a trajectory"


def test_with_a_transformation_desk_its_residents_continue_and_the_others_need_an_intake():
    """Gradual (share 0.5): the desk's resident continues at the firm, the law-based desks' resident is referred."""
    ready = {**LVB_AT_FIRM, "wage": 0.45}
    overrides = {**QUIET, "pwet.cross_law_intake_prob": 1.0}
    world = tiny([{**ready, "desk_draw": 0.2}, {**ready, "desk_draw": 0.8}], share=0.5, overrides=overrides,
                 sheltered_places=0)
    world.pop.step[:2] = Step.UNPAID_WORK
    _year(world, 0)
    assert world.pop.holds(world.rows(), FIRM_PLACE).tolist() == [True, False]
    assert world.pop.intake[:2].tolist() == [Intake.NONE, Intake.WAITING]
    assert world.year.counts["care_to_work"] == 1 and world.year.counts["cross_law_referrals"] == 1
