"""Experiment designs: which parameters vary, how they are sampled, which regimes, how many replications.

A design is a TOML file::

    name = "pooled-share-by-firm-places"
    regimes = ["gradual"]            # each point runs under each regime, paired by seed
    replications = 3
    seed = 42
    max_retries = 2                  # a run that raises is retried this many times (default 2)

    [base]                           # fixed overrides (optional), like a scenario file
    scenario = "experiments/scenarios/recession.toml"   # optional, relative to the design file
    "scenario.inhabitants" = 30000

    [sampler]
    method = "factorial"             # factorial | lhs | sobol | morris
    # lhs: samples = 32;  sobol: n = 64 (a power of two);  morris: trajectories = 10, levels = 4
    # seed = 1                       # the sampler's own seed (default: the design seed)

    [vary]
    "scenario.pooled_share" = [0.0, 0.5, 1.0]                 # a list of values (factorial)
    "scenario.social_firm_places" = { range = [10, 40] }     # a range (lhs, sobol, morris)
    "work.trajectory_effect" = {}                            # the range from the parameter metadata

    [outcomes]                       # sensitivity analysis only
    indicators = ["outflow_work"]    # summaries from analysis/compare.py SUMMARIES
    difference = ["integrated", "compartmentalised"]   # optional: outcome = first regime - second

Everything is checked before any run starts; errors name the key, the value and what is allowed.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from analysis.compare import SUMMARIES
from experiments.runner import replication_seeds
from model.parameters import PARAMETERS, InputError, Values, flatten, load_scenario, read_toml

SAMPLERS = ("factorial", "lhs", "sobol", "morris")
REGIMES = PARAMETERS.get("scenario.regime").choices
DEFAULT_RETRIES = 2
TOP_KEYS = {"name", "regimes", "replications", "seed", "max_retries", "base", "sampler", "vary", "outcomes"}


@dataclass(frozen=True)
class RunSpec:
    """One planned run: a design point under one regime and one replication seed.

    ``values`` are the run's resolved parameter values, validated when the design was planned; the
    regime travels in them as ``scenario.regime``.
    """

    run_id: str
    point: int
    replication: int
    seed: int
    values: Values
    varied: dict[str, Any]

    @property
    def regime(self) -> str:
        """The run's funding regime (``scenario.regime``)."""
        return self.values.get("scenario.regime")


@dataclass
class Design:
    """A validated experiment design."""

    name: str
    regimes: list[str]
    replications: int
    seed: int
    max_retries: int
    base: dict[str, Any]
    method: str
    sampler: dict[str, Any]
    vary: dict[str, Any]
    outcomes: dict[str, Any] = field(default_factory=dict)
    source: dict[str, Any] = field(default_factory=dict)
    _plan: list[RunSpec] | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def digest(self) -> str:
        """Hash of the design's content (what it asks for, not where the file lives)."""
        return hashlib.sha256(json.dumps(self.source, sort_keys=True, default=str).encode()).hexdigest()[:16]

    def bounds(self) -> dict[str, tuple[float, float]]:
        """Ranges of the varied parameters (for samplers that need them)."""
        return {k: tuple(v["range"]) for k, v in self.vary.items() if isinstance(v, dict)}

    def points(self) -> list[dict[str, Any]]:
        """The parameter combinations to run, in a fixed order."""
        if self.method == "factorial":
            keys = list(self.vary)
            return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*self.vary.values())]
        unit = self.unit_sample()
        bounds = self.bounds()
        keys = list(bounds)
        pts = []
        for row in unit:
            point = {}
            for k, u in zip(keys, row, strict=True):
                lo, hi = bounds[k]
                point[k] = _kind_value(k, lo + (hi - lo) * float(u))
            pts.append(point)
        return pts

    def unit_sample(self) -> np.ndarray:
        """Sample in the unit cube (or in parameter space for SALib samplers, rescaled back)."""
        seed = int(self.sampler.get("seed", self.seed))
        d = len(self.vary)
        if self.method == "lhs":
            from scipy.stats import qmc

            return qmc.LatinHypercube(d=d, seed=seed).random(int(self.sampler["samples"]))
        problem = self.salib_problem(unit=True)
        if self.method == "sobol":
            from SALib.sample import sobol

            return sobol.sample(problem, int(self.sampler["n"]), calc_second_order=False, seed=seed)
        from SALib.sample import morris

        return morris.sample(problem, int(self.sampler["trajectories"]), num_levels=int(self.sampler["levels"]),
                             seed=seed)

    def salib_problem(self, unit: bool = False) -> dict[str, Any]:
        """The SALib problem definition of the varied parameters."""
        bounds = self.bounds()
        return {"num_vars": len(bounds), "names": list(bounds),
                "bounds": [[0.0, 1.0] if unit else list(b) for b in bounds.values()]}

    def plan(self) -> list[RunSpec]:
        """Every run of the design: points x regimes x replications, each with its run id and values.

        Each point's values are validated once (with their combinations), then once per regime; the
        plan is made on first use and kept.
        """
        if self._plan is None:
            seeds = replication_seeds(self.seed, self.replications)
            specs = []
            for i, point in enumerate(self.points()):
                at_point = PARAMETERS.resolve({**self.base, **point})
                for regime in self.regimes:
                    values = at_point.with_changes({"scenario.regime": regime})
                    for rep, seed in enumerate(seeds):
                        specs.append(RunSpec(run_id=run_id(values, seed), point=i, replication=rep, seed=seed,
                                             values=values, varied=point))
            self._plan = specs
        return self._plan


def run_id(resolved: dict[str, Any], seed: int) -> str:
    """Stable id of a run: hash of every resolved parameter value and the seed."""
    blob = json.dumps({"parameters": dict(resolved), "seed": seed}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def _kind_value(path: str, value: float) -> Any:
    return int(round(value)) if PARAMETERS.get(path).kind == "int" else float(value)


def _fail(path: Path, message: str) -> InputError:
    return InputError(f"design '{path}': {message}")


def load_design(path: str | Path) -> Design:
    """Read and check a design file, and plan its runs.

    Raises:
        InputError: naming the key, the value and what is allowed, before any run starts.
    """
    path = Path(path)
    raw = read_toml(path, "design file")
    unknown = sorted(set(raw) - TOP_KEYS)
    if unknown:
        raise _fail(path, f"unknown key(s) {unknown}; allowed: {sorted(TOP_KEYS)}")
    for table in ("base", "sampler", "vary", "outcomes"):
        if not isinstance(raw.get(table, {}), dict):
            raise _fail(path, f"{table} = {raw[table]!r} is not allowed: a table [{table}]")

    regimes = raw.get("regimes", ["compartmentalised", "integrated"])
    if not isinstance(regimes, list) or not regimes or any(r not in REGIMES for r in regimes) \
            or len(set(regimes)) != len(regimes):
        raise _fail(path, f"regimes = {regimes!r} is not allowed: a list of distinct names from {list(REGIMES)}")
    replications = raw.get("replications", 1)
    if isinstance(replications, bool) or not isinstance(replications, int) or replications < 1:
        raise _fail(path, f"replications = {replications!r} is not allowed: a whole number of at least 1")
    seed = raw.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
        raise _fail(path, f"seed = {seed!r} is not allowed: a whole number from 0 to {2**32 - 1}")
    retries = raw.get("max_retries", DEFAULT_RETRIES)
    if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 10:
        raise _fail(path, f"max_retries = {retries!r} is not allowed: a whole number from 0 to 10")

    base_raw = dict(raw.get("base", {}))
    base: dict[str, Any] = {}
    if "scenario" in base_raw:
        scenario = base_raw.pop("scenario")
        if not isinstance(scenario, str):
            raise _fail(path, f"base.scenario = {scenario!r} is not allowed: a path to a scenario file")
        base.update(load_scenario((path.parent / scenario).resolve()))
    base.update(PARAMETERS.validate(flatten(base_raw), origin=f"{path} [base]"))

    sampler = dict(raw.get("sampler", {"method": "factorial"}))
    method = sampler.get("method", "factorial")
    if method not in SAMPLERS:
        raise _fail(path, f"sampler.method = {method!r} is not allowed: one of {list(SAMPLERS)}")
    _check_sampler(path, method, sampler)

    vary_raw = raw.get("vary", {})
    if not vary_raw:
        raise _fail(path, "[vary] is empty: name at least one parameter to vary")
    vary: dict[str, Any] = {}
    for key, spec in vary_raw.items():
        if key not in PARAMETERS:
            raise _fail(path, PARAMETERS.unknown_message(key, "[vary]"))
        meta = PARAMETERS.get(key)
        if key == "scenario.regime":
            raise _fail(path, "vary 'scenario.regime' through regimes = [...], not [vary]")
        if isinstance(spec, list):
            if method != "factorial":
                raise _fail(path, f"vary '{key}' is a list, but sampler '{method}' needs a range: {{ range = [lo, hi] }}")
            if not spec:
                raise _fail(path, f"vary '{key}' = [] is empty")
            vary[key] = [meta.coerce(v, f"{path} [vary]") for v in spec]
        elif isinstance(spec, dict):
            if meta.kind not in ("float", "int"):
                raise _fail(path, f"vary '{key}' is {meta.kind}; a range needs a number parameter (give a list)")
            bounds = spec.get("range", meta.range)
            if not isinstance(bounds, (list, tuple)) or len(bounds) != 2:
                raise _fail(path, f"vary '{key}' range = {bounds!r} is not allowed: two numbers [lo, hi]")
            lo, hi = bounds
            for v in (lo, hi):
                meta.coerce(v, f"{path} [vary] range")
            if not lo < hi:
                raise _fail(path, f"vary '{key}' range [{lo}, {hi}] is empty: low must be below high")
            if method == "factorial":
                levels = spec.get("levels")
                if not isinstance(levels, int) or levels < 2:
                    raise _fail(path, f"vary '{key}': a range under factorial needs levels = N (N >= 2), got {levels!r}")
                vary[key] = [_kind_value(key, v) for v in np.linspace(lo, hi, levels)]
            else:
                vary[key] = {"range": [float(lo), float(hi)]}
        else:
            raise _fail(path, f"vary '{key}' = {spec!r} is not allowed: a list of values or {{ range = [lo, hi] }}")

    outcomes = dict(raw.get("outcomes", {}))
    names = {s.name for s in SUMMARIES}
    if not isinstance(outcomes.get("indicators", []), list):
        raise _fail(path, f"outcomes.indicators = {outcomes['indicators']!r} is not allowed: a list of summary names")
    for ind in outcomes.get("indicators", []):
        if ind not in names:
            raise _fail(path, f"outcomes.indicators: {ind!r} is not a summary; allowed: {sorted(names)}")
    diff = outcomes.get("difference")
    if diff is not None and (not isinstance(diff, list) or len(diff) != 2 or any(r not in regimes for r in diff)):
        raise _fail(path, f"outcomes.difference = {diff!r} is not allowed: two regimes from regimes = {regimes}")

    design = Design(name=str(raw.get("name", path.stem)), regimes=regimes, replications=replications, seed=seed,
                    max_retries=retries, base=base, method=method, sampler=sampler, vary=vary, outcomes=outcomes,
                    source={"regimes": regimes, "replications": replications, "seed": seed, "base": base,
                            "sampler": sampler, "vary": vary, "outcomes": outcomes, "max_retries": retries})
    design.plan()  # every point must make a runnable model: values and combinations checked before anything runs
    return design


def _check_sampler(path: Path, method: str, sampler: dict) -> None:
    def whole(key: str, minimum: int) -> int:
        value = sampler.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise _fail(path, f"sampler.{key} = {value!r} is not allowed for '{method}': a whole number >= {minimum}")
        return value

    if "seed" in sampler:
        seed = sampler["seed"]
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
            raise _fail(path, f"sampler.seed = {seed!r} is not allowed: a whole number from 0 to {2**32 - 1}")
    if method == "lhs":
        whole("samples", 2)
    elif method == "sobol":
        n = whole("n", 2)
        if n & (n - 1):
            raise _fail(path, f"sampler.n = {n} is not allowed for 'sobol': a power of two (e.g. {2 ** round(math.log2(n))})")
    elif method == "morris":
        whole("trajectories", 2)
        whole("levels", 2)

