"""Size limits on what a command may ask for, so a typo cannot exhaust the machine.

Each limit is the smaller of a stated maximum and what this machine's memory allows at a measured
cost per unit: results held by a driver get a quarter of the memory (the rest is for the model
runs, Dask and the operating system), local worker processes three quarters. ``--limit NAME=N`` on the command line replaces a limit, e.g. for a driver on a
bigger machine or a real cluster.

======================  ===============  ===========================================================
name                    stated maximum   memory per unit
======================  ===============  ===========================================================
replications            10,000           ``run``/``validate`` keep every run's yearly results: 64 KiB
                                         per run-year (38 KiB measured at 30,000 inhabitants, x1.7);
                                         with ``--events`` also 16 bytes per inhabitant-year (9 measured)
runs (planned)          200,000          the sweep driver plans every run and Dask tracks each: 16 KiB
workers                 128              a local worker process with a model loaded: 512 MiB
levels                  1,000            (no memory term) points per range under factorial; Morris grid
samples                 100,000          (no memory term) LHS samples, Sobol n, Morris trajectories
======================  ===============  ===========================================================
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from model.parameters import InputError, closest, show, whole_number

KIB = 1024
MIB = KIB * KIB
GIB = MIB * KIB
STATED = {"replications": 10_000, "runs": 200_000, "workers": 128, "levels": 1_000, "samples": 100_000}
BYTES_PER_RUN_YEAR = 64 * KIB
EVENT_BYTES_PER_INHABITANT_YEAR = 16
BYTES_PER_PLANNED_RUN = 16 * KIB
BYTES_PER_WORKER = 512 * MIB
MEMORY_SHARE = 0.25  # of the machine's memory, for what a driver holds (results, the plan)
WORKER_SHARE = 0.75  # of the machine's memory, for local worker processes
FALLBACK_MEMORY = 4 * GIB  # when the machine does not tell


def machine_memory() -> int:
    """Physical memory of this machine in bytes (``FALLBACK_MEMORY`` where it cannot be read)."""
    try:
        return int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, OSError, ValueError):
        return FALLBACK_MEMORY


@dataclass(frozen=True)
class Limits:
    """The limits in force: stated maxima, this machine's memory, and any ``--limit`` overrides."""

    memory: int = field(default_factory=machine_memory)
    overrides: dict[str, int] = field(default_factory=dict)

    def value(self, name: str, unit_bytes: int | None = None, share: float = MEMORY_SHARE,
              unit: str = "") -> tuple[int, str]:
        """The limit ``name`` for a unit costing ``unit_bytes`` of memory, and why it is that.

        Args:
            name: a key of ``STATED``.
            unit_bytes: memory one unit costs (None: only the stated maximum applies).
            share: the part of the machine's memory these units may take.
            unit: how the cost is stated in the message (default: the size of one unit).

        Returns:
            The largest allowed count, and a phrase saying where it comes from.
        """
        if name in self.overrides:
            return self.overrides[name], f"set with --limit {name}={self.overrides[name]}"
        stated = STATED[name]
        if unit_bytes:
            fits = max(1, int(self.memory * share) // unit_bytes)
            if fits < stated:
                part = {MEMORY_SHARE: "a quarter", WORKER_SHARE: "three quarters"}.get(share, f"{share:.0%}")
                return fits, (f"what {part} of this machine's {self.memory / GIB:.0f} GiB of memory holds at "
                              f"{unit or _size(unit_bytes) + ' each'}")
        return stated, "the stated maximum"

    def check(self, name: str, count: int, what: str, unit_bytes: int | None = None, detail: str = "",
              share: float = MEMORY_SHARE) -> None:
        """Refuse ``count`` above the limit with one line naming ``what``, the limit, why, and the override.

        Raises:
            InputError: ``count`` is over the limit.
        """
        limit, why = self.value(name, unit_bytes, share)
        if count > limit:
            extra = f" ({detail})" if detail else ""
            raise InputError(f"{what}{extra} is not allowed: at most {limit:,} ({why}; "
                             f"raise it with --limit {name}=N on a bigger machine or a cluster)")

    def replications(self, replications: int, regimes: int, years: int, events_of: int = 0) -> None:
        """Check a ``run``/``validate`` command: every run's yearly results (and events) are held in memory.

        Args:
            replications: asked for.
            regimes: run per replication.
            years: the horizon.
            events_of: inhabitants whose event history is kept too (``run --events``), else 0.
        """
        per_run_year = BYTES_PER_RUN_YEAR + EVENT_BYTES_PER_INHABITANT_YEAR * events_of
        unit = f"{_size(per_run_year)} per run-year" + (" with events" if events_of else "")
        limit, why = self.value("replications", per_run_year * max(1, regimes) * max(1, years), unit=unit)
        if replications > limit:
            raise InputError(f"--replications {replications:,} is not allowed: at most {limit:,} with {regimes} "
                             f"regime(s) over {years} years ({why}; raise it with --limit replications=N)")

    def workers(self, workers: int) -> None:
        """Check ``--workers``: each is a local process with a model loaded."""
        self.check("workers", workers, f"--workers {workers:,}", BYTES_PER_WORKER, share=WORKER_SHARE)

    def runs(self, planned: int, detail: str, file: str) -> None:
        """Check a design's planned runs (points x regimes x replications) before any is planned."""
        self.check("runs", planned, f"{file}: {planned:,} planned runs", BYTES_PER_PLANNED_RUN, detail)


def _size(n: int) -> str:
    return f"{n // GIB} GiB" if n >= GIB else f"{n // MIB} MiB" if n >= MIB else f"{n // KIB} KiB"


def parse_limits(items: list[str]) -> Limits:
    """``--limit NAME=N`` flags as Limits (N a whole number of at least 1).

    Raises:
        InputError: an unknown name, a missing ``=``, or N not a whole number >= 1.
    """
    overrides: dict[str, int] = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or name not in STATED:
            raise InputError(f"--limit {show(item)} is not allowed: expected NAME=N with NAME one of "
                             f"{', '.join(STATED)}{closest(name, STATED)}")
        value = whole_number(text.strip())
        if value is None or value < 1:
            raise InputError(f"--limit {show(item)} is not allowed: N must be a whole number of at least 1")
        if name in overrides:
            raise InputError(f"--limit {name} is given twice: give it once")
        overrides[name] = value
    return Limits(overrides=overrides)
