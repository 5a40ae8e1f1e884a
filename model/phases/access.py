"""Access: who comes into sight and which desks know them.

Hidden residents come into sight (outreach); a generalist's household intake finds hidden members
of known households [R12]; under partitions a benefit client may apply to the Wmo on own initiative,
and moving from a Wmo place at a social firm towards work needs a new P-wet intake [BK18][FW19].
"""

from __future__ import annotations

import numpy as np

from model import entitlement
from model.constants import BLOCKING_DOMAINS, MONTHS_PER_YEAR, Desk, Event, Intake, Role
from model.phases import review
from model.rules import problems as prob

BOTH_DESKS = Desk.PWET | Desk.WMO


def run(pop, year, funding, actors, p, streams) -> None:
    """Outreach and household intake first, then referrals between the laws' desks."""
    rows = pop.alive_rows()
    handled = year.handled(pop.desk_draw[rows])
    _come_into_sight(pop, rows, handled, year, p, streams)
    # Handled residents are known to the one household intake, i.e. to both laws.
    known = pop.desk[rows] != Desk.NONE
    pop.join_desk(rows[handled & known], BOTH_DESKS, year.index)
    _referrals(pop, rows, handled, year, actors, p, streams)
    entitlement.sync_claims(pop, rows, year, p)


def _come_into_sight(pop, rows, handled, year, p, streams) -> None:
    """Outreach reaches hidden residents in need; a household intake sees every member of a known household."""
    t, uid = year.index, pop.uid[rows]
    load = prob.problem_load(pop.sev[rows])
    hidden = (pop.desk[rows] == Desk.NONE) & ~pop.on_benefit[rows] & (pop.employment[rows] < 0) & (
        pop.provisions[rows] == 0)
    need = load >= p["access.hidden_need"]
    p_reach = p["access.reach_base"] + p["access.outreach_gain"] * handled
    reached = hidden & need & (streams.uniform(uid, t, Event.REACH) < p_reach)
    known = pop.desk[rows] != Desk.NONE
    hh = pop.household[rows]
    known_hh = np.isin(hh, hh[known & handled])
    found = hidden & need & handled & known_hh & ~reached & (
        streams.uniform(uid, t, Event.HOUSEHOLD_FIND) < p["integrated.household_find"])
    come_in = reached | found
    r = rows[come_in]
    month = MONTHS_PER_YEAR * streams.uniform(pop.uid[r], t, Event.REACH_MONTH)
    # The entitlement test: a benefit only when the household's income is below its norm.
    entitled = entitlement.population_benefit(pop, rows, p)[come_in] > 0
    pop.come_into_sight(r, np.where(handled[come_in], BOTH_DESKS, Desk.PWET), month, t, entitled)
    year.add("reached", reached.sum())
    year.add("found_in_household", found.sum())


def _referrals(pop, rows, handled, year, actors, p, streams) -> None:
    """Under partitions: Wmo applications by benefit clients, client managers' referrals, and cross-law intakes."""
    t, uid = year.index, pop.uid[rows]
    on_benefit = pop.on_benefit[rows]
    # A benefit client with low self-reliance may apply to the Wmo on own initiative.
    low_sr = prob.self_reliance(pop.sev[rows]) < p["wmo.need_threshold"]
    refer = ~handled & on_benefit & low_sr & ((pop.desk[rows] & Desk.WMO) == 0) & (
        streams.uniform(uid, t, Event.WMO_SELF_REFERRAL) < p["pwet.wmo_self_referral"])
    # A client manager refers a client with a severe blocking problem it sees (none with a work-only view) [R12].
    seen = actors.teams[Role.CLIENT_MANAGER].seen(BLOCKING_DOMAINS)
    if seen:
        seen_problem = prob.count_severe(pop.sev[rows], seen, p["problems.severe_threshold"]) > 0
        refer |= ~handled & on_benefit & seen_problem & ((pop.desk[rows] & Desk.PWET) != 0)
    pop.join_desk(rows[refer], Desk.WMO, t)
    _cross_law_intakes(pop, rows, handled, year, p, streams)


def _cross_law_intakes(pop, rows, handled, year, p, streams) -> None:
    """Under partitions moving from a Wmo place at a social firm to a P-wet trajectory needs a new intake: a referral, a wait, a chance of falling through [BK18][FW19].

    Intakes due by this year's allocation take place (the client manager may then offer a
    trajectory, ``allocation.allocate_pwet``) or the referral is lost; then ready Wmo clients on
    benefit are referred, each with a yearly chance, at a month of the year.
    """
    t, uid = year.index, pop.uid[rows]
    due = ~handled & (pop.intake[rows] == Intake.WAITING) & (pop.intake_due[rows] <= t)
    lost = due & (streams.uniform(uid, t, Event.FALL_THROUGH) < p["pwet.cross_law_fall_through"])
    pop.fall_through(rows[lost], t)
    pop.take_intake(rows[due & ~lost], Desk.PWET, t)
    year.add("cross_law_fell_through", lost.sum())
    year.add("cross_law_intakes", (due & ~lost).sum())
    refer = ~handled & ~lost & pop.on_benefit[rows] & (pop.intake[rows] == Intake.NONE) & review.ready_for_work(
        pop, rows, p) & (streams.uniform(uid, t, Event.CROSS_INTAKE) < p["pwet.cross_law_intake_prob"])
    r = rows[refer]
    t0 = pop.entry_month[r]
    month = t0 + (MONTHS_PER_YEAR - t0) * streams.uniform(pop.uid[r], t, Event.INTAKE_MONTH)
    pop.refer_to_intake(r, t + (month + p["pwet.cross_law_intake_months"]) / MONTHS_PER_YEAR, t, month)
    year.add("cross_law_referrals", len(r))
