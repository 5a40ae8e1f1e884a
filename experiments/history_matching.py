"""History matching: every parameter set consistent with every target, found in waves with emulators.

A method for expensive stochastic simulators (Vernon, Goldstein and Bower 2010; for agent-based
models Andrianakis et al. 2015): instead of one best point, rule out the parts of the prior space
where the model cannot reproduce the targets, and keep the rest.

1. Wave 1 runs the model at a Latin hypercube over the prior (one run per point, its own seed).
2. Per target an emulator learns the figure from the parameters: a linear trend on the few
   parameters that matter most for it (the *active* ones, by correlation) plus a Gaussian process
   on those over what the trend leaves (scikit-learn; its white-noise term takes up chance and the
   parameters left out).
3. A candidate point is *implausible* when, for some target, even ``cutoff`` emulator standard
   deviations cannot bring its expected figure within the target's tolerance:
   ``I = max over targets of max(0, |mean - target| - tolerance) / sd``; it is kept when ``I <= cutoff``
   (three: Pukelsheim's rule, which holds for any unimodal distribution).
4. The next wave runs the model at points drawn from what is kept (every earlier wave's emulators must
   keep a point; when a uniform sample of the prior holds too few, more are drawn around the kept ones),
   and the emulators are fitted again on all runs so far; each wave narrows the space.
5. The final check runs the model at kept points (``check_seeds`` runs each), a batch of ``sets`` at a
   time, and accepts a set only when the mean of its runs lies within every target's tolerance, the
   validation's own test; it stops when ``sets`` are accepted or ``CHECK_DRAWS`` batches are spent.
   The ensemble is the accepted sets in drawing order.

The most model runs it can make is known before anything runs (``Size.total_runs``). Everything is
drawn from one seed, so the same seed gives the same ensemble. The simulator is passed in, so the
method can be tested on a synthetic model whose answer is known.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import qmc
from threadpoolctl import threadpool_limits

# Run figures and emulator bookkeeping; the method's choices are in ``Size``.
CHECK_DRAWS = 4  # the final check may run up to this many kept points per set wanted, a batch of ``sets`` at a time
TREND_MIN_RUNS = 3  # a target with fewer finite runs than this cannot be emulated: it rules nothing out
GP_RESTARTS = 2  # restarts of the Gaussian process's hyperparameter search (from the seed)
LENGTH_SCALE_BOUNDS = (0.05, 20.0)  # in units of the prior range (the unit cube)
NOISE_BOUNDS = (1e-6, 10.0)  # white noise, in units of the residuals' variance
# Drawing inside a small space left: candidates around the kept points (``_refill``).
REFILL_FACTOR = 2  # kept points wanted per point to run, to choose from
REFILL_ROUNDS = 12  # rounds of drawing around the kept points, at most
REFILL_GROWTH = 4  # a round adds at most this many times the points kept so far
REFILL_STEP = 0.5  # a step's standard deviation, in units of the kept points' spread per parameter
REFILL_MIN_SPREAD = 0.05  # the smallest spread a step uses (a share of the prior range)


@dataclass(frozen=True)
class Dimension:
    """One parameter the prior varies: uniform between ``low`` and ``high``; ``group`` says why it varies."""

    path: str
    low: float
    high: float
    group: str  # "calibrated" (the calibration's free parameters) or "assumption" (sampled over its range)
    whole: bool = False  # a whole number: rounded

    def at(self, u: float) -> float | int:
        value = self.low + (self.high - self.low) * float(u)
        return int(round(value)) if self.whole else value


@dataclass(frozen=True)
class Goal:
    """A figure the model must reproduce: its value and the tolerance within which it holds."""

    name: str
    value: float
    tolerance: float


@dataclass(frozen=True)
class Size:
    """How much work the calibration may do: every model run it makes follows from these."""

    waves: int = 5
    points: int = 128  # model runs per wave
    sets: int = 100  # parameter sets wanted in the ensemble
    check_seeds: int = 1  # runs per candidate set in the final check
    candidates: int = 50_000  # emulator evaluations per wave (cheap: no model runs)
    cutoff: float = 3.0  # implausibility above which a point is ruled out
    active: int = 6  # parameters per target the emulator's Gaussian process uses

    @property
    def total_runs(self) -> int:
        """The most model runs the calibration makes (the final check stops once it has ``sets``)."""
        return self.waves * self.points + CHECK_DRAWS * self.sets * self.check_seeds


@dataclass
class Wave:
    """What one wave did: the runs it made, and the share of the candidates its emulators kept."""

    number: int
    runs: int
    kept_share: float  # of this wave's candidates, the share every emulator so far keeps
    emulator_r2: dict[str, float] = field(default_factory=dict)  # per target, on the runs of this wave (out of sample)


@dataclass
class Outcome:
    """The ensemble and how it was found."""

    sets: pd.DataFrame  # one row per accepted set: the dimensions' values, then each target's simulated mean
    waves: list[Wave]
    checked: int  # candidate sets run in the final check
    runs: int  # model runs made in all
    design: pd.DataFrame  # every wave's runs: wave, the dimensions' values, each target's figure


class Prior:
    """Independent uniform distributions over the dimensions; points live in the unit cube."""

    def __init__(self, dims: Sequence[Dimension]):
        self.dims = tuple(dims)
        self.paths = [d.path for d in self.dims]

    def sample(self, n: int, seed: int) -> np.ndarray:
        """``n`` points of a Latin hypercube in the unit cube (deterministic for a seed)."""
        return qmc.LatinHypercube(d=len(self.dims), seed=seed).random(n)

    def values(self, u: np.ndarray) -> dict[str, float | int]:
        return {d.path: d.at(x) for d, x in zip(self.dims, u, strict=True)}

    def unit(self, values: Mapping[str, float]) -> np.ndarray:
        return np.array([(values[d.path] - d.low) / (d.high - d.low) if d.high > d.low else 0.5 for d in self.dims])


class Emulator:
    """One target's figure as a function of the unit-cube point: a linear trend plus a Gaussian process."""

    def __init__(self, active: int, seed: int):
        self.active_count = active
        self.seed = seed
        self.active: np.ndarray | None = None
        self.usable = False

    def fit(self, x: np.ndarray, y: np.ndarray) -> Emulator:
        with threadpool_limits(1):  # small matrices: BLAS threads cost ten times the work on a busy machine
            return self._fit(x, y)

    def _fit(self, x: np.ndarray, y: np.ndarray) -> Emulator:
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

        ok = np.isfinite(y)
        x, y = x[ok], y[ok]
        if len(y) < max(TREND_MIN_RUNS, self.active_count + 2) or np.ptp(y) == 0:
            return self
        spread = x.std(axis=0)
        corr = np.zeros(x.shape[1])
        varies = spread > 0
        corr[varies] = np.abs([np.corrcoef(x[:, k], y)[0, 1] for k in np.flatnonzero(varies)])
        self.active = np.sort(np.argsort(-np.nan_to_num(corr), kind="stable")[: self.active_count])
        a = np.column_stack([np.ones(len(y)), x[:, self.active]])
        self.trend = np.linalg.lstsq(a, y, rcond=None)[0]
        residual = y - a @ self.trend
        kernel = ConstantKernel(1.0, (1e-3, 1e3)) * RBF(np.ones(len(self.active)), LENGTH_SCALE_BOUNDS) \
            + WhiteKernel(0.1, NOISE_BOUNDS)
        self.gp = GaussianProcessRegressor(kernel=kernel, normalize_y=True, n_restarts_optimizer=GP_RESTARTS,
                                           random_state=self.seed)
        with warnings.catch_warnings():  # a hyperparameter at its bound is an answer, not an error
            warnings.simplefilter("ignore")
            self.gp.fit(x[:, self.active], residual)
        self.usable = True
        return self

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and standard deviation (with the white noise: a single run's spread) at each point."""
        if not self.usable:
            return np.full(len(x), np.nan), np.full(len(x), np.inf)
        part = x[:, self.active]
        with threadpool_limits(1):
            mean, sd = self.gp.predict(part, return_std=True)
        return mean + np.column_stack([np.ones(len(x)), part]) @ self.trend, np.maximum(sd, 1e-12)


def implausibility(emulators: Mapping[str, Emulator], goals: Sequence[Goal], x: np.ndarray) -> np.ndarray:
    """Per point the largest implausibility over the targets (0 when every expected figure is within tolerance)."""
    worst = np.zeros(len(x))
    for goal in goals:
        worst = np.maximum(worst, _implausibility(emulators.get(goal.name), goal, x))
    return worst


def _implausibility(emulator: Emulator | None, goal: Goal, x: np.ndarray) -> np.ndarray:
    if emulator is None or not emulator.usable:
        return np.zeros(len(x))
    mean, sd = emulator.predict(x)
    return np.maximum(0.0, np.abs(mean - goal.value) - goal.tolerance) / sd


def plausible(waves: Sequence[Mapping[str, Emulator]], goals: Sequence[Goal], x: np.ndarray,
              cutoff: float) -> np.ndarray:
    """The points every wave's emulators keep (implausibility at most ``cutoff`` for every target).

    The same as ``implausibility(...) <= cutoff`` for every wave, but each emulator only sees the points
    the ones before it kept, so ruling out most of a large sample costs little.
    """
    index = np.arange(len(x))
    for emulators in waves:
        for goal in goals:
            if len(index) == 0:
                return index
            index = index[_implausibility(emulators.get(goal.name), goal, x[index]) <= cutoff]
    return index


def _r2(emulator: Emulator, x: np.ndarray, y: np.ndarray) -> float:
    ok = np.isfinite(y)
    if not emulator.usable or ok.sum() < TREND_MIN_RUNS or np.var(y[ok]) == 0:
        return float("nan")
    mean, _ = emulator.predict(x[ok])
    return float(1 - np.mean((y[ok] - mean) ** 2) / np.var(y[ok]))


Simulate = Callable[[list[tuple[dict, int]]], list[dict[str, float]]]


def history_match(prior: Prior, goals: Sequence[Goal], simulate: Simulate, size: Size, seed: int,
                  valid: Callable[[dict], bool] | None = None, log: Callable[[str], None] | None = None) -> Outcome:
    """Waves of runs and emulators, then the final check; see the module's description.

    Args:
        prior: the dimensions varied and their ranges.
        goals: the targets (value and tolerance each).
        simulate: (parameter values, seed) pairs -> one dict of target figures per pair, in order.
        size: the work allowed (``Size.total_runs`` model runs in all).
        seed: the root seed of every draw and every run's seed.
        valid: rejects a parameter combination the model refuses (drawn again instead).
        log: a line per step, for the user.
    """
    matching = _Matching(prior, goals, simulate, size, seed, valid or (lambda _values: True), log or (lambda _m: None))
    for wave in range(size.waves):
        if not matching.wave(wave):
            break
    accepted = matching.final_check() if matching.emulators and matching.waves[-1].runs else []
    return Outcome(pd.DataFrame(accepted, columns=prior.paths + matching.names), matching.waves, matching.checked,
                   matching.runs, pd.DataFrame(matching.rows))


class _Matching:
    """The state of one history matching: the runs so far, each wave's emulators, the seeds still to use."""

    def __init__(self, prior: Prior, goals: Sequence[Goal], simulate: Simulate, size: Size, seed: int,
                 valid: Callable[[dict], bool], say: Callable[[str], None]):
        self.prior, self.goals, self.simulate, self.size, self.seed = prior, goals, simulate, size, seed
        self.valid, self.say = valid, say
        run_stream, draw_stream = np.random.SeedSequence(seed).spawn(2)
        self.run_seeds = iter(int(s) for s in run_stream.generate_state(size.total_runs, dtype=np.uint32))
        self.draw_seeds = [int(s) for s in draw_stream.generate_state(size.waves + 1, dtype=np.uint32)]
        self.names = [g.name for g in goals]
        self.emulators: list[dict[str, Emulator]] = []
        self.x = np.empty((0, len(prior.dims)))
        self.y = np.empty((0, len(goals)))
        self.waves: list[Wave] = []
        self.rows: list[dict] = []
        self.runs = 0
        self.checked = 0

    def kept(self, candidates: np.ndarray) -> np.ndarray:
        return candidates[plausible(self.emulators, self.goals, candidates, self.size.cutoff)]

    def draw(self, count: int, wave: int) -> tuple[np.ndarray, float]:
        """Up to ``count`` valid points that every emulator keeps, and the share of the prior sample kept."""
        candidates = self.prior.sample(self.size.candidates, self.draw_seeds[wave])
        survivors = self.kept(candidates)
        share = len(survivors) / len(candidates)
        pool = _refill(survivors, count, self.kept, np.random.default_rng(self.draw_seeds[wave]), self.size.candidates)
        chosen = [u for u in pool if self.valid(self.prior.values(u))][:count]
        return np.array(chosen).reshape(-1, len(self.prior.dims)), share

    def run(self, points: np.ndarray, each: int = 1) -> tuple[list[tuple[dict, int]], list[dict[str, float]]]:
        """The model at every point, ``each`` runs per point on seeds of their own."""
        pairs = [(self.prior.values(u), next(self.run_seeds)) for u in points for _ in range(each)]
        figures = self.simulate(pairs) if pairs else []
        self.runs += len(pairs)
        return pairs, figures

    def wave(self, wave: int) -> bool:
        """One wave: draw, run, fit the emulators again on every run so far; False when nothing is left to run."""
        points, share = self.draw(self.size.points, wave)
        if len(points) == 0:
            self.say(f"wave {wave + 1}: no candidate is left that every target allows; stopping")
            self.waves.append(Wave(wave + 1, 0, share))
            return False
        pairs, figures = self.run(points)
        y = np.array([[f.get(n, np.nan) for n in self.names] for f in figures], dtype=float)
        r2 = {}
        if self.emulators:  # how well the last wave's emulators predicted these new runs
            r2 = {n: _r2(self.emulators[-1][n], points, y[:, j]) for j, n in enumerate(self.names)}
        self.x, self.y = np.vstack([self.x, points]), np.vstack([self.y, y])
        self.emulators.append({n: Emulator(self.size.active, self.seed + j).fit(self.x, self.y[:, j])
                               for j, n in enumerate(self.names)})
        self.waves.append(Wave(wave + 1, len(pairs), share, r2))
        self.rows += [{"wave": wave + 1, **values, **dict(zip(self.names, row, strict=True))}
                      for (values, _), row in zip(pairs, y, strict=True)]
        self.say(f"wave {wave + 1}: {len(pairs)} runs; {share:.1%} of the candidates were still plausible before it")
        return True

    def final_check(self) -> list[dict]:
        """The model at kept points, a batch of ``sets`` at a time, until ``sets`` hold every target."""
        size = self.size
        points, share = self.draw(CHECK_DRAWS * size.sets, size.waves)
        self.say(f"final check: up to {len(points)} candidate sets ({share:.1%} of the candidates plausible after "
                 f"{len(self.emulators)} wave(s)), {size.check_seeds} run(s) each, in batches of {size.sets}")
        accepted: list[dict] = []
        for start in range(0, len(points), size.sets):
            if len(accepted) >= size.sets:
                break
            batch = points[start:start + size.sets]
            pairs, figures = self.run(batch, size.check_seeds)
            self.checked += len(batch)
            for k in range(len(batch)):
                means = _means(figures[k * size.check_seeds:(k + 1) * size.check_seeds], self.names)
                holds = all(np.isfinite(means[g.name]) and abs(means[g.name] - g.value) <= g.tolerance
                            for g in self.goals)
                if holds and len(accepted) < size.sets:
                    accepted.append({**pairs[k * size.check_seeds][0], **means})
            self.say(f"final check: {len(accepted)} of {self.checked} sets hold every target")
        return accepted


def _refill(survivors: np.ndarray, count: int, kept: Callable[[np.ndarray], np.ndarray], rng: np.random.Generator,
            batch: int) -> np.ndarray:
    """At least ``REFILL_FACTOR * count`` kept points when the prior sample holds too few, in a random order.

    Once the space left is a small share of the prior, a uniform sample of it holds few points. New
    candidates are then drawn around the kept ones (each coordinate moved by a normal step of
    ``REFILL_STEP`` times the kept points' spread in it, within the unit cube) and kept only when
    every emulator keeps them, as in Andrianakis et al. (2015); ``REFILL_ROUNDS`` rounds at most, each
    adding at most ``REFILL_GROWTH`` times the points it started from.
    """
    pool = survivors
    for _ in range(REFILL_ROUNDS):
        if len(pool) == 0 or len(pool) >= REFILL_FACTOR * count:
            break
        spread = np.maximum(pool.std(axis=0), REFILL_MIN_SPREAD) if len(pool) > 1 else \
            np.full(pool.shape[1], REFILL_MIN_SPREAD)
        picks = pool[rng.integers(len(pool), size=batch)]
        moved = np.clip(picks + rng.normal(size=picks.shape) * spread * REFILL_STEP, 0.0, 1.0)
        # A round adds at most REFILL_GROWTH times the pool, so the spread is measured again before the next:
        # a few kept points grow into the space around them instead of piling up where they are.
        pool = np.vstack([pool, kept(moved)[: REFILL_GROWTH * len(pool)]])
    return pool[rng.permutation(len(pool))]


def _means(figures: list[dict[str, float]], names: list[str]) -> dict[str, float]:
    """Per target the mean of the finite figures of a set's check runs (NaN when none is finite)."""
    out = {}
    for n in names:
        values = np.array([f.get(n, np.nan) for f in figures], dtype=float)
        out[n] = float(values[np.isfinite(values)].mean()) if np.isfinite(values).any() else float("nan")
    return out


def narrowing(prior: Prior, sets: pd.DataFrame) -> pd.DataFrame:
    """Per dimension: the prior range, the ensemble's 5-95% range, and the share of the prior range it spans.

    A share near 0.9 (what a uniform sample spans between its 5th and 95th percentiles) means the
    targets do not pin that parameter down.
    """
    rows = []
    for d in prior.dims:
        values = sets[d.path].to_numpy(dtype=float) if len(sets) else np.array([])
        lo, hi = (np.quantile(values, [0.05, 0.95]) if len(values) else (np.nan, np.nan))
        width = d.high - d.low
        rows.append({"parameter": d.path, "group": d.group, "prior_low": d.low, "prior_high": d.high,
                     "posterior_p05": float(lo), "posterior_p95": float(hi),
                     "posterior_mean": float(values.mean()) if len(values) else float("nan"),
                     "span": float((hi - lo) / width) if width > 0 else float("nan")})
    return pd.DataFrame(rows)
