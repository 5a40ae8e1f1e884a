"""Replicated, paired runs: every regime sees the same seeds, so differences are policy, not noise."""

from __future__ import annotations

import sys
from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd

from model.model import SocialDomainModel


def replication_seeds(root_seed: int, replications: int) -> list[int]:
    """Seeds for the replications, derived from one root seed (the same for every regime)."""
    return [int(s) for s in np.random.SeedSequence(root_seed).generate_state(replications, dtype=np.uint32)]


def run_one(regime: str, seed: int, overrides: dict[str, Any]) -> pd.DataFrame:
    """Run one municipality over its horizon; return its tidy yearly frame with run labels."""
    model = SocialDomainModel(regime=regime, params=overrides, rng=seed)
    while model.running:
        model.step()
    frame = model.tidy()
    model.release()
    frame.insert(0, "seed", seed)
    frame.insert(0, "regime", regime)
    return frame


def run_comparison(
    overrides: dict[str, Any],
    regimes: Iterable[str],
    replications: int,
    root_seed: int,
    progress: bool | None = None,
    on_run: Callable[[str, int, int], None] | None = None,
) -> pd.DataFrame:
    """All regimes x replications, paired by seed; one tidy frame with a ``replication`` column."""
    regimes = list(regimes)
    seeds = replication_seeds(root_seed, replications)
    plan = [(rep, seed, regime) for rep, seed in enumerate(seeds) for regime in regimes]
    show = sys.stderr.isatty() if progress is None else progress
    bar = None
    if show:
        from tqdm import tqdm

        bar = tqdm(total=len(plan), desc="runs", unit="run", file=sys.stderr)
    frames = []
    for rep, seed, regime in plan:
        frame = run_one(regime, seed, overrides)
        frame.insert(1, "replication", rep)
        frames.append(frame)
        if on_run:
            on_run(regime, rep, seed)
        if bar:
            bar.update(1)
    if bar:
        bar.close()
    return pd.concat(frames, ignore_index=True)
