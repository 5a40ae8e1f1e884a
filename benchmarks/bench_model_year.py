"""Cost of a model year per resident against Mesa's floor, and the 900,000-inhabitant city.

Prints, in one process: seconds per resident per simulated year of SocialDomainModel at about
10,000 and 100,000 social-domain residents; the same for Mesa's floor (a model of as many
no-op agents stepped with ``model.agents.shuffle_do("step")``); and their ratio (target: at most
10 at 100,000). Then runs a city of 900,000 inhabitants for 15 years in a child process and
prints its wall time and peak memory.

    python benchmarks/bench_model_year.py [--quick] [--json]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import mesa
import numpy as np

from model import SocialDomainModel

TARGET_RATIO = 10.0
CITY = 900_000


class NoOp(mesa.Agent):
    """An agent whose step does nothing: the floor of Mesa's per-agent cost."""

    def step(self):
        pass


class Floor(mesa.Model):
    """n no-op agents, stepped in random order as a Mesa model would."""

    def __init__(self, n: int, rng: int = 1):
        super().__init__(rng=rng)
        NoOp.create_agents(self, n)

    def step(self):
        self.agents.shuffle_do("step")


def floor_seconds_per_agent(n: int, repeats: int) -> float:
    model = Floor(n)
    model.step()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        model.step()
        times.append(time.perf_counter() - t)
    return float(np.median(times)) / n


def inhabitants_for(residents: int) -> int:
    """Inhabitants giving about ``residents`` social-domain residents after the first (warm-up) year."""
    pilot = SocialDomainModel(inhabitants=100_000, rng=1)
    pilot.step()
    pilot.step()
    return int(round(residents / (pilot.indicators["residents"] / 100_000)))


def model_seconds_per_resident_year(residents: int, years: int) -> tuple[float, float, int]:
    model = SocialDomainModel(inhabitants=inhabitants_for(residents), years=years + 1, rng=1)
    model.step()  # the first year fills the instruments; time the years after it
    per = []
    for _ in range(years):
        n = model.indicators["residents"]
        t = time.perf_counter()
        model.step()
        per.append((time.perf_counter() - t) / ((n + model.indicators["residents"]) / 2))
    return float(np.median(per)), float(model.indicators["residents"]), model.inhabitants


def city_child() -> None:
    t = time.perf_counter()
    model = SocialDomainModel(inhabitants=CITY, rng=1)
    while model.running:
        model.step()
    result = {"seconds": time.perf_counter() - t, "years": model.year, "residents_end": model.indicators["residents"],
              "residents_start": model.initial_residents,
              "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
              "population_arrays_mb": model.pop.nbytes() / 2**20}
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repeats, no city run")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--city-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.city_child:
        city_child()
        return
    years = 2 if args.quick else 4
    rows = []
    for n in (10_000, 100_000):
        per_model, residents, inhabitants = model_seconds_per_resident_year(n, years)
        per_floor = floor_seconds_per_agent(int(residents), 3 if args.quick else 7)
        rows.append({"target_residents": n, "residents": int(residents), "inhabitants": inhabitants,
                     "model_us_per_resident_year": per_model * 1e6, "floor_us_per_agent_step": per_floor * 1e6,
                     "ratio": per_model / per_floor})
    city = None
    if not args.quick:
        proc = subprocess.run([sys.executable, __file__, "--city-child"], capture_output=True, text=True, check=True)
        city = json.loads(proc.stdout)
    if args.json:
        print(json.dumps({"model_vs_floor": rows, "city": city, "target_ratio": TARGET_RATIO}, indent=2))
        return
    print(f"{'residents':>10} {'inhabitants':>12} {'model us/res/yr':>16} {'floor us/agent':>15} {'ratio':>7}  target <= {TARGET_RATIO:g}")
    for r in rows:
        verdict = "meets" if r["ratio"] <= TARGET_RATIO else "MISSES"
        print(f"{r['residents']:>10,} {r['inhabitants']:>12,} {r['model_us_per_resident_year']:>16.2f} "
              f"{r['floor_us_per_agent_step']:>15.3f} {r['ratio']:>7.2f}  {verdict}")
    if city:
        print(f"\nCity of {CITY:,} inhabitants: {city['years']} years in {city['seconds']:.1f} s, "
              f"{city['residents_start']:,} -> {city['residents_end']:,.0f} residents, "
              f"peak memory {city['peak_rss_mb']:.0f} MB (resident arrays {city['population_arrays_mb']:.0f} MB)")


if __name__ == "__main__":
    main()
