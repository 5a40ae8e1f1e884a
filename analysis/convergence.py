"""Do the Sobol indices answer? Indices against the sample size, and a rule that says when they are stable.

SALib 1.6's Saltelli design for N base samples (``SALib.sample.sobol.sample`` with a fixed seed,
scrambled Sobol' sequence) is the first rows of the design for 2N with the same seed: the base
sequence for 2N starts with the one for N, and each base sample contributes its (D + 2) rows in
order. ``prefix_holds`` checks that for a problem. So the runs of N/8, N/4, N/2 base samples are
the first rows of the runs of N: one sweep gives the indices at every smaller size, and doubling N
keeps every run already made (a run id is the hash of its values and seed).

The stopping rule compares the two largest sizes: **stable** when, for every outcome, the ranking
of the parameters by total index ST is the same (a pair that swaps counts only when their ST differ
by more than the tolerance at one of the two sizes: ties within the tolerance are not a ranking) and
every first-order and total index moved by less than the tolerance.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

DEFAULT_TOLERANCE = 0.05  # largest move of any S1 or ST between the last two sizes that counts as stable
SIZES = 4  # sizes in the convergence table: N/8, N/4, N/2, N
MIN_BASE = 4  # the smallest number of base samples worth analysing (bootstrap intervals need a few)
RESAMPLES = 100  # SALib's bootstrap resamples for the 95% intervals (its default)
CONFIDENCE = 0.95
INDICES = ("S1", "ST")


def prefix_sizes(n: int, sizes: int = SIZES, smallest: int = MIN_BASE) -> list[int]:
    """N itself and the smaller sizes N/2^k (k < ``sizes``) that are whole and at least ``smallest``, ascending."""
    out = [n]
    for k in range(1, sizes):
        m = n >> k
        if m < smallest or m << k != n:
            break
        out.append(m)
    return sorted(out)


def saltelli_sample(problem: dict, n: int, seed: int) -> np.ndarray:
    """The Saltelli design of ``problem`` with ``n`` base samples (first-order and total indices only)."""
    from SALib.sample import sobol

    return sobol.sample(problem, n, calc_second_order=False, seed=seed)


def prefix_holds(problem: dict, n: int, seed: int) -> bool:
    """Whether the design for ``n`` base samples begins with the design for ``n // 2`` (same seed)."""
    small = saltelli_sample(problem, n // 2, seed)
    return bool(np.array_equal(saltelli_sample(problem, n, seed)[: len(small)], small))


def sobol_indices(problem: dict, y: np.ndarray, seed: int) -> pd.DataFrame:
    """S1 and ST with their 95% bootstrap half-widths per parameter, for outputs ``y`` in design order."""
    from SALib.analyze import sobol

    y = np.asarray(y, dtype=float)
    names = problem["names"]
    if not np.isfinite(y).all() or np.std(y) == 0:  # SALib would divide by zero: no variance, nothing to apportion
        nan = np.full(len(names), np.nan)
        res = {"S1": nan, "S1_conf": nan, "ST": nan, "ST_conf": nan}
    else:
        res = sobol.analyze(problem, y, calc_second_order=False, num_resamples=RESAMPLES, conf_level=CONFIDENCE,
                            seed=seed)
    return pd.DataFrame({"parameter": names, "S1": res["S1"], "S1_conf": res["S1_conf"], "ST": res["ST"],
                         "ST_conf": res["ST_conf"]})


def convergence(problem: dict, outcomes: pd.DataFrame, n: int, seed: int, sizes: list[int] | None = None) -> pd.DataFrame:
    """Indices at each prefix size: one row per outcome, base-sample size and parameter.

    Args:
        problem: the SALib problem (``num_vars``, ``names``, ``bounds``).
        outcomes: one row per design point in design order (N (D + 2) rows), one column per outcome.
        n: the design's base samples.
        seed: the bootstrap's seed (the same seed gives the same table).
        sizes: base-sample sizes to analyse (default ``prefix_sizes(n)``).

    Returns:
        Columns ``outcome, n, points, parameter, S1, S1_conf, ST, ST_conf, rank`` (rank by ST within an
        outcome and size, 1 the largest).
    """
    d = problem["num_vars"]
    if len(outcomes) != n * (d + 2):
        raise ValueError(f"{len(outcomes)} outcome rows, expected n (D + 2) = {n * (d + 2)}")
    frames = []
    for name in outcomes.columns:
        y = outcomes[name].to_numpy(dtype=float)
        for m in sizes or prefix_sizes(n):
            part = sobol_indices(problem, y[: m * (d + 2)], seed)
            part.insert(0, "points", m * (d + 2))
            part.insert(0, "n", m)
            part.insert(0, "outcome", name)
            frames.append(part)
    table = pd.concat(frames, ignore_index=True)
    table["rank"] = table.groupby(["outcome", "n"])["ST"].rank(ascending=False, method="first").fillna(0).astype(int)
    return table


@dataclass
class Stability:
    """The stopping rule's verdict between two sizes of one convergence table."""

    stable: bool
    smaller: int | None  # base samples compared (None: fewer than two sizes)
    larger: int | None
    tolerance: float
    max_change: float = float("nan")  # largest |change| of any S1 or ST between the two sizes
    largest: str = ""  # where it was: "ST of firm.lock_in for outflow_work"
    swaps: list[str] = field(default_factory=list)  # pairs whose ranking by ST reversed beyond the tolerance
    max_half_width: float = float("nan")  # widest 95% half-width at the larger size

    def describe(self) -> str:
        """One sentence: stable or not, and why."""
        if self.smaller is None:
            return (f"not yet comparable: the indices need two sizes of at least {MIN_BASE} base samples "
                    "(double N)")
        head = f"between N = {self.smaller} and N = {self.larger}: "
        moved = (f"the largest move of an index is {self.max_change:.3f} ({self.largest})"
                 if np.isfinite(self.max_change) else "an index is undefined (an outcome without variance)")
        order = ("the ranking by ST is the same" if not self.swaps
                 else f"the ranking by ST changed ({'; '.join(self.swaps[:3])}{'; ...' if len(self.swaps) > 3 else ''})")
        verdict = "stable" if self.stable else "not stable"
        return (f"{verdict} {head}{moved}, tolerance {self.tolerance:g}; {order}; the widest 95% half-width at "
                f"N = {self.larger} is {self.max_half_width:.3f}")


def stability(table: pd.DataFrame, tolerance: float = DEFAULT_TOLERANCE) -> Stability:
    """The stopping rule on a convergence table: compare its two largest sizes (see the module's text)."""
    sizes = sorted(table["n"].unique())
    if len(sizes) < 2:
        return Stability(False, None, None, tolerance)
    small, large = sizes[-2], sizes[-1]
    a = table[table["n"] == small].set_index(["outcome", "parameter"])
    b = table[table["n"] == large].set_index(["outcome", "parameter"]).reindex(a.index)
    max_change, largest, defined = 0.0, "", True
    for index in INDICES:
        change = (b[index] - a[index]).abs()
        both_nan = a[index].isna() & b[index].isna()
        if (change.isna() & ~both_nan).any():
            defined = False
        change = change.where(~both_nan, 0.0)
        if change.notna().any() and change.max() > max_change:
            max_change = float(change.max())
            outcome, parameter = change.idxmax()
            largest = f"{index} of {parameter} for {outcome}"
    swaps = []
    for outcome in a.index.get_level_values("outcome").unique():
        st_a, st_b = a.loc[outcome, "ST"], b.loc[outcome, "ST"]
        for p, q in itertools.combinations(st_a.index, 2):
            da, db = st_a[p] - st_a[q], st_b[p] - st_b[q]
            if np.sign(da) * np.sign(db) < 0 and max(abs(da), abs(db)) > tolerance:
                first, second = (p, q) if db > 0 else (q, p)
                swaps.append(f"{first} now above {second} for {outcome}")
    widths = b[["S1_conf", "ST_conf"]].to_numpy(dtype=float)
    widest = float(np.nanmax(widths)) if np.isfinite(widths).any() else float("nan")
    stable = defined and max_change < tolerance and not swaps
    return Stability(stable, int(small), int(large), tolerance, max_change if defined else float("nan"), largest,
                     swaps, widest)


def format_convergence(table: pd.DataFrame) -> str:
    """Per outcome and parameter: S1 and ST ± their 95% half-widths at each size."""
    lines = []
    sizes = sorted(table["n"].unique())
    for outcome, part in table.groupby("outcome", sort=False):
        lines.append(f"Outcome: {outcome}  (S1 / ST ± 95% half-width, by base samples N)")
        lines.append(f"  {'parameter':<40}" + "".join(f"{'N = ' + str(m):>30}" for m in sizes))
        for parameter, rows in part.groupby("parameter", sort=False):
            cells = []
            for m in sizes:
                r = rows[rows["n"] == m].iloc[0]
                cells.append(f"{r['S1']:>6.2f} ±{r['S1_conf']:<5.2f} / {r['ST']:>5.2f} ±{r['ST_conf']:<5.2f}")
            lines.append(f"  {parameter:<40}" + "".join(f"{c:>30}" for c in cells))
        lines.append("")
    return "\n".join(lines)
