"""Every run a command needs, run once: deduplicated by run id, grouped by spun-up state, on the machine's cores.

``ontschot run`` needs the arms of the comparison, the coalitions of the decomposition and the runs
of the desk parts. Many are the same run: the baseline arm is the empty coalition, the integrated arm
the coalition "pooling the money", the bundle arm the full coalition, and the desk parts start from the
baseline and the integrated arm. A run is its resolved parameter values and its seed
(``experiments.design.run_id``), so each is made once here and its frame handed to every part that
needs it.

The runs that start from the same spun-up state (one seed; the same values but for the policy levers)
go to one worker process, in one go: every model after the first starts from the spun-up state the
worker kept (``model.model``), instead of spinning up again.
Workers are local processes forked from this one (no scheduler to start, nothing to import again);
results are the same for any number of workers, since a run depends only on its values and seed.
For many machines use the sweep engine (``experiments.sweep`` on Dask).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import pandas as pd

from model.parameters import Values


@dataclass(frozen=True)
class Task:
    """One run wanted: resolved values and a seed.

    ``events`` asks for its event history too; ``breakdowns`` for the by-group rows of its frame
    (without them the frame holds the whole-population rows only, all a summary or a decomposition reads).
    """

    values: Values
    seed: int
    events: bool = False
    breakdowns: bool = True

    @cached_property  # a hash of every value: asked for several times per task, computed once
    def run_id(self) -> str:
        from experiments.design import run_id  # design imports the runner, which imports this module

        return run_id(self.values, self.seed)


@dataclass(frozen=True)
class Result:
    """A run's tidy yearly frame (labelled with regime and seed, as ``runner.run_values``) and its events."""

    frame: pd.DataFrame
    events: pd.DataFrame | None
    breakdowns: bool = True

    def serves(self, task: Task) -> bool:
        """Whether this result holds everything ``task`` asks for (its events, its by-group rows)."""
        return (self.events is not None or not task.events) and (self.breakdowns or not task.breakdowns)


def missing(tasks: Iterable[Task], results: Mapping[str, Result]) -> list[Task]:
    """The tasks the results do not serve yet (not run, or run without what they ask for)."""
    return [task for task in tasks if task.run_id not in results or not results[task.run_id].serves(task)]


def complete(tasks: Sequence[Task], results: Mapping[str, Result] | None = None, workers: int | None = None,
             progress: bool | None = None) -> dict[str, Result]:
    """``results`` (run id -> result) with every task served: what is missing is made now (``run_tasks``)."""
    done = dict(results or {})
    todo = missing(tasks, done)
    if todo:
        done.update(run_tasks(todo, workers=workers, progress=progress))
    return done


def unique_tasks(tasks: Iterable[Task]) -> dict[str, Task]:
    """Run id -> task, each run once (in first-seen order), with everything any of its askers wants kept."""
    found: dict[str, Task] = {}
    for task in tasks:
        rid = task.run_id
        if rid in found:
            kept = found[rid]
            found[rid] = Task(kept.values, kept.seed, kept.events or task.events, kept.breakdowns or task.breakdowns)
        else:
            found[rid] = task
    return found


def by_spin_up(tasks: dict[str, Task]) -> list[list[tuple[str, Task]]]:
    """The runs in groups that start from the same spun-up state (the seed and ``spin_up_signature``), in first-seen order."""
    from model.model import spin_up_signature

    groups: dict[tuple, list[tuple[str, Task]]] = {}
    for rid, task in tasks.items():
        groups.setdefault((task.seed, spin_up_signature(task.values)), []).append((rid, task))
    return list(groups.values())


def _run_group(group: Sequence[tuple[str, Task]]) -> list[tuple[str, Result]]:
    """Run one group's runs one after another in this process (the first spins up, the rest reuse it)."""
    from experiments.runner import run_values

    out = []
    for rid, task in group:
        events: list[pd.DataFrame] | None = [] if task.events else None
        frame = run_values(task.values, task.seed, events, breakdowns=task.breakdowns)
        out.append((rid, Result(frame, events[0] if events else None, task.breakdowns)))
    return out


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def used_workers(groups: int, workers: int | None = None) -> int:
    """The processes a batch of ``groups`` runs on: as asked (every core by default), at most one per group."""
    return min(default_workers() if workers is None else workers, max(groups, 1))


def batch_size(tasks: Sequence[Task], workers: int | None = None) -> dict[str, int]:
    """What a batch amounts to: runs asked for, distinct runs made, processes used (for the manifest)."""
    wanted = unique_tasks(tasks)
    return {"planned": len(tasks), "made": len(wanted), "workers": used_workers(len(by_spin_up(wanted)), workers)}


def fork_pool(workers: int):
    """A pool of local processes: forked where the platform can (they inherit everything imported), else spawned."""
    from experiments.cli_guards import deferred_interrupts, ignore_interrupt

    methods = multiprocessing.get_all_start_methods()
    with deferred_interrupts() as later:  # Ctrl-C is the parent's: a worker ignores it (else each prints a traceback)
        pool = multiprocessing.get_context("fork" if "fork" in methods else "spawn").Pool(
            workers, initializer=ignore_interrupt)
    if later.came:
        pool.terminate()
        raise KeyboardInterrupt
    return pool


def run_tasks(tasks: Iterable[Task], workers: int | None = None, progress: bool | None = None) -> dict[str, Result]:
    """Run every distinct task once; run id -> result.

    Args:
        tasks: the runs wanted (duplicates allowed: each distinct run is made once).
        workers: processes; ``None`` uses every core, 1 runs in this process.
        progress: a progress bar on stderr (``None``: when stderr is a terminal).
    """
    wanted = unique_tasks(tasks)
    groups = by_spin_up(wanted)
    workers = used_workers(len(groups), workers)
    show = sys.stderr.isatty() if progress is None else progress
    results: dict[str, Result] = {}
    if workers <= 1:
        bar = _bar(show, len(wanted))
        for group in groups:
            results.update(_run_group(group))
            _advance(bar, len(group))
        _close(bar)
        return results
    # The pool is made before the progress bar: a fork must not copy a running monitor thread.
    with fork_pool(workers) as pool:
        bar = _bar(show, len(wanted))
        for done in pool.imap_unordered(_run_group, groups):
            results.update(done)
            _advance(bar, len(done))
        _close(bar)
    return results


def map_calls(fn: Callable[[Any], Any], items: Sequence[Any], workers: int | None = None, scheduler: str | None = None,
              progress: bool | None = None, unit: str = "run") -> list[Any]:
    """``[fn(item) for item in items]``, in that order, on local processes or on a Dask cluster by address.

    ``fn`` must be a module-level function (it travels by name to the workers) and each answer small:
    the calibration and the ensemble send parameter sets out and take summaries back. With
    ``scheduler`` (tcp://HOST:PORT, checked by ``experiments.sweep.check_scheduler``) the calls go to
    that cluster's workers; else to ``workers`` local processes (every core by default, 1: this one).
    The answers do not depend on where they were computed: a call depends only on its item.
    """
    items = list(items)
    show = sys.stderr.isatty() if progress is None else progress
    out: list[Any] = [None] * len(items)
    if scheduler:
        from dask.distributed import as_completed

        from experiments.sweep import make_client

        client, _ = make_client(scheduler=scheduler)
        try:
            futures = client.map(fn, items, pure=False)
            where = {future.key: k for k, future in enumerate(futures)}
            bar = _bar(show, len(items), unit)
            for future in as_completed(futures):
                out[where[future.key]] = future.result()
                _advance(bar, 1)
            _close(bar)
        finally:
            client.close()
        return out
    workers = used_workers(len(items), workers)
    if workers <= 1:
        bar = _bar(show, len(items), unit)
        for k, item in enumerate(items):
            out[k] = fn(item)
            _advance(bar, 1)
        _close(bar)
        return out
    with fork_pool(workers) as pool:
        bar = _bar(show, len(items), unit)
        for k, answer in pool.imap_unordered(_indexed, [(fn, k, item) for k, item in enumerate(items)]):
            out[k] = answer
            _advance(bar, 1)
        _close(bar)
    return out


def _indexed(job: tuple[Callable[[Any], Any], int, Any]) -> tuple[int, Any]:
    fn, k, item = job
    return k, fn(item)


def _bar(show: bool, total: int, unit: str = "run"):
    if not show:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=f"{unit}s", unit=unit, file=sys.stderr)


def _advance(bar, n: int) -> None:
    if bar is not None:
        bar.update(n)


def _close(bar) -> None:
    if bar is not None:
        bar.close()
