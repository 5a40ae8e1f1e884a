"""An ensemble's time: parameter sets x the default comparison, on 1 and 2 Dask workers, projected to 100 sets.

The uncertainty ensemble runs the default comparison (compartmentalised and integrated funding, the
default municipality and horizon, ``--replications`` paired replications) at each of many parameter
sets drawn over the calibrated parameters' allowed ranges (a Latin hypercube; ``experiments.design``).
Every parameter set needs its own spin-up per seed, shared by the regimes at that set when its runs
meet on the same worker (``experiments.sweep.WorkerHomes``). This benchmark runs ``--sets`` sets on the
sweep engine with a local Dask cluster of 1 and of 2 single-threaded workers (cluster start-up and
imports excluded, as in ``bench_sweep.py``), and prints the wall time, the time per set, the speed-up
from 1 to 2 workers (linear: 2.0) and the projected time of 100 sets on 2 workers (target: 30 min).

    python benchmarks/bench_ensemble.py [--sets 4] [--replications 10] [--json]

``--engine run`` times the path ``ontschot run --ensemble`` takes instead: the installed ensemble's
first ``--sets`` sets, every arm of the default comparison (3 arms), ``--replications`` seeds per set,
through ``experiments.ensemble.run_ensemble`` on 1 and 2 local processes, projected to the default run
(every set of the installed ensemble, 2 seeds each).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dask.distributed import Client, LocalCluster  # noqa: E402

from experiments.design import load_design  # noqa: E402
from experiments.sweep import run_sweep  # noqa: E402
from model.parameters import PARAMETERS  # noqa: E402

TARGET_MINUTES = 30.0
ENSEMBLE = 100  # parameter sets the target is stated for
SPREAD = 0.1  # each calibrated parameter's relative spread in the benchmark's sample (the cost hardly depends on it)


def design_text(sets: int, replications: int) -> str:
    """A Latin-hypercube design over the calibrated parameters: ``sets`` points, the two regimes.

    Each parameter varies by ``SPREAD`` either side of its value, within its allowed range (the whole
    ranges allow combinations the model refuses, such as a Wmo need threshold above the exit level).
    """
    lines = []
    for p in PARAMETERS:
        if p.status == "calibrated":
            low, high = max(p.range[0], p.value * (1 - SPREAD)), min(p.range[1], p.value * (1 + SPREAD))
            lines.append(f'"{p.path}" = {{ range = [{min(low, high)!r}, {max(low, high)!r}] }}')
    vary = "\n".join(lines)
    return (f'name = "ensemble"\nregimes = ["compartmentalised", "integrated"]\nreplications = {replications}\n'
            f'seed = 1\n[sampler]\nmethod = "lhs"\nsamples = {sets}\n[vary]\n{vary}\n')


def timed(design, folder: Path, workers: int) -> float:
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address="127.0.0.1:0") as cluster, Client(cluster) as client:
        client.run(lambda: __import__("experiments.runner"))  # the model imported on every worker first
        start = time.perf_counter()
        summary = run_sweep(design, folder, client=client, progress=False)
        seconds = time.perf_counter() - start
    if summary["failed"] or summary["done"] != summary["planned"]:
        raise SystemExit(f"the ensemble sweep did not finish: {summary}")
    return seconds


def run_engine(sets: int, replications: int, as_json: bool) -> None:
    """Time ``run --ensemble``'s runs on 1 and 2 local processes; project to the installed ensemble's default run."""
    from experiments.arms import build_arms, practice_bundle
    from experiments.calibrate import load_ensemble
    from experiments.ensemble import DEFAULT_ENSEMBLE_REPLICATIONS, plan_ensemble, run_ensemble

    load = os.getloadavg()[0]
    every, _ = load_ensemble()
    arms = build_arms(PARAMETERS.resolve({}), ["compartmentalised", "integrated"], practice_bundle(None))
    plan = plan_ensemble(arms, every.head(sets), replications, root_seed=1)
    seconds, cpu = {}, {}
    for w in (1, 2):
        start, start_cpu = time.perf_counter(), _cpu()
        run_ensemble(plan, workers=w, progress=False)
        seconds[w], cpu[w] = time.perf_counter() - start, _cpu() - start_cpu
    default_runs = len(every) * DEFAULT_ENSEMBLE_REPLICATIONS * len(arms)
    projected = seconds[2] / plan.runs * default_runs / 60
    result = {"engine": "run", "sets": sets, "replications": replications, "runs": plan.runs, "seconds": seconds,
              "cpu_seconds": cpu, "speed_up": seconds[1] / seconds[2], "default_runs": default_runs,
              "projected_default_min": projected, "target_min": TARGET_MINUTES, "load": [load, os.getloadavg()[0]]}
    if as_json:
        print(json.dumps(result, indent=2))
        return
    print(f"run --ensemble: {sets} sets x {len(arms)} arms x {replications} seeds = {plan.runs} runs (load average "
          f"{load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end)")
    for w in seconds:
        print(f"  {w} process(es): {seconds[w]:7.1f} s wall, {cpu[w]:7.1f} s CPU ({seconds[w] / plan.runs * 1000:.0f} "
              "ms a run)")
    print(f"  speed-up 1 -> 2 processes: {result['speed_up']:.2f} (linear: 2.00)")
    verdict = "meets" if projected <= TARGET_MINUTES else "misses"
    print(f"  the default run --ensemble ({len(every)} sets x {DEFAULT_ENSEMBLE_REPLICATIONS} seeds x {len(arms)} "
          f"arms = {default_runs} runs) on 2 processes, projected: {projected:.1f} min ({verdict} the target of "
          f"{TARGET_MINUTES:.0f} min)")


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the worker processes)."""
    mine, children = os.times()[:2], os.times()[2:4]
    return sum(mine) + sum(children)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", type=int, default=4)
    parser.add_argument("--replications", type=int, default=10)
    parser.add_argument("--engine", choices=["sweep", "run"], default="sweep",
                        help="sweep: the sweep engine on Dask (default); run: the path of ontschot run --ensemble")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.engine == "run":
        run_engine(args.sets, args.replications, args.json)
        return
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ensemble.toml"
        path.write_text(design_text(args.sets, args.replications))
        design = load_design(path)
        runs = len(design.plan())
        seconds = {w: timed(design, Path(tmp) / f"w{w}", w) for w in (1, 2)}
    per_set = seconds[2] / args.sets
    result = {"sets": args.sets, "replications": args.replications, "runs": runs, "seconds": seconds,
              "speed_up": seconds[1] / seconds[2], "per_set_s_on_2": per_set,
              "projected_100_sets_min": per_set * ENSEMBLE / 60, "target_min": TARGET_MINUTES,
              "load": [load, os.getloadavg()[0]]}
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"Ensemble: {args.sets} parameter sets x 2 regimes x {args.replications} replications = {runs} runs "
          f"(load average {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end)")
    for w, s in seconds.items():
        print(f"  {w} worker(s): {s:7.1f} s wall ({s / runs * 1000:.0f} ms a run)")
    print(f"  speed-up 1 -> 2 workers: {result['speed_up']:.2f} (linear: 2.00)")
    verdict = "meets" if result["projected_100_sets_min"] <= TARGET_MINUTES else "misses"
    print(f"  100 sets on 2 workers, projected: {result['projected_100_sets_min']:.1f} min ({verdict} the target of "
          f"{TARGET_MINUTES:.0f} min)")


if __name__ == "__main__":
    main()
