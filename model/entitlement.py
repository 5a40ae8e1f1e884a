"""The entitlement test: what each resident's benefit unit may receive, and keeping claims in line with it.

The benefit unit (bijstandseenheid) is the head and the partner; a housemate is a unit of its
own and a cost-sharer of the others. A unit's benefit tops its income up to its norm
(``rules/benefit.py``); the benefit is shared by the unit's members without work. Jobs pay the net
minimum wage for ``work.hours_share`` of full time; own income outside a modelled job (``own_income``:
irregular or part-time work, self-employment, a partial benefit) counts against the norm too; the couple norm is 100% of the net minimum
wage (Participatiewet art. 21), so a full-time job lifts a couple above its norm.
"""

from __future__ import annotations

import numpy as np

from model.constants import MONTHS_PER_YEAR, Member
from model.grouping import unique_inverse
from model.rules import benefit as ben


def monthly_benefit(household, unit, age, employed, p, own_income=None) -> np.ndarray:
    """Net benefit per month each resident receives as a member of its unit (0 in work or above the norm).

    ``own_income`` (EUR net per month, default none) is income outside a modelled job; it counts against the norm.
    """
    employed = np.asarray(employed, dtype=bool)
    if len(unit) == 0:
        return np.zeros(0)
    norm, inv, unit_norm, earnings = _unit_terms(household, unit, age, employed, own_income, p)
    idle_norm = np.bincount(inv, weights=np.where(employed, 0.0, norm))[inv]
    top_up = ben.unit_benefit(unit_norm, earnings)[inv]
    share = np.divide(norm, idle_norm, out=np.zeros(len(norm)), where=idle_norm > 0)
    return np.where(employed, 0.0, top_up * share)


def top_up_share(household, unit, age, employed, p, own_income=None) -> np.ndarray:
    """Each resident's unit benefit as a share of the unit's norm (1 = a full benefit, small = a small top-up)."""
    employed = np.asarray(employed, dtype=bool)
    if len(unit) == 0:
        return np.zeros(0)
    _, inv, unit_norm, earnings = _unit_terms(household, unit, age, employed, own_income, p)
    return (ben.unit_benefit(unit_norm, earnings) / unit_norm)[inv]


def _unit_terms(household, unit, age, employed, own_income, p):
    """Per resident its norm; per unit (``inv`` indexes them) the unit's norm and the income counted against it."""
    norm = ben.person_norm(age, ben.cost_sharers(household, age, p["benefit.cost_sharer_min_age"]), p)
    _, inv = unique_inverse(unit)
    unit_norm = np.bincount(inv, weights=norm)
    income = employed * p["work.hours_share"] * p["benefit.couple_norm"]
    if own_income is not None:
        income = income + np.asarray(own_income, dtype=float)
    return norm, inv, unit_norm, np.bincount(inv, weights=income)


def yearly_cost(monthly: np.ndarray, p) -> np.ndarray:
    """Municipal cost of a year of benefit: net benefit plus the wage tax and premiums paid on it (art. 19(4))."""
    return monthly * MONTHS_PER_YEAR * p["benefit.gross_up"]


def population_benefit(pop, rows, p) -> np.ndarray:
    """``monthly_benefit`` for the residents in ``rows`` (all of a household's members must be among them)."""
    return monthly_benefit(pop.household[rows], pop.unit[rows], pop.age[rows], pop.employment[rows] >= 0, p,
                           pop.own_income[rows])


def population_top_up_share(pop, rows, p) -> np.ndarray:
    """``top_up_share`` for the residents in ``rows`` (all of a household's members must be among them)."""
    return top_up_share(pop.household[rows], pop.unit[rows], pop.age[rows], pop.employment[rows] >= 0, p,
                        pop.own_income[rows])


def sync_claims(pop, rows, year, p) -> None:
    """Claims follow the household: members without income join a unit's running claim; a unit above its norm leaves.

    Dated at the month of the unit's first transition this year (a job, a job loss), else at the end of the
    year (the change then takes effect from the next year).
    """
    monthly = population_benefit(pop, rows, p)
    unit = pop.unit[rows]
    on_benefit = pop.on_benefit[rows]
    _, inv = unique_inverse(unit)
    claim_running = np.bincount(inv, weights=on_benefit)[inv] > 0
    month = year.month[rows]
    first = np.full(inv.max() + 1 if len(inv) else 0, MONTHS_PER_YEAR)
    np.minimum.at(first, inv, month)
    month = np.where(year.moved[rows], month, first[inv])
    leave = on_benefit & (monthly <= 0)
    join = ~on_benefit & (pop.employment[rows] < 0) & claim_running & (monthly > 0) & (
        pop.member[rows] != Member.HOUSEMATE)
    pop.leave_benefit(rows[leave], year.index, month[leave])
    year.add("leavers_for_work", leave.sum())  # the household's earnings ended the benefit: an exit through work
    pop.join_claim(rows[join], year.index, month[join])
    year.date(rows[leave | join], month[leave | join])
