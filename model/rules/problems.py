"""Problem profiles: severities, wage value, disability type, self-reliance, participation step."""

from __future__ import annotations

import numpy as np

from model.constants import (
    HEALTH_DOMAINS,
    SELF_RELIANCE_DOMAINS,
    Disability,
    Domain,
    Status,
    Step,
)

_SELF = list(SELF_RELIANCE_DOMAINS)
_WAGE_DOMAINS = list(HEALTH_DOMAINS) + [Domain.INTELLECTUAL]


def severities(latent: np.ndarray, eps: np.ndarray, baseline_logit: list[float], loading: float,
               spread: float) -> np.ndarray:
    """Severity per domain = logistic(baseline + loading * shared factor + spread * own noise) [R12 co-occurrence]."""
    z = np.asarray(baseline_logit)[None, :] + loading * latent[:, None] + spread * eps
    return 1.0 / (1.0 + np.exp(-z))


def wage_value(sev: np.ndarray, base: float, weight: float, spread: float, eps: np.ndarray) -> np.ndarray:
    """Wage value falls with health and intellectual problems [M16]; clipped to [0, 1]."""
    return np.clip(base - weight * sev[:, _WAGE_DOMAINS].mean(axis=1) + spread * eps, 0.0, 1.0)


def disability_type(sev: np.ndarray, threshold: float) -> np.ndarray:
    """Dominant disability: intellectual before psychiatric before physical, if above the threshold."""
    out = np.full(len(sev), Disability.NONE, dtype=np.int8)
    out[sev[:, Domain.PHYSICAL] >= threshold] = Disability.PHYSICAL
    out[sev[:, Domain.MENTAL] >= threshold] = Disability.PSYCHIATRIC
    out[sev[:, Domain.INTELLECTUAL] >= threshold] = Disability.INTELLECTUAL
    return out


def self_reliance(sev: np.ndarray) -> np.ndarray:
    """Self-reliance (zelfredzaamheid) = 1 - mean severity over the non-work domains."""
    return 1.0 - sev[:, _SELF].mean(axis=1)


def problem_load(sev: np.ndarray) -> np.ndarray:
    """Mean severity over the non-work domains (0-1): the 'how many problems' measure."""
    return sev[:, _SELF].mean(axis=1)


def work_income_severity(employed_regular: np.ndarray, wage: np.ndarray) -> np.ndarray:
    """Work/income problem = distance to work (1 - wage value), nil in regular work [M16 P-wet view]."""
    return np.where(employed_regular, 0.0, 1.0 - wage)


def participation_step(status: np.ndarray, isolation: np.ndarray, isolation_threshold: float) -> np.ndarray:
    """Participation ladder 1-6: isolated, social contacts, organised activity, unpaid work, supported work, paid work."""
    step = np.where(isolation >= isolation_threshold, Step.ISOLATED, Step.SOCIAL_CONTACTS)
    step = np.where(status == Status.DAY_ACTIVITIES, Step.ORGANISED_ACTIVITY, step)
    step = np.where(status == Status.TRAJECTORY, Step.UNPAID_WORK, step)
    step = np.where((status == Status.SUBSIDISED_WORK) | (status == Status.SHELTERED_WORK), Step.SUPPORTED_WORK, step)
    return np.where(status == Status.REGULAR_WORK, Step.PAID_WORK, step).astype(np.int8)


def count_severe(sev: np.ndarray, domains: tuple, threshold: float) -> np.ndarray:
    """Number of the given domains at or above the severe threshold."""
    return (sev[:, list(domains)] >= threshold).sum(axis=1)
