"""Open the year: grants and budgets of each holder, the staff of the structure in force, firm contracts.

The state's grants are fixed when the run starts and do not follow the municipality's own stock:
the BUIG for benefits and wage-cost subsidies (Participatiewet art. 69, set by the state's
distribution model), the participation budget, and the Wmo budget. A pooled share s of the
participation and Wmo budgets goes to the transformation desk.
"""

from __future__ import annotations

import numpy as np

from model import entitlement
from model.constants import N_HOLDERS, Holder, Instrument, Role, Status

PARTITIONED_ROLES = (Role.CLIENT_MANAGER, Role.WMO_CONSULTANT)
# Staff working for the whole municipality, not for one desk: paid by the pooled desk for its share,
# by the Wmo for the rest (neighbourhood teams and coordination are Wmo-funded under partitions [M16]).
LAW_HOLDER = {Role.CLIENT_MANAGER: Holder.PWET_PARTICIPATION, Role.WMO_CONSULTANT: Holder.WMO,
              Role.GENERALIST: Holder.WMO, Role.REGISSEUR: Holder.WMO}


def run(pop, year, funding, actors, p, streams) -> None:
    """Staff of the structure and practices in force; budgets split between the law-based desks and the pooled desk."""
    s = year.share
    alive = pop.alive_rows()
    year.start_residents = len(alive)
    holders = actors.holders
    if year.index == 0:
        fix_grants(pop, alive, holders, funding, p)
    staff_cost = np.zeros(N_HOLDERS)
    for role, team in actors.teams.items():
        pooled, law = staff_split(role, len(team), s, p)
        if role == Role.GENERALIST:  # the desk's generalists are its team; the rest triage (phases/access.py)
            team.activate(pooled)
            year.triage_room = law * p["staff.generalist_caseload"]
        else:
            team.activate(pooled + law)
        year.active_staff[role] = pooled + law
        staff_cost[Holder.POOLED] += pooled * p["staff.salary"]
        staff_cost[LAW_HOLDER[role]] += law * p["staff.salary"]
    participation = holders[Holder.PWET_PARTICIPATION].grant
    wmo = holders[Holder.WMO].grant
    budgets = {
        Holder.PWET_INCOME: holders[Holder.PWET_INCOME].grant,
        Holder.PWET_PARTICIPATION: (1 - s) * participation,
        Holder.WMO: (1 - s) * wmo,
        Holder.POOLED: s * (participation + wmo),
    }
    for h, holder in holders.items():
        holder.open_year(budgets[h], staff_cost=staff_cost[h])
    buy_firm_places(actors, s, p)


def staff_split(role: Role, size: int, share: float, p) -> tuple[int, int]:
    """Active FTE of a role working for the pooled desk and for the law-based side.

    Client managers and Wmo consultants work for the unpooled part; generalists staff the pooled desk
    and, with generalist triage, a neighbourhood team for the rest in proportion to the triage share;
    regisseurs (a practice) coordinate households under any funding, split by the pooled share.
    """
    if role in PARTITIONED_ROLES:
        return 0, round((1 - share) * size)
    pooled = round(share * size)
    if role == Role.GENERALIST:
        return pooled, round((1 - share) * p["practice.generalist_triage"] * size)
    return pooled, size - pooled


def fix_grants(pop, alive, holders, funding, p) -> None:
    """The grants of the run, from the municipality at the start: benefits and subsidies, participation, Wmo."""
    on_benefit = pop.on_benefit[alive]
    benefits = entitlement.yearly_cost(entitlement.population_benefit(pop, alive, p), p)[on_benefit].sum()
    subsidised = pop.employment[alive] == Status.SUBSIDISED_WORK
    subsidies = np.sum(funding.prices.yearly(Instrument.WAGE_SUBSIDY, pop.wage[alive])[subsidised])
    holders[Holder.PWET_INCOME].set_grant(p["grant.buig_factor"] * (benefits + subsidies))
    holders[Holder.PWET_PARTICIPATION].set_grant(p["pwet.reintegration_per_recipient"] * on_benefit.sum())
    holders[Holder.WMO].set_grant(p["wmo.budget_per_inhabitant"] * p["scenario.inhabitants"])


def buy_firm_places(actors, share: float, p) -> None:
    """Each stream buys its social-firm places for the year, paid whether filled or not [SR]; the desk buys its share."""
    holders = actors.holders
    for firm in actors.firms:
        pwet = round((1 - share) * firm.pwet_places)
        wmo = round((1 - share) * firm.wmo_places)
        pooled = firm.places - pwet - wmo
        contracts = {
            Holder.PWET_PARTICIPATION: (Instrument.SOCIAL_FIRM, pwet * p["firm.place_price"]),
            Holder.WMO: (Instrument.DAY_ACTIVITIES_WORKLIKE, wmo * p["wmo.worklike_cost"]),
            Holder.POOLED: (Instrument.SOCIAL_FIRM, pooled * p["firm.place_price"]),
        }
        for h, (instrument, amount) in contracts.items():
            holders[h].book_contract(instrument, amount)
        firm.sell_places(sum(amount for _, amount in contracts.values()))
