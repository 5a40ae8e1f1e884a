"""Sweeps on Dask distributed: one verified Parquet file per run, resumable, locked, with bounded retries.

Layout of a sweep folder::

    DIR/sweep.json              manifest: design, its hash, planned run ids, code and package versions, sessions
    DIR/sweep.lock              held while a sweep runs: pid, host, start (a dead holder's lock is taken over)
    DIR/runs/<run_id>.parquet   one finished run (tidy yearly results + run labels), published atomically,
                                its run id and content hash in its Parquet metadata (experiments/runfiles.py)
    DIR/failures/<run_id>.json  a run that kept failing: error, traceback, attempts
    DIR/damaged/                run files that failed verification, set aside (their runs are run again)

The manifest is written before ``runs/`` exists, so a folder interrupted at any moment is either
empty, holds only this sweep's start (lock, temporary files), or holds its manifest: all resumable.
A run id is a hash of all resolved parameter values and the seed, so re-running the same command
after an interruption (Ctrl-C, ``kill -9`` of the driver, a worker crash, a full disk) checks every
file already there and runs only what is missing or failed the check. Each result is released as
soon as it is saved, so a worker that dies costs only the runs it had in flight. A file-system
error (disk full, read-only, no permission) stops the sweep cleanly, in one line: nothing half
written, no temporary files left, resumable. Results can be read while a sweep runs
(``load_sweep``, ``query``); both read only files that verify.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import itertools
import json
import logging
import os
import socket
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Callable

import pandas as pd

from experiments import stored
from experiments.design import Design, RunSpec
from experiments.lock import LOCK_NAME, FolderLock, describe, holder_alive, read_holder
from experiments.runfiles import (
    TEMP_SUFFIX,
    RunCheck,
    StoreWriteError,
    check_run,
    param_column,
    publish,
    run_file,
    write_run,
)
from experiments.store import (
    OutputError,
    code_fingerprint,
    code_version,
    os_reason,
    package_versions,
    platform_record,
    refuse_system_folder,
)
from model.parameters import InputError, show_path

MANIFEST = "sweep.json"
RUNS, FAILURES, DAMAGED = "runs", "failures", "damaged"
CONNECT_TIMEOUT = 5.0  # seconds to reach a --scheduler and hear that it is a Dask scheduler before giving up
__all__ = ["run_sweep", "load_sweep", "iter_runs", "query", "status", "verify_folder", "prepare", "run_file", "run_task"]


def run_task(spec: RunSpec, out: str) -> str:
    """Run one model on the spec's values and publish its tidy results atomically; return the run id. Executed on a worker.

    Raises:
        StoreWriteError: the run file could not be written (disk full, read-only, permissions); the
            sweep stops on it rather than retrying.
    """
    from experiments.runner import run_values

    frame = run_values(spec.values, spec.seed)
    frame.insert(0, "run_id", spec.run_id)
    frame.insert(1, "point", spec.point)
    frame.insert(3, "replication", spec.replication)
    for key, value in spec.varied.items():
        frame[param_column(key)] = value
    write_run(Path(out), spec.run_id, frame, code=_process_code_version())
    return spec.run_id


@functools.lru_cache(maxsize=1)
def _process_code_version() -> str:
    """The code version of this (worker) process, taken once: the code a process imported does not change under it."""
    return code_fingerprint()["id"]


def quiet_store_errors():
    """A Dask worker plugin: a StoreWriteError is the driver's one line to tell, not a worker's error log as well.

    Other task errors (a run that raises) are stored in failures/ (the local cluster logs only critical errors).
    """
    from distributed import WorkerPlugin

    class QuietStoreErrors(WorkerPlugin):
        name = "ontschot-quiet-store-errors"

        def setup(self, worker) -> None:
            logging.getLogger("distributed.worker").addFilter(_not_a_store_error)

    return QuietStoreErrors()


def _not_a_store_error(record: logging.LogRecord) -> bool:
    return "StoreWriteError" not in record.getMessage()


def unique_runs(plan: list[RunSpec]) -> list[RunSpec]:
    """One spec per run id: identical design points share their runs."""
    seen: dict[str, RunSpec] = {}
    for s in plan:
        seen.setdefault(s.run_id, s)
    return list(seen.values())


# ------------------------------------------------------------------ the folder: checks, manifest, lock, repair


def _read_manifest(out: Path) -> dict | None:
    path = out / MANIFEST
    if not stored.present(path):
        return None
    try:  # a regular file of bounded size, read without blocking, with the types this version writes
        return stored.check_sweep_manifest(stored.read_json(path, "sweep manifest"), path)
    except InputError as exc:
        detail = " ".join(str(exc).split()).removeprefix(show_path(path)).lstrip(": ")
        raise InputError(f"sweep folder {show_path(out)}: {MANIFEST} cannot be used ({detail}): this folder cannot "
                         "be resumed or read; choose a new --out folder") from None


def check_code_version(manifest: dict, out: Path) -> None:
    """Refuse to resume a sweep with other code than it started with: one folder holds one code version.

    Raises:
        InputError: naming the folder's code version and this one (a commit, an uncommitted change or another
            lock file all count), or saying that the folder predates run files that name their code version.
    """
    recorded = manifest.get("code_fingerprint")
    here = code_fingerprint()["id"]
    if not isinstance(recorded, dict) or not isinstance(recorded.get("id"), str):
        raise InputError(f"sweep folder {show_path(out)} was made before run files named their code version: a "
                         "resume could mix code versions unseen; choose a new --out folder")
    if recorded["id"] != here:
        raise InputError(f"sweep folder {show_path(out)} holds runs of code version {recorded['id']}; this code is "
                         f"{here}: resuming would mix two code versions in one folder; go back to that version "
                         "(commit, uncommitted change and requirements.lock) or choose a new --out folder")


def _is_temp(path: Path) -> bool:
    return path.name.startswith(".") and path.name.endswith(TEMP_SUFFIX)


def _foreign(out: Path) -> list[str]:
    """Entries of a folder without a manifest that are not this kind of sweep's own start (lock, temp files, empty runs/)."""
    foreign = []
    for entry in out.iterdir():
        if entry.name == LOCK_NAME or _is_temp(entry):
            continue
        if entry.is_dir() and entry.name in (RUNS, FAILURES) and all(_is_temp(p) for p in entry.iterdir()):
            continue
        foreign.append(entry.name)
    return sorted(foreign)


def check_folder(design: Design, out: Path) -> dict | None:
    """Read-only checks of a sweep folder before anything is written; the folder's manifest, if any.

    Raises:
        InputError: a system folder, a file in the way, a folder holding something else or another design.
    """
    refuse_system_folder(out)
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {show_path(out)} is not allowed: it is a file, not a folder")
    for parent in out.parents:
        if parent.exists() and not parent.is_dir():
            raise OutputError(f"--out {show_path(out)} is not allowed: {show_path(parent)} is a file, not a folder")
    manifest = _read_manifest(out) if out.is_dir() else None
    if manifest is not None:
        if manifest.get("design_hash") != design.digest:
            raise InputError(
                f"output folder '{out}' holds another design (hash {manifest.get('design_hash')}, "
                f"name {manifest.get('design', {}).get('name')!r}); this design has hash {design.digest}: "
                "choose a new --out folder")
        if manifest.get("planned_run_ids") != [s.run_id for s in unique_runs(design.plan())]:
            raise InputError(
                f"output folder '{out}' holds this design run with other parameter values (the model's "
                "defaults changed since, e.g. a new calibration): its results would mix with new ones; "
                "choose a new --out folder")
        check_code_version(manifest, out)
    elif out.is_dir():
        foreign = _foreign(out)
        if foreign:
            shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
            raise InputError(f"output folder '{out}' is not empty and holds no sweep ({shown}): "
                             "choose a new --out folder")
    return manifest


def remove_temp_files(out: Path) -> int:
    """Remove temporary files of interrupted writes (``.*.tmp``) from the folder, runs/ and failures/."""
    removed = 0
    for folder in (out, out / RUNS, out / FAILURES):
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            if _is_temp(path):
                try:
                    path.unlink()
                    removed += 1
                except OSError:
                    pass
    return removed


def _write_json(path: Path, obj) -> None:
    publish(path, json.dumps(obj, indent=2, default=str).encode())


def _manifest(design: Design, plan: list[RunSpec]) -> dict:
    return {
        "design": {"name": design.name, **design.source},
        "design_hash": design.digest,
        "planned_run_ids": [s.run_id for s in unique_runs(plan)],
        "planned": [{"run_id": s.run_id, "point": s.point, "regime": s.regime, "replication": s.replication,
                     "seed": s.seed, "varied": s.varied} for s in plan],
        "code_version": code_version(),
        "code_fingerprint": code_fingerprint(),
        "platform": platform_record(),
        "package_versions": package_versions(),
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "sessions": [],
    }


def inspect_runs(out: Path, planned: list[str]) -> dict:
    """Check every run file in ``runs/``: sound, damaged (planned but failing the check), or unplanned.

    Returns:
        ``sound`` (run ids), ``damaged`` ({file name: problem}), ``unplanned`` ({file name: problem or
        'not a run of this design'}), ``checks`` ({file name: RunCheck}).
    """
    wanted = set(planned)
    sound, damaged, unplanned, checks = set(), {}, {}, {}
    folder = out / RUNS
    for path in sorted(folder.glob("*.parquet")) if folder.is_dir() else []:
        result = check_run(path)
        checks[path.name] = result
        if path.stem not in wanted:
            unplanned[path.name] = result.problem or "not a run of this design"
        elif result.ok:
            sound.add(path.stem)
        else:
            damaged[path.name] = result.problem
    return {"sound": sound, "damaged": damaged, "unplanned": unplanned, "checks": checks}


def _repair(out: Path, planned: list[str], found: dict) -> dict:
    """Set damaged and unplanned files aside in damaged/; a sound file saved under another planned run's name goes home."""
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S")
    aside = out / DAMAGED
    moved: list[Path] = []
    for name in [*found["damaged"], *found["unplanned"]]:
        aside.mkdir(exist_ok=True)
        target = aside / f"{name}.{stamp}"
        os.replace(out / RUNS / name, target)
        moved.append(target)
    recovered = 0
    wanted = set(planned)
    for target in moved:
        held = found["checks"][target.name.rsplit(".", 1)[0]].held
        if held in wanted and held not in found["sound"] and check_run(target, held).ok:
            os.replace(target, run_file(out, held))
            found["sound"].add(held)
            recovered += 1
    return {"damaged": len(found["damaged"]), "unplanned": len(found["unplanned"]), "recovered": recovered}


def _probe(folder: Path) -> None:
    """Create and remove a file in ``folder`` (raises OSError where that is impossible)."""
    fd, name = tempfile.mkstemp(prefix=".probe.", suffix=TEMP_SUFFIX, dir=folder)
    os.close(fd)
    os.unlink(name)


class SweepFolder:
    """An opened sweep folder: locked, manifest written, temporary files removed, every run file checked.

    ``open`` creates the folder in this order: folder, lock, manifest, ``runs/`` — so an
    interruption at any point leaves a folder the next call recognises as this sweep's start.
    """

    def __init__(self, design: Design, out: Path, lock: FolderLock | None = None):
        self.design = design
        self.out = Path(out)
        self.own_lock = lock is None  # a lock given is already held by the caller, who releases it
        self.lock = FolderLock(self.out) if lock is None else lock
        self.plan = design.plan()
        self.planned = [s.run_id for s in unique_runs(self.plan)]
        self.repair: dict = {"damaged": 0, "unplanned": 0, "recovered": 0}
        self.sound: set[str] = set()
        self.damaged_ids: set[str] = set()  # planned runs whose file failed the check and was set aside
        self.took_over: dict | None = None

    def open(self) -> SweepFolder:
        """Lock and prepare the folder; check and repair the run files already there.

        Raises:
            InputError: another design or foreign content; LockedError: another live sweep holds it;
            OutputError: the folder cannot be created or written.
        """
        check_folder(self.design, self.out)
        try:
            self.out.mkdir(parents=True, exist_ok=True)
            if self.own_lock:
                self.lock.acquire()
        except OSError as exc:
            raise OutputError(f"--out {show_path(self.out)} cannot be written: {os_reason(exc)}; "
                              "nothing was run") from None
        self.took_over = self.lock.stale
        try:
            manifest = check_folder(self.design, self.out)  # again, now that no one else can change it
            remove_temp_files(self.out)
            if manifest is None:
                _write_json(self.out / MANIFEST, _manifest(self.design, self.plan))
            for sub in (RUNS, FAILURES):
                (self.out / sub).mkdir(exist_ok=True)
                _probe(self.out / sub)  # a folder that cannot take a file fails now, before any run is computed
            found = inspect_runs(self.out, self.planned)
            self.damaged_ids = {name.removesuffix(".parquet") for name in found["damaged"]}
            self.repair = _repair(self.out, self.planned, found)
            self.sound = found["sound"]
        except StoreWriteError as exc:
            self.close()
            raise OutputError(f"sweep folder {show_path(self.out)}: {exc}; nothing was run") from None
        except OSError as exc:
            self.close()
            raise OutputError(f"sweep folder {show_path(self.out)} cannot be written: {os_reason(exc)}; "
                              "nothing was run") from None
        except BaseException:
            self.close()
            raise
        return self

    def missing(self) -> list[RunSpec]:
        """Planned runs without a sound file, in plan order."""
        return [s for s in unique_runs(self.plan) if s.run_id not in self.sound]

    def record_session(self, entry: dict) -> None:
        """Add a session to the manifest (atomically; a folder that cannot be written raises StoreWriteError)."""
        try:
            manifest = stored.read_json(self.out / MANIFEST, "sweep manifest")
        except InputError as exc:
            raise StoreWriteError(f"cannot read {MANIFEST} in '{self.out}': {exc}") from None
        manifest["sessions"].append(entry)
        _write_json(self.out / MANIFEST, manifest)

    def close(self) -> None:
        """Remove temporary files and release the lock (one the caller holds stays held)."""
        if self.lock.fd is not None:
            remove_temp_files(self.out)
        if self.own_lock:
            self.lock.release()


def prepare(design: Design, out: Path) -> list[RunSpec]:
    """Create or reopen a sweep folder for this design (checked, repaired, unlocked again); return the plan."""
    folder = SweepFolder(design, Path(out)).open()
    folder.close()
    return folder.plan


# ------------------------------------------------------------------ running


def check_scheduler(address: str) -> str:
    """A ``--scheduler`` address of a Dask scheduler that answers, checked before anything is written.

    Raises:
        InputError: not tcp://HOST:PORT or HOST:PORT, nothing answering within CONNECT_TIMEOUT, or not a
            Dask scheduler (``experiments.scheduler``).
    """
    from experiments.scheduler import check_scheduler as checked

    return checked(address, CONNECT_TIMEOUT)


class WorkersError(InputError):
    """The local cluster's worker processes could not start: one line naming their log, exit 2, nothing run."""


def make_client(workers: int | None = None, scheduler: str | None = None):
    """A Dask client: the given scheduler, or a local cluster of single-threaded worker processes on loopback."""
    from dask.distributed import Client, LocalCluster

    if scheduler:
        try:
            return Client(scheduler, timeout=f"{CONNECT_TIMEOUT}s"), None
        except (OSError, TimeoutError) as exc:
            raise InputError(f"--scheduler {show_path(scheduler)}: cannot connect a Dask client ({exc})") from None
    from experiments.cli_guards import deferred_interrupts, workers_stderr_logged

    # The workers (and their nannies) ignore Ctrl-C from their first import: the driver stops them. One
    # pressed in the few milliseconds before that import would print the worker's traceback on the terminal,
    # so the processes started here write their stderr to a log file (with silence_logs they log little there);
    # a cluster that cannot start names it.
    n_workers = workers or os.cpu_count() or 1
    log, named = None, False
    try:
        with deferred_interrupts() as later, workers_stderr_logged() as log:
            try:
                cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                                       host="127.0.0.1", dashboard_address="127.0.0.1:0",
                                       # Worker restarts, cancelled tasks and heartbeats lost while the cluster
                                       # shuts down after a stop are not the user's news; a run that raises is
                                       # stored in failures/.
                                       silence_logs=logging.CRITICAL)
            except Exception as exc:
                if later.came:  # a worker that starting got the same Ctrl-C: the cluster failed because of it
                    raise KeyboardInterrupt from None
                named = log is not None
                raise WorkersError(f"the local Dask cluster of {n_workers} worker process(es) could not start "
                                   f"({' '.join(str(exc).split())[:200] or type(exc).__name__}); what its processes "
                                   + (f"wrote is in {show_path(log)}" if named else "wrote was not kept")
                                   + "; no run was started") from None
            client = Client(cluster)
            client.register_plugin(quiet_store_errors())
    finally:
        if log is not None and not named:  # kept only when an error names it; the workers write on into the
            with contextlib.suppress(OSError):  # removed file, which the system frees when they end
                log.unlink()
    if later.came:  # a Ctrl-C while the cluster started: it is closed whole, then the command stops
        client.close()
        cluster.close()
        raise KeyboardInterrupt
    return client, cluster


def _threads(client) -> int:
    try:
        return max(1, sum(w.get("nthreads", 1) for w in client.scheduler_info()["workers"].values()))
    except Exception:  # the window is a tuning choice: any answer will do
        return 1


def run_sweep(design: Design, out: str | Path, workers: int | None = None, scheduler: str | None = None,
              client=None, progress: bool | None = None,
              on_result: Callable[[str, str, object], None] | None = None, lock: FolderLock | None = None) -> dict:
    """Run every missing planned run of the design on Dask; return counts of done / failed / skipped / repaired.

    Every run file already there is checked first (readable, its run id, its hash); one that fails is
    set aside in damaged/ and run again. A run that raises is retried up to ``design.max_retries``
    times; if it still fails, its error is stored in ``failures/`` and the sweep goes on. A run file
    that cannot be written (disk full, read-only, permissions) stops the sweep at once with an
    OutputError; the runs saved so far stay and the same call resumes. ``on_result(run_id, status,
    client)`` is called after every finished or failed run (used by tests and the progress bar). ``lock``: the
    folder's lock, already held by a caller that keeps it past the sweep (to analyse the runs); else the sweep
    takes and releases it itself.

    Raises:
        InputError: the folder holds something else, another live sweep holds it, or the scheduler
            cannot be reached — all before anything is written; OutputError: a file-system error.
    """
    out = Path(out)
    check_folder(design, out)
    if client is None and scheduler:
        scheduler = check_scheduler(scheduler)
    folder = SweepFolder(design, out, lock).open()
    started = time.time()
    summary = {"planned": len(folder.planned), "skipped": len(folder.sound), "damaged": folder.repair["damaged"],
               "recovered": folder.repair["recovered"], "unplanned": folder.repair["unplanned"], "done": 0,
               "failed": 0, "repaired": 0}
    if folder.took_over:
        summary["stale_lock"] = describe(folder.took_over)
    own_client = client is None
    cluster = None
    try:
        todo = folder.missing()
        if todo:
            if own_client:
                client, cluster = make_client(workers, scheduler)
            _execute(design, out, todo, client, summary, progress, on_result, folder.damaged_ids)
        folder.record_session({"started": dt.datetime.fromtimestamp(started, dt.timezone.utc)
                               .isoformat(timespec="seconds"), **summary, "seconds": round(time.time() - started, 2),
                               "host": socket.gethostname(), "pid": os.getpid()})
    except StoreWriteError as exc:
        raise OutputError(f"sweep stopped: {exc}. {summary['skipped'] + summary['done']} of {summary['planned']} "
                          "runs are saved and sound, nothing is half-written; free space or fix the folder's "
                          "permissions, then run the same command again to resume") from None
    finally:
        if own_client and client is not None:
            client.close()
            if cluster is not None:
                cluster.close()
        folder.close()
    return summary


def _forget_failure(out: Path, run: str) -> None:
    """A run that succeeded on a later session no longer has a failure record."""
    try:
        (out / FAILURES / f"{run}.json").unlink(missing_ok=True)
    except OSError as exc:
        raise StoreWriteError(f"cannot remove failures/{run}.json in '{out}': {os_reason(exc)}") from None


class WorkerHomes:
    """Runs that start from the same spun-up state go to the same worker, which keeps that state after the first.

    A model first spins up (``scenario.spin_up_years``); a worker process keeps the spun-up state per
    seed and spin-up values (``model.model``), so the regimes of a design point, and points that
    differ only in policy levers, spin up once per worker. Each such group gets a home worker, round
    robin in the order the groups are met; the restriction is loose, so the scheduler still gives a
    run to another worker when its home is gone or the others are idle (work stealing).
    """

    def __init__(self, client):
        try:
            self.workers = sorted(client.scheduler_info()["workers"])
        except Exception:  # a client that cannot say (e.g. a test double): no preference
            self.workers = []
        self.homes: dict[tuple, str] = {}

    def of(self, spec: RunSpec) -> dict:
        """Keyword arguments of ``client.submit`` for this run: its home worker, or none."""
        if not self.workers:
            return {}
        from model.model import spin_up_signature

        group = (spec.seed, spin_up_signature(spec.values))
        if group not in self.homes:
            self.homes[group] = self.workers[len(self.homes) % len(self.workers)]
        return {"workers": [self.homes[group]], "allow_other_workers": True}


def _execute(design: Design, out: Path, todo: list[RunSpec], client, summary: dict, progress: bool | None,
             on_result, damaged_ids: set[str]) -> None:
    """Submit the runs (a window at a time), collect them, release each result once it is saved."""
    from dask.distributed import as_completed

    show = sys.stderr.isatty() if progress is None else progress
    bar = None
    if show:
        from tqdm import tqdm

        bar = tqdm(total=len(todo), desc=f"sweep {design.name}", unit="run", file=sys.stderr)
    attempts = {s.run_id: 0 for s in todo}
    by_id = {s.run_id: s for s in todo}
    waiting = iter(todo)
    in_flight: dict[str, object] = {}
    queue = as_completed()
    home = WorkerHomes(client)

    def submit(spec: RunSpec) -> None:
        key = f"run-{spec.run_id}-{attempts[spec.run_id]}"
        future = client.submit(run_task, spec, str(out), key=key, pure=False, **home.of(spec))
        in_flight[key] = future
        queue.add(future)

    try:
        for spec in itertools.islice(waiting, max(8, 2 * _threads(client))):
            submit(spec)
        for future in queue:
            key = future.key
            in_flight.pop(key, None)
            run = key.split("-")[1]
            finished = future.status == "finished"  # the run id is not gathered: the file on disk is the result
            try:
                exc = None if finished else future.exception()
            except Exception as cancelled:  # e.g. cancelled by a scheduler that went away: a failed attempt
                exc = cancelled
            future.release()  # saved (or failed): nothing keeps it on a worker, so a dead worker costs nothing done
            del future
            if finished:
                summary["done"] += 1
                summary["repaired"] += run in damaged_ids
                _forget_failure(out, run)
                status = "done"
            elif isinstance(exc, StoreWriteError):
                raise exc
            else:
                attempts[run] += 1
                if attempts[run] <= design.max_retries:
                    submit(by_id[run])
                    continue
                summary["failed"] += 1
                _write_json(out / FAILURES / f"{run}.json", {
                    "run_id": run, "attempts": attempts[run], "error": repr(exc),
                    "traceback": "".join(traceback.format_exception(exc)) if exc else "",
                    "spec": {"point": by_id[run].point, "regime": by_id[run].regime, "seed": by_id[run].seed,
                             "overrides": by_id[run].values.overrides}})
                status = "failed"
            spec = next(waiting, None)
            if spec is not None:
                submit(spec)
            if bar:
                bar.update(1)
                bar.set_postfix(done=summary["done"], failed=summary["failed"],
                                remaining=len(todo) - summary["done"] - summary["failed"])
            if on_result:
                on_result(run, status, client)
    finally:
        if in_flight:
            client.cancel(list(in_flight.values()))
        if bar:
            bar.close()


# ------------------------------------------------------------------ reading and verifying


def _planned_or_present(out: Path) -> list[str]:
    manifest = _read_manifest(out)
    if manifest is not None:
        return list(manifest["planned_run_ids"])
    return sorted(p.stem for p in (out / RUNS).glob("*.parquet")) if (out / RUNS).is_dir() else []


def _sound_runs(out: Path, keep_frame: bool) -> list[tuple[Path, RunCheck]]:
    """The planned runs' files that verify; a damaged one raises (never silently skipped or counted)."""
    out = Path(out)
    sound, damaged = [], []
    for run_id in _planned_or_present(out):
        path = run_file(out, run_id)
        if not path.exists():
            continue
        result = check_run(path, keep_frame=keep_frame)
        (sound if result.ok else damaged).append((path, result))
    if damaged:
        path, result = damaged[0]
        raise InputError(f"sweep folder {show_path(out)} holds {len(damaged)} damaged run file(s), e.g. "
                         f"runs/{path.name}: {result.problem}; run the sweep command again to repair them "
                         f"(ontschot verify {show_path(out)} lists them)")
    return sound


def load_sweep(out: str | Path) -> pd.DataFrame:
    """All finished runs of a sweep as one tidy frame (safe to call while the sweep runs).

    Only planned runs whose file verifies are read (run id and content hash).

    Raises:
        InputError: a planned run's file is damaged (run the sweep again to repair it).
    """
    frames = [result.frame for _, result in _sound_runs(Path(out), keep_frame=True)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def iter_runs(out: str | Path):
    """Each finished planned run's frame, one at a time (so a caller holds one run, never the whole sweep).

    Yields the frames of the runs whose file verifies (run id and content hash), in plan order.

    Raises:
        InputError: a planned run's file is damaged (run the sweep again to repair it).
    """
    out = Path(out)
    for run_id in _planned_or_present(out):
        path = run_file(out, run_id)
        if not path.exists():
            continue
        result = check_run(path, keep_frame=True)
        if not result.ok:
            raise InputError(f"sweep folder {show_path(out)} holds a damaged run file, runs/{path.name}: "
                             f"{result.problem}; run the sweep command again to repair it (ontschot verify "
                             f"{show_path(out)} lists every one)")
        yield result.frame


def query(out: str | Path, sql: str) -> pd.DataFrame:
    """Run SQL with DuckDB over the finished runs that verify; the table is called ``runs`` (``experiments.query``).

    Raises:
        InputError: no finished run yet, a damaged run file, or SQL DuckDB refuses.
    """
    from experiments import query as q

    return q.query(out, sql)


def status(out: str | Path) -> dict:
    """Planned, finished and failed runs of a sweep folder (files present; ``verify_folder`` checks them)."""
    out = Path(out)
    manifest = _read_manifest(out)
    if manifest is None:
        raise InputError(f"{show_path(out)} is not a sweep folder (no {MANIFEST})")
    planned = manifest["planned_run_ids"]
    done = {p.stem for p in (out / RUNS).glob("*.parquet")}
    failed = {p.stem for p in (out / FAILURES).glob("*.json")} - done
    return {"planned": len(planned), "done": len(done & set(planned)), "failed": len(failed),
            "remaining": len(set(planned) - done)}


def verify_folder(out: str | Path) -> dict:
    """Check a sweep folder without running or changing anything.

    Returns:
        ``planned``, ``sound``, ``missing`` (counts), ``damaged`` and ``unplanned`` ({file: problem}),
        ``temp_files`` (left by interrupted writes), ``failures`` (recorded failed runs), ``lock``
        (the holder named by the lock file, if any) and ``lock_held`` (whether it still runs).

    Raises:
        InputError: the folder is not a sweep folder.
    """
    out = Path(out)
    if not out.is_dir():
        raise InputError(f"{show_path(out)} is not a sweep folder (it does not exist or is not a folder)")
    manifest = _read_manifest(out)
    if manifest is None:
        raise InputError(f"{show_path(out)} is not a sweep folder (no {MANIFEST})")
    planned = manifest["planned_run_ids"]
    found = inspect_runs(out, planned)
    temp = sum(1 for f in (out, out / RUNS, out / FAILURES) if f.is_dir() for p in f.iterdir() if _is_temp(p))
    failures = {p.stem for p in (out / FAILURES).glob("*.json")} - found["sound"] if (out / FAILURES).is_dir() else set()
    versions: dict[str, int] = {}
    for run in sorted(found["sound"]):
        code = found["checks"][f"{run}.parquet"].code or "not named (written before run files named their code)"
        versions[code] = versions.get(code, 0) + 1
    recorded = manifest.get("code_fingerprint")
    return {"planned": len(planned), "sound": len(found["sound"]), "missing": len(set(planned) - found["sound"]),
            "damaged": found["damaged"], "unplanned": found["unplanned"], "temp_files": temp,
            "failures": len(failures), "lock": read_holder(out), "lock_held": holder_alive(out),
            "code_version": recorded.get("id") if isinstance(recorded, dict) else None, "versions": versions,
            "mixed_versions": len(versions) > 1}
