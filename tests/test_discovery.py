"""Scenario discovery: PRIM recovers a known box, the same seed gives the same boxes, ``ontschot discover`` end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.discovery import Outcome, choose, find_box, payback_year, rule

ROOT = Path(__file__).resolve().parents[1]
DIMS = {"share": {"label": "Pooled share (transformation desk)", "kind": "float"},
        "other": {"label": "Lock-in tendency", "kind": "float"},
        "places": {"label": "Trajectory places per social firm", "kind": "int"},
        "objective": {"label": "Pooled desk's objective", "kind": "choice",
                      "choices": ["all-budgets", "benefit-savings", "outflow-chance"]}}


def synthetic(seed: int = 1, n: int = 400, noise: float = 0.08) -> tuple[pd.DataFrame, np.ndarray]:
    """Points where the outcome holds in the box share >= 0.6 and objective in {all-budgets, outflow-chance}, with noise."""
    rng = np.random.default_rng(seed)
    x = pd.DataFrame({"share": rng.uniform(0, 1, n), "other": rng.uniform(0, 1, n),
                      "places": rng.integers(10, 41, n),
                      "objective": rng.choice(DIMS["objective"]["choices"], n)})
    inside = (x["share"] >= 0.6) & x["objective"].isin(["all-budgets", "outflow-chance"])
    return x, (inside ^ (rng.uniform(size=n) < noise)).to_numpy()


def test_prim_recovers_a_known_box_with_a_categorical_dimension():
    x, holds = synthetic()
    found = find_box(x, holds, DIMS)
    assert found["status"] == "box"
    limits = {lim["path"]: lim for lim in found["limits"]}
    assert set(limits) == {"share", "objective"}  # the noise dimensions are not restricted
    assert limits["share"]["lower"] == pytest.approx(0.6, abs=0.05) and limits["share"]["upper"] is None
    assert limits["objective"]["choices"] == ["all-budgets", "outflow-chance"]
    assert found["density"] > 0.85 and found["coverage"] > 0.7
    assert found["base_rate"] == pytest.approx(holds.mean())
    text = rule(found, "pooling raises outflow to paid work")
    assert text.startswith("Pooling raises outflow to paid work in ")
    assert "the pooled share (transformation desk) is at least 0.6" in text
    assert "the pooled desk's objective is one of all-budgets or outflow-chance" in text
    assert f"coverage {found['coverage']:.2f}" in text and f"density {found['density']:.2f}" in text


def test_nothing_to_find_is_said_so():
    x, _ = synthetic()
    none = find_box(x, np.zeros(len(x), dtype=bool), DIMS)
    assert none["status"] == "none" and "in none of the 400 cases" in rule(none, "it holds")
    noise = find_box(x, np.random.default_rng(3).uniform(size=len(x)) < 0.4, DIMS,
                     {"max_quasi_p": 1e-6})
    assert noise["status"] in ("no-box", "box")
    if noise["status"] == "no-box":
        assert "no condition on what was varied makes it clearly more likely" in rule(noise, "it holds")


def test_the_box_told_is_the_densest_with_enough_coverage():
    steps = pd.DataFrame({"coverage": [1.0, 0.8, 0.6, 0.4], "density": [0.3, 0.5, 0.7, 0.9],
                          "mass": [1, 0.5, 0.3, 0.1], "res_dim": [0, 1, 2, 2]})
    assert choose(steps, 0.5) == 2 and choose(steps, 0.3) == 3 and choose(steps, 0.99) == 0


SCRIPT = """
import json, sys
sys.path.insert(0, {root!r})
from tests.test_discovery import DIMS, synthetic
from analysis.discovery import find_box
x, holds = synthetic()
print(json.dumps(find_box(x, holds, DIMS), sort_keys=True))
"""


def test_the_same_seed_gives_the_same_boxes_whatever_the_hash_seed():
    x, holds = synthetic()
    first = json.dumps(find_box(x, holds, DIMS), sort_keys=True)
    assert json.dumps(find_box(x, holds, DIMS), sort_keys=True) == first
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(ROOT)}
    other = subprocess.run([sys.executable, "-c", SCRIPT.format(root=str(ROOT))], env=env, capture_output=True,
                           text=True, check=True, timeout=300)
    assert other.stdout.strip() == first


def test_payback_year_is_the_first_year_from_which_it_stays_at_or_above_zero():
    assert payback_year(pd.Series([-3.0, -1.0, 2.0, 1.0], index=[1, 2, 3, 4])) == 3
    assert payback_year(pd.Series([1.0, -1.0, 2.0], index=[1, 2, 3])) == 3
    assert payback_year(pd.Series([1.0, 2.0], index=[1, 2])) == 1
    assert payback_year(pd.Series([1.0, -2.0], index=[1, 2])) is None


# ------------------------------------------------------------------ the command

TINY = """
name = "tiny-discovery"
pooled = "gradual"
replications = 1
seed = 5

[base]
"scenario.inhabitants" = 2000
"scenario.years" = 2
"scenario.spin_up_years" = 1

[sampler]
samples = {samples}
seed = 3

[vary]
"scenario.pooled_share" = {{ range = [0.1, 1] }}
"practice.desk_objective" = ["all-budgets", "outflow-chance"]
"scenario.social_firm_places" = {{ range = [5, 30] }}

[outcomes.raises_outflow]
summary = "outflow_work"
above = {above}
says = "pooling raises outflow to paid work"

[outcomes.pays_back]
pays_back_within = 2
"""


def write_tiny(folder: Path, samples: int = 10, above: float = 0, name: str = "tiny.toml") -> Path:
    path = folder / name
    path.write_text(TINY.format(samples=samples, above=above))
    return path


@pytest.fixture(scope="module")
def discovered(tmp_path_factory):
    """A tiny discovery run end to end on a loopback Dask cluster reached by its address."""
    from dask.distributed import LocalCluster

    from experiments.cli import main

    folder = tmp_path_factory.mktemp("discover")
    design = write_tiny(folder)
    out = folder / "out"
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address="127.0.0.1:0") as cluster:
        code = main(["discover", str(design), "--out", str(out), "--scheduler", cluster.scheduler_address,
                     "--no-progress"])
    return {"code": code, "design": design, "out": out, "folder": folder}


def test_discover_runs_end_to_end_and_prints_its_rules(discovered, capsys):
    from experiments.cli import main

    assert discovered["code"] == 0
    out = discovered["out"]
    record = json.loads((out / "discovery.json").read_text())
    assert [b["outcome"]["name"] for b in record["boxes"]] == ["raises_outflow", "pays_back"]
    assert record["points_analysed"] == record["points_planned"] == 10
    assert record["code_version"] and record["seed"] == 5 and record["sampler"]["seed"] == 3
    points = pd.read_csv(out / "discovery_points.csv")
    assert len(points) == 10 and {"scenario.pooled_share", "practice.desk_objective", "raises_outflow",
                                  "pays_back_value"} <= set(points.columns)
    text = (out / "discovery.txt").read_text()
    assert "Scenario discovery 'tiny-discovery': 10 of 10 points" in text
    assert "Pooling raises outflow to paid work in " in text and "Gradual funding pays back within 2 years" in text
    # Re-analysis runs nothing and tells the same rules; new outcomes on the same runs need no model either.
    runs = sorted(p.name for p in (out / "runs").glob("*.parquet"))
    sessions = len(json.loads((out / "sweep.json").read_text())["sessions"])
    capsys.readouterr()
    assert main(["discover", "--analyse", str(out)]) == 0
    assert text.strip() in capsys.readouterr().out
    assert main(["discover", str(write_tiny(discovered["folder"], above=-1000, name="other.toml")),
                 "--analyse", str(out)]) == 0
    again = capsys.readouterr().out
    assert "in all 10 cases" in again
    assert sorted(p.name for p in (out / "runs").glob("*.parquet")) == runs
    assert len(json.loads((out / "sweep.json").read_text())["sessions"]) == sessions
    # Another design's runs are refused for --analyse, in one line.
    assert main(["discover", str(write_tiny(discovered["folder"], samples=12, name="bigger.toml")),
                 "--analyse", str(out)]) == 2
    err = capsys.readouterr().err
    assert "holds the runs of another design" in err and len(err.strip().splitlines()) == 1


def test_payback_matches_the_business_case(discovered):
    """The payback outcome uses the business case's payback year (analysis/compare.py) on the same runs."""
    from analysis.compare import payback
    from experiments.sweep import load_sweep

    frame = load_sweep(discovered["out"])
    points = pd.read_csv(discovered["out"] / "discovery_points.csv").set_index("point")
    for point in (0, 1):
        runs = frame[frame["point"] == point].assign(arm=lambda f: f["regime"])
        expected = payback(runs, ["compartmentalised", "gradual"])["gradual"]["payback_year"]
        stored = points.loc[point, "pays_back_value"]
        assert (np.isnan(stored) and expected is None) or stored == expected


def test_the_report_of_a_discovery_folder_has_its_section(discovered):
    from analysis.report import build_report

    html = build_report(discovered["out"], discovered["out"] / "report.html").read_text()
    assert "<h2>Scenario discovery</h2>" in html and "Pooling raises outflow to paid work" in html
    assert "id='fig-discovery-pays_back-trajectory'" in html


def test_the_same_design_gives_the_same_points_and_another_seed_others(tmp_path):
    from experiments.discover import load_discovery

    design = write_tiny(tmp_path)
    assert load_discovery(design).points() == load_discovery(design).points()
    other = tmp_path / "seed.toml"
    other.write_text(design.read_text().replace("seed = 3", "seed = 4"))
    assert load_discovery(other).points() != load_discovery(design).points()
    points = load_discovery(design).points()
    assert {p["practice.desk_objective"] for p in points} == {"all-budgets", "outflow-chance"}
    assert all(isinstance(p["scenario.social_firm_places"], int) and 5 <= p["scenario.social_firm_places"] <= 30
               for p in points)


BAD = {
    "unknown key": ("colour = 1\n", "unknown key 'colour'"),
    "range on a choice": ('[vary]\n"practice.desk_objective" = {}\n',
                          'vary."practice.desk_objective" is a choice parameter: give a list of its choices'),
    "bad choice": ('[vary]\n"practice.desk_objective" = ["all-budgets", "cheapest"]\n', "cheapest"),
    "payback beyond the horizon": ('pays_back_within = 5\n', "pays_back_within = 5 is not allowed: expected at most "
                                                             "the horizon, scenario.years = 2"),
    "above and below": ('summary = "outflow_work"\nabove = 1\nbelow = 2\n', "needs exactly one of above = X or below = X"),
    "unknown summary": ('summary = "happiness"\n', "summary = 'happiness' is not allowed"),
    "pooled is baseline": ('pooled = "gradual"\nbaseline = "gradual"\n', "baseline = 'gradual' is not allowed"),
    "regime varied": ('[vary]\n"scenario.regime" = ["integrated", "gradual"]\n', "the regimes are set by pooled"),
    "no samples": ("[sampler]\nseed = 1\n", "[sampler] needs samples = N"),
    "bad prim": ("[prim]\nmin_coverage = 2\n", "prim.min_coverage = 2 is not allowed: expected a number from 0 to 1"),
}


def _bad_design(case: str) -> str:
    body, _ = BAD[case]
    good = TINY.format(samples=4, above=0)
    if body.startswith(("pays_back_within", "above", "summary")):
        return good.replace("pays_back_within = 2\n", body)
    if body.startswith(("pooled", "colour")):
        return body + good.replace('pooled = "gradual"\n', "")
    if body.startswith("[sampler]"):
        return good.replace("[sampler]\nsamples = 4\nseed = 3\n", body)
    if body.startswith("[vary]"):
        return good.replace('"practice.desk_objective" = ["all-budgets", "outflow-chance"]\n', body.removeprefix("[vary]\n"))
    return good + body


@pytest.mark.parametrize("case", list(BAD))
def test_bad_discovery_designs_are_one_line_before_anything_runs(case, tmp_path, capsys):
    from experiments.cli import main

    path = tmp_path / "bad.toml"
    path.write_text(_bad_design(case))
    out = tmp_path / "out"
    assert main(["discover", str(path), "--out", str(out), "--workers", "1", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert BAD[case][1] in err and len(err.strip().splitlines()) == 1, err
    assert not out.exists()


def test_discover_without_a_design_or_folder_is_one_line(tmp_path, capsys):
    from experiments.cli import main

    assert main(["discover", "--out", str(tmp_path / "x")]) == 2
    assert main(["discover", "--analyse", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "needs a DESIGN file" in err[0] and "is not a discovery folder" in err[1]


def test_outcome_words_and_definitions():
    outflow = Outcome("o", summary="outflow_work", above=0.0)
    assert "outflow_work" in outflow.definition("integrated", "compartmentalised") and "> 0" in \
        outflow.definition("integrated", "compartmentalised")
    assert Outcome("p", within_years=5).words("integrated") == "integrated funding pays back within 5 years"


def test_the_report_of_a_discovery_never_analysed_says_what_to_do(tmp_path, capsys):
    from experiments.cli import main

    (tmp_path / "sweep.json").write_text(json.dumps({"design": {"kind": "discovery"}, "planned_run_ids": []}))
    assert main(["report", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "holds no discovery.json yet" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "report.html").exists()
