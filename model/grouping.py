"""Groups of residents by a key (household, benefit unit): ``np.unique``'s answer, without its sort when the keys are in order.

Why: households and benefit units are grouped dozens of times a year (the entitlement test,
cost-sharers, exits, spill-overs), and ``np.unique`` sorts every time. Household ids and unit ids
(a head's uid) are handed out in creation order, and rows keep creation order, so over rows in
population order the keys never decrease: the groups are then the runs of equal keys, found in
one pass. Keys out of order (a caller's own order) fall back on ``np.unique``; either way the
answer is the same arrays, so results do not change.
"""

from __future__ import annotations

import numpy as np


def _run_starts(keys: np.ndarray) -> np.ndarray | None:
    """Where each run of equal keys starts, if the keys never decrease (else None)."""
    if keys.ndim != 1 or len(keys) == 0 or not (keys[1:] >= keys[:-1]).all():
        return None
    starts = np.empty(len(keys), dtype=bool)
    starts[0] = True
    np.not_equal(keys[1:], keys[:-1], out=starts[1:])
    return starts


def unique_inverse(keys) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(keys, return_inverse=True)``: the sorted distinct keys and each key's index among them."""
    keys = np.asarray(keys)
    starts = _run_starts(keys)
    if starts is None:
        return np.unique(keys, return_inverse=True)
    inverse = np.cumsum(starts, dtype=np.intp)
    inverse -= 1
    return keys[starts], inverse


def unique(keys) -> np.ndarray:
    """``np.unique(keys)``: the sorted distinct keys."""
    keys = np.asarray(keys)
    starts = _run_starts(keys)
    return np.unique(keys) if starts is None else keys[starts]
