"""Fuzz: a few hundred generated bad inputs (fixed seed) — each is exit 2, one line, no traceback, nothing written.

The inputs are bad by construction: ``--set`` values out of range or of the wrong kind for every
kind of parameter, misspelt keys, bad options, scenario files and design files with wrong types,
unknown keys, duplicates, deep nesting, binary bytes, sizes over the limits. Nothing may run: the
simulation and the sweep are replaced by a trap, so an input that is wrongly accepted fails the
test as a silent acceptance instead of running.
"""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest

import experiments.cli as cli
import experiments.sweep as sweep
from model.parameters import PARAMETERS

SEED = 20261201
N_SET, N_OPTIONS, N_SCENARIOS, N_DESIGNS = 110, 60, 70, 70
PARAMS = sorted(PARAMETERS.definitions)
NOT_NUMBERS = ["abc", "", "nan", "inf", "-inf", "1_0", "٣", "١٢", "0x10", "1e999", "--", "½", " ", "1,2", "[1]",
               "True", "none", "1.2.3", "+-1", "1e", ".", "e3", "\x00", "1\n2", "３"]
GOOD_DESIGN = {
    "name": '"fuzz"', "regimes": '["compartmentalised", "integrated"]', "replications": "2", "seed": "3",
    "max_retries": "2",
}
BAD_VALUES = {  # a design field: values it must refuse
    "name": ["5", '""', "[1]", "{}", "true", '"' + "n" * 300 + '"'],
    "regimes": ['"integrated"', "[]", '["pooled"]', '["integrated", "integrated"]', "[1]", "5", "{}",
                '["compartmentalised", "integrated", "gradual", "x"]'],
    "replications": ["0", "-1", "2.0", "1.5", '"3"', "true", "[2]", "{}", "1000000000000", "10001"],
    "seed": ["-1", "4294967296", "1.7", '"abc"', "[]", "true"],
    "max_retries": ["-1", "11", "2.5", '"2"', "false"],
    "base": ["5", "[1]", '"x"', "true"],
    "sampler": ["5", "[[1, 2, 3]]", '"lhs"', "true"],
    "vary": ["5", "[1]", '"x"', "{}"],
    "outcomes": ["5", "[[1]]", '"x"'],
}


def bad_number(rng: random.Random, spec) -> str:
    lo, hi = spec.range
    span = max(1.0, float(hi) - float(lo))
    choice = rng.randrange(5)
    if choice == 0:
        return repr(float(lo) - span * rng.uniform(0.01, 10) - 1)
    if choice == 1:
        return repr(float(hi) + span * rng.uniform(0.01, 10) + 1)
    if choice == 2:
        return "9" * rng.randrange(40, 5000)
    if choice == 3 and spec.kind == "int" and hi - lo >= 1:
        return f"{lo}.5"
    return rng.choice(NOT_NUMBERS)


def bad_set(rng: random.Random) -> list[str]:
    """One bad --set (or two that cannot hold together)."""
    roll = rng.random()
    if roll < 0.08:
        return ["--set", rng.choice(["nonsense", "scenario.years", "=3", ""])]
    if roll < 0.2:
        path = rng.choice(PARAMS)
        k = rng.randrange(len(path))
        typo = path[:k] + rng.choice("xqz_.") + path[k + 1:] if rng.random() < 0.5 else path[:k] + path[k + 1:]
        if typo in PARAMETERS:
            typo += "x"
        return ["--set", f"{typo}=1"]
    if roll < 0.25:
        return ["--set", "scenario.years=3", "--set", f"scenario.from_year={rng.randrange(5, 52)}"]
    path = rng.choice(PARAMS)
    spec = PARAMETERS.get(path)
    if spec.kind == "choice":
        value = rng.choice([c.upper() for c in spec.choices] + ["", "pooled", "1", spec.choices[0] + "x"])
    elif spec.kind == "float_list":
        n = spec.length or 3
        lo, hi = spec.range
        value = rng.choice([
            ",".join(["0.1"] * (n + 1)) if spec.length else ",".join(["5"] * 1001),
            ",".join([repr(hi + 1)] * n), "[" * 50 + "]" * 50, "a,b", "", "[1,,2]", ",".join(["nan"] * n),
            ",".join([repr(lo - 1)] * n),
        ])
    else:
        value = bad_number(rng, spec)
    return ["--set", f"{path}={value}"]


def bad_options(rng: random.Random) -> list[str]:
    """A bad command-line option (argparse or ours)."""
    option, values = rng.choice([
        ("--replications", ["0", "-1", "x", "٣", "1_0", "", "1e3", "100000000", " 2"]),
        ("--years", ["0", "51", "x", "٣", "2.5", "1_5"]),
        ("--seed", ["-1", "4294967296", "x", "0x10", "1e3"]),
        ("--regimes", ["pooled", "integrated,integrated", "", ",", "integrated,,gradual", "Integrated"]),
        ("--limit", ["x=1", "replications", "replications=0", "runs=abc", "replications=1,replications=2"]),
        ("--out", ["/", "/etc", "/usr/bin/x", "/proc/x", "/dev/null/x"]),
        ("--scenario", ["", "/", "/dev/null", "missing.toml", "x" * 5000, "a\x00b"]),
        ("--bogus", ["1"]), ("--rep", ["3"]), ("--no-progres", [None]),
    ])
    value = rng.choice(values)
    return [option] if value is None else [option, value]


def bad_scenario(rng: random.Random) -> bytes:
    """A scenario file that must be refused."""
    path = rng.choice(PARAMS)
    section, key = path.rsplit(".", 1)
    spec = PARAMETERS.get(path)
    roll = rng.randrange(10)
    if roll == 0:
        return b"\xff" + bytes(rng.randrange(256) for _ in range(rng.randrange(10, 400)))
    if roll == 1:
        return f'"{path}" = {spec.value!r}\n[{section}]\n{key} = {spec.value!r}\n'.replace("'", '"').encode()
    if roll == 2:
        return b"a = " + b"[" * rng.randrange(9, 3000) + b"]" * 0 + b"\n"
    if roll == 3:
        return f"[{section}]\n{key}x = 1\n".encode()
    if roll == 4:
        return f"[{section}\n{key} = 1\n".encode()
    if roll == 5:
        return f"[{section}]\n{key} = {{ value = 1 }}\n".encode()
    if roll == 6:
        return f"[{section}]\n{key} = true\n".encode() if spec.kind != "choice" else f"[{section}]\n{key} = 1\n".encode()
    if roll == 7:
        return b"# big\n" + b"#" * (1 << 20) + b"\n"
    if roll == 8:
        return f"[{section}.typo]\n".encode()
    if spec.kind == "choice":
        return f'[{section}]\n{key} = "not-a-choice"\n'.encode()
    if spec.kind == "float_list":
        return f"[{section}]\n{key} = [{spec.range[1] + 1}]\n".encode()
    return f"[{section}]\n{key} = {spec.range[1] + 10 ** rng.randrange(1, 30)}\n".encode()


def bad_design(rng: random.Random) -> str:
    """A design file with one field broken (or a misspelt key, or a size over its limit)."""
    fields = dict(GOOD_DESIGN)
    sampler = '[sampler]\nmethod = "lhs"\nsamples = 4\n'
    vary = '[vary]\n"firm.lock_in" = {}\n"scenario.social_firm_places" = { range = [5, 40] }\n'
    base = '[base]\n"scenario.inhabitants" = 3000\n"scenario.years" = 3\n'
    roll = rng.randrange(8)
    if roll <= 2:
        key = rng.choice(list(BAD_VALUES))
        value = rng.choice(BAD_VALUES[key])
        if key in ("base", "sampler", "vary", "outcomes"):
            top = "\n".join(f"{k} = {v}" for k, v in fields.items()) + f"\n{key} = {value}\n"
            others = {"base": base, "sampler": sampler, "vary": vary}
            return top + "".join(t for k, t in others.items() if k != key)
        fields[key] = value
    elif roll == 3:
        key = rng.choice(list(fields))
        k = rng.randrange(len(key))
        fields[key[:k] + key[k + 1:] + "x"] = fields.pop(key)
    elif roll == 4:
        sampler = rng.choice([
            '[sampler]\nmethod = "lhs"\nsamples = 4\nlevels = 4\n', '[sampler]\nmethod = "sobel"\nn = 4\n',
            '[sampler]\nmethod = "sobol"\nn = 12\n', '[sampler]\nmethod = "sobol"\nn = 1099511627776\n',
            '[sampler]\nmethod = "lhs"\nsamples = 1000000000000\n', '[sampler]\nmethod = "morris"\ntrajectories = 4\n'
            'levels = 5\n', '[sampler]\nmethod = "lhs"\n', '[sampler]\nmethod = "lhs"\nsamples = 4\nseed = 1.7\n',
            '[sampler]\nmethod = "lhs"\nsamples = 4\nspeed = 1\n', '[sampler]\nmethod = 5\n'])
    elif roll == 5:
        vary = rng.choice([
            '[vary]\n"firm.lock_in" = { rnage = [0.1, 0.2] }\n', '[vary]\n"firm.lock_in" = { range = 10 }\n',
            '[vary]\n"firm.lock_in" = { range = [0.5, 0.1] }\n', '[vary]\n"firm.lock_in" = [0.1, 0.2]\n',
            '[vary]\n"firm.lock_in" = { levels = 3 }\n', '[vary]\n"work.nonsense" = {}\n', '[vary]\n',
            '[vary]\n"scenario.regime" = {}\n', '[vary]\n"firm.lock_in" = { range = [0.1, 9.0] }\n',
            '[vary]\n"firm.lock_in" = "wide"\n', '[vary]\n"firm.lock_in" = { range = ["a", "b"] }\n'])
    elif roll == 6:
        base = rng.choice([
            '[base]\n"scenario.years" = 3\nscenario.years = 4\n', '[base]\n"scenario.regime" = "gradual"\n',
            '[base]\nscenario = 5\n', '[base]\nscenario = "missing.toml"\n', '[base]\n"scenario.years" = 0\n',
            '[base]\n"firm.lock_in" = 0.2\n', '[base]\n"scenario.years" = 3\n"scenario.from_year" = 9\n',
            '[base]\n"scenario.inhabitants" = 3000.5\n'])
    else:
        return "\n".join(f"{k} = {v}" for k, v in fields.items()) + "\n" + base + sampler + vary + \
            rng.choice(['[outcomes]\nindicators = ["outflow_wrk"]\n', '[outcomes]\ndifference = ["integrated", '
                        '"integrated"]\n', "[outcomes]\nindicators = 5\n", '[outcomes]\nindicator = ["outflow_work"]\n'])
    return "\n".join(f"{k} = {v}" for k, v in fields.items()) + "\n" + base + sampler + vary


def generated_inputs() -> list[tuple[str, object]]:
    rng = random.Random(SEED)
    cases: list[tuple[str, object]] = []
    cases += [("argv", ["run", *bad_set(rng)]) for _ in range(N_SET)]
    cases += [("argv", [rng.choice(["run", "validate"]), *bad_options(rng)]) for _ in range(N_OPTIONS)]
    cases += [("scenario", bad_scenario(rng)) for _ in range(N_SCENARIOS)]
    cases += [("design", bad_design(rng)) for _ in range(N_DESIGNS)]
    return cases


@pytest.fixture
def trapped(monkeypatch):
    """Nothing may run: a bad input that got through would call one of these."""

    def accepted(*args, **kwargs):
        raise AssertionError("SILENTLY ACCEPTED: a bad input reached the simulation")

    monkeypatch.setattr(cli, "run_comparison", accepted)
    monkeypatch.setattr(cli, "persona_paths", accepted)
    monkeypatch.setattr(sweep, "run_sweep", accepted)


def _one(kind: str, payload, work: Path, capsys) -> tuple[int | None, str, str | None]:
    out = work / "out"
    if kind == "argv":
        argv = [*payload, "--out", str(out), "--no-progress"] if "--out" not in payload else [*payload, "--no-progress"]
    elif kind == "scenario":
        (work / "s.toml").write_bytes(payload)
        argv = ["run", "--no-explain", "--scenario", str(work / "s.toml"), "--out", str(out), "--no-progress"]
    else:
        (work / "d.toml").write_text(payload)
        argv = ["sweep", str(work / "d.toml"), "--out", str(out), "--workers", "1", "--no-progress"]
    problem = None
    try:
        code = cli.main(argv)
    except SystemExit as exc:
        code = exc.code
    except AssertionError as exc:
        code, problem = None, str(exc)
    except Exception as exc:  # a traceback: the bug this test hunts
        code, problem = None, f"TRACEBACK {type(exc).__name__}: {exc}"
    return code, capsys.readouterr().err, problem


def test_a_few_hundred_bad_inputs_are_each_exit_2_one_line_and_write_nothing(tmp_path, capsys, trapped):
    cases = generated_inputs()
    tally = {"inputs": len(cases), "tracebacks": 0, "silent acceptances": 0, "not exit 2": 0, "not one line": 0,
             "wrote something": 0}
    bad = []
    for i, (kind, payload) in enumerate(cases):
        work = tmp_path / f"case{i}"
        work.mkdir()
        code, err, problem = _one(kind, payload, work, capsys)
        lines = err.strip().splitlines()
        written = sorted(p.name for p in work.iterdir() if p.name not in ("s.toml", "d.toml"))
        faults = []
        if problem and problem.startswith("TRACEBACK"):
            tally["tracebacks"] += 1
            faults.append(problem)
        elif problem:
            tally["silent acceptances"] += 1
            faults.append(problem)
        if code != 2:
            tally["not exit 2"] += 1
            faults.append(f"exit {code}")
        if len(lines) != 1 or not lines[0].startswith("ontschot: error: "):
            tally["not one line"] += 1
            faults.append(f"stderr {err!r:.200}")
        if written:
            tally["wrote something"] += 1
            faults.append(f"wrote {written}")
        if faults:
            bad.append((kind, repr(payload)[:160], faults))
    print("fuzz tally:", tally)
    assert tally["inputs"] >= 300
    assert not bad, f"{len(bad)} bad inputs mishandled, e.g. {bad[:3]}"


def test_a_sample_through_the_installed_command(tmp_path):
    """The same promise from the real executable: status 2, one line on stderr, no traceback, nothing written."""
    rng = random.Random(SEED + 1)
    exe = Path(sys.executable).with_name("ontschot")
    samples = [["run", *bad_set(rng)] for _ in range(3)] + [["validate", *bad_options(rng)] for _ in range(2)]
    (tmp_path / "d.toml").write_text(bad_design(rng))
    samples.append(["sweep", str(tmp_path / "d.toml"), "--workers", "1"])
    for argv in samples:
        out = tmp_path / "out"
        full = [str(exe), *argv, "--no-progress"] + ([] if "--out" in argv else ["--out", str(out)])
        proc = subprocess.run(full, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 2, (argv, proc.stderr)
        assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr, (argv, proc.stderr)
        assert not out.exists()
