"""Outcome rules: job chances, drop-out, lock-in, job loss."""

from __future__ import annotations

import numpy as np

from model.constants import Disability


def hazard_to_probability(hazard: np.ndarray) -> np.ndarray:
    """Yearly probability of an event with a constant hazard over the year: 1 - exp(-h)."""
    return 1.0 - np.exp(-hazard)


def job_hazard(wage: np.ndarray, years_out: np.ndarray, load: np.ndarray, motivation: np.ndarray, p) -> np.ndarray:
    """Job hazard falls with low wage value, time out of work [R12], problems [R12] and low motivation [SR]."""
    return p["work.base_hazard"] * np.exp(
        p["work.wage_value_effect"] * (wage - 1.0)
        - p["work.duration_effect"] * years_out
        - p["work.severity_effect"] * load
        + p["work.motivation_effect"] * (motivation - 1.0)
    )


def cycle_multiplier(slack: float, reference: float, elasticity: float, hard_core: np.ndarray) -> np.ndarray:
    """Only those close to work breathe with the economy; the hard core does not [FW19]."""
    return np.where(hard_core, 1.0, (reference / slack) ** elasticity)


def unaddressed_multiplier(unaddressed: np.ndarray, penalty: float) -> np.ndarray:
    """Each severe blocking problem nobody addresses removes a share of the job chance [R12]."""
    return (1.0 - penalty) ** unaddressed


def firm_group_multiplier(age: np.ndarray, years_out: np.ndarray, discrimination: np.ndarray, p) -> np.ndarray:
    """Group effects of a social-firm trajectory [SR]: young long-unemployed gain most, discrimination-attributing older lose."""
    young_long = (age <= p["firm.young_age_max"]) & (years_out >= p["firm.long_out_years"])
    older_disc = (age >= p["firm.older_age_min"]) & discrimination
    return np.where(young_long, p["firm.young_long_gain"], 1.0) * np.where(
        older_disc, p["firm.discrimination_factor"], 1.0
    )


def dropout_probability(disability: np.ndarray, guided: np.ndarray, p) -> np.ndarray:
    """Drop-out from a trajectory or day activity: higher with a psychiatric disability [SR], lower with parallel guidance [R12]."""
    base = p["firm.dropout_base"] + np.where(
        disability == Disability.PSYCHIATRIC, p["firm.psychiatric_dropout_extra"], 0.0
    )
    return np.clip(base * np.where(guided, 1.0 - p["firm.guidance_dropout_reduction"], 1.0), 0.0, 1.0)


def lock_in_probability(wage: np.ndarray, monitored: np.ndarray, tendency: float, monitoring_effect: float) -> np.ndarray:
    """The firm keeps productive clients past the planned end [SR]; an integrated desk that tracks outflow curbs it."""
    return np.clip(tendency * wage * np.where(monitored, 1.0 - monitoring_effect, 1.0), 0.0, 1.0)


def decaying_hazard_integral(start: np.ndarray, length: np.ndarray, first: float, long_run: float,
                             decay: float) -> np.ndarray:
    """Integral of a hazard falling from ``first`` (at time 0) towards ``long_run`` at rate ``decay``, over [start, start + length]."""
    start, length = np.asarray(start, dtype=float), np.asarray(length, dtype=float)
    if decay <= 0:
        return first * length
    fading = (first - long_run) / decay * (np.exp(-decay * start) - np.exp(-decay * (start + length)))
    return long_run * length + fading


def job_loss_probability(tenure: np.ndarray, exposure: np.ndarray, load: np.ndarray, wage: np.ndarray,
                         p) -> np.ndarray:
    """A job is lost within ``exposure`` years: the hazard falls with tenure [CBS24], rises with problems and low wage value (assumption)."""
    base = decaying_hazard_integral(tenure, exposure, p["work.job_loss_base"], p["work.job_loss_long_run"],
                                    p["work.job_loss_tenure_decay"])
    shortfall = 1.0 - np.minimum(wage, 1.0)
    factor = (1.0 + p["work.job_loss_severity_effect"] * load) * np.exp(p["work.job_loss_wage_effect"] * shortfall)
    return hazard_to_probability(base * factor)


def return_probability(since: np.ndarray, exposure: np.ndarray, p) -> np.ndarray:
    """The other income ends within ``exposure`` years: a hazard falling with time since it began [DIV19]."""
    return hazard_to_probability(decaying_hazard_integral(since, exposure, p["benefit.return_hazard"], 0.0,
                                                          p["benefit.return_decay"]))


def months_in_state(before: np.ndarray, after: np.ndarray, month: np.ndarray, start: np.ndarray,
                    months_per_year: float) -> np.ndarray:
    """Months in a state this year given the state before/after the year's single transition at ``month``."""
    stay = before & after
    left = before & ~after
    entered = ~before & after
    return (
        stay * (months_per_year - start)
        + left * np.maximum(month - start, 0.0)
        + entered * (months_per_year - np.maximum(month, start))
    )
