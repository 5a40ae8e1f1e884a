"""Tier 2: each yearly phase on a hand-made population of a few residents (named situations, milliseconds)."""

from __future__ import annotations

import numpy as np
import pytest

from model.constants import WMO_BITS, Desk, Domain, Holder, Instrument, Role, Status
from model.phases import access, accounting, allocation, demography, outcomes, review
from model.rules import problems as prob
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
    contracts = holder.contract_spent.sum()  # the firm places it bought for the year
    assert holder.discretionary_committed - contracts == pytest.approx(starts["amount"].sum())
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
    """Under pooling a care client on benefit in need of Wmo support gets a work-like place at the firm with it [SR][R12]."""
    world = tiny([{"wage": 0.05, "on_benefit": True, "desk": Desk.PWET | Desk.WMO,
                   "sev": {d: SEVERE for d in (Domain.ISOLATION, Domain.MENTAL, Domain.DEBTS, Domain.HOUSEHOLD,
                                               Domain.ADDICTION)}}], share=1.0)
    allocation.run(*world.inputs)
    start = _started(world).loc[[0]]
    assert "day_activities_worklike" in set(start["instrument"])
    assert set(start["payer"]) == {"pooled"}
    assert world.pop.firm[0] == 0
    assert world.actors.holders[Holder.WMO].committed == world.actors.holders[Holder.WMO].contract_spent.sum()


def test_the_wmo_need_test_holds_whoever_grants_the_support():
    """A care client on benefit who is self-reliant enough gets no Wmo support, from the Wmo desk or the pooled desk."""
    for share in (0.0, 1.0):
        world = tiny([{"wage": 0.05, "on_benefit": True, "desk": Desk.PWET | Desk.WMO,
                       "sev": {Domain.ISOLATION: SEVERE}}], share=share)
        assert prob.self_reliance(world.pop.sev[:1])[0] >= world.p["wmo.need_threshold"]
        allocation.run(*world.inputs)
        assert not world.pop.holds(world.rows(), WMO_BITS).any(), f"share {share}"
        assert world.year.counts["wmo_granted"] == 0


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


def _on_other_income(world, row, since):
    """Put a resident on other income since ``since`` (years; the year index is 0), as after an exit from benefit."""
    pop = world.pop
    pop.desk[row] = Desk.PWET
    pop.other_income[row] = True
    pop.other_income_since[row] = since
    pop.left_for_other[row] = True
    pop.left_other_at[row] = since


def test_a_resident_who_left_for_other_income_returns_to_benefit_when_the_hazard_fires():
    """The revolving door [DIV19]: the other income ends, the household is below its norm, a new claim at the P-wet."""
    quiet = {"benefit.return_decay": 0.0}
    world = tiny([{"wage": 0.0}], overrides={**quiet, "benefit.return_hazard": 3.0})
    _on_other_income(world, 0, -0.5)
    assert world.pop.status(world.rows())[0] == Status.OTHER_INCOME
    outcomes.run(*world.inputs)
    pop = world.pop
    assert pop.on_benefit[0] and not pop.other_income[0] and pop.desk[0] & Desk.PWET and pop.spell_years[0] == 0
    assert world.year.moved[0] and 0 <= world.year.month[0] < 12
    counts = world.year.counts
    assert counts["returns_to_benefit"] == 1 and counts["returns_other"] == 1 and counts["returns_other_within_2y"] == 1
    last = world.events().iloc[-1]
    assert last["event"] == "return_to_benefit" and last["status_before"] == "other_income"
    stays = tiny([{"wage": 0.0}], overrides={**quiet, "benefit.return_hazard": 0.0})
    _on_other_income(stays, 0, -0.5)
    outcomes.run(*stays.inputs)
    assert stays.pop.other_income[0] and not stays.pop.on_benefit[0] and stays.year.counts["returns_to_benefit"] == 0


def test_a_return_needs_a_household_below_its_norm():
    """The entitlement test: a partner in full-time work keeps the couple above its norm, so no claim follows."""
    overrides = {"benefit.return_decay": 0.0, "benefit.return_hazard": 3.0,
                 "work.job_loss_base": 0.0, "work.job_loss_long_run": 0.0, "work.hours_share": 1.0}
    couple = [{"household": 0, "unit": 0, "member": 0, "wage": 0.0},
              {"household": 0, "unit": 0, "member": 1, "employment": Status.REGULAR_WORK}]
    world = tiny(couple, overrides=overrides)
    _on_other_income(world, 0, -0.5)
    outcomes.run(*world.inputs)
    assert world.pop.other_income[0] and not world.pop.on_benefit[0]
    assert world.year.counts["returns_to_benefit"] == 0


def test_a_job_of_one_month_is_lost_more_often_than_a_job_of_five_years():
    """Job loss falls with tenure [CBS24]: of 200 new jobs many more end within the year than of 200 old ones."""
    n = 200
    workers = [{"employment": Status.REGULAR_WORK} for _ in range(2 * n)]
    world = tiny(workers, overrides={"work.subsidised_end_rate": 0.0})
    world.pop.years_in_work[:n] = 1 / 12
    world.pop.years_in_work[n: 2 * n] = 5.0
    outcomes.run(*world.inputs)
    lost = world.pop.employment[: 2 * n] < 0
    new, old = lost[:n].sum(), lost[n:].sum()
    assert new > 2 * old > 0
    assert world.year.counts["job_losses"] == new + old


def test_a_hire_in_month_2_can_be_lost_in_the_same_year_and_only_the_months_between_are_off_benefit():
    """A job taken at month 2.6 is exposed for the rest of the year and ends at 3.7; benefit is booked around the job."""
    overrides = {"work.base_hazard": 5.0, "benefit.first_year_exit_boost": 6.0, "work.job_loss_base": 3.0,
                 "work.job_loss_tenure_decay": 0.0, "work.loss_to_benefit_share": 1.0, "benefit.other_exit_rate": 0.0}
    client = [{"wage": 1.0, "on_benefit": True, "desk": Desk.PWET}]
    kept = tiny(client, overrides={**overrides, "work.job_loss_base": 0.0, "work.job_loss_long_run": 0.0}, key=4)
    outcomes.run(*kept.inputs)
    assert kept.pop.employment[0] == Status.REGULAR_WORK and kept.year.counts["hire_year_losses"] == 0
    world = tiny(client, overrides=overrides, key=4)
    world.year.benefit_before = world.pop.on_benefit[: world.pop.n].copy()
    world.year.provisions_before = world.pop.provisions[: world.pop.n].copy()
    outcomes.run(*world.inputs)
    ev = world.events()
    moves = ev[ev["event"].isin(["take_job", "lose_job"])]
    assert moves["event"].tolist() == ["take_job", "lose_job"], "hired and lost in year 1"
    hired, lost = moves["month"].tolist()
    assert 2 < hired < 3 < lost < 12 and world.year.second_month[0] == pytest.approx(lost, abs=1e-4)
    assert world.pop.on_benefit[0] and world.pop.employment[0] == -1
    counts = world.year.counts
    assert counts["hire_year_losses"] == 1 and counts["returns"] == 1 and counts["returns_within_1y"] == 1
    assert counts["work_ends_within_12m"] == 1 and counts["leavers_for_work"] == 1
    accounting.run(*world.inputs)
    yearly = 0.70 * world.p["benefit.couple_norm"] * 12 * world.p["benefit.gross_up"]
    booked = world.actors.holders[Holder.PWET_INCOME].spent[Instrument.BENEFIT]
    assert booked == pytest.approx(yearly * (12 - (lost - hired)) / 12, rel=1e-4)


def test_an_exit_to_other_income_leaves_the_population_only_after_the_return_horizon():
    """Residents on other income age and stay; after benefit.return_horizon_years they leave the social domain [DIV19]."""
    world = tiny([{}, {}], overrides=NO_INFLOW)
    horizon = world.p["benefit.return_horizon_years"]
    _on_other_income(world, 0, -horizon)
    _on_other_income(world, 1, -horizon + 1.0)
    demography.run(*world.inputs)
    assert world.rows().tolist() == [1] and world.pop.age[1] == 41.0
    assert world.year.counts["exit_other_income"] == 1
    assert world.events()["event"].tolist()[-1] == "leave"


def test_under_partitions_a_wmo_guidance_client_can_take_sheltered_work_but_a_day_activity_client_waits():
    """Both laws under partitions: Wmo guidance is no bar to the P-wet's sheltered work; a Wmo day activity is."""
    from model.constants import DAY_BITS

    day = 1 << int(Instrument.DAY_ACTIVITIES)
    band = {"on_benefit": True, "desk": Desk.PWET | Desk.WMO, "wage": 0.2}
    world = tiny([{**band, "provisions": GUIDANCE}, {**band, "provisions": day}], share=0.0, sheltered_places=2)
    rows = world.rows()
    allocation.allocate_sheltered(world.pop, rows, np.zeros(len(rows), bool), world.year, world.funding,
                                  world.actors, world.p)
    assert world.pop.employment[0] == Status.SHELTERED_WORK
    assert world.pop.employment[1] != Status.SHELTERED_WORK and world.pop.holds(rows, DAY_BITS)[1]


def test_beschut_werk_is_an_obligation_up_to_the_places_and_the_greatest_need_goes_first():
    """Pw art. 10b: the places are offered whatever the discretionary money; the lowest wage value in the band first."""
    band = {"on_benefit": True, "desk": Desk.PWET}
    world = tiny([{**band, "wage": 0.25}, {**band, "wage": 0.12}], share=0.0, sheltered_places=1)
    for holder in world.actors.holders.values():
        holder.open_year(0.0, 0.0)  # no money left for anything discretionary
    rows = world.rows()
    allocation.allocate_sheltered(world.pop, rows, np.zeros(len(rows), bool), world.year, world.funding,
                                  world.actors, world.p)
    assert world.pop.employment[1] == Status.SHELTERED_WORK and world.pop.employment[0] != Status.SHELTERED_WORK


def test_on_one_desks_caseload_the_wmo_assessment_comes_before_a_trajectory():
    """Wmo 2015 art. 2.3.2: room for one client at the pooled desk goes to the resident the right requires assessing."""
    needs_care = {d: SEVERE for d in (Domain.MENTAL, Domain.DEBTS, Domain.ISOLATION, Domain.HOUSEHOLD, Domain.ADDICTION)}
    world = tiny([{"wage": 0.95, "on_benefit": True, "desk": Desk.PWET},
                  {"wage": 0.05, "desk": Desk.WMO, "sev": needs_care}], share=1.0, caseload=1)
    allocation.run(*world.inputs)
    assert world.pop.holds(world.rows(), 1 << int(Instrument.GUIDANCE))[1]
    assert world.pop.provisions[0] == 0, "no room left for the trajectory"
