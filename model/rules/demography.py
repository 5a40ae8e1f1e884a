"""Demography rules: ages, exits, inflow counts."""

from __future__ import annotations

import numpy as np

from model.constants import MORTALITY_REFERENCE_AGE
from model.grouping import unique_inverse


def draw_age(u: np.ndarray, age_min: float, pension_age: float, skew: float) -> np.ndarray:
    """Age between the minimum and the pension age; skew > 1 makes it younger (assumption)."""
    return age_min + (pension_age - age_min) * u**skew


def mortality(age: np.ndarray, at_40: float, slope: float) -> np.ndarray:
    """Gompertz yearly death probability: hazard ``at_40 * exp(slope * (age - 40))`` (assumption)."""
    return 1.0 - np.exp(-at_40 * np.exp(slope * (age - MORTALITY_REFERENCE_AGE)))


def stochastic_round(expected: float, u: float) -> int:
    """Round ``expected`` down or up with probability equal to its fraction (unbiased count)."""
    whole = int(np.floor(expected))
    return whole + int(u < expected - whole)


def recovered(in_regular_work: np.ndarray, years_in_work: np.ndarray, severity_mean: np.ndarray,
              min_years: float, max_severity: float) -> np.ndarray:
    """Stable regular work with low problems takes a resident out of the social domain (assumption)."""
    return in_regular_work & (years_in_work >= min_years) & (severity_mean < max_severity)


def unseen_without_need(not_in_sight: np.ndarray, severity_mean: np.ndarray, need: float) -> np.ndarray:
    """A resident out of sight whose problems fell below the need level is no longer in the social domain."""
    return not_in_sight & (severity_mean < need)


def household_leaves(household: np.ndarray, done: np.ndarray) -> np.ndarray:
    """A household leaves the social domain only when none of its members still needs it (all are ``done``)."""
    _, inv = unique_inverse(household)
    still_in = np.bincount(inv, weights=~done, minlength=inv.max() + 1 if len(inv) else 0)
    return done & (still_in[inv] == 0)


def household_sizes(u: np.ndarray, probs: list[float]) -> np.ndarray:
    """Number of adult members (1..len(probs)) drawn from the household-size distribution."""
    cum = np.cumsum(np.asarray(probs, dtype=float))
    cum = cum / cum[-1]
    return np.searchsorted(cum, u, side="right") + 1


def cycle_factor(slack: float, reference: float, elasticity: float) -> float:
    """Multiplier on benefit inflow: more unemployed per vacancy, more inflow [M16][FW19]."""
    return (slack / reference) ** elasticity
