"""Accounting: every euro on a budget holder and an instrument; savings to the budget that gains them [SR].

Benefits and provisions held for part of the year are charged for the months held (around the
year's single dated transition, or between a hire and the loss of that job in the same year);
lump-sum trajectories in the year they start; staff costs were booked when the year opened. Then
the firms book their year. Leavers for other income stay in the population (``Status.OTHER_INCOME``).
"""

from __future__ import annotations

import numpy as np

from model import entitlement
from model.constants import (
    FIRM_BITS,
    LUMP_SUM_INSTRUMENTS,
    MONTHS_PER_YEAR,
    N_HOLDERS,
    N_INSTRUMENTS,
    WMO_BITS,
    Holder,
    Instrument,
)
from model.events import EventKind
from model.grouping import unique_inverse
from model.rules import benefit as ben
from model.rules import outcomes as out

NOT_MONTHLY = (Instrument.BENEFIT, Instrument.CASE_MANAGEMENT, Instrument.JOB_COACHING)


def run(pop, year, funding, actors, p, streams) -> None:
    """Book costs per resident and instrument, attribute savings, book the firms."""
    rows = pop.alive_rows()
    handled = year.handled(pop.desk_draw[rows])
    leaving = np.isin(rows, year.leaving)
    benefit_after = pop.on_benefit[rows] & ~leaving
    yearly_benefit = _yearly_benefit(pop, rows, year, benefit_after, p)
    cost = resident_costs(pop, rows, year, funding, leaving, benefit_after, yearly_benefit)
    ledger = np.zeros((N_HOLDERS, N_INSTRUMENTS))
    for i in Instrument:
        # Staff costs were booked when the year opened; no resident pays them (their column is 0).
        if i == Instrument.CASE_MANAGEMENT:
            payer = np.full(len(rows), Holder.POOLED, dtype=np.int64)
        else:
            payer = funding.payers(i, handled)
        # Each holder's sum adds its residents' costs in row order, as one bincount over all columns did.
        ledger[:, i] = np.bincount(payer, weights=cost[:, i], minlength=N_HOLDERS)
    for h, holder in actors.holders.items():
        holder.book(ledger[h])
    year.resident_cost[rows] = cost.sum(axis=1)
    year.cost_by_instrument = cost.sum(axis=0)
    off_months, care = attribute_savings(pop, rows, handled, year, funding, actors, leaving, benefit_after,
                                         yearly_benefit)
    firm_savings(pop, rows, actors, off_months, care, p)
    _safety_net(actors.holders[Holder.PWET_INCOME], p)
    book_firms(pop, year, actors, p)


def _yearly_benefit(pop, rows, year, benefit_after, p) -> np.ndarray:
    """EUR per year of each resident's benefit: as at allocation, or as now for those who came on it since."""
    now = entitlement.population_benefit(pop, rows, p)
    at_allocation = year.benefit_monthly[rows]
    monthly = np.where(benefit_after & ((at_allocation <= 0) | ~year.benefit_before[rows]), now, at_allocation)
    return entitlement.yearly_cost(monthly, p)


def _safety_net(income, p) -> None:
    """The state compensates a large deficit on the benefit grant (vangnetregeling, art. 74)."""
    deficit = income.total - income.budget
    income.receive_compensation(ben.safety_net(deficit, income.budget, p["grant.vangnet_threshold"],
                                               p["grant.vangnet_full_from"], p["grant.vangnet_partial_share"]))


def resident_costs(pop, rows, year, funding, leaving, benefit_after, yearly_benefit) -> np.ndarray:
    """EUR per resident and instrument this year (Wmo support granted this year runs from its assessment)."""
    t0 = pop.entry_month[rows]
    month = year.month[rows]
    before_prov = year.provisions_before[rows]
    after_prov = pop.provisions[rows].copy()
    after_prov[leaving] = 0
    prices = funding.prices
    cost = np.zeros((len(rows), N_INSTRUMENTS))
    ben_months = out.months_in_state(year.benefit_before[rows], benefit_after, month, t0, MONTHS_PER_YEAR)
    # Two transitions this year (a job taken and lost, an exit and a return): off benefit between them only.
    lost_at = year.second_month[rows]
    hl = np.isfinite(lost_at)
    ben_months[hl] = (year.benefit_before[rows][hl] * np.maximum(month[hl] - t0[hl], 0.0)
                      + benefit_after[hl] * (MONTHS_PER_YEAR - lost_at[hl]))
    cost[:, Instrument.BENEFIT] = ben_months / MONTHS_PER_YEAR * yearly_benefit
    _, inv = unique_inverse(pop.unit[rows])
    unit_months = np.zeros(inv.max() + 1 if len(inv) else 0)
    np.maximum.at(unit_months, inv, ben_months)
    year.add("benefit_unit_years", unit_months.sum() / MONTHS_PER_YEAR)
    support_start = np.maximum(t0, year.support_from[rows])
    started_now = pop.activity_start_year[rows] == year.index
    held_any = before_prov | after_prov
    for i in Instrument:
        if i in NOT_MONTHLY:
            continue
        bit = 1 << int(i)
        if i in LUMP_SUM_INSTRUMENTS:  # the whole price in the year the trajectory starts
            cost[:, i] = ((before_prov & bit) != 0) * started_now * prices[i]
            continue
        # Only residents who held it before or after the year's transition have months of it; for the others
        # the cost stays 0 (what months_in_state gives them times a price that is never negative).
        h = np.flatnonzero((held_any & bit) != 0)
        start = (support_start if bit & WMO_BITS else t0)[h]
        m = out.months_in_state((before_prov[h] & bit) != 0, (after_prov[h] & bit) != 0, month[h], start,
                                MONTHS_PER_YEAR)
        cost[h, i] = m / MONTHS_PER_YEAR * prices.yearly(i, pop.wage[rows[h]])
    sub = hl & year.second_subsidised[rows]  # a subsidised job taken and lost this year: the months between
    cost[sub, Instrument.WAGE_SUBSIDY] = ((lost_at[sub] - month[sub]) / MONTHS_PER_YEAR
                                          * prices.yearly(Instrument.WAGE_SUBSIDY, pop.wage[rows][sub]))
    cost[:, Instrument.JOB_COACHING] = year.job_coaching[rows] * prices[Instrument.JOB_COACHING]
    return cost


def attribute_savings(pop, rows, handled, year, funding, actors, leaving, benefit_after, yearly_benefit):
    """Benefits not paid to those who left for work; Wmo care no longer needed after a care exit.

    Returns per resident the months off benefit in work that count and the care no longer needed (EUR).
    """
    t0 = pop.entry_month[rows]
    month = year.month[rows]
    employed = pop.employment[rows] >= 0
    off_months = out.months_in_state(~year.benefit_before[rows], ~benefit_after, month, t0, MONTHS_PER_YEAR)
    off_months = np.where(pop.left_for_work[rows] & employed, off_months, 0.0)
    actors.holders[Holder.PWET_INCOME].attribute_saving(
        "benefit", (off_months / MONTHS_PER_YEAR * yearly_benefit).sum())
    after_prov = pop.provisions[rows].copy()
    after_prov[leaving] = 0
    no_wmo = (after_prov & WMO_BITS) == 0
    care = np.where(no_wmo, pop.care_saving[rows], 0.0)
    pop.set_care_saving(rows[~no_wmo], 0.0)
    for h_flag in (False, True):
        sel = handled == h_flag
        actors.holders[funding.payer_of(Instrument.GUIDANCE, h_flag)].attribute_saving("care", care[sel].sum())
    return off_months, care


def firm_savings(pop, rows, actors, off_months, care, p) -> None:
    """The part of this year's savings that each firm's (former) clients cause, for its business case [SR].

    Benefit: residents who left the firm's trajectory for a job (``work_from_firm``), for the months they are
    off benefit and in work this year (``off_months`` above: 0 once back on benefit or out of work), at the
    benefit they received when they left (``benefit_at_exit``, priced as the accounting prices a benefit),
    every year while that lasts and they stay in the social domain. (The holders' benefit saving above prices
    a worker's benefit as now, which is 0 after the year of the move.) Care: the Wmo care no longer needed
    (``care`` above) of residents who held one of the firm's places when their care ended (``care_exit_at_firm``).
    """
    work_from, care_at = pop.work_from_firm[rows], pop.care_exit_at_firm[rows]
    benefit = off_months / MONTHS_PER_YEAR * entitlement.yearly_cost(pop.benefit_at_exit[rows], p)
    for f in actors.firms:
        f.book_savings(benefit[work_from == f.index].sum(), care[care_at == f.index].sum())


def book_firms(pop, year, actors, p) -> None:
    """Each firm books its places filled per stream that bought them (its ledger) and its revenue from client work."""
    rows = pop.alive_rows()
    firm = pop.firm[rows]
    stream = pop.place_stream[rows]
    for f in actors.firms:
        at = firm == f.index
        by = {h: int((at & (stream == h)).sum()) for h in Holder}
        f.book_year(by, float(pop.wage[rows][at].sum()), p)
        if not f.open and at.any():  # a closed firm's clients lose their place at the end of the year
            pop.end(rows[at], FIRM_BITS, year.index, EventKind.END, MONTHS_PER_YEAR)
