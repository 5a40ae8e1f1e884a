"""The report's money adds up: in every regime the task fields, the business case and the own result reconcile
with spending, and each holder's own result is its budget plus safety net minus its spending.

The identities are checked from whichever money indicators the results hold (``budget_*``, ``grant_*``,
``spend_*``, ``own_result_*``, ``vangnet_compensation``, and ``discretionary_*`` when present), so they keep
holding when the model reports more of them. Tolerance: one cent per horizon total (sums of about 1e8 EUR in
float64 are exact to far below that).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from analysis.report import build_report, report_paths
from analysis.report.load import load_results
from analysis.report.tables import (
    HOLDER_NAMES,
    business_case,
    line_costs,
    own_result_frame,
    own_result_identity,
    reconciliation,
    task_field_spending,
    whole,
)
from experiments.cli import main

CENT = 0.01  # EUR
RUN = ["--regimes", "compartmentalised,integrated,gradual", "--set", "scenario.pooled_share=0.3",
       "--set", "scenario.inhabitants=4000", "--years", "3", "--replications", "2", "--seed", "3", "--no-progress",
       "--no-explain"]
# One arm per regime with the same practices, and the bundle on the transformation desk: the arm in which the
# Wmo pays a neighbourhood team for triage next to the desk (the staff the task fields used to miss).
ARMS = ["compartmentalised", "integrated", "gradual", "gradual + pooling practices"]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    parent = tmp_path_factory.mktemp("accounts")
    assert main(["run", *RUN, "--out", str(parent)]) == 0
    (folder,) = [p for p in parent.iterdir() if p.is_dir() and p.name != "sweeps"]
    loaded = load_results(folder)
    assert loaded.arms[:3] == ARMS[:3] and loaded.arms[3] == "gradual + pooling practices"
    return loaded


def salary(results) -> float:
    return float(results.params["staff.salary"])


@pytest.mark.parametrize("arm", ARMS)
def test_cost_lines_and_task_fields_add_up_to_spending(results, arm):
    wide = whole(results.frame)
    lines = line_costs(wide, salary(results)).xs(arm, level="regime")
    spend = wide["spend_total"].xs(arm, level="regime")
    assert (lines.sum(axis=1) - spend).abs().max() < CENT
    assert (lines["neighbourhood_team"] > -CENT).all()  # booked staff never below the desk staff counted
    fields = task_field_spending(results, salary(results))
    per_rep = spend.groupby(level="replication").sum() / 1e6
    assert abs(fields[f"{arm}_mean"].sum() - per_rep.mean()) * 1e6 < CENT


@pytest.mark.parametrize("arm", ARMS)
def test_each_holders_own_result_is_budget_plus_safety_net_minus_spending(results, arm):
    wide = whole(results.frame).xs(arm, level="regime", drop_level=False)
    books = own_result_frame(wide)
    assert own_result_identity(books).abs().to_numpy().max() < CENT
    holders = [h for h in HOLDER_NAMES if f"spend_{h}" in wide]
    assert (wide[[f"spend_{h}" for h in holders]].sum(axis=1) - wide["spend_total"]).abs().max() < CENT
    assert (wide[[f"own_result_{h}" for h in holders]].sum(axis=1) - wide["own_result_total"]).abs().max() < CENT
    for h in holders:  # discretionary money is part of the holder's money, when reported
        if f"discretionary_spend_{h}" in wide:
            assert (wide[f"discretionary_spend_{h}"] <= wide[f"spend_{h}"] + CENT).all()
        if f"discretionary_budget_{h}" in wide:
            assert (wide[f"discretionary_budget_{h}"] <= wide[f"budget_{h}"] + CENT).all()


def test_the_state_grants_are_the_same_in_every_arm(results):
    """The social-domain grants follow neither the regime nor the practices: their sum over holders is equal across arms.

    The BUIG's wage-subsidy part follows each arm's realised subsidy spending of the year before
    (``grant.subsidy_financing``, tests/test_fair_comparison.py), so the income line is left out here.
    """
    wide = whole(results.frame)
    grants = wide[[f"grant_{h}" for h in HOLDER_NAMES if f"grant_{h}" in wide and h != "pwet_income"]].sum(axis=1)
    by_arm = grants.unstack("regime")
    assert (by_arm.sub(by_arm["compartmentalised"], axis=0).abs() < CENT).all().all()


@pytest.mark.parametrize("arm", ARMS[1:])
def test_business_case_task_fields_and_own_result_reconcile_with_the_spending_difference(results, arm):
    wide = whole(results.frame)
    spend = wide["spend_total"].groupby(level=["regime", "replication"]).sum()
    diff = (spend.xs(arm, level="regime") - spend.xs(results.base, level="regime")).mean() / 1e6
    case = business_case(results.frame, results.base, arm, salary(results))
    assert abs(case.totals.set_index("budget").loc["total", "net"] + diff) * 1e6 < CENT
    assert abs(case.yearly["net"].sum() + diff) * 1e6 < CENT
    rec = reconciliation(results, salary(results)).query("arm == @arm").set_index("key")["mean"]
    assert abs(rec["spend_total"] - diff) * 1e6 < CENT and abs(rec["cost_lines"] - diff) * 1e6 < CENT
    identity = rec["budget_total"] + rec["compensation_total"] - rec["spend_total"]
    assert abs(rec["own_result_total"] - identity) * 1e6 < CENT
    own = wide["own_result_total"].groupby(level=["regime", "replication"]).sum()
    assert abs(rec["own_result_total"] * 1e6 - (own.xs(arm, level="regime") - own.xs(results.base, level="regime")
                                               ).mean()) < CENT


def test_the_reports_own_result_table_shows_the_identity_and_the_reconciliation(results, tmp_path):
    out = build_report(results.folder, tmp_path / "report.html", lang="en")
    files = report_paths(out)[1]
    table = pd.read_csv(files / "own_result.csv").set_index("key")
    for h in [*HOLDER_NAMES, "total"]:
        for prefix in ("grant_", "budget_", "budget_beyond_grant_", "compensation_", "spend_", "own_result_"):
            assert f"{prefix}{h}" in table.index
        for arm in ARMS:
            col = f"{arm}_mean"
            expected = table.loc[f"budget_{h}", col] + table.loc[f"compensation_{h}", col] - table.loc[f"spend_{h}", col]
            assert table.loc[f"own_result_{h}", col] == pytest.approx(expected, abs=1e-8)
            beyond = table.loc[f"budget_{h}", col] - table.loc[f"grant_{h}", col]
            assert table.loc[f"budget_beyond_grant_{h}", col] == pytest.approx(beyond, abs=1e-8)
    rec = pd.read_csv(files / "money_reconciliation.csv")
    assert set(rec["arm"]) == set(ARMS[1:])
    assert "How the money adds up against the baseline" in Path(out).read_text()
