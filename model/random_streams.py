"""Common random numbers: one reproducible draw per (resident, year, event).

Why hashed streams instead of drawing from one generator in sequence: under a sequential
generator, one extra draw in one regime shifts every later draw, so two regimes with the same
seed would give the same resident different luck. Here the draw for resident ``uid`` in year
``t`` for event ``e`` is a pure function of (key, uid, t, e) — the SplitMix64 finaliser applied
to a combination of the four — so the same resident meets the same luck for the same event in
every regime, and paired regime differences come from policy, not noise. Vectorised over
numpy arrays; the key itself is drawn from the model's seeded generator.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtri

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_YEAR = np.uint64(0xD6E8FEB86659FD93)
_EVENT = np.uint64(0xA0761D6478BD642F)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_TO_UNIT = 1.0 / float(1 << 53)


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser: a bijective avalanche of 64-bit integers."""
    x = (x ^ (x >> _S30)) * _MIX1
    x = (x ^ (x >> _S27)) * _MIX2
    return x ^ (x >> _S31)


class Streams:
    """Counter-based random numbers keyed by a 64-bit model key."""

    def __init__(self, key: int):
        self.key = np.uint64(key)

    def _bits(self, uid: np.ndarray, year: int, event: int) -> np.ndarray:
        uid = np.asarray(uid, dtype=np.int64).astype(np.uint64)
        # Negative years (the unreported spin-up) wrap to their two's complement; other years are unchanged.
        stamp = np.array([year, event], dtype=np.int64).astype(np.uint64) * np.array([_YEAR, _EVENT], dtype=np.uint64)
        salt = _mix(stamp[:1] + stamp[1:] + self.key)
        return _mix((uid + np.uint64(1)) * _GOLDEN ^ salt)

    def uniform(self, uid: np.ndarray, year: int, event: int) -> np.ndarray:
        """Uniform draws in the open interval (0, 1), one per uid."""
        return ((self._bits(uid, year, event) >> _S11).astype(np.float64) + 0.5) * _TO_UNIT

    def normal(self, uid: np.ndarray, year: int, event: int) -> np.ndarray:
        """Standard normal draws, one per uid (inverse CDF of the uniform draw)."""
        return ndtri(self.uniform(uid, year, event))
