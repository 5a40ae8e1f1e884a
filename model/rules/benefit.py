"""Benefit rules of the Participatiewet: norms, cost-sharers, the means test, take-up, the safety net."""

from __future__ import annotations

import numpy as np

from model.grouping import unique_inverse


def cost_sharers(household: np.ndarray, age: np.ndarray, min_age: float) -> np.ndarray:
    """Cost-sharers in each resident's home: the adults of the household from the cost-sharer age on (art. 19a, 22a)."""
    _, inv = unique_inverse(household)
    return np.bincount(inv, weights=(age >= min_age).astype(float))[inv]


def person_norm(age: np.ndarray, sharers: np.ndarray, p) -> np.ndarray:
    """Monthly norm of one member of a benefit unit: the youth norm under 21 (art. 20), else ((40 + 30A)/A)% of the couple norm (art. 21, 22a)."""
    a = np.maximum(sharers, 1.0)
    adult = (p["benefit.cost_sharer_base"] + p["benefit.cost_sharer_step"] * a) / a * p["benefit.couple_norm"]
    return np.where(age < p["benefit.youth_age"], p["benefit.youth_norm"], adult)


def unit_benefit(unit_norm: np.ndarray, unit_earnings: np.ndarray) -> np.ndarray:
    """The household's benefit tops its income up to its norm: income counts against the norm (art. 19, 31)."""
    return np.maximum(unit_norm - unit_earnings, 0.0)


def claim_probability(top_up_share: np.ndarray, full_claim: float, top_up_claim: float,
                      full_from: float) -> np.ndarray:
    """A found, entitled household claims: ``full_claim`` for (nearly) a full benefit, ``top_up_claim`` for a top-up [ISZW21][SCP07]."""
    return np.where(np.asarray(top_up_share) >= full_from, full_claim, top_up_claim)


def own_income_share(u_class: np.ndarray, u_level: np.ndarray, no_income: float, low_income: float,
                     low_limit: float) -> np.ndarray:
    """Own income of an entitled household out of sight as a share of its norm: none, up to ``low_limit``, or between it and the norm [ISZW21]."""
    low = low_limit * u_level
    high = low_limit + (1.0 - low_limit) * u_level
    return np.where(u_class < no_income, 0.0, np.where(u_class < low_income, low, high))


def safety_net(deficit: float, grant: float, threshold: float, full_from: float, partial: float) -> float:
    """Vangnet compensation (art. 74): a share of the deficit between the thresholds, all of it above the upper one."""
    if grant <= 0 or deficit <= threshold * grant:
        return 0.0
    band = min(deficit, full_from * grant) - threshold * grant
    return partial * band + max(deficit - full_from * grant, 0.0)
