"""The decomposition of a regime difference: Shapley arithmetic, the coalition sweep, the command line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.compare import run_summaries
from experiments.arms import build_arms, practice_bundle
from experiments.cli import main
from experiments.explain import (
    MONEY,
    TOTAL,
    WITHOUT,
    coalition_design,
    players,
    shapley,
)
from experiments.runner import run_comparison
from model.parameters import PARAMETERS, InputError

TINY = ["--years", "2", "--replications", "2", "--set", "scenario.inhabitants=3000", "--workers", "1",
        "--no-progress"]


def test_shapley_of_an_additive_game_is_each_players_own_effect():
    effect = np.array([3.0, -2.0, 5.0])
    values = np.array([sum(effect[i] for i in range(3) if mask >> i & 1) for mask in range(8)])
    assert np.allclose(shapley(values), effect)


def test_shapley_splits_a_pure_interaction_evenly_and_always_sums_to_the_total():
    both_only = np.array([0.0, 0.0, 0.0, 6.0])  # players 0 and 1 matter only together
    assert np.allclose(shapley(both_only), [3.0, 3.0])
    rng = np.random.default_rng(4)
    for n in (1, 2, 4, 5):
        values = rng.normal(size=(1 << n, 3))
        parts = shapley(values)
        assert np.allclose(parts.sum(axis=0), values[-1] - values[0])


def test_shapley_refuses_a_count_that_is_not_a_power_of_two():
    with pytest.raises(ValueError, match="power of two"):
        shapley(np.zeros(6))


def test_players_are_the_money_and_each_lever_that_differs():
    arms = build_arms(PARAMETERS.resolve({"scenario.years": 2}), ["compartmentalised", "integrated"],
                      practice_bundle(None))
    assert [a.name for a in arms] == ["compartmentalised", "integrated", "integrated + pooling practices"]
    found = players(arms[0].values, arms[2].values)
    assert [p.name for p in found] == [MONEY, "outreach", "household intake", "generalist triage", "regisseurs"]
    assert [p.name for p in players(arms[0].values, arms[1].values)] == [MONEY]  # the funding alone
    assert players(arms[1].values, arms[2].values) == found[1:]  # the bundle alone
    assert practice_bundle("none") is None
    with pytest.raises(InputError, match="nothing to explain"):
        players(arms[0].values, arms[0].values)


def test_a_practice_bundle_may_set_only_practice_levers(tmp_path):
    bad = tmp_path / "bundle.toml"
    bad.write_text("[practice]\noutreach = 0.2\n[scenario]\ninhabitants = 5000\n")
    with pytest.raises(InputError, match="may set only practice"):
        practice_bundle(str(bad))


def test_explain_parts_sum_to_the_paired_difference_of_the_two_arms(tmp_path, capsys):
    """End to end on the sweep engine: every part, per replication, adds up to the arms' own paired difference."""
    assert main(["explain", *TINY, "--out", str(tmp_path), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    folder = Path(payload["output"])
    table = pd.read_csv(folder / "decomposition.csv")
    per_rep = pd.read_csv(folder / "decomposition_replications.csv")
    for (indicator, _rep), rows in per_rep.groupby(["indicator", "replication"]):
        total = rows.loc[rows["part"] == TOTAL, "value"].iloc[0]
        assert np.isclose(rows.loc[rows["part"] != TOTAL, "value"].sum(), total), indicator
    # The total is the difference of the two arms run directly with the same seeds (common random numbers).
    values = PARAMETERS.resolve({"scenario.years": 2, "scenario.inhabitants": 3000})
    arms = build_arms(values, ["compartmentalised", "integrated"], practice_bundle(None))
    direct = run_summaries(run_comparison(values, [], 2, 20261122, progress=False, arms=arms))
    by = direct.set_index(["arm", "replication"])["outflow_work"]
    expected = (by["integrated + pooling practices"] - by["compartmentalised"]).mean()
    got = table[(table["indicator"] == "outflow_work") & (table["part"] == TOTAL)]["mean"].iloc[0]
    assert np.isclose(got, expected)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert [p["name"] for p in manifest["players"]][0] == MONEY and manifest["decomposition"]["sweep"]
    assert [a["name"] for a in manifest["arms"]] == ["compartmentalised", "integrated + pooling practices"]
    assert set(table["arm"]) == {"integrated + pooling practices"} and set(table["against"]) == {"compartmentalised"}


def test_explain_resumes_from_its_sweep_folder(tmp_path, capsys):
    assert main(["explain", *TINY, "--practices", "none", "--out", str(tmp_path)]) == 0
    sweeps = list((tmp_path / "sweeps").iterdir())
    assert len(sweeps) == 1 and len(list((sweeps[0] / "runs").glob("*.parquet"))) == 4  # 2 regimes x 2 reps
    first = capsys.readouterr().out
    assert main(["explain", *TINY, "--practices", "none", "--out", str(tmp_path)]) == 0
    second = capsys.readouterr().out
    assert first.split("Decomposition written")[0] == second.split("Decomposition written")[0]
    assert "pooling the money" in first


def test_run_decomposes_the_bundle_arm_and_not_the_funding_alone(tmp_path, capsys):
    """Default arms: the decomposition explains the bundle arm against the baseline; without a bundle there is none."""
    assert main(["run", *TINY, "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Where the difference comes from (integrated + pooling practices minus compartmentalised)" in out
    folder = next(p for p in tmp_path.iterdir() if p.name != "sweeps")
    table = pd.read_csv(folder / "decomposition.csv")
    assert set(table["arm"]) == {"integrated + pooling practices"}
    parts = set(table["part"]) - {TOTAL}
    assert parts == {MONEY, "outreach", "household intake", "generalist triage", "regisseurs"}
    # The money at the baseline's practices (from the coalition runs) is the integrated arm's own difference.
    money = pd.read_csv(folder / "decomposition_money.csv").set_index(["indicator", "practices"])
    comparison = pd.read_csv(folder / "comparison.csv").set_index("summary")
    for indicator in ("outflow_work", "spend_total"):
        assert np.isclose(money.loc[(indicator, WITHOUT), "mean"], comparison.loc[indicator, "diff_integrated"])
    assert "Pooling the money with the practices held fixed" in out
    assert main(["run", *TINY, "--practices", "none", "--out", str(tmp_path / "none")]) == 0
    out = capsys.readouterr().out
    assert "No decomposition (--practices none: no bundle arm): every arm has the same practices" in out
    folder = next(p for p in (tmp_path / "none").iterdir() if p.name != "sweeps")
    assert not (folder / "decomposition.csv").exists()
    assert not (tmp_path / "none" / "sweeps").exists()


def test_coalition_design_runs_every_combination_paired_by_seed():
    arms = build_arms(PARAMETERS.resolve({"scenario.years": 2}), ["compartmentalised", "integrated"],
                      practice_bundle(None))
    design, found = coalition_design(arms[0].values, arms[-1].values, 3, 5)
    plan = design.plan()
    assert len(plan) == (1 << (len(found) - 1)) * 2 * 3
    assert {s.seed for s in plan if s.replication == 0} == {plan[0].seed}
