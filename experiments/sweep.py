"""Sweeps on Dask distributed: one Parquet file per run, resumable, with bounded retries.

Layout of a sweep folder::

    DIR/sweep.json           manifest: design, its hash, planned run ids, code and package versions, sessions
    DIR/runs/<run_id>.parquet   one finished run (tidy yearly results + run labels), published atomically
    DIR/failures/<run_id>.json  a run that kept failing: error, traceback, attempts

A run id is a hash of all resolved parameter values and the seed, so re-running the same command
after an interruption (Ctrl-C, ``kill -9`` of the driver, a worker crash) runs only what is
missing. A run file is written under a temporary name and renamed into place, so a file under its
final name is always complete. Results can be read while a sweep runs (``load_sweep``, ``query``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
import traceback
import uuid
from pathlib import Path
from typing import Callable

import pandas as pd

from experiments.design import Design, RunSpec
from experiments.store import code_version, package_versions
from model.parameters import InputError

MANIFEST = "sweep.json"


def run_file(out: Path, run_id: str) -> Path:
    return out / "runs" / f"{run_id}.parquet"


def run_task(spec: RunSpec, out: str) -> str:
    """Run one model on the spec's values and publish its tidy results atomically; return the run id. Executed on a worker."""
    from experiments.runner import run_values

    out_path = Path(out)
    frame = run_values(spec.values, spec.seed)
    frame.insert(0, "run_id", spec.run_id)
    frame.insert(1, "point", spec.point)
    frame.insert(3, "replication", spec.replication)
    for key, value in spec.varied.items():
        frame[f"param:{key}"] = value
    final = run_file(out_path, spec.run_id)
    tmp = final.with_name(f".{spec.run_id}.{uuid.uuid4().hex}.tmp")
    frame.to_parquet(tmp, index=False)
    os.replace(tmp, final)  # atomic on one file system: the final name only ever holds a whole file
    return spec.run_id


def prepare(design: Design, out: Path) -> list[RunSpec]:
    """Create or reopen a sweep folder for this design; refuse a folder that holds another design."""
    plan = design.plan()
    manifest_path = out / MANIFEST
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("design_hash") != design.digest:
            raise InputError(
                f"output folder '{out}' holds another design (hash {manifest.get('design_hash')}, "
                f"name {manifest.get('design', {}).get('name')!r}); this design has hash {design.digest}: "
                "choose a new --out folder")
        if manifest.get("planned_run_ids") != [s.run_id for s in unique_runs(plan)]:
            raise InputError(
                f"output folder '{out}' holds this design run with other parameter values (the model's "
                "defaults changed since, e.g. a new calibration): its results would mix with new ones; "
                "choose a new --out folder")
    elif out.exists() and any(out.iterdir()):
        raise InputError(f"output folder '{out}' is not empty and holds no sweep: choose a new --out folder")
    (out / "runs").mkdir(parents=True, exist_ok=True)
    (out / "failures").mkdir(exist_ok=True)
    if not manifest_path.exists():
        manifest = {
            "design": {"name": design.name, **design.source},
            "design_hash": design.digest,
            "planned_run_ids": [s.run_id for s in unique_runs(plan)],
            "planned": [{"run_id": s.run_id, "point": s.point, "regime": s.regime, "replication": s.replication,
                         "seed": s.seed, "varied": s.varied} for s in plan],
            "code_version": code_version(),
            "package_versions": package_versions(),
            "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "sessions": [],
        }
        _write_json(manifest_path, manifest)
    return plan


def _write_json(path: Path, obj) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(json.dumps(obj, indent=2, default=str))
    os.replace(tmp, path)


def _record_session(out: Path, entry: dict) -> None:
    manifest = json.loads((out / MANIFEST).read_text())
    manifest["sessions"].append(entry)
    _write_json(out / MANIFEST, manifest)


def unique_runs(plan: list[RunSpec]) -> list[RunSpec]:
    """One spec per run id: identical design points share their runs."""
    seen: dict[str, RunSpec] = {}
    for s in plan:
        seen.setdefault(s.run_id, s)
    return list(seen.values())


def missing(plan: list[RunSpec], out: Path) -> list[RunSpec]:
    """Planned runs without a published result file."""
    return [s for s in unique_runs(plan) if not run_file(out, s.run_id).exists()]


def make_client(workers: int | None = None, scheduler: str | None = None):
    """A Dask client: the given scheduler, or a local cluster of single-threaded worker processes on loopback."""
    from dask.distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler), None
    cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                           host="127.0.0.1", dashboard_address="127.0.0.1:0")
    return Client(cluster), cluster


def run_sweep(design: Design, out: str | Path, workers: int | None = None, scheduler: str | None = None,
              client=None, progress: bool | None = None,
              on_result: Callable[[str, str, object], None] | None = None) -> dict:
    """Run every missing planned run of the design on Dask; return counts of done / failed / skipped.

    A run that raises is retried up to ``design.max_retries`` times; if it still fails, its error is
    stored in ``failures/`` and the sweep goes on. ``on_result(run_id, status, client)`` is called
    after every finished or failed run (used by tests and the progress bar).
    """
    from dask.distributed import as_completed

    out = Path(out)
    plan = prepare(design, out)
    todo = missing(plan, out)
    n_runs = len(unique_runs(plan))
    summary = {"planned": n_runs, "skipped": n_runs - len(todo), "done": 0, "failed": 0}
    started = time.time()
    if not todo:
        _record_session(out, {"started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                              **summary, "seconds": 0.0})
        return summary
    own_client = client is None
    cluster = None
    if own_client:
        client, cluster = make_client(workers, scheduler)
    show = sys.stderr.isatty() if progress is None else progress
    bar = None
    if show:
        from tqdm import tqdm

        bar = tqdm(total=len(todo), desc=f"sweep {design.name}", unit="run", file=sys.stderr)
    attempts = {s.run_id: 0 for s in todo}
    by_id = {s.run_id: s for s in todo}
    try:
        futures = [client.submit(run_task, s, str(out), key=f"run-{s.run_id}-0", pure=False) for s in todo]
        queue = as_completed(futures)
        for future in queue:
            run = future.key.split("-")[1]
            if future.status == "finished":
                summary["done"] += 1
                stale = out / "failures" / f"{run}.json"
                stale.unlink(missing_ok=True)
                status = "done"
            else:
                attempts[run] += 1
                if attempts[run] <= design.max_retries:
                    queue.add(client.submit(run_task, by_id[run], str(out), key=f"run-{run}-{attempts[run]}",
                                            pure=False))
                    continue
                summary["failed"] += 1
                exc = future.exception()
                _write_json(out / "failures" / f"{run}.json", {
                    "run_id": run, "attempts": attempts[run], "error": repr(exc),
                    "traceback": "".join(traceback.format_exception(exc)) if exc else "",
                    "spec": {"point": by_id[run].point, "regime": by_id[run].regime, "seed": by_id[run].seed,
                             "overrides": by_id[run].values.overrides}})
                status = "failed"
            if bar:
                bar.update(1)
                bar.set_postfix(done=summary["done"], failed=summary["failed"],
                                remaining=len(todo) - summary["done"] - summary["failed"])
            if on_result:
                on_result(run, status, client)
    finally:
        if bar:
            bar.close()
        if own_client:
            client.close()
            if cluster is not None:
                cluster.close()
    _record_session(out, {"started": dt.datetime.fromtimestamp(started, dt.timezone.utc).isoformat(timespec="seconds"),
                          **summary, "seconds": round(time.time() - started, 2)})
    return summary


def load_sweep(out: str | Path) -> pd.DataFrame:
    """All finished runs of a sweep as one tidy frame (safe to call while the sweep runs)."""
    files = sorted((Path(out) / "runs").glob("*.parquet"))
    if not files:
        return pd.DataFrame()
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)


def query(out: str | Path, sql: str) -> pd.DataFrame:
    """Run SQL with DuckDB over the finished runs; the table is called ``runs``."""
    import duckdb

    pattern = str(Path(out) / "runs" / "*.parquet")
    con = duckdb.connect()
    try:
        con.execute(f"CREATE VIEW runs AS SELECT * FROM read_parquet('{pattern}', union_by_name = true)")
        return con.execute(sql).fetchdf()
    finally:
        con.close()


def status(out: str | Path) -> dict:
    """Planned, finished and failed runs of a sweep folder."""
    out = Path(out)
    manifest = json.loads((out / MANIFEST).read_text())
    planned = manifest["planned_run_ids"]
    done = {p.stem for p in (out / "runs").glob("*.parquet")}
    failed = {p.stem for p in (out / "failures").glob("*.json")} - done
    return {"planned": len(planned), "done": len(done & set(planned)), "failed": len(failed),
            "remaining": len(set(planned) - done)}
