"""The sweep store verifies what it holds: run ids and hashes, repair on resume, verify, lock, kills, full disks.

Each test here reproduces a finding of issue #10 and fails on the store before it: a kill before
the manifest, corrupt or substituted run files, a second live sweep, a dead worker recomputing
saved runs, a full or read-only disk, a folder name that breaks SQL. Sweeps are small (3,000
inhabitants, 3 years) and most share one in-process Dask client, so the file runs in seconds.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from experiments.cli import main
from experiments.design import load_design
from experiments.lock import LOCK_NAME
from experiments.runfiles import HASH_KEY, RUN_ID_KEY, _data_pages, check_run
from experiments.sweep import load_sweep, query, run_sweep, verify_folder
from model.parameters import InputError
from tests.test_sweep import sorted_frame, write_design

ROOT = Path(__file__).resolve().parent.parent
EXE = Path(sys.executable).with_name("ontschot")
def run_files(out: Path) -> list[Path]:
    return sorted((out / "runs").glob("*.parquet"))


def temp_files(out: Path) -> list[Path]:
    return [p for p in out.rglob("*.tmp")]


@pytest.fixture(scope="module")
def client():
    """One in-process Dask worker shared by the tests that do not kill or time workers."""
    from dask.distributed import Client, LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address="127.0.0.1:0") as cluster, \
            Client(cluster) as c:
        yield c


@pytest.fixture(scope="module")
def reference(tmp_path_factory, client):
    """The tiny design swept once, untouched: what every repaired or resumed folder must equal."""
    folder = tmp_path_factory.mktemp("reference")
    design_path = write_design(folder)
    out = folder / "out"
    run_sweep(load_design(design_path), out, client=client, progress=False)
    return {"design": design_path, "out": out, "frame": sorted_frame(out)}


def copy_of(reference: dict, tmp_path: Path) -> Path:
    out = tmp_path / "copy"
    shutil.copytree(reference["out"], out)
    return out


# ------------------------------------------------------------------ what a run file carries


def test_each_run_file_carries_its_run_id_and_the_hash_of_its_content(reference, tmp_path):
    out = copy_of(reference, tmp_path)
    for path in run_files(out):
        meta = pq.read_metadata(path).metadata
        assert meta[RUN_ID_KEY].decode() == path.stem
        assert meta[HASH_KEY].decode() == hashlib.sha256(_data_pages(path.read_bytes())).hexdigest()
        assert check_run(path).ok
    victim = run_files(out)[0]
    blob = bytearray(victim.read_bytes())
    blob[len(_data_pages(bytes(blob))) // 3] ^= 0xFF  # one flipped byte inside the data pages
    victim.write_bytes(bytes(blob))
    assert not check_run(victim).ok


# ------------------------------------------------------------------ corrupt, substituted, verify, repair


def test_corrupt_and_substituted_run_files_are_found_by_verify_and_repaired_on_resume(reference, tmp_path, capsys,
                                                                                       client):
    out = copy_of(reference, tmp_path)
    files = run_files(out)
    files[0].write_bytes(files[0].read_bytes()[:200])  # truncated
    files[1].write_bytes(b"")  # empty
    files[2].write_bytes(os.urandom(4096))  # random bytes
    shutil.copy(files[4], files[3])  # a valid file of another run under this run's name
    (out / "runs" / "0123456789abcdef0123.parquet").write_bytes(files[5].read_bytes())  # not a planned run
    (out / "runs" / ".leftover.0.tmp").write_bytes(b"half a file")

    assert main(["verify", str(out)]) == 1
    report = capsys.readouterr().out
    assert "8 planned, 4 sound, 4 missing, 4 damaged, 1 not of this design, 1 temporary file(s)" in report
    assert f"holds run {files[4].stem}, not {files[3].stem}" in report and "empty" in report
    with pytest.raises(InputError, match="holds 4 damaged run file"):
        load_sweep(out)  # never a frame with a run missing and another counted twice
    with pytest.raises(InputError, match="damaged run file"):
        query(out, "SELECT count(*) FROM runs")

    summary = run_sweep(load_design(reference["design"]), out, client=client, progress=False)
    assert summary == {"planned": 8, "skipped": 4, "damaged": 4, "recovered": 0, "unplanned": 1, "done": 4,
                       "failed": 0, "repaired": 4}
    assert main(["verify", str(out)]) == 0
    assert "8 planned, 8 sound, 0 missing, 0 damaged, 0 not of this design, 0 temporary" in capsys.readouterr().out
    pd.testing.assert_frame_equal(sorted_frame(out), reference["frame"])
    assert len(list((out / "damaged").iterdir())) == 5 and not temp_files(out)


def test_a_sound_run_file_under_another_runs_name_is_put_back_not_recomputed(reference, tmp_path, client):
    out = copy_of(reference, tmp_path)
    files = run_files(out)
    os.replace(files[0], files[1])  # run 0's file now sits under run 1's name; run 0's own file is gone
    summary = run_sweep(load_design(reference["design"]), out, client=client, progress=False)
    assert summary["recovered"] == 1 and summary["damaged"] == 1 and summary["done"] == 1  # only run 1 runs again
    pd.testing.assert_frame_equal(sorted_frame(out), reference["frame"])


def test_sensitivity_points_never_count_a_substituted_run(tmp_path, capsys):
    """The finding: a valid file of another run under a run's name gave exit 0 and a point counted twice."""
    path = tmp_path / "sobol.toml"
    path.write_text('name = "s"\nregimes = ["compartmentalised", "integrated"]\nreplications = 1\nseed = 3\n'
                    '[base]\n"scenario.inhabitants" = 3000\n"scenario.years" = 2\n'
                    '[sampler]\nmethod = "sobol"\nn = 2\n[vary]\n"firm.lock_in" = {}\n'
                    '[outcomes]\ndifference = ["integrated", "compartmentalised"]\n')
    out = tmp_path / "s"
    assert main(["sensitivity", str(path), "--out", str(out), "--workers", "1", "--no-progress"]) == 0
    first = pd.read_csv(out / "sensitivity_outcomes.csv")
    files = run_files(out)
    shutil.copy(files[1], files[0])
    capsys.readouterr()
    assert main(["sensitivity", str(path), "--out", str(out), "--workers", "1", "--no-progress"]) == 0
    assert "1 damaged and 0 not of this design set aside" in capsys.readouterr().out
    pd.testing.assert_frame_equal(pd.read_csv(out / "sensitivity_outcomes.csv"), first)


# ------------------------------------------------------------------ manifest first, early kills, temp files


def _stale_lock(out: Path) -> None:
    (out / LOCK_NAME).write_text(json.dumps({"pid": 999_999_999, "host": socket.gethostname(), "started": "earlier"}))


START_STATES = {
    "empty folder": lambda out: None,
    "lock file only": _stale_lock,
    "lock and a half-written manifest": lambda out: (_stale_lock(out),
                                                     (out / ".sweep.json.0a1b.tmp").write_text('{"desi')),
    "runs/ before the manifest (the old order)": lambda out: ((out / "runs").mkdir(), (out / "failures").mkdir(),
                                                             (out / "runs" / ".abc.0.tmp").write_bytes(b"PAR1")),
}


@pytest.mark.parametrize("state", list(START_STATES))
def test_a_folder_interrupted_before_its_manifest_is_resumed(state, tmp_path, client):
    out = tmp_path / "out"
    out.mkdir()
    START_STATES[state](out)
    design = load_design(write_design(tmp_path, places="[10]"))
    summary = run_sweep(design, out, client=client, progress=False)
    assert summary["done"] == summary["planned"] == 4
    assert not temp_files(out) and not (out / LOCK_NAME).exists()
    assert verify_folder(out)["sound"] == 4


def test_kill_9_in_the_first_milliseconds_leaves_a_folder_the_same_command_resumes(tmp_path, client):
    """kill -9 at each step of creating the folder (folder, lock, manifest, runs/), then resume: nothing refused."""
    design_path = write_design(tmp_path, places="[10]")
    design = load_design(design_path)
    survived = 0
    for k, stage in enumerate(("", LOCK_NAME, "sweep.json", "runs")):
        out = tmp_path / f"killed-{k}"
        proc = subprocess.Popen([str(EXE), "sweep", str(design_path), "--out", str(out), "--workers", "1",
                                 "--no-progress"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        deadline = time.time() + 60
        while time.time() < deadline and not (out / stage).exists():
            time.sleep(0.0005)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        assert out.exists(), "the driver was killed after creating the folder"
        summary = run_sweep(design, out, client=client, progress=False)
        assert summary["done"] + summary["skipped"] == summary["planned"] == 4 and not temp_files(out)
        survived += 1
    assert survived == 4


# ------------------------------------------------------------------ one live sweep per folder


HOLD_LOCK = """
import sys, time
from pathlib import Path
from experiments.lock import FolderLock
Path(sys.argv[1]).mkdir(parents=True, exist_ok=True)
FolderLock(Path(sys.argv[1])).acquire()
print("held", flush=True)
time.sleep(120)
"""


def test_a_second_live_sweep_is_refused_and_a_dead_holders_lock_is_taken_over(tmp_path, capsys, client):
    out = tmp_path / "out"
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(out)], cwd=ROOT, stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        design_path = write_design(tmp_path, places="[10]")
        assert main(["sweep", str(design_path), "--out", str(out), "--workers", "1", "--no-progress"]) == 2
        err = capsys.readouterr().err
        assert f"is in use by pid {holder.pid} on host {socket.gethostname()!r}" in err
        assert len(err.strip().splitlines()) == 1 and not (out / "sweep.json").exists()
        assert main(["verify", str(out)]) == 2  # not a sweep folder yet: the holder has only locked it
        capsys.readouterr()
        from experiments.lock import holder_alive

        assert holder_alive(out) is True
    finally:
        holder.kill()  # kill -9: the lock file stays, its holder is gone
        holder.wait(timeout=30)
    assert (out / LOCK_NAME).exists() and holder_alive(out) is False
    summary = run_sweep(load_design(design_path), out, client=client, progress=False)
    assert summary["done"] == 4 and f"pid {holder.pid}" in summary["stale_lock"]
    assert not (out / LOCK_NAME).exists()


def test_two_concurrent_sweeps_into_one_folder_the_second_is_refused(tmp_path, capsys):
    design_path = write_design(tmp_path, inhabitants=4000, places="[10, 20, 30]")
    out = tmp_path / "out"
    first = subprocess.Popen([str(EXE), "sweep", str(design_path), "--out", str(out), "--workers", "1",
                              "--no-progress"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while time.time() < deadline and not (out / "sweep.json").exists():
        time.sleep(0.01)
    assert main(["sweep", str(design_path), "--out", str(out), "--workers", "1", "--no-progress"]) == 2
    assert f"in use by pid {first.pid}" in capsys.readouterr().err
    assert first.wait(timeout=300) == 0, first.stderr.read()
    sessions = json.loads((out / "sweep.json").read_text())["sessions"]
    assert len(sessions) == 1 and sessions[0]["done"] == sessions[0]["planned"] == 12  # no run computed twice


# ------------------------------------------------------------------ a dead worker costs only its runs in flight


def test_a_killed_worker_loses_no_result_and_recomputes_no_saved_run(tmp_path, client):
    from dask.distributed import Client, LocalCluster, get_task_stream

    design = load_design(write_design(tmp_path, places="[8, 16, 24, 32, 40, 48]"))
    run_sweep(design, tmp_path / "reference", client=client, progress=False)
    out = tmp_path / "out"
    saved_before: dict[str, int] = {}
    killed = []

    def kill_one_worker(run_id, state, client):
        if len(run_files(out)) >= 8 and not killed:
            saved_before.update({p.stem: p.stat().st_mtime_ns for p in run_files(out)})
            victim = sorted(client.run(os.getpid).values())[0]
            os.kill(victim, signal.SIGKILL)
            killed.append(victim)

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address="127.0.0.1:0") as cluster, Client(cluster) as client:
        with get_task_stream(client) as stream:
            summary = run_sweep(design, out, client=client, progress=False, on_result=kill_one_worker)
    assert killed and summary["done"] == summary["planned"] == 24 and summary["failed"] == 0
    executed = [t["key"] for t in stream.data]
    assert len(executed) == len(set(executed)) == 24, "every run executed to the end exactly once"
    assert {p.stem: p.stat().st_mtime_ns for p in run_files(out) if p.stem in saved_before} == saved_before, \
        "no run saved before the kill was written again"
    pd.testing.assert_frame_equal(sorted_frame(out), sorted_frame(tmp_path / "reference"))


# ------------------------------------------------------------------ full and read-only disks (a small tmpfs)


PAGE = 4096


def _pages(n_bytes: int) -> int:
    return -(-n_bytes // PAGE) * PAGE


@pytest.fixture
def small_disk(tmp_path, reference):
    """A tmpfs folder that holds the manifest, the lock and about 2.5 of the reference's run files (mounted as root).

    Sized from the reference run files, so it fills mid-sweep however large the model's output grows;
    skipped with the reason where mounting is impossible.
    """
    mount = tmp_path / "disk"
    mount.mkdir()
    manifest = (reference["out"] / "sweep.json").stat().st_size
    run = max(p.stat().st_size for p in run_files(reference["out"]))
    size = 4 * PAGE + _pages(manifest) * 2 + int(2.5 * _pages(run))
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)], capture_output=True,
                          text=True)
    if proc.returncode:
        pytest.skip(f"cannot mount a size-limited tmpfs here (needs root): {proc.stderr.strip() or proc.returncode}")

    def remount(options: str) -> None:
        subprocess.run(["mount", "-o", f"remount,{options}", str(mount)], check=True)

    try:
        yield mount, remount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_stops_the_sweep_in_one_line_and_the_same_command_resumes(small_disk, reference, capsys,
                                                                             monkeypatch):
    mount, remount = small_disk
    out = mount / "sweep"
    command = ["sweep", str(reference["design"]), "--out", str(out), "--workers", "2", "--no-progress"]
    proc = subprocess.run([str(EXE), *command], capture_output=True, text=True, timeout=300)  # the real stderr
    assert proc.returncode == 2
    assert "No space left on device" in proc.stderr and "run the same command again to resume" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr  # no worker log lines either
    saved = run_files(out)
    assert 0 < len(saved) < 8 and all(check_run(p).ok for p in saved), "what is there is whole and sound"
    assert not temp_files(out) and not (out / LOCK_NAME).exists()

    remount("size=16m")
    assert main(command) == 0
    pd.testing.assert_frame_equal(sorted_frame(out), reference["frame"])

    for path in run_files(out)[:2]:
        path.unlink()
    remount("ro")
    import experiments.sweep as sweep

    def no_runs(*args, **kwargs):
        raise AssertionError("a read-only folder must be refused before any run is computed")

    monkeypatch.setattr(sweep, "make_client", no_runs)
    assert main(command) == 2
    err = capsys.readouterr().err
    assert "Read-only file system" in err and len(err.strip().splitlines()) == 1
    assert len(run_files(out)) == 6  # the read-only folder is untouched


def test_a_read_only_runs_folder_is_refused_before_any_run_is_computed(reference, tmp_path, capsys, monkeypatch):
    """Only runs/ cannot be written (a read-only bind mount, as root): found before a run is computed."""
    import experiments.sweep as sweep

    out = copy_of(reference, tmp_path)
    run_files(out)[0].unlink()
    runs = out / "runs"
    if subprocess.run(["mount", "--bind", str(runs), str(runs)], capture_output=True).returncode:
        pytest.skip("cannot bind-mount here (needs root)")
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(runs)], check=True)
        monkeypatch.setattr(sweep, "make_client", lambda *a, **k: pytest.fail("no run may be computed"))
        assert main(["sweep", str(reference["design"]), "--out", str(out), "--workers", "1", "--no-progress"]) == 2
        err = capsys.readouterr().err
        assert "Read-only file system" in err and "nothing was run" in err and len(err.strip().splitlines()) == 1
    finally:
        subprocess.run(["umount", "-l", str(runs)], check=False)
    assert not (out / LOCK_NAME).exists() and not temp_files(out)


def test_a_disk_full_before_the_manifest_fits_stops_before_anything_runs(small_disk, reference, capsys):
    mount, _ = small_disk
    with open(mount / "filler", "wb", buffering=0) as fh:  # fill the disk to the last byte
        try:
            while True:
                fh.write(b"x" * 512)
        except OSError:
            pass
    out = mount / "sweep"
    assert main(["sweep", str(reference["design"]), "--out", str(out), "--workers", "1", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert ("No space left on device" in err) and "nothing was run" in err and len(err.strip().splitlines()) == 1
    assert not temp_files(mount) and not (out / "runs").exists()


# ------------------------------------------------------------------ reading: SQL that no folder name can break


@pytest.mark.parametrize("name", ["q'x", "it's [1]*?", "x'); DROP TABLE runs; --"])
def test_query_works_on_a_folder_whose_name_holds_quotes_or_glob_characters(name, reference, tmp_path):
    out = tmp_path / name
    shutil.copytree(reference["out"], out)
    counts = query(out, "SELECT count(DISTINCT run_id) AS n, count(*) AS rows FROM runs")
    assert counts["n"][0] == 8 and counts["rows"][0] == len(reference["frame"])
