"""Problem dynamics: work and activity heal, inactivity harms, households share their burden; wage value and the participation ladder follow."""

from __future__ import annotations

import numpy as np

from model.constants import (
    ACTIVITY_DOMAINS,
    DYNAMIC_DOMAINS,
    GUIDANCE_DOMAINS,
    INACTIVITY_DOMAINS,
    N_DOMAINS,
    WAGE_DOMAINS,
    WORK_GAIN_DOMAINS,
    Status,
    Step,
)
from model.grouping import unique_inverse


def _mask(domains) -> np.ndarray:
    m = np.zeros(N_DOMAINS)
    m[list(domains)] = 1.0
    return m


_WORK, _ACT, _GUIDE, _INACT, _DYN = (
    _mask(WORK_GAIN_DOMAINS),
    _mask(ACTIVITY_DOMAINS),
    _mask(GUIDANCE_DOMAINS),
    _mask(INACTIVITY_DOMAINS),
    _mask(DYNAMIC_DOMAINS),
)


def other_members_load(household: np.ndarray, load: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean problem load of the *other* members of each resident's household, and whether there are any."""
    _, inv = unique_inverse(household)
    total = np.bincount(inv, weights=load)
    count = np.bincount(inv)
    n = count[inv]
    has_other = n > 1
    other = np.where(has_other, (total[inv] - load) / np.maximum(n - 1, 1), load)
    return other, has_other


def severity_change(sev: np.ndarray, working: np.ndarray, active: np.ndarray, guided: np.ndarray,
                    inactive: np.ndarray, own_load: np.ndarray, other_load: np.ndarray,
                    noise: np.ndarray, p) -> np.ndarray:
    """New severities: work [R12] and activity [FW19] heal, inactivity harms [R12], households spill over [R12]."""
    # delta = -work_gain * working * _WORK - activity_gain * active * _ACT - guidance_gain * guided * _GUIDE
    #         + inactivity_harm * inactive * _INACT + household_spillover * (other - own) * _DYN + noise_sd * noise * _DYN,
    # added term by term in that order into one array (a population-sized matrix, so no temporary per term).
    delta = np.multiply(-p["dynamics.work_gain"] * working[:, None], _WORK)
    term = np.empty_like(delta)
    for sign, factor, mask in ((-1, p["dynamics.activity_gain"] * active[:, None], _ACT),
                               (-1, p["dynamics.guidance_gain"] * guided[:, None], _GUIDE),
                               (1, p["dynamics.inactivity_harm"] * inactive[:, None], _INACT),
                               (1, p["dynamics.household_spillover"] * (other_load - own_load)[:, None], _DYN)):
        np.multiply(factor, mask, out=term)
        (np.subtract if sign < 0 else np.add)(delta, term, out=delta)
    np.multiply(noise, p["dynamics.noise_sd"], out=term)
    term *= _DYN
    delta += term
    delta += sev
    return np.clip(delta, 0.0, 1.0, out=delta)


def health_burden(sev: np.ndarray) -> np.ndarray:
    """Mean severity over the health and LVB domains: what lowers wage value [M16] (as in ``problems.wage_value``)."""
    return sev[:, list(WAGE_DOMAINS)].mean(axis=1)


def wage_value_change(wage: np.ndarray, old_sev: np.ndarray, new_sev: np.ndarray, working: np.ndarray,
                      trajectory: np.ndarray, worklike: np.ndarray, day_activity: np.ndarray, p) -> np.ndarray:
    """Wage value grows in work and trajectories [SR], less in work-like day activities, holds in other day activities, erodes while inactive [R12], and follows health [M16]."""
    practice = np.select([working | trajectory, worklike, day_activity],
                         [p["wage.learning"], p["wage.learning_worklike"], 0.0], -p["wage.decay"])
    health = -p["wage.health_tracking"] * p["wage.severity_weight"] * (health_burden(new_sev) - health_burden(old_sev))
    return np.clip(wage + practice + health, 0.0, 1.0)


def ladder_level(label: np.ndarray, status: np.ndarray, worklike: np.ndarray, guided: np.ndarray) -> np.ndarray:
    """The step a position sustains: its status label (``problems.participation_step``), work-like day activities as unpaid work, guidance out of isolation [M16]."""
    level = np.where((status == Status.DAY_ACTIVITIES) & worklike, Step.UNPAID_WORK, label)
    return np.where(guided & (level == Step.ISOLATED), Step.SOCIAL_CONTACTS, level).astype(np.int8)


def ladder_up_chance(worklike_or_firm: np.ndarray, trajectory: np.ndarray, day_activity: np.ndarray,
                     guided: np.ndarray, p) -> np.ndarray:
    """Yearly chance of a step up: work-like day activities and firm places most, then trajectories, then other day activities; guidance adds its own chance."""
    activity = np.select([worklike_or_firm, trajectory, day_activity],
                         [p["ladder.up_worklike"], p["ladder.up_trajectory"], p["ladder.up_day_activities"]], 0.0)
    return 1.0 - (1.0 - activity) * (1.0 - guided * p["ladder.up_guidance"])


def ladder_move(step: np.ndarray, level: np.ndarray, employed: np.ndarray, up_chance: np.ndarray,
                down_chance: float, u: np.ndarray) -> np.ndarray:
    """Paid work sets the step; out of it the step is at most unpaid work and moves one step a year towards what the position sustains, by chance."""
    capped = np.where(employed, level, np.minimum(step, Step.UNPAID_WORK))
    up = ~employed & (capped < level) & (u < up_chance)
    down = ~employed & (capped > level) & (u < down_chance)
    return (capped + up.astype(np.int8) - down.astype(np.int8)).astype(np.int8)
