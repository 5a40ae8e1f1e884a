"""Replicated, paired runs: every arm sees the same seeds, so differences are policy, not noise."""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from experiments.arms import Arm
from experiments.batch import Result, Task, complete
from model.model import SocialDomainModel
from model.parameters import PARAMETERS, Values, as_values


def replication_seeds(root_seed: int, replications: int) -> list[int]:
    """Seeds for the replications, derived from one root seed (the same for every regime)."""
    return [int(s) for s in np.random.SeedSequence(root_seed).generate_state(replications, dtype=np.uint32)]


def run_values(values: Values, seed: int, events: list[pd.DataFrame] | None = None,
               breakdowns: bool = True) -> pd.DataFrame:
    """Run one municipality over its horizon on resolved values (the regime is ``scenario.regime``).

    Args:
        values: resolved parameter values.
        seed: the run's seed.
        events: when given, the run's event history (labelled with regime and seed) is appended to it.
        breakdowns: keep the rows by group (without: the whole-population rows only).

    Returns:
        Its tidy yearly frame, labelled with the regime and the seed.
    """
    regime = values.get("scenario.regime")
    model = SocialDomainModel(params=values, rng=seed, breakdowns=breakdowns)
    while model.running:
        model.step()
    frame = model.tidy()
    if events is not None:
        history = model.events_frame()
        history.insert(0, "seed", seed)
        history.insert(0, "regime", regime)
        events.append(history)
    model.release()
    frame.insert(0, "seed", seed)
    frame.insert(0, "regime", regime)
    return frame


def run_one(regime: str, seed: int, overrides: Mapping[str, Any]) -> pd.DataFrame:
    """One run of ``regime`` from plain overrides (validated here); see ``run_values``."""
    return run_values(PARAMETERS.resolve({**overrides, "scenario.regime": regime}), seed)


def comparison_plan(arms: Sequence[Arm], replications: int, root_seed: int,
                    events: bool = False) -> list[tuple[int, Arm, Task]]:
    """The comparison's runs in reporting order: (replication, arm, task), replication-major."""
    seeds = replication_seeds(root_seed, replications)
    return [(rep, arm, Task(arm.values, seed, events)) for rep, seed in enumerate(seeds) for arm in arms]


def run_comparison(
    params: Mapping[str, Any],
    regimes: Iterable[str],
    replications: int,
    root_seed: int,
    progress: bool | None = None,
    events: list[pd.DataFrame] | None = None,
    arms: Sequence[Arm] | None = None,
    workers: int | None = None,
    results: Mapping[str, Result] | None = None,
) -> pd.DataFrame:
    """All arms x replications, paired by seed; one tidy frame with ``arm`` and ``replication`` columns.

    Without ``arms`` each regime is an arm of that name on ``params`` (a ``Values``, used as it is,
    or plain overrides, validated once here) with ``scenario.regime`` changed. ``arms``
    (``experiments.arms.build_arms``) gives each arm its own name and values; ``regimes`` is then
    ignored. With ``events`` (a list), each run's event history is appended to it, with ``arm`` and
    ``replication`` columns. The runs are made on ``workers`` processes (``experiments.batch``);
    those already in ``results`` (run id -> result, e.g. made for the decomposition) are not run again.
    """
    if arms is None:
        values = as_values(params)
        arms = [Arm(regime, values.with_changes({"scenario.regime": regime})) for regime in regimes]
    names = [arm.name for arm in arms]
    if len(set(names)) != len(names):
        raise ValueError(f"two arms share a name: {names}")
    plan = comparison_plan(arms, replications, root_seed, events is not None)
    done = complete([task for _, _, task in plan], results, workers, progress)
    frames = []
    for rep, arm, task in plan:
        result = done[task.run_id]
        frame = result.frame.copy()
        frame.insert(0, "arm", arm.name)
        frame.insert(2, "replication", rep)
        if events is not None:
            history = result.events.copy()
            history.insert(0, "arm", arm.name)
            history.insert(2, "replication", rep)
            events.append(history)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)
