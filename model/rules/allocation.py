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


def integrated_instrument(wage: np.ndarray, p) -> np.ndarray:
    """Integrated package core by wage value: mediation, firm trajectory, or work-like day activities for care clients."""
    out = np.full(len(wage), Instrument.DAY_ACTIVITIES_WORKLIKE, dtype=np.int8)
    out[wage >= p["wage.subsidy_min"]] = Instrument.SOCIAL_FIRM
    out[wage >= p["wage.regular_min"]] = Instrument.MEDIATION
    return out


def integrated_priority(p_gain: np.ndarray, on_benefit: np.ndarray, benefit: np.ndarray, need: np.ndarray,
                        cost: np.ndarray, p) -> np.ndarray:
    """Integrated desk: expected saving on the resident's own benefit over its horizon minus cost, plus weighted need (EUR) [SR].

    Need is weighted in benefit-years of the published mean cost of a benefit [M16].
    """
    saving = p_gain * on_benefit * benefit * p["integrated.saving_horizon_years"]
    return saving - cost + p["integrated.need_weight"] * need * p["benefit.cost_per_year"]


def assign_slots(wants: np.ndarray, priority: np.ndarray, free_slots: np.ndarray) -> np.ndarray:
    """Give free slots (a list of firm ids, one per free place) to those who want one, best priority first."""
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
