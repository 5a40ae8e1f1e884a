"""Problem dynamics: severities move with work, activity, guidance, inactivity and the household [R12][FW19].

Then wage value follows practice and health, and the yearly review moves each resident on the
participation ladder (participatieladder) [M16].
"""

from __future__ import annotations

from model import levers
from model.constants import (
    ACTIVITY_BITS,
    DAY_BITS,
    FIRM_TRAJECTORY_BIT,
    GUIDANCE_BIT,
    N_DOMAINS,
    TRAJ_BITS,
    UNPLACED,
    VOLUNTEER_BIT,
    WORKLIKE_BIT,
    Domain,
    Event,
    Status,
)
from model.rules import dynamics as dyn
from model.rules import problems as prob


def run(pop, year, funding, actors, p, streams) -> None:
    """Work and meaningful activity heal, inactivity harms, a household member's load spills over; wage value and the ladder follow."""
    rows = pop.alive_rows()
    uid = pop.uid[rows]
    sev = pop.sev[rows]
    working = pop.employment[rows] >= 0
    active = pop.holds(rows, ACTIVITY_BITS | VOLUNTEER_BIT)  # volunteering is a meaningful activity too [FW19]
    guided = pop.holds(rows, GUIDANCE_BIT)
    inactive = ~working & ~active
    load = pop.load[rows]
    other, _ = dyn.other_members_load(pop.household[rows], load)
    noise = streams.normal_columns(uid, year.index, range(Event.SEVERITY_NOISE, Event.SEVERITY_NOISE + N_DOMAINS))
    new_sev = dyn.severity_change(sev, working, active, guided, inactive, load, other, noise, p)
    trajectory = pop.holds(rows, TRAJ_BITS)
    worklike = pop.holds(rows, WORKLIKE_BIT | VOLUNTEER_BIT)  # unpaid work: as work-like day activities [M16]
    day = pop.holds(rows, DAY_BITS)
    wage = dyn.wage_value_change(pop.wage[rows], sev, new_sev, working, trajectory, worklike, day, p)
    new_sev[:, Domain.WORK_INCOME] = prob.work_income_severity(pop.employment[rows] == Status.REGULAR_WORK, wage)
    pop.set_problems(rows, new_sev, wage)
    review_ladder(pop, rows, year, p, streams)


def review_ladder(pop, rows, year, p, streams) -> None:
    """The yearly ladder review: new residents are placed on the step their position sustains; the others move [M16]."""
    t = year.index
    status = pop.status(rows)
    worklike = pop.holds(rows, WORKLIKE_BIT)
    guided = pop.holds(rows, GUIDANCE_BIT)
    label = prob.participation_step(status, pop.sev[rows, Domain.ISOLATION], p["dynamics.isolation_step_threshold"])
    level = dyn.ladder_level(label, status, worklike, guided)
    volunteer = pop.holds(rows, VOLUNTEER_BIT)
    level = levers.volunteer_level(level, volunteer, pop.employment[rows] >= 0)
    unplaced = pop.step[rows] == UNPLACED
    pop.place_on_ladder(rows[unplaced], level[unplaced])
    placed = ~unplaced
    firm = worklike | pop.holds(rows, FIRM_TRAJECTORY_BIT) | volunteer
    chance = dyn.ladder_up_chance(firm, pop.holds(rows, TRAJ_BITS), pop.holds(rows, DAY_BITS), guided, p)
    u = streams.uniform(pop.uid[rows], t, Event.LADDER)
    before = pop.step[rows]
    new = dyn.ladder_move(before, level, pop.employment[rows] >= 0, chance, p["ladder.down_inactive"], u)
    r, new, before = rows[placed], new[placed], before[placed]
    pop.move_on_ladder(r, new, t)
    year.add("ladder_moves_up", (new > before).sum())
    year.add("ladder_moves_down", (new < before).sum())
