"""The main job's time: ``ontschot run --report`` on the built-in default scenario, as ``make run`` runs it.

Runs the job as a child process (the installed environment, the default comparison with its
decomposition, desk parts, audit and report), ``--repeats`` times, and prints per repeat the wall
time, the CPU time of the job and its worker processes, the runs asked for and made (from the
manifest) and the processes used; then the median, and the headline intervals: the width of the 95%
interval of each arm's paired difference in outflow to paid work and in spending, against the
widths of the serial pipeline before this benchmark existed (``BEFORE``, same seed and replications),
which they must not exceed. Also the machine's load average at the start and the end, since on a
shared 2-core machine another job's load shows up as wall time.

    python benchmarks/bench_run.py [--repeats 3] [--workers N] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 30.0
# Interval widths of the default job before the shared batch (commit 46da498: the arms, the Dask
# coalition sweep and the desk parts run one after another), root seed 20261122, 10 replications.
BEFORE = {("outflow_work", "integrated"): 11.4467, ("outflow_work", "integrated + pooling practices"): 21.8363,
          ("spend_total", "integrated"): 1.1423, ("spend_total", "integrated + pooling practices"): 1.1754}


def one_job(workers: int | None) -> dict:
    """Run the job once in a fresh folder; wall and CPU seconds, the manifest's run counts, the interval widths."""
    with tempfile.TemporaryDirectory() as tmp:
        argv = [sys.executable, "-m", "experiments.cli", "run", "--report", "--no-progress", "--out", tmp]
        if workers:
            argv += ["--workers", str(workers)]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(argv, check=True, cwd=ROOT, stdout=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(ROOT)})
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        (folder,) = [p for p in Path(tmp).iterdir() if p.is_dir()]
        manifest = json.loads((folder / "manifest.json").read_text())
        comparison = pd.read_csv(folder / "comparison.csv").set_index("summary")
        widths = {}
        for indicator, arm in BEFORE:
            widths[f"{indicator} | {arm}"] = float(comparison.loc[indicator, f"diff_{arm}_hi"]
                                                  - comparison.loc[indicator, f"diff_{arm}_lo"])
        report = (folder / "report.html").is_file()
        pairing = paired_precision(pd.read_csv(folder / "summaries.csv"))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": wall, "cpu_s": cpu, "runs": manifest.get("runs"), "report": report, "widths": widths,
            "pairing": pairing}


def paired_precision(summaries: pd.DataFrame) -> list[dict]:
    """What common random numbers buy: per headline difference, the spread of the arms and of their paired difference.

    ``unpaired_factor`` is how many times more replications independent runs would need for an
    interval as narrow: (var(arm) + var(baseline)) / var(paired difference).
    """
    arms = list(dict.fromkeys(summaries["arm"]))
    base = summaries[summaries["arm"] == arms[0]].set_index("replication").sort_index()
    rows = []
    for indicator, arm in BEFORE:
        other = summaries[summaries["arm"] == arm].set_index("replication").sort_index()
        a, b = base[indicator], other[indicator]
        diff = (b - a).var(ddof=1)
        rows.append({"indicator": indicator, "arm": arm, "sd_baseline": a.std(ddof=1), "sd_arm": b.std(ddof=1),
                     "sd_paired_difference": diff ** 0.5, "correlation": float(a.corr(b)),
                     "unpaired_factor": (a.var(ddof=1) + b.var(ddof=1)) / diff if diff > 0 else float("inf")})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=None, help="processes (default: every core)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    load_start = os.getloadavg()[0]
    jobs = [one_job(args.workers) for _ in range(args.repeats)]
    load_end = os.getloadavg()[0]
    median = statistics.median(j["wall_s"] for j in jobs)
    result = {"jobs": jobs, "median_wall_s": median, "target_s": TARGET_SECONDS, "load": [load_start, load_end],
              "cores": os.cpu_count()}
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"ontschot run --report (default scenario), {args.repeats} repeats, {os.cpu_count()} cores, "
          f"load average {load_start:.1f} at the start and {load_end:.1f} at the end")
    for i, j in enumerate(jobs, 1):
        runs = j["runs"] or {}
        print(f"  repeat {i}: {j['wall_s']:6.1f} s wall, {j['cpu_s']:6.1f} s CPU; runs asked {runs.get('planned')}, "
              f"made {runs.get('made')}, on {runs.get('workers')} processes; report {'written' if j['report'] else 'MISSING'}")
    verdict = "meets" if median <= TARGET_SECONDS else "misses"
    print(f"  median {median:.1f} s wall: {verdict} the target of {TARGET_SECONDS:.0f} s")
    print("  headline 95% interval widths (paired difference against compartmentalised), now vs before:")
    for (indicator, arm), before in BEFORE.items():
        now = jobs[0]["widths"][f"{indicator} | {arm}"]
        print(f"    {indicator:14s} {arm:32s} {now:9.4f}  vs {before:9.4f}  ({'no wider' if round(now, 4) <= before else 'WIDER'})")
    print("  paired replications (common random numbers): spread of the arms and of their paired difference")
    for r in jobs[0]["pairing"]:
        print(f"    {r['indicator']:14s} {r['arm']:32s} sd {r['sd_baseline']:8.2f} / {r['sd_arm']:8.2f}, paired difference "
              f"{r['sd_paired_difference']:7.2f} (correlation {r['correlation']:.3f}): independent runs would need "
              f"{r['unpaired_factor']:.0f}x the replications for the same interval")


if __name__ == "__main__":
    main()
