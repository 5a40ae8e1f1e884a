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
_MASK64 = (1 << 64) - 1


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser: a bijective avalanche of 64-bit integers (in place: ``x`` is the caller's scratch)."""
    x ^= x >> _S30
    x *= _MIX1
    x ^= x >> _S27
    x *= _MIX2
    x ^= x >> _S31
    return x


def _mix_int(x: int) -> int:
    """``_mix`` of one 64-bit number held as a Python integer."""
    x ^= x >> int(_S30)
    x = (x * int(_MIX1)) & _MASK64
    x ^= x >> int(_S27)
    x = (x * int(_MIX2)) & _MASK64
    return x ^ (x >> int(_S31))


class Streams:
    """Counter-based random numbers keyed by a 64-bit model key."""

    def __init__(self, key: int):
        self.key = np.uint64(key)

    def _salt(self, year: int, event: int) -> np.uint64:
        """The mixed (key, year, event) stamp."""
        # The same 64-bit arithmetic as on the arrays, in Python integers (cheaper for one number).
        # Negative years (the unreported spin-up) wrap to their two's complement; other years are unchanged.
        stamp = ((int(year) & _MASK64) * int(_YEAR) + (int(event) & _MASK64) * int(_EVENT) + int(self.key)) & _MASK64
        return np.uint64(_mix_int(stamp))

    def _bits(self, uid: np.ndarray, year: int, event: int) -> np.ndarray:
        x = np.atleast_1d(np.asarray(uid, dtype=np.int64)).astype(np.uint64)  # a copy, mixed in place below
        x += np.uint64(1)
        x *= _GOLDEN
        x ^= self._salt(year, event)
        return _mix(x)

    def uniform(self, uid: np.ndarray, year: int, event: int) -> np.ndarray:
        """Uniform draws in the open interval (0, 1), one per uid."""
        bits = self._bits(uid, year, event)
        bits >>= _S11
        u = bits.astype(np.float64)
        u += 0.5
        u *= _TO_UNIT
        return u

    def normal_columns(self, uid: np.ndarray, year: int, events) -> np.ndarray:
        """Standard normal draws per uid (rows) and event (columns): ``normal(uid, year, e)`` for each ``e`` in ``events``.

        The same numbers as stacking those calls, computed in one pass over a 2-D array (per-domain draws).
        """
        x = np.asarray(uid, dtype=np.int64).astype(np.uint64)
        x += np.uint64(1)
        x *= _GOLDEN
        bits = x[:, None] ^ np.array([self._salt(year, e) for e in events], dtype=np.uint64)
        _mix(bits)
        bits >>= _S11
        u = bits.astype(np.float64)
        u += 0.5
        u *= _TO_UNIT
        return ndtri(u, out=u)

    def normal(self, uid: np.ndarray, year: int, event: int) -> np.ndarray:
        """Standard normal draws, one per uid (inverse CDF of the uniform draw)."""
        u = self.uniform(uid, year, event)
        return ndtri(u, out=u)
