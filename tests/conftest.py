"""Shared helpers: small, fast municipalities with fixed seeds."""

from __future__ import annotations

import pytest

from model import SocialDomainModel

SMALL = 6000  # inhabitants: big enough for every mechanism to occur, small enough to be fast


def run_model(years: int = 4, **kwargs) -> SocialDomainModel:
    """Build and run a small municipality for ``years`` steps."""
    kwargs.setdefault("inhabitants", SMALL)
    kwargs.setdefault("rng", 7)
    model = SocialDomainModel(years=years, **kwargs)
    for _ in range(years):
        model.step()
    return model


@pytest.fixture(scope="session")
def paired_runs():
    """Compartmentalised and integrated runs of a medium municipality over three seeds (shared by mechanism tests)."""
    runs = {}
    for regime in ("compartmentalised", "integrated"):
        runs[regime] = [run_model(years=6, regime=regime, inhabitants=20000, rng=seed) for seed in (11, 12, 13)]
    return runs


def events_run(regime: str, inhabitants: int, years: int, rng: int):
    """A run with Myra placed in it, for the event-history tests: the model, its events and its yearly indicators.

    The indicators are indexed by year (1, 2, ...); the caller releases the model when done.
    """
    import numpy as np

    model = SocialDomainModel(regime=regime, inhabitants=inhabitants, years=years, rng=rng, personas=["myra"])
    while model.running:
        model.step()
    wide = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    wide.index = np.arange(1, len(wide) + 1)
    return model, model.events_frame(), wide
