"""Every malformed design field is one line naming the file, the key, the value and what is allowed; exit 2, nothing written.

The cases are the findings of issue #10 (wrong types that gave tracebacks, misspellings and unused
keys accepted silently, sizes with no limit) plus the neighbours of each. They run in-process and
never reach Dask: a design is refused while it is read.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from experiments.cli import main
from experiments.design import load_design
from experiments.limits import Limits

VARY = '[vary]\n"firm.lock_in" = [0.1]\n'
LHS = '[sampler]\nmethod = "lhs"\nsamples = 4\n'
SOBOL = '[sampler]\nmethod = "sobol"\nn = 4\n'
MORRIS = '[sampler]\nmethod = "morris"\ntrajectories = 4\nlevels = 4\n'
RANGE = '[vary]\n"firm.lock_in" = {}\n'

CASES = {
    # wrong types (these gave tracebacks)
    "base = 5": ("base = 5\n" + VARY, "base = 5 is not allowed: expected a table keyed by parameter path"),
    "vary = 5": ("vary = 5\n", "vary = 5 is not allowed: expected a table keyed by parameter path"),
    "sampler = 5": ("sampler = 5\n" + VARY, "sampler = 5 is not allowed: expected a table with method = one of"),
    "[base] scenario = 5": ("[base]\nscenario = 5\n" + VARY, "base.scenario = 5 is not allowed: expected a path"),
    "{ range = 10 }": (LHS + '[vary]\n"firm.lock_in" = { range = 10 }\n', 'vary."firm.lock_in".range = 10 is not'),
    "outcomes.indicators = 5": (SOBOL + RANGE + "[outcomes]\nindicators = 5\n", "outcomes.indicators = 5 is not"),
    "sampler a list of lists": ("sampler = [[1, 2, 3]]\n" + VARY, "sampler = [[1, 2, 3]] is not allowed"),
    "outcomes a list": ("outcomes = [[1]]\n" + SOBOL + RANGE, "outcomes = [[1]] is not allowed: expected a table"),
    "regimes a string": ('regimes = "integrated"\n' + VARY, "regimes = 'integrated' is not allowed: expected a list"),
    "regimes empty": ("regimes = []\n" + VARY, "regimes = [] is not allowed"),
    "regimes twice": ('regimes = ["integrated", "integrated"]\n' + VARY, "a value is given twice"),
    "regime misspelt": ('regimes = ["integratd"]\n' + VARY, "did you mean 'integrated'?"),
    "replications true": ("replications = true\n" + VARY, "replications = True is not allowed: expected a whole"),
    "replications 2.0": ("replications = 2.0\n" + VARY, "replications = 2.0 is not allowed"),
    "replications -1": ("replications = -1\n" + VARY, "replications = -1 is not allowed"),
    "seed negative": ("seed = -1\n" + VARY, "seed = -1 is not allowed: expected a whole number from 0 to 4,294,967,295"),
    "seed too big": ("seed = 4294967296\n" + VARY, "seed = 4294967296 is not allowed"),
    "max_retries 11": ("max_retries = 11\n" + VARY, "max_retries = 11 is not allowed: expected a whole number from 0 to 10"),
    "name empty": ('name = ""\n' + VARY, "name = '' is not allowed: expected a name of 1 to 200 characters"),
    "name a number": ("name = 5\n" + VARY, "name = 5 is not allowed"),
    # misspellings and unused keys (these were accepted silently)
    "rnage": (LHS + '[vary]\n"scenario.social_firm_places" = { rnage = [10, 12] }\n',
              "unknown key 'rnage' in [vary.\"scenario.social_firm_places\"]; did you mean 'range'?"),
    "top-level typo": ("replicatons = 3\n" + VARY, "unknown key 'replicatons'; did you mean 'replications'?"),
    "sampler typo": (LHS.replace("samples", "sampels") + RANGE, "did you mean 'samples'?"),
    "unknown sampler key": (LHS + "speed = 3\n" + RANGE, "key 'speed' in [sampler] is not used by method 'lhs'"),
    "outcomes typo": (SOBOL + RANGE + '[outcomes]\nindicator = ["outflow_work"]\n', "did you mean 'indicators'?"),
    "levels under sobol": (SOBOL + "levels = 4\n" + RANGE, "key 'levels' in [sampler] is not used by method 'sobol'"),
    "seed under factorial": ('[sampler]\nseed = "abc"\n' + VARY, "key 'seed' in [sampler] is not used by method 'factorial'"),
    "sampler seed 1.7": (LHS + "seed = 1.7\n" + RANGE, "sampler.seed = 1.7 is not allowed: expected a whole number"),
    "method unknown": ('[sampler]\nmethod = "sobel"\n' + RANGE, "did you mean 'sobol'?"),
    "lhs without samples": ('[sampler]\nmethod = "lhs"\n' + RANGE, "method 'lhs' needs samples = N"),
    "difference twice the same": ('regimes = ["integrated", "compartmentalised"]\n' + SOBOL + RANGE +
                                  '[outcomes]\ndifference = ["integrated", "integrated"]\n', "a value is given twice"),
    "difference not among regimes": ('regimes = ["integrated", "compartmentalised"]\n' + SOBOL + RANGE +
                                     '[outcomes]\ndifference = ["integrated", "gradual"]\n',
                                     "expected two of regimes = ['integrated', 'compartmentalised']"),
    "indicator unknown": (SOBOL + RANGE + '[outcomes]\nindicators = ["outflow_wrk"]\n', "did you mean 'outflow_work'"),
    "outcomes under factorial": (VARY + '[outcomes]\nindicators = ["outflow_work"]\n',
                                 "[outcomes] is used only by sensitivity analysis"),
    "levels in a vary entry under lhs": (LHS + '[vary]\n"firm.lock_in" = { levels = 3 }\n', "levels apply under factorial"),
    # values and rules
    "vary empty": ("[vary]\n", "[vary] is empty"),
    "vary unknown parameter": ('[vary]\n"work.nonsense" = [1, 2]\n', "unknown parameter 'work.nonsense'"),
    "vary value out of range": ('[vary]\n"scenario.pooled_share" = [0.5, 1.5]\n', "'scenario.pooled_share' = 1.5"),
    "vary list empty": ('[vary]\n"firm.lock_in" = []\n', 'vary."firm.lock_in" = [] is not allowed'),
    "vary value twice": ('[vary]\n"firm.lock_in" = [0.1, 0.1]\n', "a value is given twice"),
    "range reversed": (LHS + '[vary]\n"firm.lock_in" = { range = [0.5, 0.1] }\n', "expected low below high"),
    "range without levels under factorial": ('[vary]\n"firm.lock_in" = { range = [0.1, 0.5] }\n', "needs levels = N"),
    "range of a choice": (LHS + '[vary]\n"scenario.from_year" = {}\n"scenario.regime" = {}\n',
                          "the regimes are set by regimes = [...]"),
    "list under a range sampler": (LHS + VARY, "needs a range"),
    "base value out of range": ('[base]\n"scenario.years" = 99\n' + VARY, "'scenario.years' = 99"),
    "base path twice": ('[base]\n"scenario.years" = 3\nscenario.years = 4\n' + VARY, "'scenario.years' is given twice"),
    "base unknown parameter": ('[base]\n"scenario.yeras" = 3\n' + VARY, "did you mean 'scenario.years'"),
    "base and vary both": ('[base]\n"firm.lock_in" = 0.2\n' + VARY, "is both fixed in [base] and varied in [vary]"),
    "regime in base": ('[base]\n"scenario.regime" = "gradual"\n' + VARY, "the regimes are set by regimes = [...]"),
    "combination that cannot hold": ('[base]\n"scenario.years" = 3\n"scenario.from_year" = 9\n' + VARY, "from_year"),
    "whole-number levels that repeat": ('[vary]\n"scenario.social_firms" = { range = [0, 2], levels = 5 }\n',
                                        "has no 5 distinct whole-number levels"),
    "morris odd levels": (MORRIS.replace("levels = 4", "levels = 3") + RANGE, "sampler.levels = 3 is not allowed"),
    "morris grid too narrow": (MORRIS.replace("levels = 4", "levels = 6") + '[vary]\n"scenario.social_firms" = { range = [0, 2] }\n',
                               "too narrow for sampler.levels = 6"),
    # sizes (these ran out of memory or planned for minutes)
    "replications 10**12": ("replications = 1000000000000\n" + VARY, "replications = 1000000000000 is not allowed: at most"),
    "sobol n 2**40": ('[sampler]\nmethod = "sobol"\nn = 1099511627776\n' + RANGE, "--limit samples=N"),
    "lhs samples 10**12": ('[sampler]\nmethod = "lhs"\nsamples = 1000000000000\n' + RANGE, "sampler.samples = 1000000000000"),
    "levels 10**9": ('[vary]\n"firm.lock_in" = { range = [0.1, 0.5], levels = 1000000000 }\n', "--limit levels=N"),
    "morris 10**9 trajectories": (MORRIS.replace("trajectories = 4", "trajectories = 1000000000") + RANGE,
                                  "sampler.trajectories = 1000000000"),
    "planned runs over the limit": ('replications = 9000\n[vary]\n"firm.lock_in" = { range = [0.1, 0.5], levels = 100 }\n',
                                    "1,800,000 planned runs (100 points x 2 regime(s) x 9,000 replication(s))"),
    "a list longer than the levels limit": ("[vary]\n\"firm.lock_in\" = [" + ", ".join(f"0.{i:04d}" for i in range(1500)) + "]\n",
                                            "with 1,500 entries is not allowed: at most 1,000"),
    "nested too deeply": ("a = " + "[" * 3000 + "]" * 3000 + "\n", "nests tables and lists too deeply"),
    "nested nine deep": ("[vary]\n\"firm.lock_in\" = [[[[[[[[[0.1]]]]]]]]]\n", "nests tables and lists"),
    # the files it names
    "scenario file missing": ('[base]\nscenario = "missing.toml"\n' + VARY, "scenario file"),
    "scenario path too long": ('[base]\nscenario = "' + "x" * 5000 + '"\n' + VARY, "base.scenario = "),
    "scenario path a folder": ('[base]\nscenario = "."\n' + VARY, "is a folder"),
    "scenario file not UTF-8": ('[base]\nscenario = "latin1.toml"\n' + VARY, "is not UTF-8 text"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_malformed_design_is_one_line_exit_2_and_nothing_is_written(case, tmp_path, capsys):
    body, fragment = CASES[case]
    (tmp_path / "latin1.toml").write_bytes('[scenario]\n# Zoë\n'.encode("latin-1"))
    path = tmp_path / "bad.toml"
    path.write_text('name = "bad"\n' + body if not body.startswith("name") else body)
    before = sorted(p.name for p in tmp_path.iterdir())
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1", "--no-progress"]) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ontschot: error: "), err
    assert fragment in err, err
    assert "bad.toml" in err or "latin1.toml" in err or "missing.toml" in err
    for raw in ("Traceback", "dictionary update sequence", "object has no attribute", "not subscriptable",
                "TypeError", "KeyError"):
        assert raw not in err
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == before


def test_sensitivity_refuses_a_design_it_cannot_analyse_before_running(tmp_path, capsys, monkeypatch):
    """The finding: a factorial design ran and stored all its runs, and only then was refused."""
    import experiments.sweep as sweep

    def no_sweep(*args, **kwargs):
        raise AssertionError("the sweep must not start")

    monkeypatch.setattr(sweep, "run_sweep", no_sweep)
    path = tmp_path / "grid.toml"
    path.write_text('name = "grid"\n[vary]\n"scenario.pooled_share" = [0.0, 0.5, 1.0]\n')
    out = tmp_path / "out"
    assert main(["sensitivity", str(path), "--out", str(out), "--workers", "1", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "sampler.method = 'factorial' is not allowed for sensitivity analysis" in err and not out.exists()


def test_a_raised_limit_lets_a_large_design_through_and_sizes_are_counted_before_sampling():
    root = Path(__file__).resolve().parent.parent / "experiments" / "designs"
    grid = root / "pooled_share_by_firm_places.toml"
    with pytest.raises(ValueError, match="80 planned runs .* at most 10 .*--limit runs=10"):
        load_design(grid, limits=Limits(overrides={"runs": 10}))
    assert len(load_design(grid, limits=Limits(overrides={"runs": 80})).plan()) == 80
    with pytest.raises(ValueError, match="at most 1 .*what a quarter of this machine's 0 GiB"):
        load_design(grid, limits=Limits(memory=4096))  # a tiny machine: the memory term decides


def test_the_shipped_designs_pass_the_schema_for_their_purpose():
    root = Path(__file__).resolve().parent.parent / "experiments" / "designs"
    assert load_design(root / "sobol_outflow_difference.toml", purpose="sensitivity").method == "sobol"
    assert load_design(root / "pooled_share_by_firm_places.toml").method == "factorial"
