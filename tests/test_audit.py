"""The controller's audit: it passes a fair comparison and catches an unfair one."""

from __future__ import annotations

import pytest

from analysis.audit import audit, format_audit
from experiments.runner import run_comparison

ONE_TRAJECTORY = 5000.0


@pytest.fixture(scope="module")
def comparison():
    return run_comparison({"scenario.inhabitants": 8000, "scenario.years": 5},
                          ["compartmentalised", "integrated", "gradual"], 2, 11, progress=False)


def _verdicts(checks, name):
    return {c.arm: c.verdict for c in checks if c.name == name}


def test_a_fair_comparison_passes_the_money_checks(comparison):
    checks = audit(comparison, ONE_TRAJECTORY)
    assert set(_verdicts(checks, "same discretionary money").values()) == {"holds"}
    assert set(_verdicts(checks, "within the discretionary budget").values()) == {"holds"}
    assert set(_verdicts(checks, "firm ledger").values()) == {"holds"}
    assert set(_verdicts(checks, "trajectories bought through the horizon").values()) == {"holds"}
    assert "checks hold" in format_audit(checks)


def test_the_audit_catches_more_money_in_one_arm(comparison):
    unfair = comparison.copy()
    more = (unfair["regime"] == "integrated") & (unfair["indicator"] == "discretionary_budget_pooled")
    unfair.loc[more, "value"] *= 1.2
    assert _verdicts(audit(unfair, ONE_TRAJECTORY), "same discretionary money")["integrated"] == "MISSES"


def test_the_audit_catches_spending_past_the_budget_and_overfilled_places(comparison):
    unfair = comparison.copy()
    spend = (unfair["regime"] == "compartmentalised") & (
        unfair["indicator"] == "discretionary_spend_pwet_participation")
    unfair.loc[spend, "value"] += 2 * ONE_TRAJECTORY
    filled = (unfair["regime"] == "gradual") & (unfair["indicator"] == "firm_places_filled_pooled")
    unfair.loc[filled, "value"] += 50
    checks = audit(unfair, ONE_TRAJECTORY)
    assert _verdicts(checks, "within the discretionary budget")["compartmentalised"] == "MISSES"
    assert _verdicts(checks, "firm ledger")["gradual"] == "MISSES"


def test_the_audit_catches_a_pot_emptied_after_the_first_year(comparison):
    unfair = comparison.copy()
    later = (unfair["regime"] == "integrated") & (unfair["indicator"] == "new_trajectories") & (unfair["year"] > 1)
    unfair.loc[later, "value"] *= 0.1
    assert _verdicts(audit(unfair, ONE_TRAJECTORY), "trajectories bought through the horizon")["integrated"] == "MISSES"
