"""Sweeps on a real Dask LocalCluster (loopback): planned runs, resume, worker crashes, failures, bad designs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from experiments.design import load_design
from experiments.sweep import load_sweep, query, run_sweep, status
from model.parameters import PARAMETERS, Parameter, ParameterError, ParameterSet

TINY = """
name = "tiny"
regimes = ["compartmentalised", "integrated"]
replications = 2
seed = 3
[base]
"scenario.inhabitants" = {inhabitants}
"scenario.years" = {years}
[vary]
"scenario.social_firm_places" = {places}
"""


def write_design(folder: Path, inhabitants=3000, years=3, places="[10, 30]", name="design.toml") -> Path:
    path = folder / name
    path.write_text(TINY.format(inhabitants=inhabitants, years=years, places=places))
    return path


def sorted_frame(out: Path) -> pd.DataFrame:
    frame = load_sweep(out)
    return frame.sort_values(["run_id", "group_by", "group", "indicator", "year"]).reset_index(drop=True)


def planned_ids(out: Path) -> set[str]:
    return set(json.loads((out / "sweep.json").read_text())["planned_run_ids"])


def test_sweep_runs_every_planned_run_and_1_and_2_workers_agree(tmp_path):
    design = load_design(write_design(tmp_path))
    two = run_sweep(design, tmp_path / "two", workers=2, progress=False)
    one = run_sweep(design, tmp_path / "one", workers=1, progress=False)
    assert two == one == {"planned": 8, "skipped": 0, "damaged": 0, "recovered": 0, "unplanned": 0, "done": 8,
                          "failed": 0, "repaired": 0}
    files = {p.stem for p in (tmp_path / "two" / "runs").glob("*.parquet")}
    assert files == planned_ids(tmp_path / "two") and len(files) == 8
    pd.testing.assert_frame_equal(sorted_frame(tmp_path / "one"), sorted_frame(tmp_path / "two"))
    counts = query(tmp_path / "two", "SELECT regime, count(DISTINCT run_id) AS n FROM runs GROUP BY regime ORDER BY 1")
    assert counts["n"].tolist() == [4, 4]
    again = run_sweep(design, tmp_path / "two", workers=2, progress=False)
    assert again == {"planned": 8, "skipped": 8, "damaged": 0, "recovered": 0, "unplanned": 0, "done": 0,
                     "failed": 0, "repaired": 0}
    manifest = json.loads((tmp_path / "two" / "sweep.json").read_text())
    assert manifest["design_hash"] == design.digest and len(manifest["sessions"]) == 2
    assert manifest["code_version"] and manifest["package_versions"]["distributed"] == "2026.8.0"


def test_resume_after_killing_the_driver(tmp_path):
    import duckdb  # noqa: F401  (imported before the driver starts, so the query below is quick)

    design_path = write_design(tmp_path, inhabitants=20000, years=10, places="[8, 16, 24, 32, 40, 48]")
    reference = tmp_path / "reference"
    run_sweep(load_design(design_path), reference, workers=2, progress=False)
    out = tmp_path / "interrupted"
    exe = Path(sys.executable).with_name("ontschot")
    proc = subprocess.Popen([str(exe), "sweep", str(design_path), "--out", str(out), "--workers", "2", "--no-progress"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    seen_while_running = 0
    while time.time() < deadline:
        files = list((out / "runs").glob("*.parquet")) if (out / "runs").exists() else []
        if len(files) >= 2:
            seen_while_running = int(query(out, "SELECT count(DISTINCT run_id) AS n FROM runs")["n"][0])
            break
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)  # kill -9 of the driver and its worker processes
    proc.wait(timeout=30)
    done_before = {p.stem: p.stat().st_mtime_ns for p in (out / "runs").glob("*.parquet")}
    assert seen_while_running >= 2, "results are queryable while the sweep runs"
    assert 0 < len(done_before) < len(planned_ids(reference)), "the sweep was interrupted part-way"
    summary = run_sweep(load_design(design_path), out, workers=2, progress=False)
    assert summary["skipped"] == len(done_before) and summary["damaged"] == 0 and summary["failed"] == 0
    assert summary["done"] == summary["planned"] - len(done_before), "0 runs lost, 0 recomputed"
    assert {k: (out / "runs" / f"{k}.parquet").stat().st_mtime_ns for k in done_before} == done_before
    files = sorted(p.stem for p in (out / "runs").glob("*.parquet"))
    assert files == sorted(planned_ids(reference)), "every planned run exactly once"
    pd.testing.assert_frame_equal(sorted_frame(out), sorted_frame(reference))


def test_a_failing_run_is_retried_recorded_and_does_not_stop_the_sweep(tmp_path, monkeypatch):
    from dask.distributed import Client, LocalCluster

    import experiments.runner as runner

    real = runner.run_values
    calls: dict[tuple, int] = {}

    def flaky(values, seed):
        regime = values["scenario.regime"]
        key = (regime, seed, values["scenario.social_firm_places"])
        calls[key] = calls.get(key, 0) + 1
        if regime == "integrated" and values["scenario.social_firm_places"] == 30:
            if seed == sorted({k[1] for k in calls})[0]:
                raise RuntimeError("this run always fails")
            if calls[key] == 1:
                raise RuntimeError("this run fails once")
        return real(values, seed)

    monkeypatch.setattr(runner, "run_values", flaky)
    design = load_design(write_design(tmp_path))
    with LocalCluster(n_workers=1, processes=False, dashboard_address="127.0.0.1:0") as cluster, \
            Client(cluster) as client:
        summary = run_sweep(design, tmp_path / "out", client=client, progress=False)
    assert summary["done"] == 7 and summary["failed"] == 1
    (failure,) = list((tmp_path / "out" / "failures").glob("*.json"))
    record = json.loads(failure.read_text())
    assert record["attempts"] == design.max_retries + 1 and "always fails" in record["error"]
    assert status(tmp_path / "out") == {"planned": 8, "done": 7, "failed": 1, "remaining": 1}
    assert max(calls.values()) == design.max_retries + 1


BAD = {
    "unknown parameter": ('[vary]\n"work.nonsense" = [1, 2]\n', "unknown parameter 'work.nonsense'"),
    "range outside allowed": ('[sampler]\nmethod = "lhs"\nsamples = 4\n[vary]\n"scenario.pooled_share" = { range = [0.0, 1.5] }\n',
                              "'scenario.pooled_share' = 1.5"),
    "zero replications": ('replications = 0\n[vary]\n"scenario.pooled_share" = [0.1]\n', "replications = 0"),
    "sobol not a power of two": ('[sampler]\nmethod = "sobol"\nn = 12\n[vary]\n"firm.lock_in" = {}\n"work.base_hazard" = {}\n',
                                 "sampler.n = 12 is not allowed: expected a whole number from 2 to 100,000 that is a "
                                 "power of two (e.g. 16)"),
    "list under a range sampler": ('[sampler]\nmethod = "lhs"\nsamples = 4\n[vary]\n"firm.lock_in" = [0.1]\n', "needs a range"),
    "bad regime": ('regimes = ["pooled"]\n[vary]\n"firm.lock_in" = [0.1]\n', "regimes[0] = 'pooled' is not allowed"),
    "range not two numbers": ('[sampler]\nmethod = "lhs"\nsamples = 4\n[vary]\n"firm.lock_in" = { range = [0.1] }\n',
                              'vary."firm.lock_in".range = [0.1] is not allowed: expected two values [low, high]'),
    "vary not a table": ('vary = 3\n', "vary = 3 is not allowed: expected a table keyed by parameter path"),
    "base scenario not a path": ('[base]\nscenario = 3\n[vary]\n"firm.lock_in" = [0.1]\n', "base.scenario = 3"),
    "sampler seed not whole": ('[sampler]\nmethod = "lhs"\nsamples = 4\nseed = "x"\n[vary]\n"firm.lock_in" = {}\n',
                               "sampler.seed = 'x'"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_designs_are_rejected_before_any_run(case, tmp_path, capsys):
    from experiments.cli import main

    body, fragment = BAD[case]
    path = tmp_path / "bad.toml"
    path.write_text('name = "bad"\n' + body)
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert fragment in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_an_output_folder_holding_another_design_is_refused_untouched(tmp_path, capsys):
    from experiments.cli import main

    first = load_design(write_design(tmp_path, places="[10]"))
    run_sweep(first, tmp_path / "out", workers=1, progress=False)
    before = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "out").rglob("*")}
    other = write_design(tmp_path, places="[12]", name="other.toml")
    assert main(["sweep", str(other), "--out", str(tmp_path / "out"), "--workers", "1", "--no-progress"]) == 2
    assert "holds another design" in capsys.readouterr().err
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "out").rglob("*")} == before
    with pytest.raises(ParameterError, match="not empty and holds no sweep"):
        stray = tmp_path / "stray"
        stray.mkdir()
        (stray / "notes.txt").write_text("mine")
        run_sweep(first, stray, workers=1, progress=False)


def test_shipped_designs_validate():
    root = Path(__file__).resolve().parent.parent / "experiments" / "designs"
    grid = load_design(root / "pooled_share_by_firm_places.toml")
    assert len(grid.plan()) == 5 * 4 * 4
    sobol = load_design(root / "sobol_outflow_difference.toml")
    assert sobol.method == "sobol" and len(sobol.points()) == 32 * (9 + 2)
    # The researcher's design covers every numeric practice lever.
    numeric = [p.path for p in PARAMETERS if p.path.startswith("practice.") and p.kind in ("float", "int")]
    assert set(numeric) <= set(sobol.vary)
    objective = load_design(root / "desk_objective_by_regime.toml")
    assert len(objective.plan()) == 3 * 3 * 4


def test_sensitivity_ranks_parameters_from_stored_runs(tmp_path, capsys):
    from experiments.cli import main

    path = tmp_path / "sobol.toml"
    path.write_text('name = "s"\nregimes = ["compartmentalised", "integrated"]\nreplications = 1\nseed = 3\n'
                    '[base]\n"scenario.inhabitants" = 3000\n"scenario.years" = 3\n'
                    '[sampler]\nmethod = "sobol"\nn = 4\n[vary]\n"work.unaddressed_penalty" = {}\n"firm.lock_in" = {}\n'
                    '[outcomes]\nindicators = ["outflow_work"]\ndifference = ["integrated", "compartmentalised"]\n')
    assert main(["sensitivity", str(path), "--out", str(tmp_path / "s"), "--workers", "2", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "first order S1" in out and "work.unaddressed_penalty" in out
    table = pd.read_csv(tmp_path / "s" / "sensitivity.csv")
    assert set(table.columns) >= {"outcome", "parameter", "S1", "S1_conf", "ST", "ST_conf", "rank"}
    assert sorted(table["rank"]) == [1, 2]


def test_sweep_connects_to_an_existing_scheduler_by_address(tmp_path, capsys):
    """The --scheduler path: a cluster started elsewhere, reached over loopback TCP by its address."""
    from dask.distributed import LocalCluster

    from experiments.cli import main

    design_path = write_design(tmp_path, places="[10]")
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address="127.0.0.1:0") as cluster:
        address = cluster.scheduler_address
        assert address.startswith("tcp://127.0.0.1:")
        code = main(["sweep", str(design_path), "--out", str(tmp_path / "remote"), "--scheduler", address,
                     "--no-progress"])
    assert code == 0
    assert "4 planned, 4 done, 0 failed, 0 remaining" in capsys.readouterr().out
    local = tmp_path / "local"
    run_sweep(load_design(design_path), local, workers=1, progress=False)
    pd.testing.assert_frame_equal(sorted_frame(tmp_path / "remote"), sorted_frame(local))


def test_resuming_after_the_parameter_defaults_changed_is_refused(tmp_path, monkeypatch):
    import model.parameters as mp

    design = load_design(write_design(tmp_path, places="[10]"))
    run_sweep(design, tmp_path / "out", workers=1, progress=False)
    changed = dict(mp.PARAMETERS.definitions)
    old = changed["staff.salary"]
    changed["staff.salary"] = type(old)(**{**old.__dict__, "value": old.value + 1})
    monkeypatch.setattr(mp.PARAMETERS, "definitions", changed)
    with pytest.raises(ParameterError, match="other parameter values"):
        run_sweep(load_design(write_design(tmp_path, places="[10]")), tmp_path / "out", workers=1, progress=False)


def test_a_planned_run_carries_its_regime_in_its_values_and_is_not_validated_again(tmp_path, monkeypatch):
    from experiments.sweep import prepare, run_file, run_task

    design = load_design(write_design(tmp_path, places="[10]"))
    out = tmp_path / "out"
    spec = next(s for s in prepare(design, out) if s.regime == "integrated")
    assert spec.values["scenario.regime"] == "integrated" and spec.values.overrides["scenario.regime"] == "integrated"

    def no_validation(*args, **kwargs):
        raise AssertionError("a planned run was validated again")

    monkeypatch.setattr(ParameterSet, "validate", no_validation)
    monkeypatch.setattr(Parameter, "coerce", no_validation)
    run_task(spec, str(out))
    frame = pd.read_parquet(run_file(out, spec.run_id))
    assert set(frame["regime"]) == {"integrated"} and set(frame["seed"]) == {spec.seed}
    assert design.plan() is design.plan()  # planned (and validated) once per design


def test_sensitivity_over_an_incomplete_sweep_is_an_input_error(tmp_path, capsys, monkeypatch):
    import experiments.cli as cli

    path = tmp_path / "sobol.toml"
    path.write_text('name = "s"\n[sampler]\nmethod = "sobol"\nn = 4\n[vary]\n"firm.lock_in" = {}\n"work.base_hazard" = {}\n')
    monkeypatch.setattr(cli, "_sweep", lambda args, design, **kw: {"planned": 8, "done": 6, "failed": 2, "remaining": 2})
    assert cli.main(["sensitivity", str(path), "--out", str(tmp_path / "s"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "lacks 2 of its 8 runs" in err and len(err.strip().splitlines()) == 1


def test_sweep_takes_scenario_set_and_years_over_the_design_base(tmp_path, capsys):
    from experiments.cli import main

    design = write_design(tmp_path, inhabitants=3000, years=3, places="[10]")
    scenario = tmp_path / "scenario.toml"
    scenario.write_text('[practice]\noutreach = 0.1\n')
    out = tmp_path / "sweep"
    argv = ["sweep", str(design), "--out", str(out), "--workers", "1", "--no-progress", "--scenario", str(scenario),
            "--set", "scenario.inhabitants=2000", "--years", "2"]
    assert main(argv) == 0
    manifest = json.loads((out / "sweep.json").read_text())
    assert manifest["design"]["command_line"] == {"practice.outreach": 0.1, "scenario.inhabitants": 2000,
                                                  "scenario.years": 2}
    assert set(load_sweep(out)["year"]) == {1, 2}  # the horizon from --years, not the design's 3
    # The same design without them is another design: its folder is refused rather than mixed.
    assert main(["sweep", str(design), "--out", str(out), "--workers", "1", "--no-progress"]) == 2
    assert main(argv[:-2] + ["--set", "scenario.social_firm_places=20"]) == 2  # varied in [vary]: not fixable
    assert main(argv + ["--set", "scenario.regime=integrated"]) == 2
    err = capsys.readouterr().err
    assert "another design" in err and "is varied in [vary]" in err and "regimes" in err
