"""Problem dynamics: severities move with work, activity, guidance, inactivity and the household [R12][FW19]."""

from __future__ import annotations

import numpy as np

from model.constants import ACTIVITY_BITS, GUIDANCE_BIT, N_DOMAINS, TRAJ_BITS, Domain, Event, Status
from model.rules import dynamics as dyn
from model.rules import problems as prob


def run(pop, year, funding, actors, p, streams) -> None:
    """Work and meaningful activity heal, inactivity harms, a household member's load spills over; wage value follows."""
    rows = pop.alive_rows()
    uid = pop.uid[rows]
    sev = pop.sev[rows]
    working = pop.employment[rows] >= 0
    active = pop.holds(rows, ACTIVITY_BITS)
    guided = pop.holds(rows, GUIDANCE_BIT)
    inactive = ~working & ~active
    load = prob.problem_load(sev)
    other, _ = dyn.other_members_load(pop.household[rows], load)
    noise = np.stack([streams.normal(uid, year.index, Event.SEVERITY_NOISE + d) for d in range(N_DOMAINS)], axis=1)
    new_sev = dyn.severity_change(sev, working, active, guided, inactive, load, other, noise, p)
    wage = dyn.wage_value_change(pop.wage[rows], working | pop.holds(rows, TRAJ_BITS), p)
    new_sev[:, Domain.WORK_INCOME] = prob.work_income_severity(pop.employment[rows] == Status.REGULAR_WORK, wage)
    pop.set_problems(rows, new_sev, wage)
