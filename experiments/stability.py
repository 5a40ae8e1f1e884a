"""``ontschot sensitivity``: the analysis of a finished sensitivity sweep, and ``--until-stable``.

The analysis reads per-run summaries (``analysis/aggregates.py``, one run file at a time), computes
the indices (``analysis/sensitivity.py``) and, for Sobol, the same indices at N/8, N/4, N/2 and N
base samples with the stopping rule between the last two (``analysis/convergence.py``). It writes
into the sweep folder, each file whole or not at all:

    sensitivity.csv, sensitivity.txt       the indices at N with 95% intervals, ranked
    sensitivity_outcomes.csv               the outcome of every design point
    sensitivity_indices.png                the indices as points with their intervals, per outcome
    convergence.csv, convergence.png       Sobol: the indices against the base samples N
    stability.json                         Sobol: the stopping rule's verdict and tolerance

``--until-stable`` keeps one sweep folder per size under ``--out`` (``n8``, ``n16``, ...): it runs
the design at its own N, then doubles N until the indices are stable or the next size would pass
``--max-runs``. The runs of a smaller size are the first runs of the larger one (same values, same
seeds, so the same run ids); they are linked into the larger folder, verified there like any run
file, and not run again. ``until_stable.json`` in ``--out`` records the design, the rule, every size
tried and why it stopped; re-running the same command resumes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis.aggregates import sweep_summaries
from analysis.convergence import DEFAULT_TOLERANCE, Stability, convergence, format_convergence, stability
from analysis.sensitivity import analyse, format_sensitivity, outcomes_by_point
from experiments.design import Design
from experiments.limits import Limits
from experiments.runfiles import StoreWriteError, publish
from experiments.store import OutputError, code_version, os_reason, refuse_system_folder
from model.parameters import InputError, show_path

DEFAULT_MAX_RUNS = 2000  # --max-runs: the largest sweep --until-stable may grow to
RECORD = "until_stable.json"
STABILITY = "stability.json"
SIZE_PREFIX = "n"


@dataclass
class Analysis:
    """What the analysis of one sensitivity sweep folder found."""

    design: Design
    folder: Path
    table: pd.DataFrame  # indices at the design's size
    outcomes: pd.DataFrame  # one row per design point
    convergence: pd.DataFrame | None  # Sobol: indices at each prefix size
    verdict: Stability | None  # Sobol: the stopping rule between the two largest sizes
    text: str

    @property
    def runs(self) -> int:
        """Runs of the analysed design (points x regimes x replications)."""
        return len(self.design.plan())


def sampler_seed(design: Design) -> int:
    """The sampler's seed (the design seed unless the sampler names its own); it also seeds the bootstrap."""
    return int(design.sampler.get("seed", design.seed))


def analyse_folder(design: Design, folder: str | Path, tolerance: float = DEFAULT_TOLERANCE,
                   write: bool = True) -> Analysis:
    """Indices (and, for Sobol, their convergence and the stopping rule) of a complete sweep folder.

    Raises:
        InputError: the folder lacks runs or holds a damaged one; OutputError: a file cannot be written
        (the files already there stay as they were).
    """
    folder = Path(folder)
    outcomes = outcomes_by_point(design, sweep_summaries(folder))
    table = analyse(design, outcomes)
    conv = verdict = None
    lines = [f"{design.method.capitalize()} sensitivity, {len(outcomes)} sample points x {len(design.regimes)} "
             f"regime(s) x {design.replications} replication(s) (averaged per point):", "",
             format_sensitivity(table, design.method)]
    if design.method == "sobol":
        conv = convergence(design.salib_problem(), outcomes, int(design.sampler["n"]), sampler_seed(design))
        verdict = stability(conv, tolerance)
        lines += ["Convergence: the same indices on the first N/8, N/4, N/2 and N base samples of the design", "",
                  format_convergence(conv), f"Stopping rule: {verdict.describe()}.", ""]
    result = Analysis(design, folder, table, outcomes, conv, verdict, "\n".join(lines))
    if write:
        _write(result)
    return result


def _write(result: Analysis) -> None:
    from analysis.report import sensitivity_figures as figures

    files: dict[str, bytes] = {
        "sensitivity.csv": result.table.to_csv(index=False).encode(),
        "sensitivity_outcomes.csv": result.outcomes.to_csv().encode(),
        "sensitivity.txt": (result.text + "\n").encode(),
        "sensitivity_indices.png": figures.indices(result.table),
    }
    if result.convergence is not None:
        files["convergence.csv"] = result.convergence.to_csv(index=False).encode()
        files["convergence.png"] = figures.convergence(result.convergence)
        verdict = {k: (None if isinstance(v, float) and not math.isfinite(v) else v)  # JSON has no NaN
                   for k, v in dataclasses.asdict(result.verdict).items()}
        files[STABILITY] = json.dumps({**verdict, "text": result.verdict.describe(),
                                       "seed": sampler_seed(result.design), "n": int(result.design.sampler["n"]),
                                       "design_hash": result.design.digest},
                                      indent=2, default=str).encode()
    try:
        for name, blob in files.items():
            publish(result.folder / name, blob)
    except StoreWriteError as exc:
        raise OutputError(f"--out {show_path(result.folder)}: the sensitivity tables could not be written ({exc}); "
                          "the runs are saved: run the same command again") from None


# ------------------------------------------------------------------ --until-stable


def design_at(design: Design, n: int) -> Design:
    """The same design with ``n`` base samples (its plan made anew; its points begin with the smaller design's)."""
    sampler = {**design.sampler, "n": n}
    return dataclasses.replace(design, sampler=sampler, source={**design.source, "sampler": sampler})


def family_digest(design: Design) -> str:
    """Hash of the design without its sample size: every size of one --until-stable folder shares it."""
    source = {**design.source, "sampler": {k: v for k, v in design.sampler.items() if k != "n"}}
    return hashlib.sha256(json.dumps(source, sort_keys=True, default=str).encode()).hexdigest()[:16]


def runs_at(design: Design, n: int) -> int:
    """Distinct runs of the design at ``n`` base samples (points x regimes x replications, less repeated points)."""
    from experiments.sweep import unique_runs

    return len(unique_runs(design_at(design, n).plan()))


@dataclass
class Step:
    """One size tried."""

    n: int
    runs: int
    folder: str
    stable: bool
    verdict: str


@dataclass
class Outcome:
    """How --until-stable ended: ``stopped`` is "stable" or "bound"."""

    stopped: str
    steps: list[Step]
    reason: str
    final: Analysis | None = None

    def describe(self) -> str:
        """The plain sentence the command prints last."""
        last = self.steps[-1]
        if self.stopped == "stable":
            return f"Stopped because the indices are stable at N = {last.n} ({last.runs:,} runs): {last.verdict}."
        return (f"Stopped at the bound, NOT because the indices are stable: {self.reason}. At N = {last.n} "
                f"({last.runs:,} runs): {last.verdict}.")


def double_until_stable(start: int, runs: Callable[[int], int], evaluate: Callable[[int], Stability],
                        max_runs: int, allowed: Callable[[int], str | None] = lambda n: None) -> Outcome:
    """The stopping rule's loop: evaluate at ``start``, then at twice the size, until stable or bounded.

    Args:
        start: the first base-sample size.
        runs: the runs a size needs.
        evaluate: make (or resume) the runs of a size and return the verdict between N/2 and N.
        max_runs: no size needing more runs is tried.
        allowed: None if a size may be tried, else why not (a size limit).

    Raises:
        InputError: ``start`` alone needs more than ``max_runs`` runs.
    """
    if runs(start) > max_runs:
        raise InputError(f"--max-runs {max_runs:,} is not allowed for this design: its own size, N = {start}, "
                         f"needs {runs(start):,} runs; give at least that many")
    steps, n = [], start
    while True:
        verdict = evaluate(n)
        steps.append(Step(n, runs(n), f"{SIZE_PREFIX}{n}", verdict.stable, verdict.describe()))
        if verdict.stable:
            return Outcome("stable", steps, "")
        refused = allowed(2 * n)  # a size limit, checked before the larger design is planned
        if refused:
            return Outcome("bound", steps, refused)
        if runs(2 * n) > max_runs:
            return Outcome("bound", steps, f"N = {2 * n} would need {runs(2 * n):,} runs, more than --max-runs "
                                           f"{max_runs:,}")
        n *= 2


def check_parent(design: Design, out: Path) -> dict | None:
    """The --until-stable folder: new, empty, or one made by --until-stable for this design; its record if any.

    Raises:
        InputError: a file, a single sweep's folder, something else, or another design.
    """
    from experiments.lock import RUN_LOCK

    refuse_system_folder(out)
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {show_path(out)} is not allowed: it is a file, not a folder")
    if not out.is_dir() or all(p.name == RUN_LOCK for p in out.iterdir()):  # the command's own lock (cli.out_lock)
        return None
    if (out / "sweep.json").is_file():
        raise InputError(f"--out {show_path(out)} holds one sweep; --until-stable keeps one sweep folder per size "
                         "under --out: choose a new --out folder (or drop --until-stable)")
    if not (out / RECORD).is_file():
        raise InputError(f"--out {show_path(out)} is not empty and was not made by --until-stable (no {RECORD}): "
                         "choose a new --out folder")
    try:
        record = json.loads((out / RECORD).read_text())
    except (OSError, ValueError) as exc:
        raise InputError(f"{show_path(out / RECORD)} cannot be read ({exc}): choose a new --out folder") from None
    if record.get("family") != family_digest(design):
        raise InputError(f"--out {show_path(out)} holds --until-stable runs of another design (hash "
                         f"{record.get('family')}; this design without its N has hash {family_digest(design)}): "
                         "choose a new --out folder")
    return record


def preflight(design: Design, out: Path, max_runs: int, folder: bool = True) -> None:
    """What --until-stable checks before any cluster starts: a Sobol design, the folder, its own size within the bound.

    ``folder=False`` leaves the folder's contents unchecked (the command checks them again once it holds
    the folder's lock, ``run_until_stable``).

    Raises:
        InputError: naming the option, the value and what is allowed.
    """
    if design.method != "sobol":
        raise InputError(f"--until-stable is not allowed with sampler.method = {design.method!r}: it doubles a Sobol "
                         "design's n (sampler.method = 'sobol')")
    if folder:
        check_parent(design, out)
    n = int(design.sampler["n"])
    if runs_at(design, n) > max_runs:
        raise InputError(f"--max-runs {max_runs:,} is not allowed for this design: its own size, N = {n}, "
                         f"needs {runs_at(design, n):,} runs; give at least that many")


def link_smaller_runs(out: Path, folder: Path, design: Design) -> int:
    """Link the run files of the smaller sizes under ``out`` that this size plans into its ``runs/``.

    A link (a copy where the file system has none) of a verified file; the sweep verifies it again.
    """
    planned = {s.run_id for s in design.plan()}
    target = folder / "runs"
    linked = 0
    for sub in sorted(p for p in out.iterdir() if p.is_dir() and p != folder and (p / "runs").is_dir()):
        for path in (sub / "runs").glob("*.parquet"):
            dest = target / path.name
            if path.stem not in planned or dest.exists():
                continue
            try:
                os.link(path, dest)
            except OSError:
                publish(dest, path.read_bytes())
            linked += 1
    return linked


def run_until_stable(design: Design, out: str | Path, run_size: Callable[[Design, Path], dict], tolerance: float,
                     max_runs: int, limits: Limits, print_line: Callable[[str], None] = print) -> Outcome:
    """Double the design's N until its Sobol indices are stable or ``max_runs`` is reached (see the module).

    Args:
        design: a Sobol design (its N is the first size).
        out: the parent folder (one sweep folder per size inside).
        run_size: make or resume the sweep of a design in a folder; returns its status
            (``experiments.sweep.status``).
        tolerance: the stopping rule's tolerance.
        max_runs: the bound on the runs of the largest size.
        limits: size limits in force (a size above them ends the doubling like the bound).
        print_line: where progress lines go.

    Raises:
        InputError: not a Sobol design, a bad --out, runs that failed; OutputError: a file-system error.
    """
    from experiments.sweep import prepare

    out = Path(out)
    preflight(design, out, max_runs)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"--out {show_path(out)} cannot be created: {os_reason(exc)}; nothing was run") from None
    analyses: dict[int, Analysis] = {}
    steps_done: list[dict] = []

    def record(stopped: str | None, reason: str = "") -> None:
        _publish_json(out / RECORD, {
            "family": family_digest(design), "design": {"name": design.name, **design.source},
            "seed": design.seed, "sampler_seed": sampler_seed(design), "tolerance": tolerance, "max_runs": max_runs,
            "steps": steps_done, "stopped": stopped, "reason": reason, "code_version": code_version(),
            "updated": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")})

    def evaluate(n: int) -> Stability:
        sized = design_at(design, n)
        folder = out / f"{SIZE_PREFIX}{n}"
        if any(out.glob(f"{SIZE_PREFIX}*/runs")):  # runs of another size: link the ones this size plans
            prepare(sized, folder)
            linked = link_smaller_runs(out, folder, sized)
            if linked:
                print_line(f"N = {n}: {linked} run(s) of the smaller sizes linked into {folder}/runs (not run again)")
        state = run_size(sized, folder)
        if state["remaining"]:
            raise InputError(f"the sweep in '{folder}' lacks {state['remaining']} of its {state['planned']} runs "
                             f"({state['failed']} failed, see failures/): run the same command again to fill them")
        analysis = analyse_folder(sized, folder, tolerance)
        analyses[n] = analysis
        print_line(f"N = {n} ({state['planned']:,} runs, {folder}): {analysis.verdict.describe()}")
        steps_done.append({"n": n, "runs": state["planned"], "folder": folder.name,
                           "stable": analysis.verdict.stable, "verdict": analysis.verdict.describe()})
        record(None)
        return analysis.verdict

    def allowed(n: int) -> str | None:
        try:
            limits.check("samples", n, f"sampler.n = {n}")
            nominal = n * (len(design.vary) + 2) * len(design.regimes) * design.replications
            limits.runs(nominal, f"N = {n}", "--until-stable")
        except InputError as exc:
            return str(exc)
        return None

    sizes: dict[int, int] = {}

    def runs(n: int) -> int:
        if n not in sizes:
            sizes[n] = runs_at(design, n)
        return sizes[n]

    outcome = double_until_stable(int(design.sampler["n"]), runs, evaluate, max_runs, allowed)
    outcome.final = analyses[outcome.steps[-1].n]
    record(outcome.stopped, outcome.reason or outcome.describe())
    return outcome


def _publish_json(path: Path, obj: dict) -> None:
    try:
        publish(path, json.dumps(obj, indent=2, default=str).encode())
    except StoreWriteError as exc:
        raise OutputError(f"{exc}; the runs are saved: run the same command again") from None
