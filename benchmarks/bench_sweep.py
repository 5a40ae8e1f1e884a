"""Parallel efficiency of sweeps: the same sweep on 1 and on 2 local Dask workers, in one process.

Prints wall time for each and the speed-up (target: at least 1.8 on a 2-core machine). Cluster
start-up is excluded (the cluster is started before timing); each timed sweep writes to a new
folder so nothing is skipped.

    python benchmarks/bench_sweep.py [--runs N] [--json]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=40, help="runs in the sweep (a multiple of 4; default 40)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "design.toml"
        path.write_text(DESIGN.format(replications=max(args.runs // 4, 1)))
        design = load_design(path)
        one = timed_sweep(design, Path(tmp) / "one", 1)
        two = timed_sweep(design, Path(tmp) / "two", 2)
    runs = len(design.plan())
    result = {"runs": runs, "seconds_1_worker": one, "seconds_2_workers": two, "speed_up": one / two,
              "target": TARGET}
    if args.json:
        print(json.dumps(result, indent=2))
        return
    verdict = "meets" if result["speed_up"] >= TARGET else "MISSES"
    print(f"{runs} runs (30,000 inhabitants, 15 years each): 1 worker {one:.1f} s, 2 workers {two:.1f} s, "
          f"speed-up {result['speed_up']:.2f} (target >= {TARGET}: {verdict})")


if __name__ == "__main__":
    main()
