"""Cost of a model year per resident against Mesa's floor; a 900,000-inhabitant city; the Netherlands.

Prints, in one process: seconds per resident per simulated year of SocialDomainModel at about
10,000 and 100,000 social-domain residents; the same for Mesa's floor (a model of as many
no-op agents stepped with ``model.agents.shuffle_do("step")``); and their ratio (target: at most
3 at 100,000). Every resident is a Mesa agent and the event history is on, so the model year
includes creating and removing agents for the year's inflow and exits and recording every
transition. Without ``--quick`` it also prints what the event history costs at 100,000 residents,
then runs, each in a child process so that its peak memory is its own:

* a city of 900,000 inhabitants for 15 years (wall time, peak memory);
* the Netherlands as one municipality (17.9 million inhabitants, about 1.3-1.5 million residents)
  for 15 years: build time, median and worst time per simulated year, total time, peak memory,
  and the population rows and recorded events at the end.

Timings are medians, so a busy machine moves them less than means would. The floor runs in the
same process after the model, as it did before, so ratios compare with earlier ones. The ratio is
judged on CPU time (``time.process_time``; both are single-threaded, so on an idle machine CPU and
wall time agree, and on a shared one CPU time leaves out waiting for a core); the wall-clock ratio
is printed next to it.

The model pauses Python's automatic garbage collector while it creates a batch of agents and then
freezes what exists (``gc.freeze``), so that collections do not rescan the long-lived agents (see
``model.resident.Residents``); ``SocialDomainModel.release()`` unfreezes, before the floor is
built. The floor's step allocates nothing the collector tracks.

    python benchmarks/bench_model_year.py [--quick | --national] [--json]
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
from model.events import EventLog
from model.population import Population

TARGET_RATIO = 3.0
CITY = 900_000
NATIONAL = 17_900_000  # the Netherlands, 2024
LONG_RUN_YEARS = 15


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


def inhabitants_for(residents: int) -> int:
    """Inhabitants giving about ``residents`` social-domain residents after the first (warm-up) year."""
    pilot = SocialDomainModel(inhabitants=100_000, rng=1)
    pilot.step()
    pilot.step()
    pilot.release()
    return int(round(residents / (pilot.indicators["residents"] / 100_000)))


def _timed(step) -> tuple[float, float]:
    """Wall-clock and CPU seconds of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    step()
    return time.perf_counter() - wall, time.process_time() - cpu


def model_and_floor(inhabitants: int, years: int, floor_steps: int) -> dict:
    """Median wall and CPU seconds per resident-year of the model and per agent-step of the floor.

    The model runs a warm-up year (it fills the instruments) and then ``years`` timed years; the
    floor, a model with as many no-op agents as the model had residents at the end, then a
    warm-up step and ``floor_steps`` timed steps.
    """
    model = SocialDomainModel(inhabitants=inhabitants, years=years + 1, rng=1)
    model.step()
    per_model = []
    for _ in range(years):
        n = model.indicators["residents"]
        wall, cpu = _timed(model.step)
        resident_years = (n + model.indicators["residents"]) / 2
        per_model.append((wall / resident_years, cpu / resident_years))
    residents = int(model.indicators["residents"])
    model.release()
    del model
    floor = Floor(residents)
    floor.step()
    per_floor = [tuple(t / residents for t in _timed(floor.step)) for _ in range(floor_steps)]
    m_wall, m_cpu = np.median(per_model, axis=0)
    f_wall, f_cpu = np.median(per_floor, axis=0)
    return {"residents": residents, "inhabitants": inhabitants,
            "model_us_per_resident_year": m_wall * 1e6, "floor_us_per_agent_step": f_wall * 1e6,
            "ratio_wall": m_wall / f_wall, "model_cpu_us_per_resident_year": m_cpu * 1e6,
            "floor_cpu_us_per_agent_step": f_cpu * 1e6, "ratio": m_cpu / f_cpu}


def event_history_share(inhabitants: int, years: int) -> float:
    """Share of the model's timed years spent recording the event history.

    Measured inside the model run: the time in ``Population._record`` and ``EventLog.record``
    (the outermost call; the status after each transition, gathering the columns, appending the
    buffers) over the time of the years. What is not counted is the status each transition takes
    before it changes a resident, so this is a lower bound.
    """
    spent = [0.0]
    depth = [0]

    def timed(record):
        def wrapper(*args, **kwargs):
            depth[0] += 1
            t = time.perf_counter()
            try:
                return record(*args, **kwargs)
            finally:
                depth[0] -= 1
                if depth[0] == 0:
                    spent[0] += time.perf_counter() - t
        return wrapper

    saved = Population._record, EventLog.record
    Population._record, EventLog.record = timed(saved[0]), timed(saved[1])
    try:
        model = SocialDomainModel(inhabitants=inhabitants, years=years + 1, rng=1)
        model.step()
        spent[0] = 0.0
        start = time.perf_counter()
        for _ in range(years):
            model.step()
        total = time.perf_counter() - start
        model.release()
    finally:
        Population._record, EventLog.record = saved
    return spent[0] / total


def long_run_child(inhabitants: int) -> None:
    """Build and run ``inhabitants`` for 15 years; print one JSON line (run in a child process)."""
    start, start_cpu = time.perf_counter(), time.process_time()
    model = SocialDomainModel(inhabitants=inhabitants, years=LONG_RUN_YEARS, rng=1)
    build, build_cpu = time.perf_counter() - start, time.process_time() - start_cpu
    per_year = []
    years_cpu = time.process_time()
    while model.running:
        t = time.perf_counter()
        model.step()
        per_year.append(time.perf_counter() - t)
    years_cpu = time.process_time() - years_cpu
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result = {"inhabitants": inhabitants, "seconds": time.perf_counter() - start, "build_seconds": build,
              "build_cpu_seconds": build_cpu, "years_cpu_seconds": years_cpu,
              "years": model.year, "year_median_seconds": float(np.median(per_year)),
              "year_worst_seconds": max(per_year), "residents_start": model.initial_residents,
              "residents_end": model.indicators["residents"], "rows_end": model.pop.n,
              "events_end": model.events.size,
              "peak_rss_mb": usage.ru_maxrss / 1024, "cpu_seconds": usage.ru_utime + usage.ru_stime,
              "system_seconds": usage.ru_stime, "event_history_mb": model.events.nbytes() / 2**20,
              "population_arrays_mb": (model.pop.nbytes() - model.events.nbytes()) / 2**20}
    print(json.dumps(result))


def long_run(inhabitants: int) -> dict:
    """``long_run_child`` in a fresh process."""
    proc = subprocess.run([sys.executable, __file__, "--long-run-child", str(inhabitants)], capture_output=True,
                          text=True, check=True)
    return json.loads(proc.stdout)


def main() -> None:
    """Measure and print (or write JSON)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repeats; no event-history, city or national run")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--national", action="store_true", help="only the national run")
    parser.add_argument("--long-run-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.long_run_child:
        long_run_child(args.long_run_child)
        return
    if args.national:
        n = long_run(NATIONAL)
        print(json.dumps(n, indent=2) if args.json else _national_text(n))
        return
    years = 2 if args.quick else 4
    rows = []
    for n in (10_000, 100_000):
        inhabitants = inhabitants_for(n)
        rows.append({"target_residents": n, **model_and_floor(inhabitants, years, 5 if args.quick else 9)})
    events_share = None if args.quick else event_history_share(rows[-1]["inhabitants"], years)
    city = None if args.quick else long_run(CITY)
    national = None if args.quick else long_run(NATIONAL)
    if args.json:
        print(json.dumps({"model_vs_floor": rows, "target_ratio": TARGET_RATIO, "event_history_share": events_share,
                          "city": city, "national": national}, indent=2))
        return
    print(f"{'':24} {'model us/resident-yr':>21} {'floor us/agent-step':>20} {'ratio':>13}")
    print(f"{'residents':>10} {'inhabitants':>13} {'cpu':>10} {'wall':>10} {'cpu':>10} {'wall':>9} {'cpu':>6} "
          f"{'wall':>6}  target <= {TARGET_RATIO:g} (cpu) at 100,000")
    for r in rows:
        verdict = "" if r["target_residents"] < 100_000 else "meets" if r["ratio"] <= TARGET_RATIO else "MISSES"
        print(f"{r['residents']:>10,} {r['inhabitants']:>13,} {r['model_cpu_us_per_resident_year']:>10.2f} "
              f"{r['model_us_per_resident_year']:>10.2f} {r['floor_cpu_us_per_agent_step']:>10.3f} "
              f"{r['floor_us_per_agent_step']:>9.3f} {r['ratio']:>6.2f} {r['ratio_wall']:>6.2f}  {verdict}")
    if events_share is not None:
        print(f"\nEvent history (on in every run): recording takes {100 * events_share:.1f}% of a model year at "
              f"{rows[-1]['residents']:,} residents (not counting the status each transition reads first)")
    if city:
        print(f"\nCity of {CITY:,} inhabitants: {city['years']} years in {city['seconds']:.1f} s, "
              f"{city['residents_start']:,} -> {city['residents_end']:,.0f} residents, "
              f"peak memory {city['peak_rss_mb']:.0f} MB (population arrays {city['population_arrays_mb']:.0f} MB, "
              f"event history {city['event_history_mb']:.0f} MB)")
    if national:
        print("\n" + _national_text(national))


def _national_text(n: dict) -> str:
    """The national run in words."""
    return (f"The Netherlands, {NATIONAL:,} inhabitants as one municipality: "
            f"{n['residents_start']:,} -> {n['residents_end']:,.0f} residents\n"
            f"  build {n['build_seconds']:.1f} s (CPU {n['build_cpu_seconds']:.1f} s, the spin-up included); "
            f"per simulated year median {n['year_median_seconds']:.1f} s, worst {n['year_worst_seconds']:.1f} s; "
            f"{n['years']} years in CPU {n['years_cpu_seconds']:.1f} s; {n['seconds']:.1f} s in all "
            f"(CPU {n['cpu_seconds']:.0f} s, of which system {n['system_seconds']:.0f} s)\n"
            f"  peak memory {n['peak_rss_mb']:,.0f} MB; at the end {n['rows_end']:,} population rows "
            f"({n['population_arrays_mb']:,.0f} MB) and {n['events_end']:,} events ({n['event_history_mb']:,.0f} MB)")


if __name__ == "__main__":
    main()
