"""Allocation rules: who gets which instrument within budget and caseload limits."""

from __future__ import annotations

import numpy as np

from model.constants import Instrument

NONE = -1


def select_within_limits(priority: np.ndarray, cost: np.ndarray, budget: float, capacity: int) -> np.ndarray:
    """Serve candidates in priority order while the cumulative cost fits the budget and the caseload has room."""
    chosen = np.zeros(len(priority), dtype=bool)
    if len(priority) == 0 or budget <= 0 or capacity <= 0:
        return chosen
    order = np.argsort(-priority, kind="stable")
    fits = np.cumsum(cost[order]) <= budget
    fits &= np.arange(len(order)) < capacity
    # Stop at the first candidate that does not fit: the queue is served in order, nobody jumps it.
    stop = np.argmin(fits) if not fits.all() else len(fits)
    chosen[order[:stop]] = True
    return chosen


def pwet_priority(wage: np.ndarray, years_out: np.ndarray, p) -> np.ndarray:
    """Creaming: a client manager ranks by expected outflow from a single-domain view (wage value, time out) [M16]."""
    return p["work.wage_value_effect"] * wage - p["work.duration_effect"] * years_out


def pwet_instrument(wage: np.ndarray, p) -> np.ndarray:
    """P-wet instrument by distance to work: mediation when close, a firm trajectory in the subsidy band, none for care clients [M16]."""
    out = np.full(len(wage), NONE, dtype=np.int8)
    out[wage >= p["wage.care_client_threshold"]] = Instrument.SOCIAL_FIRM
    out[wage >= p["wage.regular_min"]] = Instrument.MEDIATION
    return out


def money_value(p_gain: np.ndarray, benefit_saving: np.ndarray, care_avoided: np.ndarray, cost: np.ndarray,
                horizon: float) -> np.ndarray:
    """Expected money across all budgets (EUR): yearly savings times the job-chance gain over the horizon, minus cost.

    ``benefit_saving``: the benefit a job ends, net of what the job's wage-cost subsidy costs the
    municipality; ``care_avoided``: the Wmo care a job ends. A contracted firm place is paid for anyway
    [SR], so ``cost`` counts only what the instrument adds (guidance, lump sums), not the place.
    """
    return p_gain * (benefit_saving + care_avoided) * horizon - cost


def desk_priority(objective: str, p_gain: np.ndarray, benefit: np.ndarray, subsidy: np.ndarray,
                  care: np.ndarray, need: np.ndarray, cost: np.ndarray, horizon: float) -> np.ndarray:
    """A desk's ranking of candidates for a discretionary instrument under its money objective (``practice.desk_objective``) [SR].

    Every candidate is valued alike: ``subsidy`` is what the job it leads to costs the municipality in
    wage-cost subsidy (0 for a regular job, or when the state refunds it, ``grant.subsidy_financing``).
    all-budgets: money across every budget (benefit net of subsidy, Wmo care avoided, minus cost);
    benefit-savings: the benefit alone, as a single pocket would count it; need-first: the greatest
    need first, money across all budgets breaking ties (returned as a rank, higher first).
    """
    if objective == "benefit-savings":
        return money_value(p_gain, benefit, np.zeros_like(benefit), cost, horizon)
    money = money_value(p_gain, benefit - subsidy, care, cost, horizon)
    if objective == "all-budgets":
        return money
    if objective != "need-first":
        raise ValueError(f"practice.desk_objective = {objective!r}: expected all-budgets, benefit-savings or need-first")
    rank = np.empty(len(need))
    rank[np.lexsort((money, need))] = np.arange(len(need))
    return rank


def desk_households(weight: np.ndarray, lottery: np.ndarray, candidate: np.ndarray, kept: np.ndarray,
                    capacity: int) -> np.ndarray:
    """Households the transformation desk serves: those it has, then the heaviest candidates, up to ``capacity`` [SR].

    ``weight``: severe problems across domains and members; ties go by ``lottery`` (lowest first).
    When the desk already has more than ``capacity`` (its share fell), it keeps its heaviest.
    """
    order = np.lexsort((lottery, -weight, ~kept))  # kept first, then heaviest, then lottery
    order = order[candidate[order]][: max(capacity, 0)]
    chosen = np.zeros(len(weight), dtype=bool)
    chosen[order] = True
    return chosen


def assign_slots(wants: np.ndarray, priority: np.ndarray, free_slots: np.ndarray) -> np.ndarray:
    """Give free slots (a list of firm ids, one per free place) to those who want one, best priority first.

    A desk prices its candidates after this, so places go in the same order as its money [SR].
    """
    got = np.full(len(wants), NONE, dtype=np.int32)
    idx = np.flatnonzero(wants)
    if len(idx) == 0 or len(free_slots) == 0:
        return got
    idx = idx[np.argsort(-priority[idx], kind="stable")][: len(free_slots)]
    got[idx] = free_slots[: len(idx)]
    return got


def coordinated_first(priority: np.ndarray, coordinated: np.ndarray) -> np.ndarray:
    """A regisseur has mandate and budget [R12]: coordinated households go first, in priority order among themselves."""
    if len(priority) == 0:
        return priority
    shifted = priority - priority.min()
    return np.where(coordinated, shifted + shifted.max() + 1, shifted)
