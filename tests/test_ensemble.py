"""The calibration's ensemble (history matching) and the comparison over it (run --ensemble).

History matching is tested on a synthetic simulator whose answer is known: its posterior must narrow
on the parameters the targets pin down and not on the others. The commands run on a small
municipality and a hand-made ensemble, on local processes and on a real Dask scheduler by address.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.calibrate import (
    ensemble_matches_parameters,
    ensemble_prior,
    ensemble_record,
    load_ensemble,
    parameter_values_hash,
    write_ensemble,
)
from experiments.cli import main
from experiments.ensemble import plan_ensemble, summarise
from experiments.history_matching import Dimension, Goal, Outcome, Prior, Size, Wave, history_match, narrowing
from model.parameters import PARAMETERS, InputError

# The synthetic model: t1 = 2a + 0.2c + noise, t2 = b^2 + noise; d and e do nothing.
PRIOR = Prior([Dimension("a", 0, 1, "calibrated"), Dimension("b", 0, 1, "calibrated"),
               Dimension("c", 0, 1, "assumption"), Dimension("d", 0, 1, "assumption"),
               Dimension("e", 0, 1, "assumption")])
GOALS = [Goal("t1", 1.2, 0.1), Goal("t2", 0.3, 0.05)]
NOISE = (0.03, 0.02)
SMALL = Size(waves=3, points=40, sets=20, candidates=4000)
TINY = {"scenario.inhabitants": 2000, "scenario.years": 3, "scenario.spin_up_years": 2}


def synthetic(pairs, calls=None):
    if calls is not None:
        calls.append(len(pairs))
    out = []
    for values, seed in pairs:
        noise = np.random.default_rng(seed).normal(0, NOISE)
        out.append({"t1": 2 * values["a"] + 0.2 * values["c"] + noise[0], "t2": values["b"] ** 2 + noise[1]})
    return out


@pytest.fixture(scope="module")
def matched():
    calls = []
    outcome = history_match(PRIOR, GOALS, lambda pairs: synthetic(pairs, calls), SMALL, seed=11)
    return outcome, calls


def test_the_posterior_narrows_where_the_targets_pin_a_parameter_down(matched):
    outcome, _ = matched
    assert len(outcome.sets) >= SMALL.sets // 2
    span = narrowing(PRIOR, outcome.sets).set_index("parameter")["span"]
    assert span["a"] < 0.3 and span["b"] < 0.3  # pinned: t1 fixes a within about 0.1, t2 fixes b
    assert span["d"] > 0.5 and span["e"] > 0.5  # nothing depends on them: they stay spread (20 sets: about 0.8)
    # Every accepted set is consistent with the targets in expectation (within tolerance plus a few noise sd).
    sets = outcome.sets
    assert (abs(2 * sets["a"] + 0.2 * sets["c"] - 1.2) <= 0.1 + 3 * NOISE[0]).all()
    assert (abs(sets["b"] ** 2 - 0.3) <= 0.05 + 3 * NOISE[1]).all()
    # Each wave keeps a smaller share of the prior than the first.
    assert outcome.waves[0].kept_share == 1.0 and outcome.waves[-1].kept_share < 0.2


def test_the_size_bounds_the_runs_and_the_seed_fixes_the_ensemble(matched):
    outcome, calls = matched
    assert sum(calls) == outcome.runs <= SMALL.total_runs
    assert calls[:SMALL.waves] == [SMALL.points] * SMALL.waves
    again = history_match(PRIOR, GOALS, synthetic, SMALL, seed=11)
    pd.testing.assert_frame_equal(again.sets, outcome.sets)
    other = history_match(PRIOR, GOALS, synthetic, SMALL, seed=12)
    assert not other.sets.equals(outcome.sets)


def test_an_impossible_target_gives_an_empty_ensemble_not_a_fake_one():
    goals = [Goal("t1", 5.0, 0.1), Goal("t2", 0.3, 0.05)]  # 2a + 0.2c never reaches 5
    outcome = history_match(PRIOR, goals, synthetic, Size(waves=2, points=30, sets=10, candidates=2000), seed=3)
    assert len(outcome.sets) == 0


def test_the_prior_comes_from_the_parameter_set():
    base = PARAMETERS.resolve({})
    prior = ensemble_prior(base, 0.25)
    by = {d.path: d for d in prior.dims}
    from experiments.calibrate import FREE

    for path, (lo, hi) in FREE.items():
        assert (by[path].low, by[path].high, by[path].group) == (lo, hi, "calibrated")
    assumptions = [d for d in prior.dims if d.group == "assumption"]
    assert assumptions and all(PARAMETERS.get(d.path).status == "assumption" for d in assumptions)
    for d in assumptions:
        p = PARAMETERS.get(d.path)
        assert p.range[0] <= d.low < d.high <= p.range[1]
        assert d.low >= p.value * 0.75 - 1e-12 and d.high <= p.value * 1.25 + 1e-12
    assert not any(d.path.startswith("scenario.") for d in prior.dims)
    assert {d.group for d in ensemble_prior(base, 0).dims} == {"calibrated"}
    with pytest.raises(InputError, match="--spread"):
        ensemble_prior(base, 1.5)


def hand_made_ensemble(folder: Path, sets: int = 3, spread: float = 0.1) -> Path:
    """An ensemble file in the calibration's format: the default values with the assumptions drawn around them."""
    base = PARAMETERS.resolve({})
    prior = ensemble_prior(base, spread)
    rng = np.random.default_rng(5)
    rows = [{d.path: (base[d.path] if d.group == "calibrated" else d.at(rng.uniform())) for d in prior.dims}
            for _ in range(sets)]
    outcome = Outcome(pd.DataFrame(rows), [Wave(1, 0, 1.0)], sets, 0, pd.DataFrame())
    folder.mkdir(parents=True, exist_ok=True)
    write_ensemble(folder, outcome, ensemble_record(outcome, prior, Size(), 1, spread, base))
    return folder / "ensemble.parquet"


def test_every_arm_of_a_set_gets_the_sets_values_and_seeds(tmp_path):
    from experiments.arms import build_arms, practice_bundle

    path = hand_made_ensemble(tmp_path / "e")
    sets, _ = load_ensemble(path)
    values = PARAMETERS.resolve({**TINY, "firm.dropout_base": 0.2})  # the user's own value wins over the sets'
    arms = build_arms(values, ["compartmentalised", "integrated"], practice_bundle(None))
    plan = plan_ensemble(arms, sets, 2, root_seed=9)
    assert plan.runs == len(sets) * 2 * len(arms)
    seeds = {}
    for k, _r, seed, valued in plan.items:
        seeds.setdefault(k, set()).add(seed)
        row = sets.iloc[k]
        for name, v in valued:
            for path in sets.columns:
                expected = 0.2 if path == "firm.dropout_base" else row[path]
                assert v[path] == pytest.approx(expected), (name, path)
        assert [v["scenario.regime"] for _, v in valued] == ["compartmentalised", "integrated", "integrated"]
    assert all(len(s) == 2 for s in seeds.values()) and len(set.union(*seeds.values())) == 2 * len(sets)


def test_summarise_gives_both_intervals_and_the_probability_above_zero():
    rows = []
    for k in range(10):
        for r in range(3):
            for arm, shift in (("base", 0.0), ("pooled", k - 2.5)):  # set k's true difference is k - 2.5
                rows.append({"set": k, "replication": r, "arm": arm, "outflow_work": 100 + shift + 0.01 * r})
    runs = pd.DataFrame(rows)
    from analysis.compare import SUMMARIES

    for s in SUMMARIES:
        runs[s.name] = runs.get(s.name, 0.0)
    table = summarise(runs, ["base", "pooled"]).set_index("summary")
    row = table.loc["outflow_work"]
    assert row["mean"] == pytest.approx(np.mean(np.arange(10) - 2.5))
    assert row["p_above_zero"] == pytest.approx(0.7)  # sets 3..9
    assert row["lo"] < -2 and row["hi"] > 6 and row["parameter_share"] > 0.99


def test_run_with_an_ensemble_writes_both_intervals_and_the_report_shows_them(tmp_path, capsys):
    path = hand_made_ensemble(tmp_path / "e")
    sets = ["--set", "scenario.inhabitants=2000", "--set", "scenario.spin_up_years=2"]
    code = main(["run", *sets, "--years", "3", "--replications", "2", "--ensemble", str(path),
                 "--ensemble-replications", "2", "--no-explain", "--no-progress", "--workers", "2",
                 "--out", str(tmp_path / "out"), "--report", "--lang", "en"])
    assert code == 0
    out = capsys.readouterr().out
    assert "How sure: chance alone against parameters and chance" in out
    folder = next((tmp_path / "out").iterdir())
    table = pd.read_csv(folder / "ensemble.csv")
    assert set(table["arm"]) == {"integrated", "integrated + pooling practices"}
    assert table["p_above_zero"].between(0, 1).all() and (table["sets"] == 3).all()
    assert (table["lo"] <= table["hi"]).all()
    assert table[["chance_mean", "chance_lo", "chance_hi"]].notna().all().all()
    runs = pd.read_parquet(folder / "ensemble_runs.parquet")
    assert len(runs) == 3 * 2 * 3 and runs["set"].nunique() == 3
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["ensemble"]["sets"] == 3 and manifest["ensemble"]["parameter_file_matches"]
    html = (folder / "report.html").read_text()
    assert "id='uncertainty'" in html and "parameters and chance" in html and "fig-uncertainty" in html
    assert "probability above zero" in html
    # The same section in Dutch (the default language of the report).
    from analysis.report import build_report
    from tests.test_report_i18n import internal_names, screen_text

    dutch = build_report(folder, tmp_path / "nl.html").read_text()
    assert "parameters en toeval" in dutch and "kans boven nul" in dutch and "fig-uncertainty" in dutch
    section = dutch[dutch.index("<section id='uncertainty'>"):dutch.index("<section id='over-time'>")]
    assert internal_names(screen_text(section), "nl") == {"indicator keys": [], "parameter paths": [], "tags": [],
                                                          "file names": []}


def test_ensemble_runs_are_the_same_on_a_dask_scheduler_by_address(tmp_path):
    from dask.distributed import LocalCluster

    from experiments.arms import build_arms
    from experiments.ensemble import run_ensemble

    sets, _ = load_ensemble(hand_made_ensemble(tmp_path / "e", sets=2))
    arms = build_arms(PARAMETERS.resolve(TINY), ["compartmentalised", "integrated"], None, required=False)
    plan = plan_ensemble(arms, sets, 1, root_seed=4)
    local = run_ensemble(plan, workers=1, progress=False)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address="127.0.0.1:0") as cluster:
        remote = run_ensemble(plan, scheduler=cluster.scheduler_address, progress=False)
    pd.testing.assert_frame_equal(local, remote)


def test_calibrate_command_is_bounded_and_stores_its_provenance(tmp_path, capsys):
    code = main(["calibrate", "--set", "scenario.inhabitants=2000", "--set", "scenario.spin_up_years=2",
                 "--years", "3", "--waves", "1", "--points", "6", "--sets", "2", "--candidates", "500",
                 "--workers", "2", "--no-progress", "--out", str(tmp_path / "cal")])
    assert code == 0
    folder = next((tmp_path / "cal").iterdir())
    record = json.loads((folder / "ensemble.json").read_text())
    assert record["runs"] <= record["size"]["total_runs_at_most"] == 6 + 4 * 2
    assert record["seed"] and record["code_version"] and record["parameter_file_sha256"]
    assert record["parameter_values_sha256"] == parameter_values_hash()
    assert len(record["prior"]) > 20 and len(record["targets"]) >= 14
    waves = pd.read_parquet(folder / "waves.parquet")
    assert len(waves) == 6 and set(waves["wave"]) == {1}
    assert "History matching:" in (folder / "calibration.txt").read_text()


@pytest.mark.parametrize("argv, message", [
    (["run", "--ensemble", "/nonexistent/ensemble.parquet"], "not an ensemble file"),
    (["run", "--scheduler", "tcp://127.0.0.1:1"], "add --ensemble"),
    (["calibrate", "--spread", "-0.5"], "--spread"),
    (["calibrate", "--points", "0"], "--points"),
])
def test_bad_ensemble_input_is_one_line(argv, message, capsys, tmp_path):
    with pytest.raises(SystemExit) if argv[-1] == "0" else _nothing():
        code = main([*argv, "--out", str(tmp_path)])
        assert code == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not any(tmp_path.iterdir())


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_the_progressive_filter_keeps_exactly_what_the_implausibility_keeps(matched):
    from experiments.history_matching import Emulator, implausibility, plausible

    design = matched[0].design
    x = np.array([PRIOR.unit(r) for r in design.to_dict(orient="records")])
    waves = [{g.name: Emulator(2, j).fit(x[: 40 * (w + 1)], design[g.name].to_numpy()[: 40 * (w + 1)])
              for j, g in enumerate(GOALS)} for w in range(2)]
    candidates = PRIOR.sample(3000, seed=1)
    full = np.ones(len(candidates), dtype=bool)
    for emulators in waves:
        full &= implausibility(emulators, GOALS, candidates) <= 3.0
    assert np.array_equal(plausible(waves, GOALS, candidates, 3.0), np.flatnonzero(full))
    assert 0 < full.sum() < len(candidates)


def test_a_small_space_left_is_filled_around_the_kept_points():
    from experiments.history_matching import REFILL_FACTOR, _refill

    def kept(x):  # the space left: a small box, 0.1% of the unit cube in three dimensions
        return x[((x >= 0.45) & (x <= 0.55)).all(axis=1)]

    rng = np.random.default_rng(0)
    survivors = kept(rng.uniform(size=(2000, 3)))
    assert 0 < len(survivors) < 10
    pool = _refill(survivors, 50, kept, np.random.default_rng(1), batch=2000)
    assert len(pool) >= REFILL_FACTOR * 50 and len(kept(pool)) == len(pool)
    assert (pool.max(axis=0) - pool.min(axis=0) > 0.05).all()  # spread over the box, not piled on a few points
    assert len(_refill(survivors[:0], 50, kept, np.random.default_rng(1), batch=2000)) == 0


def test_assumptions_the_calibration_did_not_vary_are_drawn_per_set_over_their_ranges(tmp_path):
    from experiments.ensemble import with_assumptions

    base = PARAMETERS.resolve({})
    prior = ensemble_prior(base, 0)  # a calibration of the calibrated parameters only
    sets = pd.DataFrame([{d.path: base[d.path] for d in prior.dims} for _ in range(5)])
    record = {"prior": [{"parameter": d.path} for d in prior.dims]}
    drawn, count = with_assumptions(sets, record, base, 0.25, seed=3)
    ranges = {d.path: d for d in ensemble_prior(base, 0.25).dims if d.group == "assumption"}
    assert count == len(ranges) > 50 and len(drawn) == 5
    for path, d in ranges.items():
        assert drawn[path].between(d.low, d.high).all() and drawn[path].nunique() == 5
    again, _ = with_assumptions(sets, record, base, 0.25, seed=3)
    pd.testing.assert_frame_equal(drawn, again)
    full = {"prior": [{"parameter": d.path} for d in ensemble_prior(base, 0.25).dims]}
    assert with_assumptions(sets, full, base, 0.25, seed=3)[1] == 0  # the calibration varied them already
    assert with_assumptions(sets, record, base, 0.0, seed=3)[1] == 0


def test_an_ensemble_is_stale_when_values_change_not_when_texts_do(tmp_path, monkeypatch):
    from experiments import calibrate

    text = calibrate.PARAMETER_FILE.read_text()
    reworded = tmp_path / "reworded.toml"
    reworded.write_text(text.replace('label = "Mediation effect"', 'label = "Effect of mediation"'))
    assert calibrate.parameter_values_hash(reworded) == parameter_values_hash()
    moved = tmp_path / "moved.toml"
    start = text.index("[work.mediation_effect]")
    moved.write_text(text[:start] + text[start:].replace("value = 1.5", "value = 1.6", 1))
    assert calibrate.parameter_values_hash(moved) != parameter_values_hash()
    record = {"parameter_values_sha256": parameter_values_hash()}
    assert ensemble_matches_parameters(record)
    monkeypatch.setattr(calibrate, "PARAMETER_FILE", moved)
    monkeypatch.setattr(calibrate.parameter_values_hash, "__defaults__", (moved,))
    assert not ensemble_matches_parameters(record)
