"""One command at a time computes into an ``--out`` folder (issue #22): every command that writes a result folder there.

``run``, ``explain``, ``validate``, ``calibrate``, ``cases`` and ``sensitivity --until-stable`` hold the
folder's lock (``experiments/cli.py`` ``out_lock``, ``.ontschot-run.lock``) from before they compute until
they end. For each of them: a second command into a folder a live process holds is refused in one line
(exit 2) naming the holder's pid and command, before it computes and with no result folder made; a lock
file that is a symbolic link is refused with its target untouched; a lock left by a process killed with
``kill -9`` is taken over, held while the command computes and released when it fails. The live holder
is a small process holding the lock through the same helper (no timing), and the computation is trapped,
so a command that got past the lock fails the test at once instead of running. One test starts a real
first ``run`` far bigger than any machine finishes, refuses an ``explain`` into its folder and stops the
run with Ctrl-C: its lock goes with it.

``sweep``, ``sensitivity``, ``discover`` and ``discover --analyse`` write what they draw from the runs
(``points.csv``, the analysis files) into the sweep folder itself: they hold its ``sweep.lock``
(``experiments/cli.py`` ``sweep_lock``) from before their runs until that is written, so a second of them into
a folder a live process holds is refused in one line naming it, before it computes, with nothing written.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import experiments.cases
import experiments.cli as cli
import experiments.sweep
from experiments.lock import RUN_LOCK, read_holder
from model.parameters import InputError
from tests.test_sensitivity import GROW

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
GUARD = 120  # seconds: a command that has not answered by then hangs
QUICK = 15  # seconds: a refusal comes after the input checks only, never after a computation
SMALL = ["--set", "scenario.inhabitants=2000", "--no-progress"]
ONE = ["--workers", "1"]
HOLD = """
import sys, time
from pathlib import Path
from experiments.cli import out_lock
Path(sys.argv[1]).mkdir(parents=True, exist_ok=True)
with out_lock(Path(sys.argv[1]), sys.argv[2]):
    print("held", flush=True)
    time.sleep(600)
"""


class Computed(Exception):
    """The trapped computation was reached."""


def commands(design: Path) -> dict[str, tuple[list[str], object, str]]:
    """Each locked command: its argv (without --out), and where its computation starts (module, attribute)."""
    return {
        "run": (["run", "--years", "3", "--replications", "2", *SMALL, *ONE], cli, "run_tasks"),
        "explain": (["explain", "--years", "3", "--replications", "2", *SMALL, *ONE], cli, "run_decomposition"),
        "validate": (["validate", "--years", "4", "--replications", "1", *SMALL], cli, "run_comparison"),
        "calibrate": (["calibrate", "--years", "4", "--waves", "1", "--points", "4", "--sets", "2", "--check-seeds",
                       "1", "--candidates", "50", *SMALL, *ONE], cli, "calibrate_ensemble"),
        "cases": (["cases", "--case", "superrr", "--replications", "1", "--years", "3", *SMALL, *ONE], experiments.cases,
                  "run_cases"),
        "sensitivity": (["sensitivity", str(design), "--until-stable", "--max-runs", "30", "--workers", "1",
                         "--no-progress"], experiments.sweep, "make_client"),
    }


NAMES = ["run", "explain", "validate", "calibrate", "cases", "sensitivity"]


@pytest.fixture(scope="module")
def design(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("design") / "grow.toml"
    path.write_text(GROW)
    return path


def hold(folder: Path, command: str) -> subprocess.Popen:
    """A live process holding ``folder``'s lock as ``command`` (through ``out_lock``), once it says so."""
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(folder), command], cwd=ROOT, env=ENV,
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    return holder


@pytest.fixture(scope="module")
def busy(tmp_path_factory):
    """A folder held by a live process that says it runs `ontschot calibrate`."""
    folder = tmp_path_factory.mktemp("busy") / "out"
    holder = hold(folder, "calibrate")
    try:
        yield folder, holder
    finally:
        holder.kill()
        holder.wait(timeout=30)


@pytest.fixture(scope="module")
def stale(tmp_path_factory) -> bytes:
    """The lock file a holder killed with ``kill -9`` leaves: its record stays, nobody holds it."""
    folder = tmp_path_factory.mktemp("stale") / "out"
    holder = hold(folder, "run")
    holder.kill()
    holder.wait(timeout=30)
    record = read_holder(folder, RUN_LOCK)
    assert record["pid"] == holder.pid and record["command"][:2] == ["ontschot", "run"]
    return (folder / RUN_LOCK).read_bytes()


def trap(monkeypatch, module, name: str, check=None) -> None:
    """Replace the command's computation: it raises ``Computed`` (after ``check()``, when given)."""

    def computed(*args, **kwargs):
        if check is not None:
            check()
        raise Computed(name)

    monkeypatch.setattr(module, name, computed)


def one_line_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ontschot: error: "), err
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize("name", NAMES)
def test_a_command_into_a_busy_out_is_refused_in_one_line_before_it_computes(name, busy, design, monkeypatch,
                                                                            capsys):
    folder, holder = busy
    argv, module, attribute = commands(design)[name]
    trap(monkeypatch, module, attribute)
    started = time.monotonic()
    assert cli.main([*argv, "--out", str(folder)]) == 2
    line = one_line_error(capsys.readouterr().err)
    assert time.monotonic() - started < QUICK
    assert f"is in use by pid {holder.pid} on host" in line and "running `ontschot calibrate`" in line, line
    assert RUN_LOCK in line and "choose another --out" in line
    assert [p.name for p in folder.iterdir()] == [RUN_LOCK]  # no result folder, no sweep folder, no partial one
    assert read_holder(folder, RUN_LOCK)["pid"] == holder.pid and holder.poll() is None  # the holder's lock stays


@pytest.mark.parametrize("name", NAMES)
def test_a_lock_file_that_is_a_symbolic_link_is_refused_and_its_target_kept(name, design, tmp_path, monkeypatch,
                                                                           capsys):
    argv, module, attribute = commands(design)[name]
    trap(monkeypatch, module, attribute)
    target = tmp_path / "precious.txt"
    target.write_text("precious")
    out = tmp_path / "out"
    out.mkdir()
    (out / RUN_LOCK).symlink_to(target)
    assert cli.main([*argv, "--out", str(out)]) == 2
    assert "symbolic link" in one_line_error(capsys.readouterr().err)
    assert target.read_text() == "precious"
    assert [p.name for p in out.iterdir()] == [RUN_LOCK] and (out / RUN_LOCK).is_symlink()


@pytest.mark.parametrize("name", NAMES)
def test_a_lock_left_by_a_killed_command_is_taken_over_held_while_computing_and_released(name, stale, design,
                                                                                        tmp_path, monkeypatch):
    argv, module, attribute = commands(design)[name]
    out = tmp_path / "out"
    out.mkdir()
    (out / RUN_LOCK).write_bytes(stale)
    seen = {}

    def held() -> None:
        seen.update(read_holder(out, RUN_LOCK))

    trap(monkeypatch, module, attribute, check=held)
    with pytest.raises(Computed):  # not refused: the command computes (the trap raises, as a failing run would)
        cli.main([*argv, "--out", str(out)])
    assert seen["pid"] == os.getpid() and seen["command"] == ["ontschot", name, "--out", str(out)]
    assert not (out / RUN_LOCK).exists()  # released when the command failed
    assert [p.name for p in out.iterdir()] == []


def test_a_run_takes_over_a_stale_lock_for_real_and_a_report_of_the_folder_notes_a_busy_holder(stale, tmp_path,
                                                                                               capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / RUN_LOCK).write_bytes(stale)
    assert cli.main(["run", "--out", str(out), "--years", "3", "--replications", "2", "--no-explain", *SMALL, *ONE]) == 0
    capsys.readouterr()
    (folder,) = [p for p in out.iterdir()]  # the result folder; the lock is gone
    assert (folder / "results.parquet").is_file()
    holder = hold(out, "validate")
    try:  # a report takes no lock: it reports on the newest complete folder and says a command is computing
        assert cli.main(["report", "--latest", str(out), "--lang", "en"]) == 0
        err = capsys.readouterr().err
        assert f"note: pid {holder.pid} on host" in err and "running `ontschot validate`" in err
        assert f"the newest complete folder, {folder.name}" in err and (folder / "report.html").is_file()
    finally:
        holder.kill()
        holder.wait(timeout=30)


def test_a_real_run_holds_its_out_an_explain_into_it_is_refused_and_ctrl_c_releases_the_lock(tmp_path):
    out = tmp_path / "out"
    # far more work than any machine finishes while the explain is refused (many minutes on two cores); the
    # Ctrl-C below ends it, so its size costs nothing
    first = subprocess.Popen([sys.executable, "-m", "experiments.cli", "run", "--out", str(out), "--set",
                              "scenario.inhabitants=30000", "--years", "15", "--replications", "40", "--workers", "1",
                              "--no-progress"], cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + GUARD
        while time.monotonic() < deadline and not _held_by(out, first.pid):
            assert first.poll() is None, first.stderr.read()
            time.sleep(0.05)
        assert _held_by(out, first.pid), "the run never took its lock"
        started = time.monotonic()
        second = subprocess.run([sys.executable, "-m", "experiments.cli", "explain", "--out", str(out), "--years",
                                 "3", "--replications", "2", *SMALL, *ONE], cwd=ROOT, env=ENV, capture_output=True,
                                text=True, timeout=GUARD)
        line = one_line_error(second.stderr)
        assert second.returncode == 2 and time.monotonic() - started < GUARD
        assert f"in use by pid {first.pid}" in line and "running `ontschot run`" in line, line
        assert [p.name for p in out.iterdir()] == [RUN_LOCK]  # no sweeps/ folder, no result folder
        os.killpg(first.pid, signal.SIGINT)  # Ctrl-C
        assert first.wait(timeout=GUARD) == 130, first.stderr.read()
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
            first.wait(timeout=30)
    assert [p.name for p in out.iterdir()] == []  # the lock released on Ctrl-C, nothing half-written left


def _held_by(out: Path, pid: int) -> bool:
    try:
        record = read_holder(out, RUN_LOCK)
    except InputError:  # the record being written at this moment
        return False
    return record is not None and record["pid"] == pid


# ------------------------------------------------------------------ calibrate --write: the installed ensemble


def _calibration(folder: Path, tag: str) -> Path:
    """A folder holding an ensemble pair (the install copies bytes: each file names its calibration)."""
    folder.mkdir()
    (folder / "ensemble.parquet").write_bytes(tag.encode() * 400_000)
    (folder / "ensemble.json").write_text(json.dumps({"from": tag}))
    return folder


def test_two_installs_at_once_leave_one_calibrations_pair_and_nothing_else(tmp_path):
    import threading

    from experiments.calibrate import install_ensemble

    sources = [_calibration(tmp_path / tag, tag) for tag in ("A", "B")]
    target = tmp_path / "ensembles" / "default.parquet"
    failures: list[BaseException] = []

    def install(source: Path) -> None:
        try:
            install_ensemble(source, target)
        except BaseException as exc:  # noqa: BLE001  (the test reports what any install raised)
            failures.append(exc)

    for _ in range(10):
        threads = [threading.Thread(target=install, args=(src,)) for src in sources]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not failures, failures
        tag = json.loads(target.with_suffix(".json").read_text())["from"]
        assert target.read_bytes() == tag.encode() * 400_000, "the pair mixes two calibrations"
        assert sorted(p.name for p in target.parent.iterdir()) == ["default.json", "default.parquet"]


def test_an_install_waits_for_the_one_in_progress_then_says_so_in_one_line(tmp_path):
    from experiments.calibrate import INSTALL_LOCK, install_ensemble
    from experiments.lock import FolderLock, LockedError

    target = tmp_path / "ensembles" / "default.parquet"
    target.parent.mkdir()
    holder = FolderLock(target.parent, INSTALL_LOCK, "ensemble folder").acquire()
    try:
        with pytest.raises(LockedError, match="ensemble folder .* is in use by pid"):
            install_ensemble(_calibration(tmp_path / "A", "A"), target, wait=0.3)
        assert not target.exists()
    finally:
        holder.release()
    install_ensemble(tmp_path / "A", target, wait=0.3)
    assert json.loads(target.with_suffix(".json").read_text()) == {"from": "A"}


# ------------------------------------------------------------------ sensitivity and discover: a sweep folder's analysis

HOLD_SWEEP = """
import sys, time
from pathlib import Path
from experiments.cli import sweep_lock
with sweep_lock(Path(sys.argv[1]), sys.argv[2], "--analyse"):
    print("held", flush=True)
    time.sleep(600)
"""


@pytest.fixture(scope="module")
def discovered(tmp_path_factory) -> dict[str, Path]:
    """A tiny real discovery folder (its runs and analysis), and its design."""
    from tests.test_discovery import write_tiny

    parent = tmp_path_factory.mktemp("discovered")
    design, out = write_tiny(parent), parent / "out"
    assert cli.main(["discover", str(design), "--out", str(out), "--workers", "1", "--no-progress"]) == 0
    return {"design": design, "out": out}


def analyses(design: Path, discovered: dict[str, Path], folder: Path) -> dict[str, list[str]]:
    """Each command that writes what it draws from the runs into a sweep folder, into ``folder``."""
    from tests.test_sweep import write_design

    return {
        "sweep": ["sweep", str(write_design(folder.parent)), "--out", str(folder), "--workers", "1", "--no-progress"],
        "sensitivity": ["sensitivity", str(design), "--out", str(folder), "--workers", "1", "--no-progress"],
        "discover": ["discover", str(discovered["design"]), "--out", str(folder), "--workers", "1", "--no-progress"],
        "discover --analyse": ["discover", "--analyse", str(folder)],
    }


def trap_analyses(monkeypatch, check=None) -> None:
    """Every step of a sweep folder's analysis (the runs, the cluster, the analyses) raises ``Computed``."""
    import analysis.aggregates
    import experiments.discover
    import experiments.stability

    trap(monkeypatch, analysis.aggregates, "sweep_summaries", check)  # what sweep's points.csv is made of
    trap(monkeypatch, experiments.sweep, "run_sweep", check)
    trap(monkeypatch, experiments.sweep, "make_client", check)
    trap(monkeypatch, experiments.stability, "analyse_folder", check)
    trap(monkeypatch, experiments.discover, "analyse_folder", check)


def sweep_folder(name: str, discovered: dict[str, Path], folder: Path) -> Path:
    """What each command finds: a copy of the discovery folder (discover), an empty folder (sweep, sensitivity)."""
    if name.startswith("discover"):
        shutil.copytree(discovered["out"], folder)
    else:
        folder.mkdir()
    return folder


ANALYSES = ["sweep", "sensitivity", "discover", "discover --analyse"]


@pytest.mark.parametrize("name", ANALYSES)
def test_a_second_analysis_of_a_sweep_folder_at_once_is_refused_in_one_line_before_it_computes(
        name, design, discovered, tmp_path, monkeypatch, capsys):
    folder = sweep_folder(name, discovered, tmp_path / "sweep")
    before = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    holder = subprocess.Popen([sys.executable, "-c", HOLD_SWEEP, str(folder), "discover"], cwd=ROOT, env=ENV,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        trap_analyses(monkeypatch)
        started = time.monotonic()
        assert cli.main(analyses(design, discovered, folder)[name]) == 2
        line = one_line_error(capsys.readouterr().err)
        assert time.monotonic() - started < QUICK
        assert f"is in use by pid {holder.pid} on host" in line and "running `ontschot discover`" in line, line
        assert "sweep.lock" in line and "wait for it to finish" in line, line
        after = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
        assert after == {**before, "sweep.lock": after["sweep.lock"]}  # nothing written but the holder's lock
        assert read_holder(folder)["pid"] == holder.pid and holder.poll() is None
    finally:
        holder.kill()
        holder.wait(timeout=30)


@pytest.mark.parametrize("name", ANALYSES)
def test_an_analysis_holds_the_sweep_folders_lock_while_it_runs_and_computes_and_releases_it(
        name, design, discovered, tmp_path, monkeypatch):
    folder = sweep_folder(name, discovered, tmp_path / "sweep")
    seen = []

    def held() -> None:
        seen.append(read_holder(folder))

    trap_analyses(monkeypatch, check=held)
    argv = analyses(design, discovered, folder)[name]
    option = "--analyse" if name.endswith("--analyse") else "--out"
    with pytest.raises(Computed):  # the runs (the sweep) are reached with the lock held
        cli.main(argv)
    if name != "discover --analyse":  # the runs complete: the analysis is reached with the lock still held
        monkeypatch.setattr(cli, "_sweep", lambda args, design, lock=None: (held(), {"remaining": 0, "failed": 0})[1])
        with pytest.raises(Computed):
            cli.main(argv)
    assert seen and all(h["pid"] == os.getpid() and h["command"] == ["ontschot", name.split()[0], option, str(folder)]
                        for h in seen), seen
    assert not (folder / "sweep.lock").exists()  # released when the command failed


@pytest.mark.parametrize("name", ANALYSES)
def test_a_sweep_lock_that_is_a_symbolic_link_is_refused_and_its_target_kept(name, design, discovered, tmp_path,
                                                                            monkeypatch, capsys):
    folder = sweep_folder(name, discovered, tmp_path / "sweep")
    target = tmp_path / "precious.txt"
    target.write_text("precious")
    (folder / "sweep.lock").symlink_to(target)
    trap_analyses(monkeypatch)
    assert cli.main(analyses(design, discovered, folder)[name]) == 2
    assert "symbolic link" in one_line_error(capsys.readouterr().err)
    assert target.read_text() == "precious" and (folder / "sweep.lock").is_symlink()
