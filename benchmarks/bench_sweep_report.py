"""The report of a 640-run sensitivity folder: wall time, CPU time and peak memory (target: a few minutes, bounded).

Builds (or reuses, when it is complete) a Sobol sensitivity folder of 3 parameters, n = 64 base samples and
2 regimes — 64 x (3 + 2) x 2 = 640 runs — at a small municipality (5,000 inhabitants, 4 years), with
``ontschot sensitivity`` (on 2 local Dask workers by default), then times ``ontschot report`` on it in
a child process that measures itself: wall time, CPU time (its own and its figure processes') and peak
resident memory (its own; the figure processes are forks of it). Prints the load average next to
every figure, as the machine may be shared.

    python benchmarks/bench_sweep_report.py [--folder DIR] [--n 64] [--workers 2] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DESIGN = """
name = "bench-sweep-report"
regimes = ["compartmentalised", "integrated"]
replications = 1
seed = 18
[base]
"scenario.inhabitants" = {inhabitants}
"scenario.years" = {years}
[sampler]
method = "sobol"
n = {n}
[vary]
"practice.outreach" = {{}}
"work.unaddressed_penalty" = {{}}
"firm.lock_in" = {{}}
[outcomes]
indicators = ["outflow_work", "spend_total"]
difference = ["integrated", "compartmentalised"]
"""
KIB = 1024


def load() -> str:
    """The 1, 5 and 15 minute load averages."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def measured(argv: list[str]) -> dict:
    """Run ``python -m experiments.cli ARGV`` in a child that reports its own wall, CPU and peak memory."""
    code = ("import json, resource, sys, time\n"
            "from experiments.cli import main\n"
            "t = time.perf_counter()\n"
            f"status = main({argv!r})\n"
            "wall = time.perf_counter() - t\n"
            "me = resource.getrusage(resource.RUSAGE_SELF)\n"
            "kids = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
            "print(json.dumps({'status': status, 'wall': wall, 'cpu': me.ru_utime + me.ru_stime,\n"
            "                  'cpu_children': kids.ru_utime + kids.ru_stime, 'peak_rss_mb': me.ru_maxrss / 1024,\n"
            "                  'peak_rss_children_mb': kids.ru_maxrss / 1024}), file=sys.stderr)\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    before = load()
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    stats = json.loads(proc.stderr.strip().splitlines()[-1])
    return {**stats, "wall_with_start": wall, "load_before": before, "load_after": load()}


def folder_size(folder: Path) -> dict:
    """Runs, tidy rows and bytes of the run files (from the Parquet footers only)."""
    import pyarrow.parquet as pq

    files = sorted((folder / "runs").glob("*.parquet"))
    return {"runs": len(files), "rows": sum(pq.read_metadata(f).num_rows for f in files),
            "megabytes": sum(f.stat().st_size for f in files) / KIB / KIB}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folder", type=Path, default=Path(tempfile.gettempdir()) / "ontschot-bench-sweep-report",
                        help="the sensitivity folder (built if missing, resumed if incomplete)")
    parser.add_argument("--n", type=int, default=64, help="Sobol base samples (default 64: 640 runs)")
    parser.add_argument("--inhabitants", type=int, default=5000)
    parser.add_argument("--years", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    args.folder.parent.mkdir(parents=True, exist_ok=True)
    design = args.folder.with_suffix(".toml")
    design.write_text(DESIGN.format(n=args.n, inhabitants=args.inhabitants, years=args.years))
    out: dict = {"design": {"n": args.n, "parameters": 3, "regimes": 2, "inhabitants": args.inhabitants,
                            "years": args.years}}
    complete = (args.folder / "sensitivity.csv").is_file()
    if not complete:
        out["sensitivity"] = measured(["sensitivity", str(design), "--out", str(args.folder), "--workers",
                                       str(args.workers), "--no-progress"])
    out["folder"] = {"path": str(args.folder), **folder_size(args.folder)}
    out["report"] = measured(["report", str(args.folder)])
    out["cpu_count"] = os.cpu_count()
    if args.json:
        print(json.dumps(out, indent=2))
        return
    f = out["folder"]
    print(f"sensitivity folder {f['path']}: {f['runs']} runs, {f['rows']:,} tidy rows, {f['megabytes']:.1f} MB")
    for name in ("sensitivity", "report"):
        if name not in out:
            print(f"{name:<12} reused (the folder was complete)")
            continue
        m = out[name]
        print(f"{name:<12} wall {m['wall']:7.1f} s (with interpreter start {m['wall_with_start']:.1f} s)   "
              f"CPU {m['cpu']:.1f} s own + {m['cpu_children']:.1f} s child processes   "
              f"peak RSS {m['peak_rss_mb']:.0f} MB own, {m['peak_rss_children_mb']:.0f} MB largest child   "
              f"load {m['load_before']} -> {m['load_after']}")


if __name__ == "__main__":
    main()
