"""Tier 2: each yearly phase on a hand-made population of a few residents (named situations, milliseconds)."""

from __future__ import annotations

import numpy as np
import pytest

from model.constants import Desk, Domain, Holder, Instrument, Role, Status
from model.phases import access, accounting, allocation, demography, outcomes, review
from tests.tiny import tiny

MEDIATION = 1 << int(Instrument.MEDIATION)
FIRM_PLACE = 1 << int(Instrument.SOCIAL_FIRM)
GUIDANCE = 1 << int(Instrument.GUIDANCE)
NO_INFLOW = {"inflow.benefit_reports_per_inhabitant": 0.0, "inflow.wmo_per_inhabitant": 0.0,
             "demography.move_rate": 0.0}
SEVERE = 0.9


def _started(world):
    ev = world.events()
    return ev[ev["event"] == "start"].set_index("uid")


def test_the_client_manager_creams_the_client_closest_to_work():
    """Creaming [M16]: with room for two, the two best outflow chances get an instrument; the care client none."""
    world = tiny([{"wage": 0.95, "on_benefit": True, "desk": Desk.PWET},
                  {"wage": 0.6, "on_benefit": True, "desk": Desk.PWET},
                  {"wage": 0.05, "on_benefit": True, "desk": Desk.PWET, "years_out": 0.0}], caseload=2)
    allocation.run(*world.inputs)
    starts = _started(world)
    assert starts.loc[0, "instrument"] == "mediation" and starts.loc[1, "instrument"] == "social_firm"
    assert 2 not in starts.index
    assert set(starts["payer"]) == {"pwet_participation"}
    holder = world.actors.holders[Holder.PWET_PARTICIPATION]
    assert holder.committed == pytest.approx(starts["amount"].sum())
    assert world.actors.teams[Role.CLIENT_MANAGER].workers[0].caseload == 2
    assert world.pop.firm[1] == 0 and world.year.firm_started[1]


def test_a_wmo_client_on_benefit_may_enter_a_pwet_trajectory_under_partitions():
    """Both laws under partitions (tests/test_care_to_work.py has the payers): guidance is no bar to a trajectory."""
    needs_care = {d: SEVERE for d in (Domain.MENTAL, Domain.DEBTS, Domain.ISOLATION, Domain.HOUSEHOLD)}
    world = tiny([{"wage": 0.95, "on_benefit": True, "desk": Desk.PWET | Desk.WMO, "provisions": GUIDANCE,
                   "sev": needs_care}])
    allocation.run(*world.inputs)
    assert world.pop.holds(world.rows(), GUIDANCE).all(), "still a Wmo client"
    assert world.pop.holds(world.rows(), MEDIATION).all()


def test_the_pooled_desk_places_a_care_client_in_worklike_day_activities_at_the_firm():
    """Under pooling a care client on benefit gets a work-like place at the firm, paid by the pooled desk [SR]."""
    world = tiny([{"wage": 0.05, "on_benefit": True, "desk": Desk.PWET | Desk.WMO,
                   "sev": {Domain.ISOLATION: SEVERE}}], share=1.0)
    allocation.run(*world.inputs)
    start = _started(world).loc[[0]]
    assert "day_activities_worklike" in set(start["instrument"])
    assert set(start["payer"]) == {"pooled"}
    assert world.pop.firm[0] == 0
    assert world.actors.holders[Holder.WMO].committed == 0


def test_outreach_brings_a_hidden_resident_in_need_into_sight():
    world = tiny([{"sev": {Domain.MENTAL: SEVERE, Domain.DEBTS: SEVERE, Domain.ISOLATION: SEVERE}}],
                 overrides={"access.reach_base": 1.0})
    access.run(*world.inputs)
    assert world.pop.on_benefit[0] and world.pop.desk[0] == Desk.PWET
    assert world.year.counts["reached"] == 1
    assert world.events()["event"].tolist()[-1] == "come_into_sight"


def test_a_household_intake_finds_the_hidden_member_of_a_known_household():
    """[R12] A household intake sees every member, under any funding; without one, the hidden member stays hidden."""
    hidden = {"household": 0, "sev": {Domain.MENTAL: SEVERE, Domain.ADDICTION: SEVERE, Domain.DEBTS: SEVERE}}
    known = {"household": 0, "on_benefit": True, "desk": Desk.PWET}
    found = {"access.reach_base": 0.0, "practice.outreach": 0.0, "practice.household_intake": 1.0,
             "access.household_find": 1.0}
    partitioned = tiny([known, hidden], share=0.0, overrides=found)
    access.run(*partitioned.inputs)
    assert partitioned.year.counts["found_in_household"] == 1
    # The household intake covers both laws: both members are known to both desks.
    assert partitioned.pop.desk[0] == Desk.PWET | Desk.WMO and partitioned.pop.desk[1] == Desk.PWET | Desk.WMO
    pooled = tiny([known, hidden], share=1.0, overrides={**found, "practice.household_intake": 0.0})
    access.run(*pooled.inputs)
    assert pooled.year.counts["found_in_household"] == 0 and pooled.pop.desk[1] == Desk.NONE
    assert pooled.pop.desk[0] == Desk.PWET  # pooled money alone does not make an intake cover both laws


def test_outreach_is_a_practice_not_a_funding_regime():
    """Outreach reaches a hidden resident in need under partitions too; without it the base reach only."""
    hidden = {"sev": {Domain.MENTAL: SEVERE, Domain.DEBTS: SEVERE, Domain.ISOLATION: SEVERE}}
    reached = tiny([hidden], share=0.0, overrides={"access.reach_base": 0.0, "practice.outreach": 1.0})
    access.run(*reached.inputs)
    assert reached.year.counts["reached"] == 1
    pooled = tiny([hidden], share=1.0, overrides={"access.reach_base": 0.0, "practice.outreach": 0.0})
    access.run(*pooled.inputs)
    assert pooled.year.counts["reached"] == 0


def test_generalist_triage_handles_light_problems_under_partitions():
    """A neighbourhood team's generalist handles one severe blocking problem directly; two are referred on."""
    light = {"on_benefit": True, "desk": Desk.PWET, "sev": {Domain.DEBTS: SEVERE}}
    heavy = {"on_benefit": True, "desk": Desk.PWET, "sev": {Domain.DEBTS: SEVERE, Domain.MENTAL: SEVERE}}
    world = tiny([light, heavy], share=0.0, overrides={"practice.generalist_triage": 1.0,
                                                       "access.refer_from_severe_count": 2})
    world.year.triage_room = 5
    access.run(*world.inputs)
    assert world.year.light.tolist() == [True, False] and world.year.counts["triaged"] == 1
    none = tiny([light], share=0.0, overrides={"practice.generalist_triage": 0.0})
    none.year.triage_room = 5
    access.run(*none.inputs)
    assert not none.year.light.any()


def test_a_client_manager_who_sees_debts_refers_the_client_to_the_wmo():
    """The role's view drives behaviour: a work-only diagnosis refers nobody; a wider view refers a debt problem."""
    client = {"on_benefit": True, "desk": Desk.PWET, "sev": {Domain.DEBTS: SEVERE}}
    overrides = {"pwet.wmo_self_referral": 0.0}
    narrow = tiny([client], overrides=overrides)
    access.run(*narrow.inputs)
    assert narrow.pop.desk[0] == Desk.PWET
    wide = tiny([client], overrides=overrides)
    wide.actors.teams[Role.CLIENT_MANAGER].workers[0].domains_seen = tuple(Domain)
    access.run(*wide.inputs)
    assert wide.pop.desk[0] == Desk.PWET | Desk.WMO


def test_retirement_removes_the_resident_and_its_agent():
    world = tiny([{"age": 66.5, "on_benefit": True, "desk": Desk.PWET}, {"age": 30.0, "on_benefit": True,
                                                                          "desk": Desk.PWET}], overrides=NO_INFLOW)
    demography.run(*world.inputs)
    assert world.rows().tolist() == [1]
    assert world.actors.residents.of(0) is None and len(world.host.agents_by_type[type(world.actors.residents.of(1))]) == 1
    assert world.year.counts["exit_retirement"] == 1 and world.year.counts["benefit_exits_demographic"] == 1
    assert world.events()["event"].tolist()[-1] == "leave"


def test_a_job_ends_benefit_and_trajectory_and_is_dated():
    world = tiny([{"wage": 1.0, "on_benefit": True, "desk": Desk.PWET, "provisions": MEDIATION}],
                 overrides={"work.base_hazard": 5.0, "benefit.first_year_exit_boost": 3.0})
    outcomes.run(*world.inputs)
    pop = world.pop
    assert pop.employment[0] == Status.REGULAR_WORK and not pop.on_benefit[0] and pop.provisions[0] == 0
    assert world.year.moved[0] and 0 <= world.year.month[0] < 12
    assert world.year.counts["outflow_regular_work"] == 1 and world.year.counts["leavers_for_work"] == 1
    assert np.isfinite(pop.left_benefit_at[0])


def test_a_year_on_benefit_is_booked_on_the_income_budget():
    world = tiny([{"on_benefit": True, "desk": Desk.PWET}, {}])
    world.year.benefit_before = world.pop.on_benefit[: world.pop.n].copy()
    world.year.provisions_before = world.pop.provisions[: world.pop.n].copy()
    accounting.run(*world.inputs)
    income = world.actors.holders[Holder.PWET_INCOME]
    single = 0.70 * world.p["benefit.couple_norm"] * 12 * world.p["benefit.gross_up"]  # art. 21(a): 70%, gross
    assert income.spent[Instrument.BENEFIT] == pytest.approx(single)
    assert world.year.resident_cost.tolist() == pytest.approx([single, 0.0])


def test_the_firm_locks_in_a_productive_client_at_the_planned_end():
    """Lock-in [SR]: a firm with full lock-in tendency keeps its most productive client past the end."""
    client = {"wage": 1.0, "on_benefit": True, "desk": Desk.PWET, "provisions": FIRM_PLACE, "firm": 0}
    world = tiny([client], overrides={"firm.lock_in": 1.0})
    world.actors.firms[0].lock_in = 1.0
    world.pop.trajectory_years[0] = world.p["firm.trajectory_years"] - 1
    rows = world.rows()
    review.trajectory_ends(world.pop, rows, np.zeros(1, dtype=bool), world.year, world.funding, world.actors,
                           world.p, world.streams)
    assert world.pop.locked_in[0] and world.pop.holds(rows, FIRM_PLACE)[0]
    assert world.year.counts["lock_ins"] == 1
    no_lock = tiny([client])
    no_lock.actors.firms[0].lock_in = 0.0
    no_lock.pop.trajectory_years[0] = no_lock.p["firm.trajectory_years"] - 1
    review.trajectory_ends(no_lock.pop, rows, np.zeros(1, dtype=bool), no_lock.year, no_lock.funding,
                           no_lock.actors, no_lock.p, no_lock.streams)
    assert not no_lock.pop.holds(rows, FIRM_PLACE)[0] and no_lock.pop.firm[0] == -1
