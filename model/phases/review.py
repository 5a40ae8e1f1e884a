"""The review at the start of allocation: planned trajectory ends, lock-in, moves to sheltered work, care to work, care exits.

Part of the allocation phase (``allocation.run`` calls it first): what ends frees budget and places.
"""

from __future__ import annotations

import numpy as np

from model.constants import TRAJ_BITS, WMO_BITS, WORKLIKE_BIT, Disability, Domain, Event, Instrument, Status
from model.rules import problems as prob

AT_FIRM_BIT = 1 << int(Instrument.SOCIAL_FIRM)


def trajectory_ends(pop, rows, handled, year, funding, actors, p, streams) -> None:
    """At the planned end a trajectory stops, unless LVB clients stay or move to sheltered work, or the firm locks in [SR]."""
    t = year.index
    in_traj = pop.holds(rows, TRAJ_BITS)
    pop.count_trajectory_year(rows[in_traj])
    done = in_traj & (pop.trajectory_years[rows] >= p["firm.trajectory_years"])
    at_firm = pop.holds(rows, AT_FIRM_BIT)
    uid = pop.uid[rows]
    lvb = pop.disability[rows] == Disability.INTELLECTUAL
    stay_lvb = done & at_firm & lvb & (streams.uniform(uid, t, Event.LVB_STAY) < p["firm.lvb_stay_prob"])
    to_sheltered = done & at_firm & lvb & ~stay_lvb & (
        streams.uniform(uid, t, Event.TO_SHELTERED) < p["firm.lvb_to_sheltered"])
    to_sheltered = _within_places(to_sheltered, free_sheltered_places(pop, rows, actors))
    lock = done & at_firm & ~stay_lvb & ~to_sheltered & (
        streams.uniform(uid, t, Event.LOCK_IN) < _lock_in_chance(pop, rows, funding.desk_field(
            "lock_in_monitoring", handled), actors, p))
    pop.lock_in(rows[lock], t)
    year.add("lock_ins", lock.sum())
    ends = done & ~stay_lvb & ~lock
    year.add("firm_trajectories_ended", (ends & at_firm).sum())
    if year.trace:
        year.trace.note(year, pop, rows[ends], "review", f"trajectory ended after {p['firm.trajectory_years']:g} years")
    pop.end(rows[ends], TRAJ_BITS, t)
    sh = rows[to_sheltered]
    move_to_sheltered(pop, sh, year)


def _within_places(chosen: np.ndarray, free: int) -> np.ndarray:
    """Keep the first ``free`` of the chosen, in row order."""
    kept = np.zeros_like(chosen)
    if free > 0:
        kept[np.flatnonzero(chosen)[:free]] = True
    return kept


def free_sheltered_places(pop, rows, actors) -> int:
    """Sheltered-work places not taken."""
    return actors.sheltered_places - int((pop.employment[rows] == Status.SHELTERED_WORK).sum())


def _lock_in_chance(pop, rows, monitored, actors, p) -> np.ndarray:
    """Each firm decides for its own clients with its own lock-in tendency, less where the paying desk monitors outflow."""
    chance = np.zeros(len(rows))
    firm = pop.firm[rows]
    for f in actors.firms:
        at = firm == f.index
        if at.any():
            chance[at] = f.lock_in_chance(pop.wage[rows][at], monitored[at], p["desk.lock_in_reduction"])
    return chance


def move_to_sheltered(pop, rows, year) -> None:
    """Into sheltered work from the start of this year's presence; counted as outflow to work."""
    month = pop.entry_month[rows]
    year.add("leavers_for_work", pop.on_benefit[rows].sum())
    pop.to_sheltered(rows, year.index, month)
    year.date(rows, month)
    year.outflow.append(rows)
    year.add("outflow_sheltered_work", len(rows))


def ready_for_work(pop, rows, p) -> np.ndarray:
    """Work-like day activities at a social firm, wage value in the subsidy band, on the step of unpaid work: a re-integration candidate [SR][BK18]."""
    return (pop.holds(rows, WORKLIKE_BIT) & (pop.firm[rows] >= 0) & (pop.employment[rows] < 0)
            & (pop.wage[rows] >= p["wage.subsidy_min"]) & (pop.step[rows] >= p["ladder.ready_step"]))


def care_to_work(pop, rows, handled, year, funding, p) -> None:
    """One desk for both laws: a ready work-like day-activity client continues in the same firm place as a re-integration trajectory, no new intake [BK18][SR].

    Where the desk's ``care_to_work`` is ``intake`` (the law-based desks) the same move needs a P-wet
    intake first (``access._cross_law_intakes``).
    """
    r = rows[(funding.desk_field("care_to_work", handled) == "continue") & ready_for_work(pop, rows, p)]
    pop.continue_at_firm(r, year.index, payer=funding.payer_of(Instrument.SOCIAL_FIRM, True))  # the place stays its stream's
    year.add("new_traj", len(r))
    year.add("new_traj_wmo_clients", len(r))
    year.add("care_to_work", len(r))


def care_exits(pop, rows, year, funding, p) -> None:
    """Wmo support ends when self-reliance has recovered or no severe problem is left; the care no longer needed is a saving [SR]."""
    wmo = pop.holds(rows, WMO_BITS)
    sev = pop.sev[rows]
    no_severe = prob.count_severe(sev, tuple(Domain)[1:], p["problems.severe_threshold"]) == 0
    recovered = wmo & ((pop.self_reliance(rows) >= p["wmo.exit_self_reliance"]) | no_severe)
    r = rows[recovered]
    if year.trace:
        year.trace.note(year, pop, r, "review", "Wmo support ended: self-reliance recovered or no severe problem left")
    pop.set_care_saving(r, funding.prices.provision_cost(pop.provisions[r] & np.uint16(WMO_BITS), pop.wage[r]))
    pop.note_care_exit(r)  # the firm's business case counts the care of those who held a firm place
    pop.end(r, WMO_BITS, year.index)
    year.add("care_exits", len(r))

