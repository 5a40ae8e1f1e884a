"""Explain the difference between two arms: which part comes from pooling the money and which from each practice.

The decomposition takes two arms (``experiments/arms.py``): the baseline (compartmentalised
funding with the scenario's practices) and another arm, usually the bundle arm (``integrated +
pooling practices``). They differ in *players*: the funding regime ("pooling the money") and every
practice lever whose value differs. Between the default arms ``compartmentalised`` and
``integrated`` (the funding alone) there is one player and nothing to decompose. Every coalition of players is run — a factorial design on the sweep engine
(parallel on Dask, resumable, verified run files) with the same replication seeds in every cell, so
cells are paired by common random numbers. Per replication, each player's Shapley value is its
marginal effect averaged over all orders in which the players can be added; the values sum exactly
to the replication's total difference (alternative minus baseline), whatever the interactions.
Means and 95% t intervals are taken over replications.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.compare import SUMMARIES, run_summaries, t_interval
from experiments.batch import Result, Task
from experiments.design import DEFAULT_RETRIES, Design
from experiments.runfiles import param_column
from model.parameters import PARAMETERS, InputError, Values

MONEY = "pooling the money"
TOTAL = "total"
FUNDING_KEYS = ("scenario.regime", "scenario.pooled_share")
LEVER_LABELS = {
    "practice.outreach": "outreach",
    "practice.household_intake": "household intake",
    "practice.generalist_triage": "generalist triage",
    "practice.regisseurs_per_10k": "regisseurs",
    "practice.desk_objective": "desk objective",
}
# The headline indicators a decomposition reports (names from analysis/compare.py SUMMARIES).
HEADLINE = ("outflow_work", "outflow_regular", "outflow_subsidised", "benefit_stock_end", "wmo_clients",
            "spend_total", "own_result_total")
COLUMNS = ["indicator", "part", "mean", "ci_low", "ci_high", "replications"]


@dataclass(frozen=True)
class Player:
    """One source of difference between the arms: the funding regime or one practice lever."""

    name: str
    key: str  # the parameter path it sets (scenario.regime for the money)
    baseline: Any
    alternative: Any


def players(baseline: Values, alternative: Values) -> list[Player]:
    """The money (when the regimes differ) and every other parameter whose value differs, in parameter order.

    Raises:
        InputError: the arms do not differ at all (nothing to explain).
    """
    found = []
    if baseline["scenario.regime"] != alternative["scenario.regime"]:
        found.append(Player(MONEY, "scenario.regime", baseline["scenario.regime"], alternative["scenario.regime"]))
    for key in baseline:
        if key in FUNDING_KEYS:
            continue
        if dict.__getitem__(baseline, key) != dict.__getitem__(alternative, key):
            label = LEVER_LABELS.get(key, PARAMETERS.get(key).label)
            found.append(Player(label, key, dict.__getitem__(baseline, key), dict.__getitem__(alternative, key)))
    if not found:
        raise InputError("the two arms of the comparison have the same funding and practices: nothing to explain")
    return found


def coalition_design(baseline: Values, alternative: Values, replications: int, seed: int,
                     name: str = "explain") -> tuple[Design, list[Player]]:
    """Every coalition of players as one factorial design: regimes x (baseline, alternative) value per lever.

    The funding keys of the alternative arm (pooled share) travel in the base overrides; under the
    baseline's compartmentalised funding they have no effect.
    """
    found = players(baseline, alternative)
    money = [p for p in found if p.key == "scenario.regime"]
    levers = [p for p in found if p.key != "scenario.regime"]
    regimes = [money[0].baseline, money[0].alternative] if money else [baseline["scenario.regime"]]
    base = {k: v for k, v in alternative.overrides.items() if k not in {p.key for p in levers} and k != "scenario.regime"}
    base.update({k: dict.__getitem__(alternative, k) for k in FUNDING_KEYS[1:]})
    vary = {p.key: [p.baseline, p.alternative] for p in levers}
    design = Design(name=name, regimes=regimes, replications=replications, seed=seed, max_retries=DEFAULT_RETRIES,
                    base=base, method="factorial", sampler={"method": "factorial"}, vary=vary,
                    source={"purpose": "explain", "regimes": regimes, "replications": replications, "seed": seed,
                            "base": base, "vary": vary, "players": [p.name for p in found]})
    return design, found


def coalition_index(frame_row: pd.Series, found: list[Player], points: list[dict]) -> int:
    """Bit mask of the players 'on' (at their alternative value) in a run."""
    mask = 0
    for j, player in enumerate(found):
        if player.key == "scenario.regime":
            on = frame_row["regime"] == player.alternative
        else:
            on = points[int(frame_row["point"])][player.key] == player.alternative
        mask |= int(bool(on)) << j
    return mask


def shapley_weights(n: int) -> dict[int, float]:
    """Shapley weight |S|! (n - |S| - 1)! / n! of a coalition of each size."""
    return {s: math.factorial(s) * math.factorial(n - s - 1) / math.factorial(n) for s in range(n)}


def shapley(values: np.ndarray) -> np.ndarray:
    """Shapley values of n players from the values of all 2**n coalitions (index = bit mask of players on).

    ``values`` has shape (2**n, ...); the result has shape (n, ...) and sums over players to
    ``values[-1] - values[0]`` (efficiency).
    """
    size = values.shape[0]
    n = size.bit_length() - 1
    if size != 1 << n:
        raise ValueError(f"{size} coalition values: expected a power of two")
    weight = shapley_weights(n)
    out = np.zeros((n, *values.shape[1:]))
    for i in range(n):
        for mask in range(size):
            if mask >> i & 1:
                continue
            out[i] += weight[bin(mask).count("1")] * (values[mask | 1 << i] - values[mask])
    return out


def coalition_cube(frame: pd.DataFrame, design: Design, found: list[Player],
                   indicators: tuple[str, ...] = HEADLINE) -> tuple[list[int], np.ndarray]:
    """The replications and each run's summaries as an array (replication x coalition bit mask x indicator).

    Raises:
        InputError: a coalition's run is missing for some replication (the sweep is incomplete).
    """
    summaries = run_summaries(frame)
    points = design.points()
    summaries["coalition"] = [coalition_index(row, found, points) for _, row in summaries.iterrows()]
    n = len(found)
    wide = summaries.set_index(["replication", "coalition"])[list(indicators)].sort_index()
    reps = sorted(summaries["replication"].unique())
    expected = pd.MultiIndex.from_product([reps, range(1 << n)], names=["replication", "coalition"])
    missing = expected.difference(wide.index)
    if len(missing) or len(reps) < design.replications:
        raise InputError(f"the decomposition needs every coalition in every replication; {len(missing)} runs of "
                         f"{len(expected)} are missing (run the same command again to resume the sweep)")
    return reps, wide.reindex(expected).to_numpy().reshape(len(reps), 1 << n, len(indicators))


def decompose(frame: pd.DataFrame, design: Design, found: list[Player],
              indicators: tuple[str, ...] = HEADLINE) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per indicator and replication the Shapley parts; then their means and 95% intervals.

    Returns:
        (table, per_replication): the table has ``COLUMNS`` (part ``total`` first, then each player);
        per_replication has one row per replication, indicator and part.

    Raises:
        InputError: a coalition's run is missing for some replication (the sweep is incomplete).
    """
    reps, cube = coalition_cube(frame, design, found, indicators)
    parts = np.stack([shapley(cube[r]) for r in range(len(reps))])  # replications x players x indicators
    totals = cube[:, -1, :] - cube[:, 0, :]
    rows, per_rep = [], []
    for k, indicator in enumerate(indicators):
        named = [(TOTAL, totals[:, k])] + [(p.name, parts[:, j, k]) for j, p in enumerate(found)]
        for part, values in named:
            mean, low, high = t_interval(values)
            rows.append({"indicator": indicator, "part": part, "mean": mean, "ci_low": low, "ci_high": high,
                         "replications": len(values)})
            per_rep.extend({"indicator": indicator, "part": part, "replication": rep, "value": float(v)}
                           for rep, v in zip(reps, values, strict=True))
    return pd.DataFrame(rows, columns=COLUMNS), pd.DataFrame(per_rep)


WITHOUT = "the baseline's practices in both arms (the funding alone)"
WITH = "the other arm's practices in both arms"


def money_effects(frame: pd.DataFrame, design: Design, found: list[Player],
                  indicators: tuple[str, ...] = HEADLINE) -> pd.DataFrame:
    """The money's own effect with the practices held fixed: at the baseline's and at the other arm's practices.

    Both are read from the coalition runs: with every practice off, pooling minus not pooling (the
    funding alone, as between the arms ``compartmentalised`` and ``integrated``); with every practice
    on, the same with the practice bundle in both arms — the fair test of pooling under those
    practices. Empty when the money is not a player or no practice differs. Means and 95% intervals
    over the paired replications (EUR m and persons as in ``HEADLINE``).
    """
    money = [j for j, p in enumerate(found) if p.key == "scenario.regime"]
    if not money or len(found) < 2:
        return pd.DataFrame(columns=["indicator", "practices", "mean", "ci_low", "ci_high", "replications"])
    bit = 1 << money[0]
    every = (1 << len(found)) - 1
    _, cube = coalition_cube(frame, design, found, indicators)
    rows = []
    for k, indicator in enumerate(indicators):
        for label, on, off in ((WITHOUT, bit, 0), (WITH, every, every & ~bit)):
            mean, low, high = t_interval(cube[:, on, k] - cube[:, off, k])
            rows.append({"indicator": indicator, "practices": label, "mean": mean, "ci_low": low, "ci_high": high,
                         "replications": cube.shape[0]})
    return pd.DataFrame(rows)


def format_money_effects(table: pd.DataFrame) -> str:
    """The money's effect at fixed practices, one line per indicator."""
    if table.empty:
        return ""
    other = table["arm"].iloc[0] if "arm" in table.columns and isinstance(table["arm"].iloc[0], str) else "other arm"
    lines = ["", "", "Pooling the money with the practices held fixed (coalition runs; mean [95% interval]):",
             f"  A: the baseline's practices in both arms (the funding alone); B: the practices of '{other}' in both",
             f"  {'':<54}{'A':>32}{'B':>32}"]
    for indicator, rows in table.groupby("indicator", sort=False):
        label, unit = LABELS[indicator]
        by = rows.set_index("practices")
        lines.append(f"  {(label + ' [' + unit + ']')[:54]:<54}{_show(by.loc[WITHOUT]):>32}{_show(by.loc[WITH]):>32}")
    return "\n".join(lines)


LABELS = {s.name: (s.label.strip(), s.unit) for s in SUMMARIES}


def format_decomposition(table: pd.DataFrame, found: list[Player], arms: str) -> str:
    """The ranked table a policymaker reads: per indicator the total, then the parts by size."""
    lines = [f"Where the difference comes from ({arms}); Shapley parts, mean [95% interval] over "
             f"{int(table['replications'].iloc[0])} paired replications:",
             "  players: " + "; ".join(f"{p.name} ({p.key}: {p.baseline} -> {p.alternative})" for p in found)]
    for indicator, rows in table.groupby("indicator", sort=False):
        label, unit = LABELS[indicator]
        total = rows[rows["part"] == TOTAL].iloc[0]
        lines.append(f"\n  {label} [{unit}]: total {_show(total)}")
        parts = rows[rows["part"] != TOTAL].assign(size=lambda d: d["mean"].abs()).sort_values("size", ascending=False)
        for _, row in parts.iterrows():
            lines.append(f"    {row['part']:<22} {_show(row)}")
    return "\n".join(lines)


def _show(row: pd.Series) -> str:
    return f"{row['mean']:+,.1f} [{row['ci_low']:+,.1f}, {row['ci_high']:+,.1f}]"


def coalition_tasks(design: Design) -> list[Task]:
    """Every coalition run of the design as a batch task (``experiments.batch``); whole-population rows only."""
    return [Task(spec.values, spec.seed, breakdowns=False) for spec in design.plan()]


def coalition_frame(design: Design, results: Mapping[str, Result]) -> pd.DataFrame:
    """The coalition runs as the sweep engine stores them (run id, point, replication, varied values), from batch results.

    Raises:
        InputError: a coalition run is not among the results.
    """
    frames = []
    for spec in design.plan():
        result = results.get(spec.run_id)
        if result is None:
            raise InputError(f"the decomposition needs coalition run {spec.run_id} (point {spec.point}, replication "
                             f"{spec.replication}), which was not run")
        frame = result.frame.copy()
        frame.insert(0, "run_id", spec.run_id)
        frame.insert(1, "point", spec.point)
        frame.insert(3, "replication", spec.replication)
        for key, value in spec.varied.items():
            frame[param_column(key)] = value
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def decompose_runs(design: Design, found: list[Player], results: Mapping[str, Result], arm: str = "",
                   against: str = "") -> dict[str, Any]:
    """The decomposition from runs made in this process's batch (``ontschot run``), without a sweep folder.

    Returns ``{"table", "per_replication", "money", "runs"}``; ``runs`` is every coalition run's frame,
    stored with the results so the decomposition can be redone from the run folder alone.
    """
    frame = coalition_frame(design, results)
    return {**_tables(frame, design, found, arm, against), "runs": frame}


def _tables(frame: pd.DataFrame, design: Design, found: list[Player], arm: str, against: str) -> dict[str, Any]:
    """The decomposition's table, its per-replication parts and the money at fixed practices, naming both arms."""
    table, per_rep = decompose(frame, design, found)
    return {"table": table.assign(arm=arm, against=against), "per_replication": per_rep.assign(arm=arm, against=against),
            "money": money_effects(frame, design, found).assign(arm=arm, against=against)}


def run_decomposition(design: Design, found: list[Player], parent: Path, workers: int | None = None,
                      progress: bool | None = None, arm: str = "", against: str = "") -> dict[str, Any]:
    """Run (or resume) the coalition sweep under ``parent``/sweeps/ and decompose the difference of the two arms.

    ``arm`` and ``against`` name the two arms (stored in the tables' ``arm`` and ``against`` columns).
    Returns ``{"table", "per_replication", "money" (``money_effects``), "folder", "sweep"}``.
    """
    from experiments.sweep import load_sweep, run_sweep

    folder = Path(parent) / "sweeps" / f"explain-{design.digest}"
    summary = run_sweep(design, folder, workers=workers, progress=progress)
    if summary["failed"]:
        raise InputError(f"{summary['failed']} coalition run(s) failed (see {folder}/failures/); the decomposition "
                         "needs them all: run the same command again to retry")
    return {**_tables(load_sweep(folder), design, found, arm, against), "folder": folder, "sweep": summary}
