"""Allocation: instruments within budgets and caseloads, by one pipeline that every desk runs.

First the review (``review.py``): planned ends, lock-in, care to work under one desk, care exits. Then
provisions that continue from last year are committed (a right on the rights' side, a discretionary
instrument on the discretionary budget); then sheltered work; then each desk (``model/desks.py``) runs
the same pipeline on its residents: the P-wet desk and the Wmo desk for those outside the
transformation desk, the pooled desk for those inside it. The pipeline: discretionary re-integration
for benefit clients, ranked by the desk's objective and bought within its discretionary budget at the
price then bought [M16]; then Wmo support for those the assessment finds in need, a right granted
whatever the budget, within the room to assess [Wmo 2015 art. 2.3.5].
"""

from __future__ import annotations

import numpy as np

from model import entitlement, levers
from model.constants import (
    BLOCKING_DOMAINS,
    DAY_BITS,
    DISCRETIONARY_INSTRUMENTS,
    GUIDANCE_BIT,
    LUMP_SUM_INSTRUMENTS,
    MONTHS_PER_YEAR,
    TRAJ_BITS,
    WMO_BITS,
    Desk,
    Domain,
    Event,
    Holder,
    Instrument,
    Intake,
    Role,
)
from model.desks import OUTFLOW_CHANCE, DeskConfig
from model.funding import UNPRICED
from model.grouping import unique, unique_inverse
from model.phases import fill_places, opening, pilot, review
from model.rules import allocation as alloc
from model.rules import outcomes as out
from model.rules import problems as prob

HOUSEHOLD_HELP_BIT = 1 << int(Instrument.HOUSEHOLD_HELP)
CARE_A_JOB_ENDS = DAY_BITS | GUIDANCE_BIT  # day activities and guidance stop with work; household help does not
IN_CARE_BITS = {Holder.PWET_PARTICIPATION: TRAJ_BITS, Holder.WMO: WMO_BITS}  # what a law's clients hold


def run(pop, year, funding, actors, p, streams) -> None:
    """Review, continuing contracts, sheltered work, then every desk on its residents."""
    year.benefit_before = pop.on_benefit[: pop.n].copy()
    rows = pop.alive_rows()
    year.benefit_monthly[rows] = entitlement.population_benefit(pop, rows, p)
    handled = year.handled(pop.desk_draw[rows])
    review.trajectory_ends(pop, rows, handled, year, funding, actors, p, streams)
    review.care_to_work(pop, rows, handled, year, funding, p)
    review.care_exits(pop, rows, year, funding, p)
    pilot.run(pop, rows, handled, year, funding, actors, p)  # a practice: a care-to-work pilot under any funding
    if 0.0 < year.share < 1.0:  # the transformation desk's money follows its clients (phases/opening.py)
        opening.follow_the_clients(pop, rows, handled, year, actors, p)
    commit_continuing(pop, rows, handled, funding, actors, year_fraction(pop, rows))
    assign_regie(pop, rows, year, actors, p)  # a practice: regisseurs coordinate under any funding
    allocate_sheltered(pop, rows, handled, year, funding, actors, p)
    desks = funding.desks
    for desk, mine in ((desks["pwet"], ~handled), (desks["wmo"], ~handled), (desks["pooled"], handled)):
        serve(desk, pop, rows[mine], year, funding, actors, p, streams)
    levers.walk_in(pop, rows, handled, year, funding, actors, p, streams)  # practices without an indication [M16]
    levers.volunteering(pop, rows, handled, year, funding, actors, p, streams)
    fill_places.run(pop, rows, year, actors, p)  # a lever, off by default: free firm places to day-activity clients
    year.provisions_before = pop.provisions[: pop.n].copy()
    on_benefit = pop.on_benefit[rows]
    year.add("benefit_stock_at_allocation", on_benefit.sum())
    year.add("benefit_units_at_allocation", len(unique(pop.unit[rows][on_benefit])))
    year.add("reintegration_served", (on_benefit & pop.holds(rows, TRAJ_BITS)).sum())
    for desk, mine in ((desks["pwet"], ~handled), (desks["wmo"], ~handled), (desks["pooled"], handled)):
        actors.teams[desk.role].carry(int(pop.holds(rows[mine], in_care_bits(desk)).sum()))


def year_fraction(pop, rows) -> np.ndarray:
    """Part of the year each resident is present (inflow arrives at its entry month)."""
    return (MONTHS_PER_YEAR - pop.entry_month[rows]) / MONTHS_PER_YEAR


def in_care_bits(desk: DeskConfig) -> int:
    """Provisions that put a resident on this desk's caseload."""
    mask = 0
    for law in desk.laws:
        mask |= IN_CARE_BITS[law]
    return mask


def firm_slots(pop, actors, stream: Holder, mixed: bool = False) -> np.ndarray:
    """Free places a funding stream may fill, as firm indices (one entry per place): bought and not yet filled [SR].

    ``mixed`` (``practice.mixed_places`` any-stream): any free place bought by any stream [M16].
    """
    rows = pop.alive_rows()
    firm = pop.firm[rows]
    mine = pop.place_stream[rows] == stream
    slots = []
    for f in actors.firms:
        at = firm == f.index
        free = (f.free_any(int(at.sum())) if mixed
                else f.free_places(stream, int((at & mine).sum()), int(at.sum())))
        slots.append(np.full(free, f.index, dtype=np.int32))
    return np.concatenate(slots) if slots else np.empty(0, dtype=np.int32)


def start(pop, rows, instruments, year, firm=None, payer=None, amount=0.0) -> None:
    """Start instruments and note who took a social-firm place this year."""
    wmo = (np.left_shift(1, np.asarray(instruments, dtype=np.int64)) & WMO_BITS) != 0  # from the assessment's end
    month = np.where(wmo, np.maximum(pop.entry_month[rows], year.support_from[rows]), pop.entry_month[rows])
    pop.start(rows, instruments, year.index, firm=firm, payer=-1 if payer is None else int(payer), amount=amount,
              month=month)
    if firm is not None:
        year.firm_started[rows[firm >= 0]] = True


def commit_continuing(pop, rows, handled, funding, actors, frac) -> None:
    """Provisions that continue from last year are contracts: their cost for this year is committed first.

    A continuing right (Wmo support) is committed on the rights' side; a continuing discretionary
    instrument (sheltered work, a firm trajectory's guidance) on the discretionary budget.
    """
    for i in Instrument:
        if i in UNPRICED or i in LUMP_SUM_INSTRUMENTS:
            continue  # lump sums were paid when the trajectory started
        held = pop.holds(rows, 1 << int(i))
        if not held.any():
            continue
        amount = held * funding.prices.yearly(i, pop.wage[rows]) * frac
        for h_flag in (False, True):
            sel = handled == h_flag
            actors.holders[funding.payer_of(i, h_flag)].commit(float(amount[sel].sum()),
                                                               discretionary=i in DISCRETIONARY_INSTRUMENTS)


def allocate_sheltered(pop, rows, handled, year, funding, actors, p) -> None:
    """Sheltered work (beschut werk) for those who can work only in a sheltered setting: an obligation up to the places [Pw art. 10b].

    Since 2017 the municipality must offer beschut werk up to the number the state sets (Stb. 2016, 519);
    it is paid whatever the discretionary budget, and those who need the sheltered setting most (the
    lowest wage value in the band) go first.
    """
    free = review.free_sheltered_places(pop, rows, actors)
    if free <= 0:
        return
    wage = pop.wage[rows]
    band = (wage >= p["wage.sheltered_min"]) & (wage < p["wage.subsidy_min"])
    known_pwet = (pop.desk[rows] & Desk.PWET) != 0
    # A Wmo day activity is a bar where leaving it for P-wet work needs a cross-law intake (the desk's care_to_work).
    one_desk = np.where(handled, funding.desks["pooled"].care_to_work == "continue",
                        funding.desks["pwet"].care_to_work == "continue")
    cand = band & (pop.employment[rows] < 0) & pop.on_benefit[rows] & known_pwet & (one_desk | ~pop.holds(rows, DAY_BITS))
    cost = funding.prices[Instrument.SHELTERED_WORK] * year_fraction(pop, rows)
    chosen = np.zeros(len(rows), dtype=bool)
    pick = alloc.select_within_limits(-wage[cand], cost[cand], np.inf, free)  # one count of places for both desks
    if year.trace:
        year.trace.sheltered_queue(year, pop, rows[cand], -wage[cand], cost[cand], free, pick)
    chosen[np.flatnonzero(cand)[pick]] = True
    for h_flag in (False, True):
        holder = actors.holders[funding.payer_of(Instrument.SHELTERED_WORK, h_flag)]
        holder.commit(float(cost[chosen & (handled == h_flag)].sum()))
    review.move_to_sheltered(pop, rows[chosen], year)


def serve(desk: DeskConfig, pop, rows, year, funding, actors, p, streams) -> None:
    """One desk's year: discretionary re-integration for benefit clients, then Wmo support for those in need."""
    if len(rows) == 0:
        return
    team = actors.teams[desk.role]
    room = team.room(int(pop.holds(rows, in_care_bits(desk)).sum()))
    # On one team's caseload the assessments a right requires come first [Wmo 2015 art. 2.3.2].
    assessed = support_candidates(pop, rows, p) if desk.support else np.zeros(len(rows), dtype=bool)
    reserved = min(room, int(assessed.sum()))
    if year.trace and desk.support:
        year.trace.support_sift(year, desk, pop, rows, assessed, p)
    if desk.work:
        room -= allocate_work(desk, pop, rows, room - reserved, year, funding, actors, p)
    if desk.support:
        allocate_support(desk, pop, rows[assessed], room, year, funding, actors, p, streams)


def support_candidates(pop, rows, p) -> np.ndarray:
    """Residents known for a Wmo assessment, not in work, whom it finds in need and who hold no Wmo support yet.

    The need test (self-reliance below ``wmo.need_threshold``) is the same whichever desk assesses.
    """
    sr = pop.self_reliance(rows)
    return (((pop.desk[rows] & Desk.WMO) != 0) & (pop.employment[rows] < 0) & (sr < p["wmo.need_threshold"])
            & ~pop.holds(rows, WMO_BITS))


def allocate_work(desk: DeskConfig, pop, rows, room, year, funding, actors, p) -> int:
    """Re-integration instruments for benefit clients known to the P-wet, by the desk's ranking, within its discretionary budget.

    The instrument follows distance to work (``rules/allocation.pwet_instrument``); a firm trajectory
    needs one of the places the desk's stream bought, and who gets those follows the same order the
    money is spent in, so each candidate is priced at what is then bought (training when no place is
    left). A Wmo day-activity client is a candidate once a cross-law intake took place. Returns the
    number of residents taken on.
    """
    team = actors.teams[desk.role]
    known = (pop.desk[rows] & Desk.PWET) != 0
    listed = (pop.intake[rows] == Intake.TAKEN) & pop.holds(rows, DAY_BITS)
    no_activity = ~pop.holds(rows, TRAJ_BITS | DAY_BITS)
    cand = known & pop.on_benefit[rows] & (pop.employment[rows] < 0) & (no_activity | listed)
    instr = alloc.pwet_instrument(pop.wage[rows], p)
    cand &= (instr != alloc.NONE) & team.deployable(instr)
    if year.trace:
        year.trace.work_sift(year, desk, pop, rows, cand, instr, team, p)
    idx = np.flatnonzero(cand)
    if len(idx) == 0:
        return 0
    r, instr = rows[idx], instr[idx]
    frac = year_fraction(pop, r)
    prices = funding.prices
    priority = alloc.coordinated_first(work_priority(desk, pop, r, instr, year, funding, p), year.regie[r])
    slots = firm_slots(pop, actors, desk.holder, p["practice.mixed_places"] == "any-stream")
    wants = instr == Instrument.SOCIAL_FIRM
    firm = alloc.assign_slots(wants, priority, slots)  # places go in the order the money is spent
    instr = np.where(wants & (firm < 0), Instrument.TRAINING, instr).astype(np.int8)
    amount = prices[instr] * prices.charged(instr, frac)
    holder = actors.holders[desk.holder]
    chosen = holder.select(priority, amount, room)
    if year.trace:  # before the choice is committed: ``remaining`` is the money the queue was bought within
        year.trace.work_queue(year, desk, pop, r, instr, priority, amount, holder.remaining, room, chosen, year.regie[r],
                              wants & (firm < 0))
    r, instr, amount, firm = r[chosen], instr[chosen], amount[chosen], firm[chosen]
    moving = pop.intake[r] == Intake.TAKEN
    year.add("new_traj_wmo_clients", pop.holds(r, WMO_BITS).sum())
    year.add("care_to_work", moving.sum())
    pop.end(r[moving], DAY_BITS, year.index)  # the Wmo place ends as the P-wet trajectory starts
    holder.commit(float(amount.sum()), discretionary=True)
    start(pop, r, instr, year, firm, desk.holder, amount)
    year.add("new_traj", len(r))
    return len(r)


def work_priority(desk: DeskConfig, pop, r, instr, year, funding, p) -> np.ndarray:
    """The desk's ranking of candidates for a re-integration instrument.

    outflow-chance: a client manager's single-domain view (wage value, time out) [M16]; a money objective
    (``practice.desk_objective``): the expected money across the budgets, every candidate valued alike [SR].
    """
    wage = pop.wage[r]
    if desk.objective == OUTFLOW_CHANCE:
        return alloc.pwet_priority(wage, pop.years_out[r], p)
    prices = funding.prices
    benefit = entitlement.yearly_cost(year.benefit_monthly[r], p)
    # The job it leads to is subsidised below the regular wage value; what that costs the municipality
    # follows the BUIG's financing rule (refunded the next year when the grant follows realised spending).
    netted = 1.0 if p["grant.subsidy_financing"] == "fixed" else 0.0
    subsidy = np.where(wage < p["wage.regular_min"], prices.yearly(Instrument.WAGE_SUBSIDY, wage), 0.0) * netted
    care = prices.provision_cost(pop.provisions[r] & np.uint16(CARE_A_JOB_ENDS), wage)
    gain = job_chance_gain(pop, r, instr, year, p)
    # What the whole planned trajectory costs, not this year's part of it: a late arrival is not cheaper [M16].
    cost = prices[instr] * np.where(np.isin(instr, LUMP_SUM_INSTRUMENTS), 1.0, p["firm.trajectory_years"])
    need = 1.0 - pop.self_reliance(r)
    return alloc.desk_priority(desk.objective, gain, benefit, subsidy, care, need, cost, p["desk.saving_horizon_years"])


def job_chance_gain(pop, r, instr, year, p) -> np.ndarray:
    """Expected gain in the yearly chance of a job from the instrument (0 below the wage value at which any job is possible)."""
    wage = pop.wage[r]
    base = out.job_hazard(wage, pop.years_out[r], pop.load[r], pop.motivation[r], p)
    mult = np.select([instr == Instrument.MEDIATION, instr == Instrument.SOCIAL_FIRM, instr == Instrument.TRAINING],
                     [p["work.mediation_effect"], p["work.trajectory_effect"], p["work.training_effect"]], 1.0)
    addressed = pop.holds(r, GUIDANCE_BIT) | year.regie[r] | year.light[r]
    blocking = prob.count_severe(pop.sev[r], BLOCKING_DOMAINS, p["problems.severe_threshold"])
    penalty = out.unaddressed_multiplier(np.where(addressed, 0, blocking), p["work.unaddressed_penalty"])
    gain = out.hazard_to_probability(base * mult * penalty) - out.hazard_to_probability(base * penalty)
    return np.where(wage >= p["wage.subsidy_min"], gain, 0.0)


def wmo_package(pop, rows, day_allowed: np.ndarray, team, p, light=None) -> tuple[np.ndarray, np.ndarray]:
    """Wmo package from what the assessing worker's view sees: guidance, household help, day activities [M16].

    A light problem a generalist handles directly (``light``) needs no guidance [R12].
    """
    sev = pop.sev[rows]
    severe = p["problems.severe_threshold"]
    guidance = prob.count_severe(sev, team.seen(BLOCKING_DOMAINS), severe) > 0
    if light is not None:
        guidance &= ~light
    help_ = (sev[:, Domain.PHYSICAL] >= severe) & team.sees(Domain.PHYSICAL)
    isolated = (sev[:, Domain.ISOLATION] >= severe) & team.sees(Domain.ISOLATION)
    day = day_allowed & (isolated | ~(guidance | help_))
    guidance |= ~(day | help_)
    support = (guidance * GUIDANCE_BIT | help_ * HOUSEHOLD_HELP_BIT).astype(np.uint16)
    return support, day


def allocate_support(desk: DeskConfig, pop, r, room, year, funding, actors, p, streams) -> None:
    """Wmo support for residents the assessment finds in need (``r``, from ``support_candidates``): a right, granted whatever the budget, within the room to assess [Wmo 2015 art. 2.3.5].

    With parallel help a care client on benefit also gets a day activity in the same package [R12]; a day
    activity goes to a social firm with the desk's referral chance, on a place its stream bought [SR].
    """
    if len(r) == 0:
        return
    team = actors.teams[desk.role]
    day_allowed = ~pop.holds(r, TRAJ_BITS)
    support, day = wmo_package(pop, r, day_allowed, team, p, year.light[r])
    if desk.parallel_help:
        care_client = pop.on_benefit[r] & (pop.wage[r] < p["wage.care_client_threshold"])
        day |= day_allowed & care_client
    frac = assessed_fraction(pop, r, year, p)
    prices = funding.prices
    cost = (prices.provision_cost(support, pop.wage[r]) + day * prices[Instrument.DAY_ACTIVITIES]) * frac
    need = 1.0 - pop.self_reliance(r)
    holder = actors.holders[desk.holder]
    priority = alloc.coordinated_first(need, year.regie[r])
    chosen = holder.select(priority, cost, room, entitled=True)
    if year.trace:
        year.trace.support_queue(year, desk, pop, r, support, day, priority, cost, room, chosen, year.regie[r])
    year.add("wmo_waiting", (~chosen).sum())
    r, support, day, priority, frac = r[chosen], support[chosen], day[chosen], priority[chosen], frac[chosen]
    refer = day & (streams.uniform(pop.uid[r], year.index, Event.FIRM_REFERRAL) < desk.firm_referral)
    slots = firm_slots(pop, actors, desk.holder, p["practice.mixed_places"] == "any-stream")
    firm = alloc.assign_slots(refer, priority, slots)
    day_instr = np.where(firm >= 0, Instrument.DAY_ACTIVITIES_WORKLIKE, Instrument.DAY_ACTIVITIES)
    grant_support(pop, r, support, year, p, desk.holder)
    amount = (prices.provision_cost(support, pop.wage[r]) + day * prices[day_instr]) * frac
    start(pop, r[day], day_instr[day].astype(np.int8), year, firm[day], desk.holder, (prices[day_instr] * frac)[day])
    holder.commit(float(amount.sum()))


def assessed_fraction(pop, rows, year, p) -> np.ndarray:
    """Part of the year Wmo support granted now is held: from the assessment, which takes time [Wmo 2015 art. 2.3.2]."""
    begins = np.minimum(pop.entry_month[rows] + p["wmo.assessment_months"], MONTHS_PER_YEAR)
    return (MONTHS_PER_YEAR - begins) / MONTHS_PER_YEAR


def grant_support(pop, rows, support, year, p, payer) -> None:
    """Grant Wmo support from the month its assessment ends; the wait is an output."""
    begins = np.minimum(pop.entry_month[rows] + p["wmo.assessment_months"], MONTHS_PER_YEAR)
    year.support_from[rows] = begins
    year.add("wmo_granted", len(rows))
    year.add("wmo_wait_months", (begins - pop.entry_month[rows]).sum())
    pop.grant(rows, support, year.index, payer=payer, month=begins)


def assign_regie(pop, rows, year, actors, p) -> None:
    """Regisseurs coordinate the heaviest known multi-problem households, up to their caseload [R12].

    A practice under any funding: coordinated households go first in every desk's queue (a mandate);
    only a pooled desk can also pay across the laws for them.
    """
    team = actors.teams[Role.REGISSEUR]
    cap = team.capacity()
    if cap == 0 or len(rows) == 0:
        return
    domains = team.seen(tuple(Domain)[1:])
    known = pop.desk[rows] != Desk.NONE
    severe = prob.count_severe(pop.sev[rows], domains, p["problems.severe_threshold"]) * known
    hh, inv = unique_inverse(pop.household[rows])
    per_hh = np.bincount(inv, weights=severe)
    mp = np.flatnonzero(per_hh >= p["problems.multi_problem_count"])
    chosen_hh = mp[np.argsort(-per_hh[mp], kind="stable")][:cap]
    coordinated = rows[np.isin(inv, chosen_hh) & known]
    if year.trace:
        year.trace.regie(year, pop, rows, inv, per_hh, chosen_hh, cap, known, p)
    year.regie[coordinated] = True
    year.add("coordinated", len(coordinated))
    team.carry(len(chosen_hh))

