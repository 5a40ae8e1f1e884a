"""Allocation: instruments within budgets and caseloads.

First the review (``review.py``): planned ends, lock-in, care to work under pooling, care exits. Then provisions that continue
from last year are committed as contracts; then sheltered work; then, for residents of the
law-based desks, the P-wet (creaming by outflow chance [M16]) and the Wmo (by need [M16]); then,
for residents of the pooled desk, one household package across both laws [R12][SR].
"""

from __future__ import annotations

import numpy as np

from model import entitlement
from model.constants import (
    ACTIVITY_BITS,
    BLOCKING_DOMAINS,
    DAY_BITS,
    DAY_INSTRUMENTS,
    FIRM_INSTRUMENTS,
    GUIDANCE_BIT,
    LUMP_SUM_INSTRUMENTS,
    MONTHS_PER_YEAR,
    TRAJ_BITS,
    TRAJECTORY_INSTRUMENTS,
    WMO_BITS,
    Desk,
    Domain,
    Event,
    Holder,
    Instrument,
    Intake,
    Role,
)
from model.funding import UNPRICED
from model.phases import review
from model.rules import allocation as alloc
from model.rules import outcomes as out
from model.rules import problems as prob

FIRM_PAID_BY = {Holder.PWET_PARTICIPATION: 1 << int(Instrument.SOCIAL_FIRM),
                Holder.WMO: 1 << int(Instrument.DAY_ACTIVITIES_WORKLIKE)}
HOUSEHOLD_HELP_BIT = 1 << int(Instrument.HOUSEHOLD_HELP)
CARE_A_JOB_ENDS = DAY_BITS | GUIDANCE_BIT  # day activities and guidance stop with work; household help does not


def run(pop, year, funding, actors, p, streams) -> None:
    """Review, continuing contracts, sheltered work, then the law-based desks and the pooled desk."""
    year.benefit_before = pop.on_benefit[: pop.n].copy()
    rows = pop.alive_rows()
    year.benefit_monthly[rows] = entitlement.population_benefit(pop, rows, p)
    handled = year.handled(pop.desk_draw[rows])
    review.trajectory_ends(pop, rows, handled, year, funding, actors, p, streams)
    review.care_to_work(pop, rows, handled, year, funding, p)
    review.care_exits(pop, rows, year, funding, p)
    commit_continuing(pop, rows, handled, funding, actors, year_fraction(pop, rows))
    assign_regie(pop, rows, year, actors, p)  # a practice: regisseurs coordinate under any funding
    allocate_sheltered(pop, rows, handled, year, funding, actors, p)
    allocate_pwet(pop, rows[~handled], year, funding, actors, p)
    allocate_wmo(pop, rows[~handled], year, funding, actors, p, streams)
    allocate_integrated(pop, rows[handled], year, funding, actors, p, streams)
    year.provisions_before = pop.provisions[: pop.n].copy()
    on_benefit = pop.on_benefit[rows]
    year.add("benefit_stock_at_allocation", on_benefit.sum())
    year.add("benefit_units_at_allocation", len(np.unique(pop.unit[rows][on_benefit])))
    year.add("reintegration_served", (on_benefit & pop.holds(rows, TRAJ_BITS)).sum())
    _carry_caseloads(pop, rows, handled, actors)


def year_fraction(pop, rows) -> np.ndarray:
    """Part of the year each resident is present (inflow arrives at its entry month)."""
    return (MONTHS_PER_YEAR - pop.entry_month[rows]) / MONTHS_PER_YEAR


def _carry_caseloads(pop, rows, handled, actors) -> None:
    """Each role's workers carry the clients in care with them after allocation."""
    teams = actors.teams
    teams[Role.CLIENT_MANAGER].carry(int((~handled & pop.holds(rows, TRAJ_BITS)).sum()))
    teams[Role.WMO_CONSULTANT].carry(int((~handled & pop.holds(rows, WMO_BITS)).sum()))
    teams[Role.GENERALIST].carry(int((handled & pop.holds(rows, ACTIVITY_BITS | WMO_BITS)).sum()))


def firm_slots(pop, year, actors, stream: Holder | None) -> np.ndarray:
    """Free places as a list of firm indices (one entry per free place) that a funding stream may fill [SR]."""
    rows = pop.alive_rows()
    firm = pop.firm[rows]
    partitioned = ~year.handled(pop.desk_draw[rows])
    paid = pop.holds(rows, FIRM_PAID_BY[stream]) & partitioned if stream in FIRM_PAID_BY else None
    slots = []
    for f in actors.firms:
        at = firm == f.index
        free = f.free_places(stream, int(at.sum()), int((at & paid).sum()) if paid is not None else 0)
        slots.append(np.full(free, f.index, dtype=np.int32))
    return np.concatenate(slots) if slots else np.empty(0, dtype=np.int32)


def start(pop, rows, instruments, year, firm=None, payer=None, amount=0.0) -> None:
    """Start instruments and note who took a social-firm place this year."""
    pop.start(rows, instruments, year.index, firm=firm, payer=-1 if payer is None else int(payer), amount=amount)
    if firm is not None:
        year.firm_started[rows[firm >= 0]] = True


def commit_continuing(pop, rows, handled, funding, actors, frac) -> None:
    """Provisions that continue from last year are contracts: their cost for this year is committed first."""
    for i in Instrument:
        if i in UNPRICED or i in LUMP_SUM_INSTRUMENTS:
            continue  # lump sums were paid when the trajectory started
        held = pop.holds(rows, 1 << int(i))
        if not held.any():
            continue
        amount = held * funding.prices.yearly(i, pop.wage[rows]) * frac
        for h_flag in (False, True):
            sel = handled == h_flag
            actors.holders[funding.payer_of(i, h_flag)].commit(float(amount[sel].sum()))


def allocate_sheltered(pop, rows, handled, year, funding, actors, p) -> None:
    """Sheltered work (beschut werk) for those who can work only in a sheltered setting, while places last."""
    free = review.free_sheltered_places(pop, rows, actors)
    if free <= 0:
        return
    wage = pop.wage[rows]
    band = (wage >= p["wage.sheltered_min"]) & (wage < p["wage.subsidy_min"])
    known_pwet = (pop.desk[rows] & Desk.PWET) != 0
    # Wmo guidance or help is no bar under partitions (each law pays its own); a Wmo day activity is,
    # as for a trajectory: leaving it for P-wet work needs a cross-law intake.
    no_day = ~pop.holds(rows, DAY_BITS)
    cand = band & (pop.employment[rows] < 0) & pop.on_benefit[rows] & known_pwet & (handled | no_day)
    cost = funding.prices[Instrument.SHELTERED_WORK] * year_fraction(pop, rows)
    chosen = np.zeros(len(rows), dtype=bool)
    for h_flag in (False, True):
        sel = cand & (handled == h_flag)
        holder = actors.holders[funding.payer_of(Instrument.SHELTERED_WORK, h_flag)]
        pick = alloc.select_within_limits(wage[sel], cost[sel], holder.remaining, free - int(chosen.sum()))
        idx = np.flatnonzero(sel)[pick]
        chosen[idx] = True
        holder.commit(float(cost[idx].sum()))
    review.move_to_sheltered(pop, rows[chosen], year)


def allocate_pwet(pop, rows, year, funding, actors, p) -> None:
    """Partitioned P-wet: client managers serve benefit clients known to them, Wmo clients too, best outflow chance first [M16]."""
    team = actors.teams[Role.CLIENT_MANAGER]
    room = team.room(int(pop.holds(rows, TRAJ_BITS).sum()))
    known = (pop.desk[rows] & Desk.PWET) != 0
    # Wmo guidance or household help is no bar: each law's desk serves its own clients and pays its own
    # instruments. A day activity and a trajectory are not held at once: a Wmo day-activity client
    # is a candidate only after a cross-law intake (access._cross_law_intakes).
    listed = (pop.intake[rows] == Intake.TAKEN) & pop.holds(rows, DAY_BITS)
    cand = known & pop.on_benefit[rows] & (pop.employment[rows] < 0) & (~pop.holds(rows, ACTIVITY_BITS) | listed)
    instr = alloc.pwet_instrument(pop.wage[rows], p)
    cand &= (instr != alloc.NONE) & team.deployable(instr)
    idx = np.flatnonzero(cand)
    if len(idx) == 0:
        return
    r, instr = rows[idx], instr[idx]
    frac = year_fraction(pop, r)
    priority = alloc.coordinated_first(alloc.pwet_priority(pop.wage[r], pop.years_out[r], p), year.regie[r])
    holder = actors.holders[Holder.PWET_PARTICIPATION]
    prices = funding.prices
    chosen = holder.select(priority, prices[instr] * prices.charged(instr, frac), room)
    r, instr, priority, frac = r[chosen], instr[chosen], priority[chosen], frac[chosen]
    moving = pop.intake[r] == Intake.TAKEN
    year.add("new_traj_wmo_clients", pop.holds(r, WMO_BITS).sum())
    year.add("care_to_work", moving.sum())
    pop.end(r[moving], DAY_BITS, year.index)  # the Wmo place ends as the P-wet trajectory starts
    wants = instr == Instrument.SOCIAL_FIRM
    firm = alloc.assign_slots(wants, priority, firm_slots(pop, year, actors, Holder.PWET_PARTICIPATION))
    instr = np.where(wants & (firm < 0), Instrument.TRAINING, instr).astype(np.int8)
    amount = prices[instr] * prices.charged(instr, frac)
    holder.commit(float(amount.sum()))
    start(pop, r, instr, year, np.where(instr == Instrument.SOCIAL_FIRM, firm, -1), Holder.PWET_PARTICIPATION, amount)
    year.add("new_traj", len(r))


def wmo_package(pop, rows, day_allowed: np.ndarray, team, p) -> tuple[np.ndarray, np.ndarray]:
    """Wmo package from what the consultant's view sees: guidance, household help, day activities [M16]."""
    sev = pop.sev[rows]
    severe = p["problems.severe_threshold"]
    guidance = prob.count_severe(sev, team.seen(BLOCKING_DOMAINS), severe) > 0
    help_ = (sev[:, Domain.PHYSICAL] >= severe) & team.sees(Domain.PHYSICAL)
    isolated = (sev[:, Domain.ISOLATION] >= severe) & team.sees(Domain.ISOLATION)
    day = day_allowed & (isolated | ~(guidance | help_))
    guidance |= ~(day | help_)
    support = (guidance * GUIDANCE_BIT | help_ * HOUSEHOLD_HELP_BIT).astype(np.uint16)
    return support, day


def allocate_wmo(pop, rows, year, funding, actors, p, streams) -> None:
    """Partitioned Wmo: consultants assess applicants; every eligible one assessed gets support, budget or not [Wmo 2015 art. 2.3.5]."""
    team = actors.teams[Role.WMO_CONSULTANT]
    room = team.room(int(pop.holds(rows, WMO_BITS).sum()))
    sr = prob.self_reliance(pop.sev[rows])
    cand = ((pop.desk[rows] & Desk.WMO) != 0) & (pop.employment[rows] < 0) & (sr < p["wmo.need_threshold"]) & (
        ~pop.holds(rows, WMO_BITS))
    idx = np.flatnonzero(cand)
    if len(idx) == 0:
        return
    r = rows[idx]
    support, day = wmo_package(pop, r, ~pop.holds(r, TRAJ_BITS), team, p)
    frac = assessed_fraction(pop, r, year, p)
    prices = funding.prices
    cost = (prices.provision_cost(support, pop.wage[r]) + day * prices[Instrument.DAY_ACTIVITIES]) * frac
    holder = actors.holders[Holder.WMO]
    need = 1.0 - sr[idx]
    chosen = holder.select(alloc.coordinated_first(need, year.regie[r]), cost, room, entitled=True)
    year.add("wmo_waiting", (~chosen).sum())
    r, support, day, need, frac = r[chosen], support[chosen], day[chosen], need[chosen], frac[chosen]
    # Referral to a work-like place at the social firm stagnates under partitions [SR].
    refer = day & (streams.uniform(pop.uid[r], year.index, Event.FIRM_REFERRAL) < p["firm.wmo_referral_partitioned"])
    firm = alloc.assign_slots(refer, need, firm_slots(pop, year, actors, Holder.WMO))
    day_instr = np.where(firm >= 0, Instrument.DAY_ACTIVITIES_WORKLIKE, Instrument.DAY_ACTIVITIES)
    grant_support(pop, r, support, year, p, Holder.WMO)
    amount = (prices.provision_cost(support, pop.wage[r]) + day * prices[day_instr]) * frac
    start(pop, r[day], day_instr[day].astype(np.int8), year, firm[day], Holder.WMO, (prices[day_instr] * frac)[day])
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
    pop.grant(rows, support, year.index, payer=payer)


def allocate_integrated(pop, rows, year, funding, actors, p, streams) -> None:
    """Pooled desk: one household intake, all domains, instruments of both laws combined, judged on total cost [R12][SR]."""
    if len(rows) == 0:
        return
    team = actors.teams[Role.GENERALIST]
    room = team.room(int(pop.holds(rows, ACTIVITY_BITS | WMO_BITS).sum()))
    sr = prob.self_reliance(pop.sev[rows])
    # The desk serves each resident under the laws it knows them by (a household intake: both).
    wmo_eligible = ((pop.desk[rows] & Desk.WMO) != 0) & (sr < p["wmo.need_threshold"])
    benefit_client = ((pop.desk[rows] & Desk.PWET) != 0) & pop.on_benefit[rows]
    cand = (pop.employment[rows] < 0) & (benefit_client | wmo_eligible) & ~pop.holds(rows, ACTIVITY_BITS)
    cand &= team.deployable(alloc.integrated_instrument(pop.wage[rows], p))
    idx = np.flatnonzero(cand)
    if len(idx) == 0:
        return
    r = rows[idx]
    package = integrated_package(pop, r, year, funding, team, p, streams)
    priority = alloc.coordinated_first(desk_priority(pop, r, year, funding, package, 1.0 - sr[idx], p), year.regie[r])
    holder = actors.holders[Holder.POOLED]
    chosen = holder.select(priority, package["cost"], room)
    eligible = wmo_eligible[idx] & ~chosen & ~pop.holds(r, WMO_BITS)
    entitled_support(pop, r[eligible], 1.0 - sr[idx][eligible], room - int(chosen.sum()), year, funding, actors, p)
    r, core, extra, priority = r[chosen], package["core"][chosen], package["extra"][chosen], priority[chosen]
    frac = package["frac"][chosen]
    year.light[r[package["light"][chosen]]] = True
    wants = np.isin(core, FIRM_INSTRUMENTS)
    firm = alloc.assign_slots(wants, priority, firm_slots(pop, year, actors, None))
    fallback = np.where(core == Instrument.SOCIAL_FIRM, Instrument.TRAINING, Instrument.DAY_ACTIVITIES)
    core = np.where(wants & (firm < 0), fallback, core).astype(np.int8)
    is_traj = np.isin(core, TRAJECTORY_INSTRUMENTS)
    year.add("new_traj_wmo_clients", (is_traj & pop.holds(r, WMO_BITS)).sum())
    year.add("new_traj", is_traj.sum())
    prices = funding.prices
    core_cost = prices[core] * prices.charged(core, frac)
    wmo = (extra != 0) | np.isin(core, DAY_INSTRUMENTS)
    grant_support(pop, r[wmo], extra[wmo], year, p, Holder.POOLED)
    start(pop, r, core, year, np.where(np.isin(core, FIRM_INSTRUMENTS), firm, -1), Holder.POOLED, core_cost)
    holder.commit(float((core_cost + prices.provision_cost(extra, pop.wage[r]) * frac).sum()))


def entitled_support(pop, r, need, room, year, funding, actors, p) -> None:
    """Under pooling too, a Wmo-eligible resident whom the desk's package did not reach gets Wmo support (a right)."""
    if len(r) == 0:
        return
    team = actors.teams[Role.GENERALIST]
    support, day = wmo_package(pop, r, ~pop.holds(r, TRAJ_BITS), team, p)
    frac = assessed_fraction(pop, r, year, p)
    prices = funding.prices
    cost = (prices.provision_cost(support, pop.wage[r]) + day * prices[Instrument.DAY_ACTIVITIES]) * frac
    holder = actors.holders[Holder.POOLED]
    chosen = holder.select(need, cost, room, entitled=True)
    year.add("wmo_waiting", (~chosen).sum())
    r, support, day, cost = r[chosen], support[chosen], day[chosen], cost[chosen]
    grant_support(pop, r, support, year, p, Holder.POOLED)
    start(pop, r[day], np.full(int(day.sum()), Instrument.DAY_ACTIVITIES, dtype=np.int8), year, None, Holder.POOLED,
          (prices[Instrument.DAY_ACTIVITIES] * frac[chosen])[day])
    holder.commit(float(cost.sum()))


def desk_priority(pop, r, year, funding, package, need, p) -> np.ndarray:
    """The pooled desk's ranking of its candidates under its objective, in money across the budgets [SR]."""
    prices = funding.prices
    on_benefit = pop.on_benefit[r]
    benefit = entitlement.yearly_cost(year.benefit_monthly[r], p) * on_benefit
    subsidised = on_benefit & (package["core"] == Instrument.SOCIAL_FIRM)  # the job it leads to is subsidised
    subsidy = np.where(subsidised, prices.yearly(Instrument.WAGE_SUBSIDY, pop.wage[r]), 0.0)
    care = prices.provision_cost(pop.provisions[r] & np.uint16(CARE_A_JOB_ENDS), pop.wage[r])
    return alloc.desk_priority(p["practice.desk_objective"], package["gain"], benefit, subsidy, care, need,
                               package["cost"], p["desk.saving_horizon_years"])


def integrated_package(pop, r, year, funding, team, p, streams) -> dict[str, np.ndarray]:
    """The household package seen from all domains: core instrument, guidance and help, cost, and job-chance gain."""
    wage = pop.wage[r]
    core = alloc.integrated_instrument(wage, p)
    severe = p["problems.severe_threshold"]
    blocking = prob.count_severe(pop.sev[r], team.seen(BLOCKING_DOMAINS), severe)
    has_guidance = pop.holds(r, GUIDANCE_BIT)
    # With triage the generalist handles light problems directly and refers on only heavier ones [R12];
    # without it every severe blocking problem is referred to guidance.
    triaged = streams.uniform(pop.uid[r], year.index, Event.TRIAGE) < p["practice.generalist_triage"]
    light = (blocking > 0) & (blocking < p["access.refer_from_severe_count"]) & triaged
    refer = (blocking > 0) & ~light
    needs_help = (pop.sev[r, Domain.PHYSICAL] >= severe) & ~pop.holds(r, HOUSEHOLD_HELP_BIT)
    extra = ((refer & ~has_guidance) * GUIDANCE_BIT | needs_help * HOUSEHOLD_HELP_BIT).astype(np.uint16)
    extra &= np.uint16(team.allowed_bits)
    frac = year_fraction(pop, r)
    prices = funding.prices
    cost = prices[core] * prices.charged(core, frac) + prices.provision_cost(extra, wage) * frac
    # Expected gain in job chance from the package.
    base_h = out.job_hazard(wage, pop.years_out[r], prob.problem_load(pop.sev[r]), pop.motivation[r], p)
    mult = np.select([core == Instrument.MEDIATION, core == Instrument.SOCIAL_FIRM],
                     [p["work.mediation_effect"], p["work.trajectory_effect"]], p["work.worklike_effect"])
    unaddressed_now = np.where(has_guidance | year.regie[r], 0, blocking)
    addressed_by_package = np.where(refer | light, 0, unaddressed_now)
    penalty = p["work.unaddressed_penalty"]
    with_pkg = out.hazard_to_probability(base_h * mult * out.unaddressed_multiplier(addressed_by_package, penalty))
    without = out.hazard_to_probability(base_h * out.unaddressed_multiplier(unaddressed_now, penalty))
    return {"core": core, "extra": extra, "light": light, "frac": frac, "cost": cost, "gain": with_pkg - without}


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
    hh, inv = np.unique(pop.household[rows], return_inverse=True)
    per_hh = np.bincount(inv, weights=severe)
    mp = np.flatnonzero(per_hh >= p["problems.multi_problem_count"])
    chosen_hh = mp[np.argsort(-per_hh[mp], kind="stable")][:cap]
    coordinated = rows[np.isin(inv, chosen_hh) & known]
    year.regie[coordinated] = True
    year.add("coordinated", len(coordinated))
    team.carry(len(chosen_hh))

