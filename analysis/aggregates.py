"""Per-run aggregates of a sweep folder, read one run file at a time: what a sweep's analysis and report need.

A sweep of hundreds of runs holds hundreds of thousands of tidy rows; its analysis needs one row per
run (the summaries of ``analysis/compare.py``: outflow over the horizon, spending, ...). So the run
files are read one after another (each verified: run id and content hash), a batch of whole-population
rows is summarised at a time, and only the per-run summaries are kept: memory is bounded by a batch,
whatever the sweep's size.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.compare import run_summaries
from experiments.runfiles import param_key
from model.parameters import InputError

BATCH_RUNS = 64  # run files summarised together: a batch's whole-population rows are all that is held at once
LABELS = ("run_id", "point", "regime", "replication", "seed")


def sweep_summaries(folder: str | Path) -> pd.DataFrame:
    """One row per finished run of a sweep folder: its labels, its varied values (``param__*`` columns) and every summary.

    Raises:
        InputError: a damaged run file (see ``experiments.sweep.iter_runs``).
    """
    from experiments.sweep import iter_runs

    parts, batch = [], []
    for frame in iter_runs(folder):
        batch.append(frame[frame["group_by"] == "all"])
        if len(batch) == BATCH_RUNS:
            parts.append(_summarise(batch))
            batch = []
    if batch:
        parts.append(_summarise(batch))
    if not parts:
        return pd.DataFrame(columns=list(LABELS))
    return pd.concat(parts, ignore_index=True)


def _summarise(frames: list[pd.DataFrame]) -> pd.DataFrame:
    whole = pd.concat(frames, ignore_index=True)
    params = [c for c in whole.columns if param_key(c)]
    labels = whole.drop_duplicates("run_id").set_index("run_id")[["point", *params]]
    # run_summaries keys a run by (point, arm, regime, replication, seed): the run id in ``point`` keeps runs apart
    per_run = run_summaries(whole.drop(columns=["point", *params]).assign(point=whole["run_id"]))
    per_run = per_run.rename(columns={"point": "run_id"}).drop(columns=["arm"]).join(labels, on="run_id")
    first = [*LABELS, *params]
    return per_run[first + [c for c in per_run.columns if c not in first]]


def outcomes_from_runs(per_run: pd.DataFrame, indicators: list[str], regimes: list[str],
                       difference: list[str] | None = None, points: int | None = None) -> pd.DataFrame:
    """One row per design point, one column per outcome.

    An outcome is a summary's mean over replications per regime, or the paired difference ``A - B`` per
    replication, then averaged.

    Args:
        per_run: one row per run (``point``, ``regime``, ``replication`` and the summaries).
        indicators: summary names (``analysis.compare.SUMMARIES``).
        regimes: the regimes, in the design's order.
        difference: ``[A, B]`` for the paired difference, or None for one column per regime.
        points: the design's number of points (rows ``0 .. points-1``; missing points are NaN rows).
    """
    columns = {}
    for ind in indicators:
        table = per_run.pivot_table(index=["point", "replication"], columns="regime", values=ind, dropna=False)
        if difference:
            a, b = difference
            columns[f"{ind} ({a} - {b})"] = (table.get(a) - table.get(b)).groupby(level="point").mean()
        else:
            for regime in regimes:
                if regime in table.columns:
                    columns[f"{ind} ({regime})"] = table[regime].groupby(level="point").mean()
    out = pd.DataFrame(columns)
    out.index.name = "point"
    return out.reindex(range(points)) if points is not None else out


def check_once(per_run: pd.DataFrame) -> None:
    """A run counted twice would weigh its point twice: never average it in.

    Raises:
        InputError: naming the run(s) held more than once.
    """
    twice = per_run["run_id"][per_run["run_id"].duplicated()].unique().tolist()
    if twice:
        raise InputError(f"the sweep's results hold run(s) {twice[:3]} more than once: check the folder with "
                         "ontschot verify")
