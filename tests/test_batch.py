"""One batch for every run a command needs: each distinct run made once, the same on any number of processes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.arms import build_arms, practice_bundle
from experiments.batch import Task, batch_size, by_spin_up, missing, run_tasks, unique_tasks
from experiments.cli import main
from experiments.explain import TOTAL, coalition_design, coalition_tasks, decompose
from experiments.runner import comparison_plan, run_comparison
from model.parameters import PARAMETERS

SMALL = {"scenario.years": 2, "scenario.inhabitants": 3000, "scenario.spin_up_years": 2}
TINY = ["--years", "2", "--replications", "2", "--set", "scenario.inhabitants=3000", "--set",
        "scenario.spin_up_years=2", "--no-progress"]


def _arms():
    values = PARAMETERS.resolve(SMALL)
    return values, build_arms(values, ["compartmentalised", "integrated"], practice_bundle(None))


def test_a_run_asked_for_twice_is_made_once_with_what_either_asker_wants():
    values, _ = _arms()
    plain, with_events = Task(values, 5, breakdowns=False), Task(values, 5, events=True)
    wanted = unique_tasks([plain, with_events, Task(values, 6)])
    assert len(wanted) == 2 and wanted[plain.run_id].events and wanted[plain.run_id].breakdowns
    assert batch_size([plain, with_events, Task(values, 6)], workers=8) == {"planned": 3, "made": 2, "workers": 2}


def test_a_run_without_breakdowns_keeps_the_whole_population_rows_and_serves_only_who_needs_no_more():
    values, _ = _arms()
    lean, full = Task(values, 5, breakdowns=False), Task(values, 5)
    made = run_tasks([lean], workers=1, progress=False)
    frame = made[lean.run_id].frame
    assert set(frame["group_by"]) == {"all"} and made[lean.run_id].serves(lean) and not made[lean.run_id].serves(full)
    assert missing([lean, full, Task(values, 5, events=True)], made) == [full, Task(values, 5, events=True)]
    whole = run_tasks([full], workers=1, progress=False)[full.run_id].frame
    pd.testing.assert_frame_equal(frame, whole[whole["group_by"] == "all"].reset_index(drop=True))


def test_runs_that_share_a_spun_up_state_are_one_group_and_other_seeds_or_behaviour_are_not():
    values, arms = _arms()
    tasks = [Task(arm.values, seed) for seed in (1, 2) for arm in arms]
    tasks.append(Task(values.with_changes({"work.trajectory_effect": 1.3}), 1))  # behaviour: its own spin-up
    groups = by_spin_up(unique_tasks(tasks))
    assert [len(g) for g in groups] == [3, 3, 1]
    assert {task.seed for _, task in groups[0]} == {1}


def test_the_same_results_on_one_process_and_on_two():
    _, arms = _arms()
    tasks = [task for _, _, task in comparison_plan(arms, 2, 11, events=True)]
    one, two = run_tasks(tasks, workers=1, progress=False), run_tasks(tasks, workers=2, progress=False)
    assert one.keys() == two.keys() and len(one) == len(arms) * 2
    for rid in one:
        pd.testing.assert_frame_equal(one[rid].frame, two[rid].frame)
        pd.testing.assert_frame_equal(one[rid].events, two[rid].events)


def test_the_comparison_reads_runs_already_made_and_makes_only_the_rest(monkeypatch):
    values, arms = _arms()
    made = run_tasks([task for _, _, task in comparison_plan(arms[:2], 2, 3)], workers=1, progress=False)
    asked = []
    import experiments.batch as batch

    real = batch.run_tasks
    monkeypatch.setattr(batch, "run_tasks", lambda tasks, **kw: asked.extend(tasks) or real(tasks, **kw))
    frame = run_comparison(values, [], 2, 3, arms=arms, results=made, workers=1)
    assert len(asked) == 2 and {t.values["practice.outreach"] for t in asked} == {arms[-1].values["practice.outreach"]}
    direct = run_comparison(values, [], 2, 3, arms=arms, workers=1)
    pd.testing.assert_frame_equal(frame, direct)


def test_the_arms_are_coalitions_of_the_decomposition():
    """The baseline is the empty coalition, the integrated arm the money alone, the bundle arm every player."""
    _, arms = _arms()
    design, found = coalition_design(arms[0].values, arms[-1].values, 1, 9)
    coalitions = [task.run_id for task in coalition_tasks(design)]
    ids = [task.run_id for _, _, task in comparison_plan(arms, 1, 9)]
    assert set(ids) <= set(coalitions) and len(coalitions) == 2 ** len(found)


def test_run_keeps_its_coalition_runs_and_the_decomposition_follows_from_them(tmp_path, capsys):
    assert main(["run", *TINY, "--out", str(tmp_path), "--workers", "2", "--json"]) == 0
    folder = Path(json.loads(capsys.readouterr().out)["output"])
    manifest = json.loads((folder / "manifest.json").read_text())
    runs = manifest["runs"]
    assert runs["made"] < runs["planned"] and runs["workers"] == 2
    assert manifest["decomposition"]["runs"] == "coalitions.parquet"
    assert not (tmp_path / "sweeps").exists()  # made in the run's own batch, kept in its folder
    _, arms = _arms()
    design, found = coalition_design(arms[0].values, arms[-1].values, 2, manifest["root_seed"])
    table, _ = decompose(pd.read_parquet(folder / "coalitions.parquet"), design, found)
    stored = pd.read_csv(folder / "decomposition.csv")
    assert np.allclose(table["mean"], stored["mean"]) and TOTAL in set(stored["part"])
    # The bundle arm's difference in the comparison is the decomposition's total, run for run.
    comparison = pd.read_csv(folder / "comparison.csv").set_index("summary")
    total = stored[(stored["indicator"] == "outflow_work") & (stored["part"] == TOTAL)]["mean"].iloc[0]
    assert np.isclose(comparison.loc["outflow_work", "diff_integrated + pooling practices"], total)


def test_sweep_runs_that_share_a_spun_up_state_get_one_home_worker_and_groups_take_turns():
    from experiments.design import RunSpec
    from experiments.sweep import WorkerHomes

    class Client:
        def scheduler_info(self):
            return {"workers": {"tcp://127.0.0.1:2": {}, "tcp://127.0.0.1:1": {}}}

    values, arms = _arms()
    homes = WorkerHomes(Client())

    def spec(v, seed):
        return RunSpec(run_id=f"{seed}-{v['scenario.regime']}", point=0, replication=0, seed=seed, values=v, varied={})

    first = homes.of(spec(arms[0].values, 1))
    assert first == {"workers": ["tcp://127.0.0.1:1"], "allow_other_workers": True}
    assert homes.of(spec(arms[1].values, 1)) == first  # the other regime, same seed: same spun-up state
    assert homes.of(spec(arms[0].values, 2))["workers"] == ["tcp://127.0.0.1:2"]  # another seed: the next worker
    other = values.with_changes({"work.trajectory_effect": 1.3})
    assert homes.of(spec(other, 1))["workers"] == ["tcp://127.0.0.1:1"]  # another behaviour: its own group, in turn
    assert WorkerHomes(object()).of(spec(arms[0].values, 1)) == {}  # a client that cannot list workers: no preference
