"""End to end: the ontschot command, its output folder, and its handling of bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from experiments.cli import main
from experiments.store import RunFolder

SMALL = ["--set", "scenario.inhabitants=4000", "--years", "3", "--replications", "3", "--no-progress"]


def folders(parent: Path) -> list[Path]:
    return sorted(p for p in parent.iterdir()) if parent.exists() else []


def test_run_prints_the_comparison_and_stores_results(tmp_path, capsys):
    assert main(["run", "--no-explain", "--out", str(tmp_path), *SMALL]) == 0
    text = capsys.readouterr().out
    assert "Outflow to paid work" in text and "diff integrated" in text and "pays back" in text
    (folder,) = folders(tmp_path)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["root_seed"] == 20261122 and len(manifest["replication_seeds"]) == 3
    assert manifest["parameters"]["scenario.inhabitants"] == 4000
    assert manifest["code_version"] and manifest["package_versions"]["mesa"] == "3.3.1"
    results = pd.read_parquet(folder / "results.parquet")
    assert set(results["regime"]) == {"compartmentalised", "integrated"}
    assert set(results["replication"]) == {0, 1, 2}
    assert {"age_band", "disability", "wage_band", "all"} <= set(results["group_by"])
    comparison = pd.read_csv(folder / "comparison.csv")
    row = comparison.set_index("summary").loc["outflow_work"]
    assert row["diff_integrated_lo"] <= row["diff_integrated"] <= row["diff_integrated_hi"]


def test_json_output_is_the_same_comparison(tmp_path, capsys):
    assert main(["run", "--no-explain", "--out", str(tmp_path), "--json", *SMALL]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["regimes"] == ["compartmentalised", "integrated"]
    stored = pd.read_csv(Path(payload["output"]) / "comparison.csv")
    assert [r["summary"] for r in payload["comparison"]] == stored["summary"].tolist()
    assert payload["comparison"][0]["diff_integrated"] == pytest.approx(stored["diff_integrated"][0])


def test_same_command_same_numbers_and_never_overwrites(tmp_path, capsys):
    main(["run", "--no-explain", "--out", str(tmp_path), "--json", *SMALL])
    first = json.loads(capsys.readouterr().out)
    main(["run", "--no-explain", "--out", str(tmp_path), "--json", *SMALL])
    second = json.loads(capsys.readouterr().out)
    assert first["output"] != second["output"] and len(folders(tmp_path)) == 2
    assert first["comparison"] == second["comparison"]


def test_scenario_file_and_three_regimes(tmp_path, capsys):
    scenario = tmp_path / "desk.toml"
    scenario.write_text('[scenario]\ninhabitants = 4000\npooled_share = 0.1\n\n[staff]\nsalary = 65000\n')
    out = tmp_path / "out"
    code = main(["run", "--no-explain", "--scenario", str(scenario), "--regimes", "compartmentalised,gradual,integrated",
                 "--years", "2", "--replications", "2", "--no-progress", "--out", str(out), "--json"])
    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    assert "diff_gradual" in payload["comparison"][0] and "diff_integrated" in payload["comparison"][0]
    manifest = json.loads((Path(payload["output"]) / "manifest.json").read_text())
    assert manifest["parameters"]["staff.salary"] == 65000
    assert manifest["parameters"]["scenario.pooled_share"] == 0.1


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--set", "staff.salry=65000"], "unknown parameter 'staff.salry' (from --set); did you mean"),
        (["--set", "staff.salary=lots"], "'staff.salary' = 'lots' (from --set) is not allowed: expected a number"),
        (["--set", "scenario.pooled_share=1.5"], "'scenario.pooled_share' = 1.5 (from --set) is not allowed: expected a number from 0 to 1"),
        (["--set", "scenario.regime=pooled"], "expected one of 'compartmentalised', 'integrated', 'gradual'"),
        (["--set", "nonsense"], "not of the form key=value"),
        (["--set", "scenario.from_year=9", "--years", "3"], "from_year"),
        (["--scenario", "missing.toml"], "scenario file 'missing.toml' does not exist"),
    ],
)
def test_bad_input_stops_before_anything_runs(tmp_path, capsys, args, fragment):
    out = tmp_path / "out"
    out.mkdir()
    (out / "earlier").mkdir()
    (out / "earlier" / "keep.txt").write_text("earlier result")
    assert main(["run", "--no-explain", "--out", str(out), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert fragment in err and len(err.splitlines()) == 1
    assert folders(out) == [out / "earlier"] and (out / "earlier" / "keep.txt").read_text() == "earlier result"


def test_bad_scenario_file_names_the_file_key_and_value(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("[staff]\nsalary = -3\n")
    assert main(["run", "--no-explain", "--scenario", str(bad), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "'staff.salary' = -3 (from " in err and "bad.toml" in err and "from 40,000 to 120,000" in err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("args", [["--replications", "0"], ["--regimes", "compartmentalised,pooled"],
                                  ["--seed", "-4"], ["--years", "x"]])
def test_bad_options_are_usage_errors(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["run", "--no-explain", *args])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert args[1] in err and ("is not allowed" in err or "not a whole number" in err)


def test_a_failing_run_leaves_no_folder(tmp_path):
    with pytest.raises(RuntimeError):
        with RunFolder(tmp_path, {"x": 1}) as folder:
            (folder / "half.parquet").write_text("half")
            raise RuntimeError("interrupted")
    assert folders(tmp_path) == []


def test_installed_command_runs(tmp_path):
    exe = Path(sys.executable).with_name("ontschot")
    proc = subprocess.run([str(exe), "run", "--no-explain", "--out", str(tmp_path), *SMALL], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "Municipal spending" in proc.stdout
    params = subprocess.run([str(exe), "params", "--json"], capture_output=True, text=True, timeout=60)
    assert any(p["path"] == "staff.salary" for p in json.loads(params.stdout))


@pytest.mark.parametrize("path", sorted((Path(__file__).resolve().parent.parent / "experiments" / "scenarios").glob("*.toml")),
                         ids=lambda p: p.name)
def test_shipped_scenarios_validate_and_run(path, tmp_path, capsys):
    code = main(["run", "--no-explain", "--scenario", str(path), "--set", "scenario.inhabitants=3000", "--replications", "2",
                 "--no-progress", "--out", str(tmp_path), "--json"])
    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["regimes"][0] == "compartmentalised" and len(payload["regimes"]) == 2


def test_scenario_regime_sets_the_comparison(tmp_path, capsys):
    scenario = tmp_path / "desk.toml"
    scenario.write_text('[scenario]\nregime = "gradual"\npooled_share = 0.2\ninhabitants = 3000\nyears = 2\n')
    assert main(["run", "--no-explain", "--scenario", str(scenario), "--replications", "2", "--no-progress", "--out",
                 str(tmp_path / "o"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["regimes"] == ["compartmentalised", "gradual"]


@pytest.mark.parametrize("error", [ValueError("a bug, not an input error"), RuntimeError("a bug, not an input error")])
def test_an_unexpected_error_surfaces_with_its_traceback(tmp_path, capsys, monkeypatch, error):
    import experiments.cli as cli

    def broken(*args, **kwargs):
        raise error

    monkeypatch.setattr(cli, "run_comparison", broken)
    with pytest.raises(type(error), match="a bug, not an input error"):
        main(["run", "--no-explain", "--out", str(tmp_path), *SMALL])
    assert "ontschot: error" not in capsys.readouterr().err
    assert folders(tmp_path) == []


def test_a_command_validates_each_input_once(tmp_path, capsys, monkeypatch):
    """The run command resolves its values once; the regimes and their runs use them without checking again."""
    from model.parameters import Parameter

    checked: list[str] = []
    real = Parameter.coerce
    monkeypatch.setattr(Parameter, "coerce", lambda self, v, origin="": checked.append(self.path) or real(self, v, origin))
    assert main(["run", "--no-explain", "--out", str(tmp_path), "--set", "staff.salary=65000", *SMALL]) == 0
    assert checked.count("staff.salary") == 1 and checked.count("scenario.years") == 1
    assert checked.count("scenario.regime") == 2  # once per regime, when it is set


# One line for every usage error, as for every other input error (issue #10).


@pytest.mark.parametrize("argv", [
    ["nonsense"], [], ["sweep"], ["run", "--bogus"], ["run", "--rep", "3"], ["run", "--years", "٣"],
    ["run", "--replications", "1_0"], ["run", "--seed", "4294967296"], ["run", "--regimes", "integrated,,gradual"],
    ["run", "--years"], ["sweep", "d.toml", "--out", "o", "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"],
    ["persona"], ["run", "--set"], ["verify"],
], ids=lambda a: " ".join(a) or "nothing")
def test_usage_errors_are_one_line_with_status_2(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ontschot: error: ") and "--help" in lines[0], err


@pytest.mark.parametrize(("args", "fragment"), [
    (["--scenario", ""], "scenario file path '' is empty"),
    (["--set", "scenario.years=3", "--set", "scenario.years=4"], "is given twice with --set"),
    (["--years", "3", "--set", "scenario.years=4"], "given both with --set and by its own option"),
    (["--set", "scenario.years=1_0"], "'scenario.years' = '1_0' (from --set)"),
    (["--replications", "100000000"], "--replications 100,000,000 is not allowed: at most"),
    (["--replications", "9999", "--events", "--set", "scenario.inhabitants=17900000"],
     "per run-year with events"),  # a national run's event history: 273 MiB per run-year
    (["--limit", "replicatons=5"], "--limit 'replicatons=5' is not allowed"),
    (["--limit", "replications=0"], "N must be a whole number of at least 1"),
    (["--out", "/"], "--out '/' is not allowed: '/' is a system folder"),
    (["--out", "/etc/ontschot"], "is a system folder"),
])
def test_more_bad_input_stops_before_anything_runs(tmp_path, capsys, monkeypatch, args, fragment):
    import experiments.cli as cli

    def no_run(*a, **k):
        raise AssertionError("nothing may run")

    monkeypatch.setattr(cli, "run_comparison", no_run)
    assert main(["run", "--no-explain", "--out", str(tmp_path / "o"), *args] if "--out" not in args else ["run", *args]) == 2
    err = capsys.readouterr().err
    assert fragment in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "o").exists()


def test_out_under_a_file_is_refused_before_the_simulation(tmp_path, capsys, monkeypatch):
    import experiments.cli as cli

    monkeypatch.setattr(cli, "run_comparison", lambda *a, **k: pytest.fail("the simulation must not run"))
    (tmp_path / "file").write_text("x")
    assert main(["run", "--no-explain", "--out", str(tmp_path / "file" / "sub"), *SMALL]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err


@pytest.fixture
def tiny_disk(tmp_path):
    """A 12 KiB tmpfs (mounted as root); skipped with the reason where mounting is impossible."""
    mount = tmp_path / "disk"
    mount.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=12k", "tmpfs", str(mount)], capture_output=True, text=True)
    if proc.returncode:
        pytest.skip(f"cannot mount a size-limited tmpfs here (needs root): {proc.stderr.strip() or proc.returncode}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_read_only_out_is_refused_before_the_simulation_and_a_full_one_leaves_no_folder(tiny_disk, capsys,
                                                                                           monkeypatch):
    import experiments.cli as cli

    subprocess.run(["mount", "-o", "remount,ro", str(tiny_disk)], check=True)
    real = cli.run_comparison
    monkeypatch.setattr(cli, "run_comparison", lambda *a, **k: pytest.fail("the simulation must not run"))
    assert main(["run", "--no-explain", "--out", str(tiny_disk / "o"), *SMALL]) == 2
    err = capsys.readouterr().err
    assert "cannot be written: Read-only file system" in err and len(err.strip().splitlines()) == 1

    subprocess.run(["mount", "-o", "remount,rw", str(tiny_disk)], check=True)
    monkeypatch.setattr(cli, "run_comparison", real)
    assert main(["run", "--no-explain", "--out", str(tiny_disk), *SMALL]) == 2  # the results do not fit in 12 KiB
    err = capsys.readouterr().err
    assert "the results could not be written (No space left on device); no result folder was left" in err
    assert len(err.strip().splitlines()) == 1 and list(tiny_disk.iterdir()) == []


def test_an_unreachable_scheduler_is_one_line_before_anything_is_written(tmp_path, capsys):
    import socket
    import time

    from tests.test_store import write_design

    with socket.socket() as s:  # a loopback port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = tmp_path / "out"
    started = time.time()
    assert main(["sweep", str(write_design(tmp_path)), "--out", str(out), "--scheduler", f"tcp://127.0.0.1:{port}",
                 "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "cannot be reached" in err and len(err.strip().splitlines()) == 1
    assert time.time() - started < 10 and not out.exists()
    assert main(["sweep", str(write_design(tmp_path)), "--out", str(out), "--scheduler", "tcp://nohost",
                 "--no-progress"]) == 2
    assert "expected tcp://HOST:PORT" in capsys.readouterr().err


def test_too_many_workers_and_a_non_sweep_folder_are_one_line(tmp_path, capsys):
    from tests.test_store import write_design

    assert main(["sweep", str(write_design(tmp_path)), "--out", str(tmp_path / "o"), "--workers", "100000"]) == 2
    assert "--workers 100,000 is not allowed: at most" in capsys.readouterr().err
    assert main(["verify", str(tmp_path)]) == 2
    assert "is not a sweep folder" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_ctrl_c_is_one_line_with_status_130(tmp_path, capsys, monkeypatch):
    import experiments.cli as cli

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "run_comparison", interrupted)
    assert main(["run", "--no-explain", "--out", str(tmp_path), *SMALL]) == 130
    assert len(capsys.readouterr().err.strip().splitlines()) == 1 and folders(tmp_path) == []
