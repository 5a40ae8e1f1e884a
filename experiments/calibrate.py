"""Calibrate the compartmentalised baseline to the published figures: an ensemble, and the single best point.

    ontschot calibrate                              # history matching: the ensemble of sets that hold every target
    ontschot calibrate --write                      # ... and install it as the ensemble ``run --ensemble`` uses
    python -m experiments.calibrate                 # the single best point: fit and print, change nothing
    python -m experiments.calibrate --write         # fit and write the values into model/parameters.toml

The ensemble (``calibrate_ensemble``) is the calibration's answer: every parameter set the targets
allow, found by history matching (``experiments.history_matching``) over a prior made from the
parameter set itself (``ensemble_prior``). The single best point below is kept for the parameter
file's values; it is one member of what the ensemble describes.

Free parameters and their search bounds are named in ``FREE``. The search is deterministic: a
scrambled Sobol design over the bounds with a fixed seed (plus the fixed ``START`` values, not
whatever the file holds now), then Nelder-Mead from the best design point, all on fixed seeds
that differ from the validation seeds. Running the script again gives the same values. The objective is the sum over the targets of ((simulated - target) / tolerance)^2,
with the simulated figure the mean over the calibration seeds (common random numbers make the
objective smooth enough for a simplex search). Written values get status ``calibrated``, the date,
and the reason they had before in ``prior``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.stats import qmc

from analysis.validation import BURN_IN_YEARS, TARGETS
from experiments.history_matching import Dimension, Goal, Outcome, Prior, Size, history_match, narrowing
from model.model import SocialDomainModel
from model.parameters import PARAMETER_FILE, PARAMETERS, InputError, Values, as_values, check_combinations

# path: (low, high) search bounds, inside each parameter's allowed range.
FREE: dict[str, tuple[float, float]] = {
    "work.base_hazard": (0.2, 5.0),
    "work.duration_effect": (0.02, 0.5),
    "benefit.other_exit_rate": (0.03, 0.3),
    "benefit.first_year_exit_boost": (1.0, 6.0),
    "inflow.benefit_reports_per_inhabitant": (0.004, 0.02),
    "problems.benefit_stock_shift": (-0.5, 2.5),
    "inflow.problem_shift": (-0.5, 2.5),
    "wage.severity_weight": (0.5, 3.0),
    "pwet.mediation_cost": (300.0, 5000.0),
    "work.trajectory_effect": (1.0, 4.0),
    "inflow.wmo_per_inhabitant": (0.0005, 0.006),
    "wmo.need_threshold": (0.3, 0.6),
    "benefit.gross_up": (1.0, 1.4),
    "work.job_loss_base": (0.2, 1.5),
    "work.job_loss_tenure_decay": (0.2, 2.0),
    "work.loss_to_benefit_share": (0.15, 0.6),
    "benefit.return_hazard": (0.2, 1.2),
    "benefit.return_decay": (0.3, 1.5),
    "wage.health_tracking": (0.0, 1.0),
    "access.reach_base": (0.05, 0.8),
}
# The fixed starting point: the provisional values before the first calibration.
START: dict[str, float] = {
    "work.base_hazard": 0.8,
    "work.duration_effect": 0.15,
    "benefit.other_exit_rate": 0.15,
    "benefit.first_year_exit_boost": 2.5,
    "inflow.benefit_reports_per_inhabitant": 0.009,
    "problems.benefit_stock_shift": 0.6,
    "inflow.problem_shift": 0.4,
    "wage.severity_weight": 1.1,
    "pwet.mediation_cost": 1500.0,
    "work.trajectory_effect": 1.6,
    "inflow.wmo_per_inhabitant": 0.0012,
    "wmo.need_threshold": 0.45,
    "benefit.gross_up": 1.12,
    # Added with the revolving door and the care-to-work route (issue 9): their hand-tuned values.
    "work.job_loss_base": 0.5,
    "work.job_loss_tenure_decay": 0.8,
    "work.loss_to_benefit_share": 0.35,
    "benefit.return_hazard": 0.5,
    "benefit.return_decay": 0.8,
    "wage.health_tracking": 0.5,
    # Added with take-up as behaviour (issue 16): its assumed value before the non-take-up target [ISZW21].
    "access.reach_base": 0.15,
}
SEEDS = (101, 102, 103, 104, 105, 106, 107, 108)
DESIGN_POINTS = 64  # stage-1 Sobol points (a power of two)
DESIGN_SEED = 7
SIMPLEX_STEP = 0.4  # logit units: about a tenth of the bound around the middle
SIGNIFICANT = 4
# A target the runs cannot compute (e.g. no social-firm trajectory ended) counts as 10 tolerances off,
# so the search never prefers parameter values that make a target undefined.
UNDEFINED_TARGET_PENALTY = 100.0


def _to_unit(path: str, value: float) -> float:
    lo, hi = FREE[path]
    u = np.clip((value - lo) / (hi - lo), 1e-6, 1 - 1e-6)
    return float(np.log(u / (1 - u)))


def _from_unit(path: str, z: float) -> float:
    lo, hi = FREE[path]
    return float(lo + (hi - lo) / (1 + np.exp(-z)))


ENSEMBLE_DIR = Path(__file__).resolve().parent / "ensembles"
DEFAULT_ENSEMBLE = ENSEMBLE_DIR / "default.parquet"  # installed by ``ontschot calibrate --write``
INSTALL_LOCK = ".install.lock"  # held in ENSEMBLE_DIR while an ensemble is installed
INSTALL_WAIT_SECONDS = 60.0  # an install takes milliseconds: a second one waits this long for the first
ENSEMBLE_SEED = 20261202
# An assumption without a published figure is taken as uncertain by this share of its value either side
# (within its allowed range): itself an assumption, stated wherever the ensemble is shown; --spread changes it.
ASSUMPTION_SPREAD = 0.25


def run_figures(values: Values, seed: int) -> dict[str, float]:
    """Each target's figure from one compartmentalised run of ``values`` (years after the burn-in)."""
    model = SocialDomainModel(params=values, rng=seed, breakdowns=False)
    while model.running:
        model.step()
    wide = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    wide.index = wide.index + 1
    wide = wide[wide.index > BURN_IN_YEARS]
    figures = {t.name: float(t.compute(wide, model.inhabitants)) for t in TARGETS}
    model.release()
    return figures


def _figures_of(item: tuple[Values, dict, int]) -> dict[str, float]:
    """One calibration run on a worker: the base values with the point's values, and its seed."""
    base, point, seed = item
    return run_figures(base.with_changes(point), seed)


def ensemble_prior(base: Values, spread: float = ASSUMPTION_SPREAD, around: float | None = None) -> Prior:
    """The prior the ensemble is drawn from, made from the parameter set's own declarations.

    * The calibrated parameters (``FREE``): uniform over the calibration's search bounds, which lie
      inside each parameter's allowed range; with ``around``, only within that share of their current
      (fitted) values either side, inside the bounds (a local ensemble around the best point).
    * Every other behavioural number whose status is "assumption" (a number, not a scenario setting or a
      whole-number structure): uniform over its value +/- ``spread`` of it, within its allowed range.
    Legislated and published figures keep their values.
    """
    if not 0 <= spread < 1:
        raise InputError(f"--spread {spread}: allowed from 0 up to (not including) 1, a share of each value")
    if around is not None and not 0 < around < 1:
        raise InputError(f"--around-fit {around}: allowed above 0 and below 1, a share of each fitted value")
    dims = []
    for path, (lo, hi) in FREE.items():
        if around is not None:
            low, high = sorted((base[path] * (1 - around), base[path] * (1 + around)))
            lo, hi = max(lo, low), min(hi, high)
        dims.append(Dimension(path, lo, hi, "calibrated"))
    if spread > 0:
        for p in PARAMETERS:
            if p.status != "assumption" or p.kind != "float" or p.path.startswith("scenario.") or p.path in FREE:
                continue
            value = base[p.path]
            low, high = sorted((value * (1 - spread), value * (1 + spread)))
            low, high = max(low, p.range[0]), min(high, p.range[1])
            if high > low:
                dims.append(Dimension(p.path, low, high, "assumption"))
    return Prior(dims)


def _valid(base: Values):
    def valid(point: dict) -> bool:
        try:
            check_combinations({**base, **point})
        except InputError:
            return False
        return True

    return valid


def calibrate_ensemble(size: Size, seed: int = ENSEMBLE_SEED, base: Values | None = None,
                       spread: float = ASSUMPTION_SPREAD, workers: int | None = None, scheduler: str | None = None,
                       progress: bool | None = None, log=None, around: float | None = None) -> tuple[Outcome, Prior]:
    """History matching of the compartmentalised baseline to ``TARGETS`` over ``ensemble_prior``.

    ``base`` is the municipality calibrated (default: the shipped defaults); its regime is set to
    compartmentalised, as today's municipalities are funded. The runs go to ``workers`` local
    processes or to the Dask scheduler at ``scheduler``; the answer depends only on ``seed`` and ``size``.
    """
    from experiments.batch import map_calls

    base = as_values(base).with_changes({"scenario.regime": "compartmentalised"})
    prior = ensemble_prior(base, spread, around)
    goals = [Goal(t.name, t.value, t.tolerance) for t in TARGETS]

    def simulate(pairs):
        return map_calls(_figures_of, [(base, point, s) for point, s in pairs], workers=workers,
                         scheduler=scheduler, progress=progress)

    outcome = history_match(prior, goals, simulate, size, seed, valid=_valid(base), log=log)
    return outcome, prior


def parameter_file_hash(path: Path = PARAMETER_FILE) -> str:
    """A short hash of the parameter file the ensemble was drawn against, every byte (its texts included)."""
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


VALUE_FIELDS = ("value", "kind", "range", "choices", "status")  # what a parameter is, apart from its texts


def parameter_values_hash(path: Path = PARAMETER_FILE) -> str:
    """A short hash of what the parameter file sets: each parameter's value, kind, range, choices and status.

    An ensemble is stale when these change, not when a source, label or reason is reworded.
    """
    import hashlib

    from model.parameters import flatten, read_toml

    tables = flatten(read_toml(path, "parameter file"), keep=lambda t: "value" in t)
    content = {name: {k: t.get(k) for k in VALUE_FIELDS} for name, t in sorted(tables.items())}
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()[:16]


def ensemble_matches_parameters(record: dict) -> bool:
    """Whether an ensemble was drawn against this parameter set: by values where the record has them, else by file."""
    if "parameter_values_sha256" in record:
        return record["parameter_values_sha256"] == parameter_values_hash()
    return record.get("parameter_file_sha256") == parameter_file_hash()


def ensemble_record(outcome: Outcome, prior: Prior, size: Size, seed: int, spread: float, base: Values,
                    code: dict | None = None, around: float | None = None) -> dict:
    """What is stored with the ensemble: how it was made (provenance) and what it found.

    ``code`` is the code version taken when the calibration started (default: now).
    """
    from experiments.store import code_version, package_versions

    table = narrowing(prior, outcome.sets)
    return {
        "method": "history matching (experiments/history_matching.py): Latin-hypercube waves, per-target "
                  "emulators (linear trend + Gaussian process), implausibility cutoff, final check of every target",
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "code_version": code or code_version(),
        "packages": package_versions(),
        "parameter_file_sha256": parameter_file_hash(),
        "parameter_values_sha256": parameter_values_hash(),
        "seed": seed,
        "size": {**vars(size), "total_runs_at_most": size.total_runs},
        "assumption_spread": spread,
        "around_fit": around,
        "municipality": {"inhabitants": base["scenario.inhabitants"], "years": base["scenario.years"],
                         "overrides": {k: v for k, v in base.overrides.items() if k != "scenario.regime"}},
        "targets": [{"name": t.name, "label": t.label, "source": t.source, "value": t.value,
                     "tolerance": t.tolerance} for t in TARGETS],
        "prior": [{"parameter": d.path, "group": d.group, "low": d.low, "high": d.high} for d in prior.dims],
        "waves": [vars(w) for w in outcome.waves],
        "checked": outcome.checked,
        "runs": outcome.runs,
        "accepted": len(outcome.sets),
        "narrowing": json.loads(table.to_json(orient="records")),
    }


def format_ensemble(record: dict, shown: int | None = None) -> str:
    """The calibration's answer as text: how it went, and each parameter's prior and posterior range."""
    lines = [f"History matching: {record['runs']} model runs, seed {record['seed']}; "
             f"{record['accepted']} parameter sets hold every target ({record['checked']} checked)."]
    for w in record["waves"]:
        quality = ", ".join(f"{k} {v:.2f}" for k, v in w["emulator_r2"].items() if np.isfinite(v))
        lines.append(f"  wave {w['number']}: {w['runs']} runs, {w['kept_share']:.1%} of the prior still plausible"
                     + (f"; emulator R2 on these runs: {quality}" if quality else ""))
    lines += ["", "Posterior against prior (5-95% of the accepted sets; 'span' is the share of the prior range they "
              "cover: a uniform draw covers 0.90)", f"{'parameter':<44}{'group':<12}{'prior':>24}{'posterior 5-95%':>26}"
              f"{'span':>7}  pinned?"]
    rows = sorted(record["narrowing"], key=lambda r: (r["group"] != "calibrated", r["span"]))
    for r in rows[:shown]:
        r = {k: (float("nan") if v is None else v) for k, v in r.items()}  # JSON keeps NaN as null
        pinned = "yes" if r["span"] < PINNED_SPAN else ("partly" if r["span"] < PARTLY_PINNED_SPAN else "no")
        lines.append(f"{r['parameter']:<44}{r['group']:<12}{_rng(r['prior_low'], r['prior_high']):>24}"
                     f"{_rng(r['posterior_p05'], r['posterior_p95']):>26}{r['span']:>7.2f}  {pinned}")
    return "\n".join(lines)


PINNED_SPAN = 0.5  # a posterior 5-95% range under half the prior range: the targets pin the parameter down
PARTLY_PINNED_SPAN = 0.75  # under three quarters: they narrow it


def _rng(lo: float, hi: float) -> str:
    return f"{lo:.4g} to {hi:.4g}" if np.isfinite(lo) else "n/a"


def write_ensemble(folder: Path, outcome: Outcome, record: dict) -> None:
    """The ensemble (one row per set) with its record in the Parquet metadata and beside it as JSON."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(outcome.sets, preserve_index=False)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                           b"ontschot.ensemble": json.dumps(record).encode()})
    pq.write_table(table, folder / "ensemble.parquet")
    (folder / "ensemble.json").write_text(json.dumps(record, indent=2))
    outcome.design.to_parquet(folder / "waves.parquet", index=False)


def install_ensemble(folder: Path, target: Path = DEFAULT_ENSEMBLE, wait: float = INSTALL_WAIT_SECONDS) -> None:
    """Make a calibration folder's ensemble the default of ``run --ensemble`` (written whole, then renamed).

    Two ``calibrate --write`` finishing at once install one after the other: each holds the ensemble
    folder's lock while it writes both files (the pair stays one calibration's), waiting up to ``wait``
    seconds for the other; each file is written under a name of its own, then renamed over the target.

    Raises:
        LockedError: another install still holds the folder after ``wait`` seconds.
    """
    import shutil
    import tempfile

    from experiments.lock import FolderLock

    target.parent.mkdir(parents=True, exist_ok=True)
    lock = FolderLock(target.parent, INSTALL_LOCK, "ensemble folder", "another calibrate --write is installing "
                      "its ensemble: run --ensemble with this calibration's folder, or install it again later")
    lock.acquire(wait=wait)
    try:
        for name, dest in (("ensemble.parquet", target), ("ensemble.json", target.with_suffix(".json"))):
            fd, temp = tempfile.mkstemp(dir=dest.parent, prefix=dest.name + ".", suffix=".partial")
            os.close(fd)
            try:
                shutil.copyfile(folder / name, temp)
                os.replace(temp, dest)
            finally:
                Path(temp).unlink(missing_ok=True)
    finally:
        lock.release()


def load_ensemble(path: str | Path = DEFAULT_ENSEMBLE) -> tuple[pd.DataFrame, dict]:
    """An ensemble file (or a calibration folder holding ensemble.parquet): its sets and its record.

    Raises:
        InputError: no such file, not an ensemble, or parameters it sets that the parameter set lacks.
    """
    import pyarrow.parquet as pq

    from model.parameters import show_path

    path = Path(path)
    if path.is_dir():
        path = path / "ensemble.parquet"
    try:
        table = pq.read_table(path)
        record = json.loads(table.schema.metadata[b"ontschot.ensemble"])
    except (OSError, KeyError, TypeError, ValueError) as exc:
        reason = "no ensemble record in it" if isinstance(exc, (KeyError, TypeError)) else str(exc).splitlines()[0]
        raise InputError(f"--ensemble {show_path(path)}: not an ensemble file made by ontschot calibrate ({reason})") \
            from None
    sets = table.to_pandas()
    names = {d["parameter"] for d in record.get("prior", [])}
    unknown = sorted(n for n in names if n not in PARAMETERS)
    if unknown:
        raise InputError(f"--ensemble {show_path(path)}: sets parameter(s) {unknown[:3]} that the parameter set "
                         "does not have; make the ensemble again with ontschot calibrate")
    if len(sets) == 0:
        raise InputError(f"--ensemble {show_path(path)}: holds no parameter set (no set held every target)")
    return sets[[d["parameter"] for d in record["prior"]]], record


def simulate(values: dict[str, float], seeds=SEEDS, overrides: dict | Values | None = None) -> dict[str, float]:
    """Mean simulated figure per target over the seeds, for the given free-parameter values.

    ``overrides`` are the fixed rest: plain overrides (validated here) or ``Values`` (validated
    already); only the free values and the compartmentalised regime are validated per call.
    """
    params = as_values(overrides).with_changes({**values, "scenario.regime": "compartmentalised"})
    per_target: dict[str, list[float]] = {t.name: [] for t in TARGETS}
    for seed in seeds:
        model = SocialDomainModel(params=params, rng=seed)
        while model.running:
            model.step()
        wide = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
        wide.index = wide.index + 1
        wide = wide[wide.index > BURN_IN_YEARS]
        for t in TARGETS:
            per_target[t.name].append(t.compute(wide, model.inhabitants))
        model.release()
    return {k: float(np.mean(finite)) if len(finite := [x for x in v if np.isfinite(x)]) else float("nan")
            for k, v in per_target.items()}


def loss(simulated: dict[str, float]) -> float:
    """Sum of squared deviations from the targets in units of their tolerance; an undefined target costs a lot."""
    total = 0.0
    for t in TARGETS:
        z = (simulated[t.name] - t.value) / t.tolerance
        total += z * z if np.isfinite(z) else UNDEFINED_TARGET_PENALTY
    return float(total)


class BudgetSpent(Exception):
    """The fit has made as many objective evaluations as it was allowed."""


def fit(max_evals: int = 300, seeds=SEEDS, overrides: dict | None = None, log=None,
        design_points: int = DESIGN_POINTS) -> tuple[dict[str, float], dict]:
    """Sobol design over FREE (plus START), then Nelder-Mead from the best point; returns rounded values and targets.

    ``max_evals`` bounds every objective evaluation of the fit (one simulation over ``seeds`` each):
    the start, as many design points as fit in it, then the simplex search until the budget is spent
    (the search's own stopping rule may end it sooner). When the budget ends the search, the best point
    seen is returned. The targets of the fitted values are simulated once more for the answer.

    Raises:
        ValueError: ``max_evals`` below 1.
    """
    if max_evals < 1:
        raise ValueError(f"max_evals = {max_evals}: at least 1 evaluation is needed")
    paths = list(FREE)
    count = [0]
    best: dict = {"loss": np.inf, "z": None}
    base = as_values(overrides)  # validated once for the whole fit

    def objective(z: np.ndarray) -> float:
        if count[0] >= max_evals:
            raise BudgetSpent
        values = {p: _from_unit(p, zi) for p, zi in zip(paths, z, strict=True)}
        value = loss(simulate(values, seeds, base))
        count[0] += 1
        if value < best["loss"]:
            best.update(loss=value, z=np.array(z, dtype=float))
        if log:
            log(f"eval {count[0]:>4}  loss {value:10.3f}")
        return value

    # Stage 1: a scrambled Sobol design over the bounds (fixed seed), plus the start itself; the design's
    # first points only when the budget is smaller (the same points as a larger budget's, in the same order).
    design = qmc.Sobol(d=len(paths), scramble=True, seed=DESIGN_SEED).random(design_points)
    design = np.clip(design, 0.01, 0.99)[: max_evals - 1]
    candidates = [np.array([_to_unit(p, START[p]) for p in paths])]
    candidates += [np.log(row / (1 - row)) for row in design]
    scores = [objective(z) for z in candidates]
    x = candidates[int(np.argmin(scores))]
    # Stage 2: Nelder-Mead from the best point, with a simplex spanning a tenth of each bound.
    if count[0] < max_evals:
        simplex = np.vstack([x] + [x + SIMPLEX_STEP * np.eye(len(paths))[k] for k in range(len(paths))])
        try:
            x = minimize(objective, x, method="Nelder-Mead",
                         options={"maxfev": max_evals - count[0], "xatol": 1e-3, "fatol": 1e-3,
                                  "initial_simplex": simplex}).x
        except BudgetSpent:
            x = best["z"]
    fitted = {p: float(f"{_from_unit(p, z):.{SIGNIFICANT}g}") for p, z in zip(paths, x, strict=True)}
    return fitted, simulate(fitted, seeds, base)


def _toml_value(value: float) -> str:
    return repr(float(value))


def write_back(fitted: dict[str, float], date: str, path: Path = PARAMETER_FILE) -> None:
    """Write fitted values into the parameter file: value, status 'calibrated', source with the date, prior reason."""
    text = path.read_text()
    targets = ", ".join(f"{t.name} {t.source}" for t in TARGETS)
    for key, value in fitted.items():
        spec = PARAMETERS.get(key)
        lo, hi = spec.range
        if not lo <= value <= hi:
            raise ValueError(f"fitted {key} = {value} is outside its allowed range {lo} to {hi}")
        header = f"[{key}]\n"
        start = text.index(header) + len(header)
        end = text.find("\n[", start)
        end = len(text) if end < 0 else end + 1
        block = text[start:end]
        prior_match = re.search(r"^prior = (.*)$", block, flags=re.M)
        prior = prior_match.group(1) if prior_match else json.dumps(spec.source)
        source = (f"calibrated {date} by experiments/calibrate.py (Sobol design then Nelder-Mead, seeds "
                  f"{', '.join(map(str, SEEDS))}) to the targets {targets}")
        block = re.sub(r"^prior = .*\n", "", block, flags=re.M)
        block = re.sub(r"^value = .*$", f"value = {_toml_value(value)}", block, flags=re.M)
        block = re.sub(r"^status = .*$", 'status = "calibrated"', block, flags=re.M)
        replacement = f"source = {json.dumps(source)}\nprior = {prior}"
        block = re.sub(r"^source = .*$", lambda _, new=replacement: new, block, flags=re.M)
        text = text[:start] + block + text[end:]
    path.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-evals", type=int, default=300,
                        help="objective evaluations of the fit, at most (default 300); the start's and the fit's "
                             "targets are simulated once more each for the table")
    parser.add_argument("--write", action="store_true", help="write the fit into model/parameters.toml")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    if args.max_evals < 1:
        parser.error(f"--max-evals {args.max_evals}: at least 1 evaluation is needed")
    log = None if args.quiet else (lambda msg: print(msg, file=sys.stderr, flush=True))
    before = simulate(START)
    fitted, after = fit(args.max_evals, log=log)
    print(f"{'parameter':<42}{'start':>12}{'fitted':>12}   bounds")
    for p, v in fitted.items():
        print(f"{p:<42}{START[p]:>12.4g}{v:>12.4g}   {FREE[p][0]:g} to {FREE[p][1]:g}")
    print(f"\n{'target':<26}{'value':>10}{'tol':>9}{'start':>12}{'fitted':>12}")
    for t in TARGETS:
        print(f"{t.name:<26}{t.value:>10.4g}{t.tolerance:>9.3g}{before[t.name]:>12.4g}{after[t.name]:>12.4g}")
    print(f"\nloss: start {loss(before):.3f}, fitted {loss(after):.3f}")
    if args.write:
        write_back(fitted, dt.date.today().isoformat())
        print(f"written to {PARAMETER_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
