"""Calibration and validation: the target table, the calibration script, the personas."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from analysis.validation import TARGETS, dynamics_table, firm_dropout_by_disability, per_run_wide, validation_table
from experiments import calibrate
from experiments.cli import main
from experiments.runner import run_comparison
from model import SocialDomainModel
from model.parameters import PARAMETER_FILE, ParameterError, ParameterSet
from model.personas import PERSONAS

DOMAIN_TAGS = ("[SR]", "[M16]", "[R12]", "[BK18]", "[FW19]", "[CBS24]", "[DIV19]", "[ISZW21]", "[SCP07]")  # docs/sources.md


@pytest.fixture(scope="module")
def small_frame():
    return run_comparison({"scenario.inhabitants": 8000, "scenario.years": 6}, ["compartmentalised"], 3, 5,
                          progress=False)


def test_every_target_has_a_source_a_tolerance_and_a_reason():
    assert len(TARGETS) >= 9
    for t in TARGETS:
        assert any(tag in t.source for tag in DOMAIN_TAGS), t.name
        assert t.tolerance > 0 and t.why and t.unit


def test_validation_table_structure_on_a_small_configuration(small_frame):
    table = validation_table(small_frame, 8000)
    assert table["target"].tolist() == [t.name for t in TARGETS]
    assert table[["simulated", "lo", "hi"]].notna().all().all()
    assert ((table["lo"] <= table["simulated"]) & (table["simulated"] <= table["hi"])).all()
    expected = (table["simulated"] - table["value"]).abs() <= table["tolerance"]
    assert (table["holds"] == expected).all()
    dyn = dynamics_table(small_frame)
    assert dyn["mean"].notna().all()
    shares = dyn[dyn["figure"].str.startswith("stock share")]["mean"].sum()
    assert shares == pytest.approx(1.0)
    dropout = firm_dropout_by_disability(small_frame)
    assert set(dropout["group"]) == {"none", "psychiatric", "intellectual", "physical"}


def test_psychiatric_disability_drops_out_of_social_firms_most(small_frame):
    """[SR]: people with a psychiatric disability often stop soon."""
    d = firm_dropout_by_disability(small_frame).set_index("group")["dropout_share"]
    assert d["psychiatric"] > d["none"]


def test_a_target_far_off_is_reported_as_a_miss():
    wide = pd.DataFrame({"benefit_mean_spell_months": [20.0, 20.0]}, index=[3, 4])
    target = next(t for t in TARGETS if t.name == "mean_spell")
    assert abs(target.compute(wide, 1000) - target.value) > target.tolerance


def _target(name):
    return next(t for t in TARGETS if t.name == name)


def test_returns_and_retention_targets_on_a_hand_made_frame():
    """Two years of 100 exits to jobs and 50 exits to other income each, with the returns and job ends counted by hand."""
    wide = pd.DataFrame({
        "exits_work_spell_lt1": [60.0, 40.0], "exits_work_spell_1to3": [30.0, 40.0], "exits_work_spell_gt3": [10.0, 20.0],
        "leavers_for_other_income": [50.0, 50.0],
        "returns_within_1y": [10.0, 14.0], "returns_other_within_1y": [15.0, 11.0],
        "work_ends_within_18m": [45.0, 55.0],
    }, index=[3, 4])
    assert _target("returns_work_1y").compute(wide, 1000) == pytest.approx(24 / 200)
    assert _target("returns_all_1y").compute(wide, 1000) == pytest.approx((24 + 26) / 300)
    assert _target("work_kept_18m").compute(wide, 1000) == pytest.approx(1 - 100 / 200)
    for name in ("returns_work_1y", "returns_all_1y", "work_kept_18m"):
        t = _target(name)
        assert "[CBS24]" in t.source or "[DIV19]" in t.source


def test_outflow_counts_exits_to_other_income_not_exits_from_the_population():
    """Leavers for other income stay in the model: the outflow counts their move off benefit, not the later settling."""
    wide = pd.DataFrame({"benefit_stock": [100.0, 100.0, 100.0], "leavers_for_work": [10.0, 10.0, 10.0],
                         "leavers_for_other_income": [15.0, 15.0, 15.0], "benefit_exits_demographic": [5.0, 5.0, 5.0],
                         "exit_other_income": [99.0, 99.0, 99.0]}, index=[3, 4, 5])
    assert _target("outflow_rate").compute(wide, 1000) == pytest.approx(60 / 200)
    assert _target("work_share").compute(wide, 1000) == pytest.approx(30 / 90)


def test_the_new_targets_reach_the_validation_table_from_a_tidy_frame():
    """The tidy long format (regime, replication, year, indicator) gives the same share per run, with an interval."""
    records = []
    for rep, (back, ends) in enumerate(((10.0, 40.0), (14.0, 60.0))):
        for year in (3, 4):
            values = {"exits_work_spell_lt1": 100.0, "exits_work_spell_1to3": 0.0, "exits_work_spell_gt3": 0.0,
                      "returns_within_1y": back, "work_ends_within_18m": ends}
            records += [{"regime": "compartmentalised", "replication": rep, "year": year, "indicator": k, "value": v,
                         "group_by": "all", "group": "all"} for k, v in values.items()]
    frame = pd.DataFrame(records)
    runs = per_run_wide(frame)
    kept = [_target("work_kept_18m").compute(w, 1000) for w in runs.values()]
    assert kept == pytest.approx([0.6, 0.4])
    assert [_target("returns_work_1y").compute(w, 1000) for w in runs.values()] == pytest.approx([0.10, 0.14])


def test_validate_command_prints_holds_and_misses_and_strict_fails_on_a_miss(tmp_path, capsys):
    args = ["validate", "--set", "scenario.inhabitants=5000", "--years", "5", "--replications", "2", "--no-progress",
            "--out", str(tmp_path), "--set", "benefit.gross_up=1.0"]
    assert main(args + ["--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    cost = next(t for t in payload["targets"] if t["target"] == "benefit_cost")
    assert cost["holds"] is False and cost["source"] == "[M16][R12]"
    assert main(args + ["--strict"]) == 1
    text = capsys.readouterr().out
    assert "MISSES" in text and "targets hold" in text


def test_calibration_is_deterministic_and_writes_back(tmp_path):
    small = {"scenario.inhabitants": 4000, "scenario.years": 4}
    first = calibrate.fit(max_evals=6, seeds=(1,), overrides=small, design_points=4)
    second = calibrate.fit(max_evals=6, seeds=(1,), overrides=small, design_points=4)
    assert first[0] == second[0]
    np.testing.assert_equal(first[1], second[1])  # NaN (an undefined target) equals NaN here
    fitted, simulated = first
    assert set(fitted) == set(calibrate.FREE) and set(simulated) == {t.name for t in TARGETS}
    for path, value in fitted.items():
        lo, hi = calibrate.FREE[path]
        assert lo <= value <= hi
    copy = tmp_path / "parameters.toml"
    shutil.copy(PARAMETER_FILE, copy)
    calibrate.write_back(fitted, "2026-11-22", copy)
    calibrate.write_back(fitted, "2026-11-23", copy)  # a second fit keeps the original prior reason
    loaded = ParameterSet.load(copy)
    for path, value in fitted.items():
        p = loaded.get(path)
        assert p.value == pytest.approx(value) and p.status == "calibrated"
        assert "calibrated 2026-11-23" in p.source
    text = copy.read_text()
    assert text.count("prior = ") == len(fitted) and "calibrated 2026-11-22" not in text


def _paths(regime, seed=3, **params):
    model = SocialDomainModel(regime=regime, personas=["myra", "theo", "chantal"], rng=seed, years=5,
                              inhabitants=8000, params=params)
    while model.running:
        model.step()
    return model


def test_persona_paths_are_deterministic():
    assert _paths("integrated").persona_paths == _paths("integrated").persona_paths


def test_myras_household_exists_and_its_members_interact():
    model = _paths("compartmentalised")
    rows = model.persona_rows["myra"]
    assert len(rows) == len(PERSONAS["myra"]["members"]) == 3
    assert len(set(model.pop.household[rows])) == 1
    members = {r["member"] for r in model.persona_paths if r["persona"] == "myra"}
    assert members == {m["role"] for m in PERSONAS["myra"]["members"]}
    without = _paths("compartmentalised", **{"dynamics.household_spillover": 0.0})
    myra_with = model.pop.sev[rows[0]]
    myra_without = without.pop.sev[without.persona_rows["myra"][0]]
    assert not np.allclose(myra_with, myra_without)


def test_persona_command_side_by_side(capsys):
    assert main(["persona", "myra", "--years", "3", "--set", "scenario.inhabitants=5000"]) == 0
    out = capsys.readouterr().out
    assert "Persona Myra" in out and "compartmentalised" in out and "integrated" in out
    assert out.count("\n     1  ") == 3 and "son (police contacts)" in out


def test_unknown_persona_is_a_clear_error(capsys):
    assert main(["persona", "karel"]) == 2
    assert "unknown persona 'karel': allowed 'myra', 'theo', 'chantal'" in capsys.readouterr().err
    with pytest.raises(ParameterError):
        SocialDomainModel(personas=["myra", "myra"])


def test_an_undefined_target_is_penalised_not_ignored():
    ok = {t.name: t.value for t in TARGETS}
    undefined = {**ok, "firm_to_work": float("nan")}
    assert calibrate.loss(ok) == 0.0
    assert calibrate.loss(undefined) == calibrate.UNDEFINED_TARGET_PENALTY


@pytest.mark.parametrize("budget", [1, 3, 30])
def test_the_calibration_budget_bounds_every_evaluation_and_the_best_point_seen_is_kept(monkeypatch, budget):
    """--max-evals 3 once ran 66 simulations (the whole design and the search's first simplex); now it runs 3."""
    calls = []
    target = {path: (lo + hi) / 2 for path, (lo, hi) in calibrate.FREE.items()}

    def fake(values, seeds=None, overrides=None):  # a smooth bowl around the middle of every bound
        calls.append(dict(values))
        miss = sum(((values[p] - target[p]) / (hi - lo)) ** 2 for p, (lo, hi) in calibrate.FREE.items())
        return {t.name: t.value + miss * t.tolerance for t in TARGETS}

    monkeypatch.setattr(calibrate, "simulate", fake)
    fitted, _ = calibrate.fit(max_evals=budget, seeds=(1,), design_points=8)
    assert len(calls) == budget + 1  # the budget, then the fitted values' targets once
    tried = calls[:-1]
    best = min(tried, key=lambda v: calibrate.loss(fake(v)))
    calls.pop()
    assert calibrate.loss(fake(fitted)) <= calibrate.loss(fake(best)) * (1 + 1e-6) + 1e-9
    with pytest.raises(ValueError, match="at least 1"):
        calibrate.fit(max_evals=0)
