"""Access: who the transformation desk takes on, who comes into sight, and which desks know them.

Under gradual funding the transformation desk takes on the households its rule selects [SR]; hidden
residents come into sight (base reach plus outreach, a practice) when they claim: a found, entitled
household claims with a chance that falls for a small top-up [ISZW21][SCP07]; a household intake finds hidden
members of known households [R12] (a practice); a neighbourhood team's generalists handle light
problems directly (triage, a practice); under partitions a benefit client may apply to the Wmo on own
initiative, and moving from a Wmo place at a social firm towards work needs a new P-wet intake
[BK18][FW19]. Practices work under any funding; only who pays and which desk decides follows the funding.
"""

from __future__ import annotations

import numpy as np

from model import entitlement
from model.constants import BLOCKING_DOMAINS, MONTHS_PER_YEAR, Desk, Domain, Event, Intake
from model.grouping import unique, unique_inverse
from model.phases import review
from model.rules import allocation as alloc
from model.rules import benefit as ben
from model.rules import problems as prob

BOTH_DESKS = Desk.PWET | Desk.WMO
INCLINATION_YEAR = 0  # a household's inclination to claim is drawn once (the stream key of year 0), not each year


def run(pop, year, funding, actors, p, streams) -> None:
    """The desk's households, outreach and household intake, referrals between the laws' desks, then triage."""
    rows = pop.alive_rows()
    select_desk_households(pop, rows, year, funding, p, streams)
    handled = year.handled(pop.desk_draw[rows])
    intake = household_intake(pop, rows, year, p, streams)
    _come_into_sight(pop, rows, intake, year, p, streams)
    # A household intake covers every domain and both laws: its residents are known to both desks.
    pop.join_desk(rows[intake & (pop.desk[rows] != Desk.NONE)], BOTH_DESKS, year.index)
    _referrals(pop, rows, handled, year, funding, actors, p, streams)
    entitlement.sync_claims(pop, rows, year, p)
    triage(pop, rows[~handled], year.triage_room, year, p, streams)
    # The pooled desk's generalists triage its own residents, within their caseload.
    triage(pop, rows[handled], actors.teams[funding.desks["pooled"].role].capacity(), year, p, streams)


def select_desk_households(pop, rows, year, funding, p, streams) -> None:
    """Under gradual funding (0 < s < 1) the transformation desk takes on the households its rule selects [SR].

    The desk keeps the households it has and takes on known households with the most severe problems
    across domains first (a lottery breaks ties) until it serves a share s of the known households;
    ``desk_draw`` then reads 0 inside the desk and 1 outside, so ``year.handled`` selects them. At
    s = 0 and s = 1 the draw is left as it is: nobody or everybody is handled, exactly the pure regimes.
    """
    s = year.share
    if not 0.0 < s < 1.0:
        funding.serve(np.empty(0, dtype=np.int64))
        return
    hh = pop.household[rows]
    known = pop.desk[rows] != Desk.NONE
    severe = prob.count_severe(pop.sev[rows], tuple(Domain)[1:], p["problems.severe_threshold"])
    households, inv = unique_inverse(hh)
    weight = np.bincount(inv, weights=severe * known, minlength=len(households))
    candidate = np.bincount(inv, weights=known, minlength=len(households)) > 0
    lottery = np.ones(len(households))
    np.minimum.at(lottery, inv, streams.uniform(pop.uid[rows], 0, Event.DESK))
    kept = np.isin(households, funding.desk_households) & candidate
    chosen = alloc.desk_households(weight, lottery, candidate, kept, round(s * candidate.sum()))
    funding.serve(households[chosen])
    pop.assign_desk(rows, chosen[inv])
    year.add("desk_households", chosen.sum())


def triage(pop, rows, room: int, year, p, streams) -> None:
    """A generalist handles light problems of known residents directly, while its caseload lasts [R12] (a practice).

    Light: at least one severe blocking problem, fewer than the number at which a generalist refers
    on. Outside the pooled desk a neighbourhood team does it (``room`` from its staff, ``opening.py``);
    inside, the desk's own generalists. A light problem so handled needs no Wmo guidance.
    """
    if room <= 0 or len(rows) == 0:
        return
    blocking = prob.count_severe(pop.sev[rows], BLOCKING_DOMAINS, p["problems.severe_threshold"])
    drawn = (pop.desk[rows] != Desk.NONE) & (blocking > 0) & (
        streams.uniform(pop.uid[rows], year.index, Event.TRIAGE) < p["practice.generalist_triage"])
    light = drawn & (blocking < p["access.refer_from_severe_count"])
    idx = np.flatnonzero(light)[:room]
    if year.trace:
        year.trace.triage(year, pop, rows, light, idx, room, p)
    year.light[rows[idx]] = True
    year.add("triaged", len(idx))
    helped = pop.on_benefit[rows[idx]] & (pop.employment[rows[idx]] < 0)
    year.add("triaged_on_benefit", helped.sum())
    year.add("triaged_near_work", (helped & (pop.wage[rows[idx]] >= p["wage.regular_min"])).sum())
    # The GP's count [R12]: of the residents a generalist saw with a problem, those referred on to a
    # specialised provision (heavier problems, and light ones beyond the team's room).
    year.add("generalist_seen", drawn.sum())
    year.add("generalist_referred", drawn.sum() - len(idx))


def household_intake(pop, rows, year, p, streams) -> np.ndarray:
    """Which residents' households get a household intake this year (a practice, ``practice.household_intake``)."""
    known_hh = unique(pop.household[rows][pop.desk[rows] != Desk.NONE])
    chosen = known_hh[streams.uniform(known_hh, year.index, Event.HOUSEHOLD_INTAKE) < p["practice.household_intake"]]
    return np.isin(pop.household[rows], chosen)


def _come_into_sight(pop, rows, intake, year, p, streams) -> None:
    """Outreach reaches hidden residents in need; a household intake sees every member of a known household.

    They come in at the P-wet desk (a benefit claim); those in a household with a household intake
    become known to both laws right after (``run``), under any funding.
    """
    t, uid = year.index, pop.uid[rows]
    load = pop.load[rows]
    hidden = (pop.desk[rows] == Desk.NONE) & ~pop.on_benefit[rows] & (pop.employment[rows] < 0) & (
        pop.provisions[rows] == 0)
    need = load >= p["access.hidden_need"]
    p_reach = p["access.reach_base"] + p["practice.outreach"]
    reached = hidden & need & (streams.uniform(uid, t, Event.REACH) < p_reach)
    found = hidden & need & intake & ~reached & (
        streams.uniform(uid, t, Event.HOUSEHOLD_FIND) < p["access.household_find"])
    # The entitlement test: a benefit only when the household's income is below its norm; an entitled
    # household claims or not, less often for a small top-up [ISZW21][SCP07]. Those who do not claim stay out of sight.
    entitled = hidden & (entitlement.population_benefit(pop, rows, p) > 0)
    declines = (reached | found) & entitled & ~_claims(pop, rows, t, p, streams)
    come_in = (reached | found) & ~declines
    r = rows[come_in]
    month = MONTHS_PER_YEAR * streams.uniform(pop.uid[r], t, Event.REACH_MONTH)
    pop.come_into_sight(r, Desk.PWET, month, t, entitled[come_in])
    year.add("reached", (reached & come_in).sum())
    year.add("found_in_household", (found & come_in).sum())
    year.add("declined", declines.sum())


def _claims(pop, rows, t, p, streams) -> np.ndarray:
    """Whether each resident's household claims when found (one inclination per benefit unit, kept for good).

    Non-take-up is persistent [ISZW21]: a household's inclination to claim is one fixed draw, compared
    each time it is found with the chance for what it would get now, so a household that would not claim
    a small top-up does not claim it at the next contact either; it claims once its top-up grows.
    """
    share = entitlement.population_top_up_share(pop, rows, p)
    chance = ben.claim_probability(share, p["take_up.full_claim"], p["take_up.top_up_claim"],
                                   1.0 - p["take_up.full_benefit_income"])
    return streams.uniform(pop.unit[rows], INCLINATION_YEAR, Event.TAKE_UP) < chance


def _referrals(pop, rows, handled, year, funding, actors, p, streams) -> None:
    """Wmo applications by benefit clients, the benefit desk's worker's referrals, and cross-law intakes.

    The same for every desk: a benefit client with low self-reliance may apply for Wmo support on own
    initiative, and the worker who handles the benefit client (a client manager, or the pooled desk's
    generalist) makes the client known for Wmo support when its view shows a severe blocking problem [R12].
    """
    t, uid = year.index, pop.uid[rows]
    on_benefit = pop.on_benefit[rows]
    not_wmo = (pop.desk[rows] & Desk.WMO) == 0
    low_sr = pop.self_reliance(rows) < p["wmo.need_threshold"]
    refer = on_benefit & low_sr & not_wmo & (
        streams.uniform(uid, t, Event.WMO_SELF_REFERRAL) < p["pwet.wmo_self_referral"])
    known_pwet = (pop.desk[rows] & Desk.PWET) != 0
    for desk, mine in ((funding.desks["pwet"], ~handled), (funding.desks["pooled"], handled)):
        seen = actors.teams[desk.refers_by].seen(BLOCKING_DOMAINS)
        if seen:  # none with a work-only view
            seen_problem = prob.count_severe(pop.sev[rows], seen, p["problems.severe_threshold"]) > 0
            refer |= mine & on_benefit & seen_problem & known_pwet
    if year.trace:
        year.trace.note(year, pop, rows[refer & not_wmo], "access", "made known for a Wmo assessment (a referral)")
    pop.join_desk(rows[refer], Desk.WMO, t)
    _cross_law_intakes(pop, rows, funding.desk_field("care_to_work", handled) == "intake", year, p, streams)


def _cross_law_intakes(pop, rows, needs_intake, year, p, streams) -> None:
    """Under partitions moving from a Wmo place at a social firm to a P-wet trajectory needs a new intake: a referral, a wait, a chance of falling through [BK18][FW19].

    Intakes due by this year's allocation take place (the client manager may then offer a
    trajectory, ``allocation.allocate_pwet``) or the referral is lost; then ready Wmo clients on
    benefit are referred, each with a yearly chance, at a month of the year.
    """
    t, uid = year.index, pop.uid[rows]
    due = needs_intake & (pop.intake[rows] == Intake.WAITING) & (pop.intake_due[rows] <= t)
    lost = due & (streams.uniform(uid, t, Event.FALL_THROUGH) < p["pwet.cross_law_fall_through"])
    pop.fall_through(rows[lost], t)
    pop.take_intake(rows[due & ~lost], Desk.PWET, t)
    year.add("cross_law_fell_through", lost.sum())
    year.add("cross_law_intakes", (due & ~lost).sum())
    refer = needs_intake & ~lost & pop.on_benefit[rows] & (pop.intake[rows] == Intake.NONE) & review.ready_for_work(
        pop, rows, p) & (streams.uniform(uid, t, Event.CROSS_INTAKE) < p["pwet.cross_law_intake_prob"])
    r = rows[refer]
    t0 = pop.entry_month[r]
    month = t0 + (MONTHS_PER_YEAR - t0) * streams.uniform(pop.uid[r], t, Event.INTAKE_MONTH)
    pop.refer_to_intake(r, t + (month + p["pwet.cross_law_intake_months"]) / MONTHS_PER_YEAR, t, month)
    year.add("cross_law_referrals", len(r))
