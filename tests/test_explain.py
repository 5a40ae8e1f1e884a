"""The decomposition of a regime difference: Shapley arithmetic, the coalition sweep, the command line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.compare import run_summaries
from experiments.cli import main
from experiments.explain import (
    MONEY,
    TOTAL,
    arm_values,
    coalition_design,
    players,
    practice_bundle,
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
    bundle, _ = practice_bundle(None)
    arms = arm_values(PARAMETERS.resolve({"scenario.years": 2}), ["compartmentalised", "integrated"], bundle)
    found = players(arms["compartmentalised"], arms["integrated"])
    assert [p.name for p in found] == [MONEY, "outreach", "household intake", "generalist triage", "regisseurs"]
    same, _ = practice_bundle("none")
    pure = arm_values(PARAMETERS.resolve(), ["compartmentalised", "integrated"], same)
    assert [p.name for p in players(pure["compartmentalised"], pure["integrated"])] == [MONEY]
    with pytest.raises(InputError, match="nothing to explain"):
        players(pure["compartmentalised"], pure["compartmentalised"])


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
    bundle, _ = practice_bundle(None)
    values = PARAMETERS.resolve({"scenario.years": 2, "scenario.inhabitants": 3000})
    arms = arm_values(values, ["compartmentalised", "integrated"], bundle)
    direct = run_summaries(run_comparison(values, list(arms), 2, 20261122, progress=False, arms=arms))
    by = direct.set_index(["regime", "replication"])["outflow_work"]
    expected = (by["integrated"] - by["compartmentalised"]).mean()
    got = table[(table["indicator"] == "outflow_work") & (table["part"] == TOTAL)]["mean"].iloc[0]
    assert np.isclose(got, expected)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert [p["name"] for p in manifest["players"]][0] == MONEY and manifest["decomposition_sweep"]


def test_explain_resumes_from_its_sweep_folder(tmp_path, capsys):
    assert main(["explain", *TINY, "--practices", "none", "--out", str(tmp_path)]) == 0
    sweeps = list((tmp_path / "sweeps").iterdir())
    assert len(sweeps) == 1 and len(list((sweeps[0] / "runs").glob("*.parquet"))) == 4  # 2 regimes x 2 reps
    first = capsys.readouterr().out
    assert main(["explain", *TINY, "--practices", "none", "--out", str(tmp_path)]) == 0
    second = capsys.readouterr().out
    assert first.split("Decomposition written")[0] == second.split("Decomposition written")[0]
    assert "pooling the money" in first


def test_run_prints_and_stores_the_decomposition(tmp_path, capsys):
    assert main(["run", *TINY, "--practices", "none", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Where the difference comes from" in out and "Practice bundle in the integrated arm(s): none" in out
    folder = next(p for p in tmp_path.iterdir() if p.name != "sweeps")
    table = pd.read_csv(folder / "decomposition.csv")
    money = table[table["part"] == MONEY].set_index("indicator")["mean"]
    total = table[table["part"] == TOTAL].set_index("indicator")["mean"]
    assert np.allclose(money, total)  # the funding alone: all of the difference is the money's


def test_coalition_design_runs_every_combination_paired_by_seed():
    bundle, _ = practice_bundle(None)
    arms = arm_values(PARAMETERS.resolve({"scenario.years": 2}), ["compartmentalised", "integrated"], bundle)
    design, found = coalition_design(arms["compartmentalised"], arms["integrated"], 3, 5)
    plan = design.plan()
    assert len(plan) == (1 << (len(found) - 1)) * 2 * 3
    assert {s.seed for s in plan if s.replication == 0} == {plan[0].seed}
