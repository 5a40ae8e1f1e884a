"""Resident state as a struct of numpy arrays (one row per resident ever created).

Why arrays: every yearly rule for residents is vectorisable, and a per-agent Python step would
cost more than the whole model year is allowed to (benchmarks/bench_model_year.py). The
``Resident`` agents stay the identity that personas, the page and data collection use; each
holds its row index here. Rows of residents who left stay in place (``alive`` False) so that
indices never move.
"""

from __future__ import annotations

import numpy as np

from model.constants import N_DOMAINS, Desk, Disability

# name -> (dtype, shape suffix, fill value)
FIELDS: dict[str, tuple] = {
    "uid": (np.int64, (), -1),
    "alive": (np.bool_, (), False),
    "age": (np.float64, (), 0.0),
    "household": (np.int64, (), -1),
    "sev": (np.float64, (N_DOMAINS,), 0.0),
    "wage": (np.float64, (), 0.0),
    "motivation": (np.float64, (), 0.0),
    "discrimination": (np.bool_, (), False),
    "disability": (np.int8, (), Disability.NONE),
    "employment": (np.int8, (), -1),  # -1 none, else Status.REGULAR/SUBSIDISED/SHELTERED_WORK
    "on_benefit": (np.bool_, (), False),
    "desk": (np.int8, (), Desk.NONE),
    "provisions": (np.uint16, (), 0),  # bit i set = holds Instrument(i)
    "firm": (np.int32, (), -1),
    "trajectory_years": (np.float64, (), 0.0),
    "locked_in": (np.bool_, (), False),
    "years_out": (np.float64, (), 0.0),  # years since last paid work
    "spell_years": (np.float64, (), 0.0),  # elapsed current benefit spell
    "years_in_work": (np.float64, (), 0.0),
    "entry_month": (np.float64, (), 0.0),  # month of entry this year (0 for residents already there)
    "left_for_work": (np.bool_, (), False),  # left benefit for work in this run and not back on it
    "care_saving": (np.float64, (), 0.0),  # EUR/year of Wmo care no longer needed since a care exit
    "left_benefit_at": (np.float64, (), np.nan),  # time (years) of the last move from benefit to work
    "activity_start_year": (np.int32, (), -1),  # year the current trajectory or day activity began
    "persona": (np.int8, (), -1),  # index into the model's persona list, -1 for everyone else
    "exit_reason": (np.int8, (), -1),
}


class Population:
    """Growable struct-of-arrays for residents."""

    def __init__(self, capacity: int = 1024):
        self.n = 0
        self._cap = max(int(capacity), 16)
        for name, (dtype, shape, fill) in FIELDS.items():
            setattr(self, name, np.full((self._cap, *shape), fill, dtype=dtype))

    def add(self, count: int) -> np.ndarray:
        """Reserve ``count`` new rows (filled with defaults) and return their indices."""
        need = self.n + count
        if need > self._cap:
            new_cap = max(need, 2 * self._cap)
            for name, (dtype, shape, fill) in FIELDS.items():
                old = getattr(self, name)
                grown = np.full((new_cap, *shape), fill, dtype=dtype)
                grown[: self.n] = old[: self.n]
                setattr(self, name, grown)
            self._cap = new_cap
        rows = np.arange(self.n, need)
        self.n = need
        return rows

    def view(self, name: str) -> np.ndarray:
        """The used part of one field (a view, writes go through)."""
        return getattr(self, name)[: self.n]

    def alive_rows(self) -> np.ndarray:
        """Indices of residents currently in the modelled population."""
        return np.flatnonzero(self.alive[: self.n])

    def has(self, instrument: int) -> np.ndarray:
        """Whether each used row holds the instrument."""
        return (self.provisions[: self.n] & (1 << int(instrument))) != 0

    def nbytes(self) -> int:
        """Memory held by the arrays."""
        return sum(getattr(self, name).nbytes for name in FIELDS)
