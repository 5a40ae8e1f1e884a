"""Open the year: grants and budgets of each holder, the staff of the structure in force, firm contracts.

The state's grants are fixed when the run starts and do not follow the municipality's own stock:
the BUIG for benefits and wage-cost subsidies (Participatiewet art. 69, set by the state's
distribution model), the participation budget, and the Wmo budget. A pooled share s of the
participation and Wmo budgets goes to the transformation desk.
"""

from __future__ import annotations

import numpy as np

from model import entitlement, levers
from model.constants import N_HOLDERS, WMO_BITS, Holder, Instrument, Role, Status
from model.grouping import unique
from model.phases import demography

PARTITIONED_ROLES = (Role.CLIENT_MANAGER, Role.WMO_CONSULTANT)
# Staff working for the whole municipality, not for one desk: paid by the pooled desk for its share,
# by the Wmo for the rest (neighbourhood teams and coordination are Wmo-funded under partitions [M16]).
SOCIAL_DOMAIN = (Holder.PWET_PARTICIPATION, Holder.WMO, Holder.POOLED)  # the lines an overrun rule acts on
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
    budgets = year_budgets(holders, actors.firms, s, year.index, p)
    ceiling = Ceiling([holders[h] for h in SOCIAL_DOMAIN]) if p["budget.overrun_rule"] == "cap-social-domain" else None
    for h, holder in holders.items():
        grant, discretionary = budgets[h]
        holder.open_year(grant, discretionary, staff_cost=staff_cost[h], ceiling=ceiling if h in SOCIAL_DOMAIN else None)
    buy_firm_places(actors, s, p)
    book_wsw(actors, s, year.index, p)
    hand_over_places(pop, actors)


def book_wsw(actors, share: float, year_index: int, p) -> None:
    """The old Wsw workforce on the participation line (the pooled desk its share), and this year's sheltered places [FW19].

    Its cost comes with the same grant (``year_budgets``), so it takes nothing from the re-integration money;
    under ``pwet.sheltered_place_rule`` three-to-one the places that left make room for new beschut werk.
    """
    actors.sheltered_places = levers.sheltered_places(demography.sheltered_places(p), year_index, p)
    wsw = levers.wsw_cost(year_index, p)
    if wsw <= 0:
        return
    actors.holders[Holder.PWET_PARTICIPATION].book_contract(Instrument.SHELTERED_WORK, (1 - share) * wsw)
    actors.holders[Holder.POOLED].book_contract(Instrument.SHELTERED_WORK, share * wsw)


def hand_over_places(pop, actors) -> None:
    """A place held by a continuing client whose stream no longer buys it passes to a stream that bought a free one.

    At a change of funding (the first year after the spin-up, a switch year) the contract for a place in
    use moves with the place, so that no stream holds more places than it bought; the client stays.
    """
    rows = pop.alive_rows()
    firm = pop.firm[rows]
    for f in actors.firms:
        at = np.flatnonzero(firm == f.index)
        if len(at) == 0:
            continue
        stream = pop.place_stream[rows[at]]
        held = {h: int((stream == h).sum()) for h in Holder}
        spare = [h for h in (Holder.POOLED, Holder.PWET_PARTICIPATION, Holder.WMO)
                 for _ in range(max(f.bought.get(h, 0) - held[h], 0))]
        excess = np.concatenate([at[stream == h][f.bought.get(h, 0):] for h in Holder if held[h] > f.bought.get(h, 0)]
                                or [np.empty(0, dtype=np.int64)])
        if len(excess):
            pop.hand_over_places(rows[excess], np.array(spare[: len(excess)], dtype=np.int8))


class Ceiling:
    """One ceiling on the social-domain lines together (``budget.overrun_rule`` cap-social-domain).

    The council authorises the social domain as one programme (Gemeentewet art. 189, BBV): rights come
    first, and discretionary instruments are bought only from what is left of the lines together, in
    every arm alike.
    """

    def __init__(self, holders):
        self.holders = holders

    @property
    def left(self) -> float:
        """Budget of the lines together not yet committed this year (EUR)."""
        return sum(h.budget - h.committed for h in self.holders)


def follow_the_clients(pop, rows, handled, year, actors, p) -> None:
    """The transformation desk's grants follow its clients: its share of the benefit recipients and of the Wmo clients.

    The desk serves the heaviest households, so a flat share s of each grant would give it more
    re-integration money per candidate and less Wmo money per client than the law-based desks
    (``desk.gradual_budget`` = follows-clients, default). The discretionary money as a whole is unchanged.
    """
    if p["desk.gradual_budget"] == "share":
        return
    on_benefit = pop.on_benefit[rows]
    wmo = pop.holds(rows, WMO_BITS)
    share_benefit = float((on_benefit & handled).sum() / on_benefit.sum()) if on_benefit.any() else year.share
    share_wmo = float((wmo & handled).sum() / wmo.sum()) if wmo.any() else year.share
    budgets = year_budgets(actors.holders, actors.firms, year.share, year.index, p, (share_benefit, share_wmo))
    per_household = p["desk.team_ceiling"]  # the ceiling rule's amount (read in every gradual run)
    if p["desk.gradual_budget"] == "ceiling":
        budgets = team_ceiling(budgets, len(unique(pop.household[rows][handled])), per_household)
    for h in SOCIAL_DOMAIN:
        actors.holders[h].rebudget(*budgets[h])


def team_ceiling(budgets: dict, households: int, per_household: float) -> dict:
    """A team's budget with a ceiling [R12]: the desk's discretionary money at most ``per_household`` (``desk.team_ceiling``).

    "Zo kan de gemeente een budgetplafond meegeven aan het sociale team": what the ceiling keeps from the
    desk stays on the participation line, so the discretionary money as a whole is unchanged.
    """
    grant, discretionary = budgets[Holder.POOLED]
    capped = min(discretionary, households * per_household)
    pwet_grant, pwet_discretionary = budgets[Holder.PWET_PARTICIPATION]
    moved = discretionary - capped
    return {**budgets, Holder.POOLED: (grant - moved, capped),
            Holder.PWET_PARTICIPATION: (pwet_grant + moved, pwet_discretionary + moved)}


def year_budgets(holders, firms, s: float, year_index: int, p,
                 clients: tuple[float, float] | None = None) -> dict[Holder, tuple[float, float]]:
    """Each holder's grant share and discretionary budget this year: the law-based desks (1 - s), the pooled desk s.

    The discretionary money is the same in every arm: the pooled desk's is exactly what the
    partitioned desks would have had for discretionary instruments (the participation grant and the
    Wmo's firm-place contracts), year by year. Under ``cut-next-year`` last year's overrun of the
    social-domain holders is taken from this year's re-integration money, alike in every arm.
    ``clients``: the desk's shares of the benefit recipients and of the Wmo clients, by which its
    grants follow its clients (``follow_the_clients``); the places stay bought by s.
    """
    participation = holders[Holder.PWET_PARTICIPATION].full_grant
    wmo = holders[Holder.WMO].full_grant
    wmo_contracts = sum(f.wmo_places for f in firms) * p["wmo.worklike_cost"]
    pwet_d, wmo_d = max(participation - _overrun_cut(holders, year_index, p), 0.0), wmo_contracts
    r_pwet, r_wmo = clients or (s, s)
    budgets = {
        Holder.PWET_INCOME: (_income_grant(holders[Holder.PWET_INCOME], year_index, p), 0.0),
        Holder.PWET_PARTICIPATION: ((1 - r_pwet) * participation, (1 - r_pwet) * pwet_d),
        Holder.WMO: ((1 - r_wmo) * wmo, (1 - s) * wmo_d),
        Holder.POOLED: (r_pwet * participation + r_wmo * wmo, r_pwet * pwet_d + s * wmo_d),
    }
    wsw = levers.wsw_cost(year_index, p)  # the old Wsw workforce: a grant booked as a contract (book_wsw), split by s
    if wsw > 0:
        for h, part in ((Holder.PWET_PARTICIPATION, 1 - s), (Holder.POOLED, s)):
            grant, discretionary = budgets[h]
            budgets[h] = (grant + part * wsw, discretionary + part * wsw)
    return budgets


def _overrun_cut(holders, year_index: int, p) -> float:
    """Last year's net deficit of the social-domain lines, to take from this year's re-integration money.

    ``general-resources`` (the default) and ``cap-social-domain`` carry nothing over. ``cut-next-year``
    takes the net deficit of the participation, Wmo and pooled lines together from the re-integration
    money (the firm places are contracted for the year), alike in every arm.
    """
    if p["budget.overrun_rule"] != "cut-next-year" or year_index <= 0:
        return 0.0
    return max(-sum(holders[h].own_result for h in SOCIAL_DOMAIN), 0.0)


def _income_grant(income, year_index: int, p) -> float:
    """The BUIG this year: the benefit part fixed at the start, plus the wage-subsidy part by the financing rule.

    ``fixed`` (2015-2021): the subsidy part is fixed with the rest of the grant. ``realised`` (from 2022):
    it follows the municipality's realised subsidy spending of the year before, euro for euro.
    """
    if p["grant.subsidy_financing"] == "realised" and year_index > 0:
        return income.full_grant + float(income.spent[Instrument.WAGE_SUBSIDY])
    return income.full_grant + income.subsidy_grant


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
    holders[Holder.PWET_INCOME].set_grant(p["grant.buig_factor"] * benefits, subsidy=p["grant.buig_factor"] * subsidies)
    holders[Holder.PWET_PARTICIPATION].set_grant(p["pwet.reintegration_per_recipient"] * on_benefit.sum())
    holders[Holder.WMO].set_grant(p["wmo.budget_per_inhabitant"] * p["scenario.inhabitants"])


def buy_firm_places(actors, share: float, p) -> None:
    """Each stream buys its social-firm places for the year, paid whether filled or not [SR]; the desk buys its share.

    The pooled desk buys the places the law-based streams no longer buy, each at the price of the
    stream it replaces, so every arm buys the same places for the same money.
    """
    holders = actors.holders
    price = {Instrument.SOCIAL_FIRM: p["firm.place_price"], Instrument.DAY_ACTIVITIES_WORKLIKE: p["wmo.worklike_cost"]}
    for firm in actors.firms:
        pwet = round((1 - share) * firm.pwet_places)
        wmo = round((1 - share) * firm.wmo_places)
        contracts = [
            (Holder.PWET_PARTICIPATION, Instrument.SOCIAL_FIRM, pwet),
            (Holder.WMO, Instrument.DAY_ACTIVITIES_WORKLIKE, wmo),
            (Holder.POOLED, Instrument.SOCIAL_FIRM, firm.pwet_places - pwet),
            (Holder.POOLED, Instrument.DAY_ACTIVITIES_WORKLIKE, firm.wmo_places - wmo),
        ]
        bought = dict.fromkeys(Holder, 0)
        for h, instrument, places in contracts:
            holders[h].book_contract(instrument, places * price[instrument])
            bought[h] += places
        firm.buy(bought, sum(places * price[instrument] for _, instrument, places in contracts))
