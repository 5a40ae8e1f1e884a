"""Parallel efficiency of sweeps: the same sweep on 1 and on 2 local Dask workers, in one process.

Prints the median wall time of each (over interleaved repeats) and the speed-up (target: at least
1.8 on a 2-core machine). Cluster start-up is excluded (the cluster is started and the model
imported on every worker before timing); each timed sweep writes to a new folder so nothing is
skipped. For context it also measures the machine's ceiling: the same runs split over two plain
processes without Dask.

    python benchmarks/bench_sweep.py [--runs N] [--repeats R] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from multiprocessing import get_context
from pathlib import Path

from dask.distributed import Client, LocalCluster

from experiments.design import load_design
from experiments.sweep import run_sweep

TARGET = 1.8
DESIGN = """
name = "bench"
regimes = ["compartmentalised", "integrated"]
replications = {replications}
seed = 1
[base]
"scenario.inhabitants" = 30000
"scenario.years" = 15
[vary]
"scenario.pooled_share" = [0.0, 0.5]
"""


def timed_sweep(design, folder: Path, workers: int) -> float:
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address="127.0.0.1:0") as cluster, Client(cluster) as client:
        client.submit(sum, [1]).result()  # workers are up and have imported nothing of ours yet
        client.run(lambda: __import__("experiments.runner"))  # import the model on every worker first
        start = time.perf_counter()
        summary = run_sweep(design, folder, client=client, progress=False)
        seconds = time.perf_counter() - start
    assert summary["failed"] == 0 and summary["done"] == summary["planned"]
    return seconds


def _plain(seeds: list[int]) -> int:
    from experiments.runner import run_one

    for s in seeds:
        run_one("compartmentalised", s, {"scenario.inhabitants": 30000, "scenario.years": 15})
    return len(seeds)


def ceiling(runs: int) -> float:
    """Speed-up of two plain processes over one on the same runs (no Dask): what the machine allows."""
    seeds = list(range(runs))
    with get_context("spawn").Pool(2) as pool:
        pool.map(_plain, [[0], [1]])
        start = time.perf_counter()
        pool.map(_plain, [seeds])
        one = time.perf_counter() - start
        start = time.perf_counter()
        pool.map(_plain, [seeds[::2], seeds[1::2]])
        two = time.perf_counter() - start
    return one / two


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=40, help="runs in the sweep (a multiple of 4; default 40)")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats of each configuration (default 3)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    times: dict[int, list[float]] = {1: [], 2: []}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "design.toml"
        path.write_text(DESIGN.format(replications=max(args.runs // 4, 1)))
        design = load_design(path)
        for k in range(args.repeats):
            for workers in (1, 2):
                times[workers].append(timed_sweep(design, Path(tmp) / f"w{workers}-{k}", workers))
    one, two = statistics.median(times[1]), statistics.median(times[2])
    runs = len(design.plan())
    result = {"runs": runs, "repeats": args.repeats, "seconds_1_worker": times[1], "seconds_2_workers": times[2],
              "speed_up": one / two, "speed_up_each_repeat": [a / b for a, b in zip(times[1], times[2], strict=True)],
              "machine_ceiling": ceiling(runs), "target": TARGET}
    if args.json:
        print(json.dumps(result, indent=2))
        return
    verdict = "meets" if result["speed_up"] >= TARGET else "MISSES"
    each = ", ".join(f"{s:.2f}" for s in result["speed_up_each_repeat"])
    print(f"{runs} runs (30,000 inhabitants, 15 years each), median of {args.repeats}: 1 worker {one:.1f} s, "
          f"2 workers {two:.1f} s, speed-up {result['speed_up']:.2f} (repeats: {each}; target >= {TARGET}: {verdict})")
    print(f"machine ceiling (two plain processes, no Dask): {result['machine_ceiling']:.2f}")


if __name__ == "__main__":
    main()
