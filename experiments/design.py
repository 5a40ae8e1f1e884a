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
from experiments.limits import Limits
from experiments.runner import replication_seeds
from experiments.schema import (
    SEED_MAX,
    Choice,
    Context,
    List,
    OneOf,
    ParameterTable,
    ParameterValue,
    Table,
    Tagged,
    Text,
    Whole,
    check,
)
from model.parameters import PARAMETERS, InputError, Values, load_scenario, read_toml, show, show_path

SAMPLERS = ("factorial", "lhs", "sobol", "morris")
SENSITIVITY_SAMPLERS = ("sobol", "morris")
REGIMES = PARAMETERS.get("scenario.regime").choices
SUMMARY_NAMES = tuple(s.name for s in SUMMARIES)
DEFAULT_RETRIES = 2
DEFAULT_REGIMES = ["compartmentalised", "integrated"]
SEED = Whole(0, SEED_MAX)
REGIME_NOTE = "the regimes are set by regimes = [...]"

# The design file's schema: every key, what it allows, which limit bounds it (experiments/schema.py).
DESIGN = Table({
    "name": Text("a name"),
    "regimes": List(Choice(REGIMES), 1, len(REGIMES), distinct=True),
    "replications": Whole(1, limit="replications"),
    "seed": SEED,
    "max_retries": Whole(0, 10),
    "base": ParameterTable(ParameterValue(), nested=True, refuse_paths={"scenario.regime": REGIME_NOTE},
                           reserved={"scenario": Text("a path to a scenario file (relative to the design)", 4096)}),
    "sampler": Tagged("method", "factorial", {
        "factorial": {},
        "lhs": {"samples": Whole(2, limit="samples"), "seed": SEED},
        "sobol": {"n": Whole(2, limit="samples", power_of_two=True), "seed": SEED},
        "morris": {"trajectories": Whole(2, limit="samples"), "levels": Whole(2, limit="levels", even=True),
                   "seed": SEED},
    }, required={"lhs": ("samples",), "sobol": ("n",), "morris": ("trajectories", "levels")}),
    "vary": ParameterTable(OneOf(((list, List(ParameterValue(), limit="levels", distinct=True)),
                                  (dict, Table({"range": List(ParameterValue(), 2, 2, what="two values [low, high] of the parameter"),
                                                "levels": Whole(2, limit="levels")},
                                               "a table { range = [low, high] } (with levels = N under factorial)")))),
                           refuse_paths={"scenario.regime": REGIME_NOTE}),
    "outcomes": Table({"indicators": List(Choice(SUMMARY_NAMES), 1, len(SUMMARY_NAMES), distinct=True),
                       "difference": List(Choice(REGIMES), 2, 2, distinct=True)}),
})


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
    return InputError(f"design {show_path(path)}: {message}")


def read_base(path: Path, base_doc: dict[str, Any], regime_rule: str) -> dict[str, Any]:
    """A design's fixed values: its ``base.scenario`` file (relative to the design) overlaid with the rest of [base].

    Raises:
        InputError: the scenario file is bad, or it sets the regime (``regime_rule`` says why that is not allowed).
    """
    base: dict[str, Any] = {}
    if "scenario" in base_doc:
        try:
            base.update(load_scenario((path.parent / base_doc["scenario"]).resolve()))
        except InputError as exc:
            raise _fail(path, f"base.scenario: {exc}") from None
    base.update({k: v for k, v in base_doc.items() if k != "scenario"})
    if "scenario.regime" in base:
        raise _fail(path, f"base.scenario sets scenario.regime = {base['scenario.regime']!r}, but {regime_rule}")
    return base


def _command_line(path: Path, overrides: dict[str, Any] | None, vary_doc: dict[str, Any]) -> dict[str, Any]:
    """The command line's values for a design's [base]: never the regime, never a varied parameter."""
    overrides = dict(overrides or {})
    for key in overrides:
        if key == "scenario.regime":
            raise InputError(f"--set scenario.regime is not allowed for a design: {REGIME_NOTE}")
        if key in vary_doc:
            raise InputError(f"'{key}' is varied in [vary] of design {show_path(path)}: the command line cannot fix "
                             "it; remove it from --scenario/--set or from [vary]")
    return overrides


def load_design(path: str | Path, limits: Limits | None = None, purpose: str = "sweep",
                overrides: dict[str, Any] | None = None) -> Design:
    """Read and check a design file against ``DESIGN`` and the rules between its fields, and plan its runs.

    Args:
        path: the design TOML file.
        limits: size limits in force (default: this machine's, see ``experiments/limits.py``).
        purpose: "sweep", or "sensitivity" (which needs a Sobol or Morris sampler) — checked here,
            before anything is created or run.
        overrides: validated values from the command line (``--scenario``, ``--set``, ``--years``) laid over
            the design's [base]; they are part of the design's content (its hash, its run ids).

    Raises:
        InputError: naming the file, the key, the value and what is allowed, before any run starts.
    """
    path = Path(path)
    limits = limits or Limits()
    raw = read_toml(path, "design file")
    ctx = Context(file=f"design {show_path(path)}", limits=limits)
    doc = check(DESIGN, raw, ctx)

    regimes = doc.get("regimes", list(DEFAULT_REGIMES))
    replications = doc.get("replications", 1)
    seed = doc.get("seed", 0)
    retries = doc.get("max_retries", DEFAULT_RETRIES)
    sampler = doc.get("sampler", {"method": "factorial"})
    method = sampler["method"]
    if purpose == "sensitivity" and method not in SENSITIVITY_SAMPLERS:
        raise _fail(path, f"sampler.method = {method!r} is not allowed for sensitivity analysis: expected one of "
                          f"{', '.join(repr(m) for m in SENSITIVITY_SAMPLERS)}")

    base_doc = doc.get("base", {})
    base = read_base(path, base_doc, f"{REGIME_NOTE}: remove it from the scenario file or use regimes")

    vary_doc = doc.get("vary", {})
    if not vary_doc:
        raise _fail(path, "[vary] is empty: name at least one parameter to vary")
    overrides = _command_line(path, overrides, vary_doc)
    base.update(overrides)
    fixed = sorted(set(vary_doc) & set(base_doc))
    if fixed:
        raise _fail(path, f"'{fixed[0]}' is both fixed in [base] and varied in [vary]: keep one")
    vary = {key: _vary_entry(path, method, key, spec) for key, spec in vary_doc.items()}

    outcomes = doc.get("outcomes", {})
    if outcomes and method not in SENSITIVITY_SAMPLERS:
        raise _fail(path, f"[outcomes] is used only by sensitivity analysis (sampler 'sobol' or 'morris'), "
                          f"not by {method!r}: remove it")
    diff = outcomes.get("difference")
    if diff is not None and any(r not in regimes for r in diff):
        raise _fail(path, f"outcomes.difference = {show(diff)} is not allowed: expected two of regimes = {regimes}")
    if method == "morris":
        _check_morris_grid(path, vary, sampler["levels"])

    n_points = count_points(method, sampler, vary)
    limits.runs(n_points * len(regimes) * replications,
                f"{n_points:,} points x {len(regimes)} regime(s) x {replications:,} replication(s)", ctx.file)
    design = Design(name=doc.get("name", path.stem), regimes=regimes, replications=replications, seed=seed,
                    max_retries=retries, base=base, method=method, sampler=sampler, vary=vary, outcomes=outcomes,
                    source={"regimes": regimes, "replications": replications, "seed": seed, "base": base,
                            "sampler": sampler, "vary": vary, "outcomes": outcomes, "max_retries": retries,
                            **({"command_line": overrides} if overrides else {})})
    try:
        design.plan()  # every point must make a runnable model: values and combinations checked before anything runs
    except InputError as exc:
        raise _fail(path, f"a design point cannot run: {exc}") from None
    return design


def _vary_entry(path: Path, method: str, key: str, spec: Any) -> Any:
    """One [vary] entry as a list of values (factorial) or ``{"range": [lo, hi]}`` (other samplers)."""
    meta = PARAMETERS.get(key)
    where = f'vary."{key}"'
    if isinstance(spec, list):
        if method != "factorial":
            raise _fail(path, f"{where} is a list, but sampler {method!r} needs a range: {{ range = [lo, hi] }} "
                              "or {} for the parameter's own range")
        return spec
    if meta.kind not in ("float", "int"):
        raise _fail(path, f"{where} is a {meta.kind} parameter: a range needs a number parameter (give a list)")
    lo, hi = spec.get("range", meta.range)
    if not lo < hi:
        raise _fail(path, f"{where}.range = [{lo}, {hi}] is not allowed: expected low below high")
    if method == "factorial":
        if "levels" not in spec:
            raise _fail(path, f"{where}: a range under factorial needs levels = N (N >= 2), or give a list of values")
        values = [_kind_value(key, v) for v in np.linspace(lo, hi, spec["levels"])]
        if len(set(values)) < len(values):
            raise _fail(path, f"{where}: range [{lo}, {hi}] has no {spec['levels']} distinct whole-number levels "
                              f"(it gives {values}): use fewer levels or give a list")
        return values
    if "levels" in spec:
        raise _fail(path, f"{where}.levels = {show(spec['levels'])} is not allowed: levels apply under factorial "
                          f"only; sampler {method!r} spreads its own points (remove levels)")
    return {"range": [float(lo), float(hi)]}


def _check_morris_grid(path: Path, vary: dict[str, Any], levels: int) -> None:
    """A Morris grid on a whole-number parameter needs a distinct value at every level (else effects divide by 0)."""
    for key, spec in vary.items():
        lo, hi = spec["range"]
        if PARAMETERS.get(key).kind == "int" and hi - lo < levels - 1:
            raise _fail(path, f'vary."{key}".range = [{lo:g}, {hi:g}] is too narrow for sampler.levels = {levels}: '
                              f"a whole-number parameter needs at least {levels - 1} between low and high")


def count_points(method: str, sampler: dict[str, Any], vary: dict[str, Any]) -> int:
    """How many design points a sampler makes, computed before sampling (so a huge design is refused cheaply)."""
    d = len(vary)
    if method == "factorial":
        return math.prod(len(v) for v in vary.values())
    if method == "lhs":
        return sampler["samples"]
    if method == "sobol":
        return sampler["n"] * (d + 2)
    return sampler["trajectories"] * (d + 1)
