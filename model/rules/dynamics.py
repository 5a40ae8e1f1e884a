"""Problem dynamics: work and activity heal, inactivity harms, households share their burden."""

from __future__ import annotations

import numpy as np

from model.constants import (
    ACTIVITY_DOMAINS,
    DYNAMIC_DOMAINS,
    GUIDANCE_DOMAINS,
    INACTIVITY_DOMAINS,
    N_DOMAINS,
    WORK_GAIN_DOMAINS,
)


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
    _, inv = np.unique(household, return_inverse=True)
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
    delta = (
        -p["dynamics.work_gain"] * working[:, None] * _WORK
        - p["dynamics.activity_gain"] * active[:, None] * _ACT
        - p["dynamics.guidance_gain"] * guided[:, None] * _GUIDE
        + p["dynamics.inactivity_harm"] * inactive[:, None] * _INACT
        + p["dynamics.household_spillover"] * (other_load - own_load)[:, None] * _DYN
        + p["dynamics.noise_sd"] * noise * _DYN
    )
    return np.clip(sev + delta, 0.0, 1.0)


def wage_value_change(wage: np.ndarray, active: np.ndarray, p) -> np.ndarray:
    """Wage value grows while working or in a trajectory and erodes while inactive [SR][R12]."""
    change = np.where(active, p["wage.learning"], -p["wage.decay"])
    return np.clip(wage + change, 0.0, 1.0)
