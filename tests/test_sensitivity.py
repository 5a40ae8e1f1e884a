"""Sensitivity that answers: Saltelli prefixes, convergence and the stopping rule (Ishigami), --until-stable end to
end on a tiny design, and the report of a sensitivity folder from per-run aggregates."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from SALib.test_functions import Ishigami

from analysis.convergence import convergence, prefix_holds, prefix_sizes, saltelli_sample, stability
from experiments.design import load_design
from experiments.stability import design_at, double_until_stable
from model.parameters import InputError

ISHIGAMI = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-np.pi, np.pi]] * 3}
SEED = 11


def ishigami_convergence(n: int, seed: int = SEED) -> pd.DataFrame:
    y = Ishigami.evaluate(saltelli_sample(ISHIGAMI, n, seed))
    return convergence(ISHIGAMI, pd.DataFrame({"y": y}), n, seed)


def test_the_saltelli_design_for_n_begins_with_the_design_for_half_n(tmp_path):
    problem = {"num_vars": 4, "names": list("abcd"), "bounds": [[0, 1]] * 4}
    assert all(prefix_holds(problem, n, seed) for n in (8, 64, 512) for seed in (0, 7))
    assert prefix_sizes(64) == [8, 16, 32, 64] and prefix_sizes(8) == [4, 8] and prefix_sizes(2) == [2]
    # So the runs of a design at N are the first runs of the same design at 2N: same values, seeds and run ids.
    path = tmp_path / "d.toml"
    path.write_text('name = "d"\nregimes = ["integrated"]\nseed = 2\n[sampler]\nmethod = "sobol"\nn = 4\n'
                    '[vary]\n"firm.lock_in" = {}\n"practice.outreach" = {}\n')
    small = load_design(path, purpose="sensitivity")
    large = design_at(small, 8)
    assert [s.run_id for s in large.plan()[: len(small.plan())]] == [s.run_id for s in small.plan()]
    assert len(large.plan()) == 2 * len(small.plan()) and large.digest != small.digest


def test_convergence_on_ishigami_reaches_stability_and_ranks_correctly():
    table = ishigami_convergence(512)
    assert sorted(table["n"].unique()) == [64, 128, 256, 512]
    largest = table[table["n"] == 512].set_index("parameter")
    assert list(largest.sort_values("rank").index) == ["x1", "x2", "x3"]  # ST: 0.56, 0.44, 0.24 analytically
    assert largest.loc["x3", "S1"] == pytest.approx(0, abs=0.1) and largest.loc["x3", "ST"] == pytest.approx(0.24,
                                                                                                            abs=0.05)
    verdict = stability(table, 0.05)
    assert verdict.stable and (verdict.smaller, verdict.larger) == (256, 512) and verdict.max_change < 0.05
    small = stability(ishigami_convergence(32), 0.05)  # too few samples: the indices still move
    assert not small.stable and small.max_change > 0.05 and "not stable" in small.describe()
    assert not stability(table, 1e-4).stable  # a tolerance no estimate meets
    pd.testing.assert_frame_equal(table, ishigami_convergence(512))  # same seed, same result


def test_a_ranking_that_reverses_beyond_the_tolerance_is_not_stable():
    rows = []
    for n, (a, b) in ((8, (0.50, 0.42)), (16, (0.44, 0.49))):  # each moves < 0.07, but b overtakes a by more
        for parameter, st in (("a", a), ("b", b)):
            rows.append({"outcome": "y", "n": n, "parameter": parameter, "S1": st, "S1_conf": 0.1, "ST": st,
                         "ST_conf": 0.1})
    verdict = stability(pd.DataFrame(rows), 0.07)
    assert not verdict.stable and verdict.swaps == ["b now above a for y"]
    assert stability(pd.DataFrame(rows), 0.2).stable  # within a wider tolerance the two are tied


def test_the_stopping_rule_doubles_until_stable_or_stops_at_the_bound():
    runs = lambda n: n * 5  # noqa: E731  (three parameters: N (D + 2) points, one regime, one replication)
    seen = []

    def evaluate(n):
        seen.append(n)
        return stability(ishigami_convergence(n), 0.05)

    stable = double_until_stable(16, runs, evaluate, max_runs=100_000)
    assert stable.stopped == "stable" and seen == [s.n for s in stable.steps] == [16 * 2**k for k in range(len(seen))]
    assert stable.steps[-1].stable and not any(s.stable for s in stable.steps[:-1]) and len(seen) > 1
    assert "Stopped because the indices are stable" in stable.describe()
    seen.clear()
    bounded = double_until_stable(16, runs, evaluate, max_runs=5 * 64)
    assert bounded.stopped == "bound" and seen == [16, 32, 64] and not bounded.steps[-1].stable
    assert "NOT because the indices are stable" in bounded.describe() and "more than --max-runs 320" in bounded.reason
    limited = double_until_stable(16, runs, evaluate, 100_000, allowed=lambda n: "too big" if n > 32 else None)
    assert limited.stopped == "bound" and limited.reason == "too big" and limited.steps[-1].n == 32
    with pytest.raises(InputError, match="--max-runs 50 is not allowed"):
        double_until_stable(16, runs, evaluate, max_runs=50)


GROW = """
name = "grow"
regimes = ["integrated"]
replications = 1
seed = 5
[base]
"scenario.inhabitants" = 2000
"scenario.years" = 2
"scenario.spin_up_years" = 1
[sampler]
method = "sobol"
n = 4
[vary]
"firm.lock_in" = {}
[outcomes]
indicators = ["outflow_work", "spend_total"]
"""


def test_until_stable_stops_at_the_bound_and_the_report_shows_indices_and_convergence(tmp_path, capsys,
                                                                                     monkeypatch):
    from experiments import sweep
    from experiments.cli import main

    design = tmp_path / "grow.toml"
    design.write_text(GROW)
    out = tmp_path / "grow"
    args = ["sensitivity", str(design), "--out", str(out), "--workers", "1", "--no-progress", "--until-stable",
            "--tolerance", "0.000001", "--max-runs", "30"]
    assert main(args) == 1  # stopped at the bound, not stable
    text = capsys.readouterr().out
    assert "Stopped at the bound, NOT because the indices are stable: N = 16 would need 32 runs" in text
    assert "N = 8: 8 run(s) of the smaller sizes linked" in text and "16 planned, 16 done" in text
    assert "8 run, 8 already there" in text  # the runs of N = 4 were not run again
    record = json.loads((out / "until_stable.json").read_text())
    assert record["stopped"] == "bound" and [s["n"] for s in record["steps"]] == [4, 8]
    assert record["seed"] == 5 and record["code_version"] and record["tolerance"] == 1e-6
    # The report reads per-run aggregates, never every row of every run at once.
    monkeypatch.setattr(sweep, "load_sweep", lambda *a, **k: pytest.fail("the report loaded the whole sweep"))
    assert main(["report", str(out)]) == 0
    files = out / "report_files"
    html = (out / "report.html").read_text()
    assert "id='fig-indices'" in html and "id='fig-convergence'" in html and "id='fig-points'" in html
    assert "stopped at the bound, NOT because the indices are stable" in html
    assert (files / "indices.png").stat().st_size > 0 and "arms" not in {p.stem for p in files.iterdir()}
    shown = pd.read_csv(files / "indices.csv")
    stored = pd.read_csv(out / "n8" / "sensitivity.csv")
    pd.testing.assert_frame_equal(shown[stored.columns], stored)  # the command's indices, from the same aggregates
    assert (out / "n8" / "sensitivity_indices.png").is_file() and (out / "n8" / "convergence.png").is_file()
    # Another design in the same folder is one line, before anything runs.
    capsys.readouterr()
    design.write_text(GROW.replace("seed = 5", "seed = 6"))
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "holds --until-stable runs of another design" in err and err.count("\n") == 1


def test_the_stopping_rules_options_are_checked_before_anything_runs(tmp_path, capsys):
    from experiments.cli import main

    design = tmp_path / "grow.toml"
    design.write_text(GROW)
    out = tmp_path / "never"
    for extra, message in ((["--max-runs", "100"], "--max-runs 100 is not allowed without --until-stable"),
                           (["--tolerance", "0"], "argument --tolerance: '0' is not allowed: a number above 0"),
                           (["--until-stable", "--max-runs", "7"], "--max-runs 7 is not allowed for this design: "
                                                                   "its own size, N = 4, needs 8 runs")):
        try:
            status = main(["sensitivity", str(design), "--out", str(out), "--no-progress", *extra])
        except SystemExit as exc:  # argparse's own one line
            status = exc.code
        assert status == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1 and not out.exists()
