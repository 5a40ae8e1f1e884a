"""Open the year: budgets of each holder, the staff of the structure in force, and their cost."""

from __future__ import annotations

import numpy as np

from model.constants import N_HOLDERS, Holder, Role

STAFF_HOLDER = {Role.CLIENT_MANAGER: Holder.PWET_PARTICIPATION, Role.WMO_CONSULTANT: Holder.WMO,
                Role.GENERALIST: Holder.POOLED, Role.REGISSEUR: Holder.POOLED}
PARTITIONED_ROLES = (Role.CLIENT_MANAGER, Role.WMO_CONSULTANT)


def run(pop, year, funding, actors, p, streams) -> None:
    """Partitioned staff work for the unpooled part, generalists and regisseurs for the pooled part; budgets split alike."""
    s = year.share
    alive = pop.alive_rows()
    year.start_residents = len(alive)
    stock = int(pop.on_benefit[alive].sum())
    participation = p["pwet.reintegration_per_recipient"] * stock
    wmo = p["wmo.budget_per_inhabitant"] * p["scenario.inhabitants"]
    staff_cost = np.zeros(N_HOLDERS)
    for role, team in actors.teams.items():
        active = round(((1 - s) if role in PARTITIONED_ROLES else s) * len(team))
        team.activate(active)
        year.active_staff[role] = active
        staff_cost[STAFF_HOLDER[role]] += active * p["staff.salary"]
    budgets = {
        Holder.PWET_INCOME: p["benefit.cost_per_year"] * stock,
        Holder.PWET_PARTICIPATION: (1 - s) * participation,
        Holder.WMO: (1 - s) * wmo,
        Holder.POOLED: s * (participation + wmo),
    }
    for h, holder in actors.holders.items():
        holder.open_year(budgets[h], staff_cost=staff_cost[h])
