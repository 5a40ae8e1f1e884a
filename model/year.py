"""YearState: what one simulated year hands from phase to phase.

The model builds one at the start of every year; each phase reads and fills it; the reporters
read it at the end. Nothing a phase needs from an earlier phase travels any other way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from model.constants import EXIT_SPELL_LABELS, MONTHS_PER_YEAR, RETURN_WINDOWS, WORK_END_WINDOWS, ExitReason, Role

# Counters the reporters copy into the indicators as they are (declared once, here).
OBSERVED_COUNTS = (
    "benefit_exits_demographic", "benefit_stock_at_allocation", "reintegration_served",
    "outflow_work_within_half_year", "completed_spells", "completed_spell_months", "leavers_for_work",
    "returns", *(f"returns_within_{int(w)}y" for w in RETURN_WINDOWS), "work_spells_ended",
    "returns_other", *(f"returns_other_within_{int(w)}y" for w in RETURN_WINDOWS), "leavers_for_other_income",
    *(f"work_ends_within_{m}m" for m in WORK_END_WINDOWS), "returns_to_benefit", "hire_year_losses", "returns_in_exit_year",
    "work_spell_years_sum", "firm_trajectories_ended", "firm_trajectories_to_work",
    *(f"exits_{k}_spell_{b}" for k in ("work", "other") for b in EXIT_SPELL_LABELS),
)
# Moves on the participation ladder and the care-to-work route, copied into the indicators as they are.
LADDER_COUNTS = ("ladder_moves_up", "ladder_moves_down", "care_to_work", "cross_law_referrals", "cross_law_intakes",
                 "cross_law_fell_through")
# Light help by a generalist [R12] (access.triage): the benefit recipients who got it, and who of them took a job
# that year; among them those close to regular work (wage value at least wage.regular_min), as Theo and Chantal are.
TRIAGE_COUNTS = ("triaged_on_benefit", "triaged_to_work", "triaged_near_work", "triaged_near_work_to_work")
# Every counter a phase may add to in a year; adding to any other name is an error.
COUNTERS = (
    *LADDER_COUNTS, *TRIAGE_COUNTS,
    "inflow", "exits", *(f"exit_{r.name.lower()}" for r in ExitReason), "reached", "found_in_household", "declined",
    "new_traj", "new_traj_wmo_clients", "care_exits", "dropouts", "lock_ins", "job_losses",
    "outflow_regular_work", "outflow_subsidised_work", "outflow_sheltered_work", "wmo_granted",
    "wmo_waiting", "wmo_wait_months", "triaged", "generalist_seen", "generalist_referred",
    "pilot_eligible", "pilot_candidates", "pilot_spent", "coordinated", "desk_households", "benefit_units_at_allocation", "benefit_unit_years", *OBSERVED_COUNTS,
    "volunteers_started", "walk_ins",  # model/levers.py
)


def _zero_counts() -> dict[str, float]:
    return dict.fromkeys(COUNTERS, 0.0)


@dataclass
class YearState:
    """One year's shared state: its index, the pooled share in force, counters and per-row scratch.

    Per-row arrays (sized by ``track``) are indexed by population row and live for this year only.
    """

    index: int
    share: float
    slack: float  # unemployed per vacancy this year
    counts: dict[str, float] = field(default_factory=_zero_counts)
    start_residents: int = 0
    active_staff: dict[Role, int] = field(default_factory=dict)
    triage_room: int = 0  # light-problem cases the neighbourhood team's generalists can take this year
    moved: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))  # a dated transition this year
    month: np.ndarray = field(default_factory=lambda: np.zeros(0))  # month of that transition (12 if none)
    benefit_before: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))  # on benefit at allocation
    provisions_before: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint16))  # held after it
    job_coaching: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))  # coached into a job
    regie: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))  # coordinated by a regisseur
    light: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))  # light problems handled directly
    firm_started: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))  # took a firm place
    pilot: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))  # a care-to-work pilot's candidate
    firm_dropped: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))  # dropped it the same year
    outflow: list[np.ndarray] = field(default_factory=list)  # rows that moved into work this year
    leaving: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # rows that left during the year
    # A second dated transition ending the off-benefit time the first began (a job taken and lost, an exit to
    # other income and a return): its month (NaN if none), and whether the job in between was subsidised.
    second_month: np.ndarray = field(default_factory=lambda: np.zeros(0))
    second_subsidised: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    hired_kind: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))  # work taken in outcomes (-1)
    resident_cost: np.ndarray = field(default_factory=lambda: np.zeros(0))  # EUR booked per row this year
    benefit_monthly: np.ndarray = field(default_factory=lambda: np.zeros(0))  # net benefit per row at allocation
    support_from: np.ndarray = field(default_factory=lambda: np.zeros(0))  # month Wmo support granted this year starts
    cost_by_instrument: np.ndarray = field(default_factory=lambda: np.zeros(0))
    trace: Any = None  # a ``model.trace.Tracer`` in a reported year of a run that follows residents, else None

    def track(self, rows_in_use: int) -> None:
        """Size the per-row arrays once the year's population is complete (after inflow)."""
        n = rows_in_use
        self.moved = np.zeros(n, dtype=bool)
        self.month = np.full(n, MONTHS_PER_YEAR)
        for name in ("job_coaching", "regie", "light", "firm_started", "firm_dropped", "pilot"):
            setattr(self, name, np.zeros(n, dtype=bool))
        self.resident_cost = np.zeros(n)
        self.benefit_monthly = np.zeros(n)
        self.support_from = np.zeros(n)
        self.second_month = np.full(n, np.nan)
        self.second_subsidised = np.zeros(n, dtype=bool)
        self.hired_kind = np.full(n, -1, dtype=np.int8)

    def add(self, counter: str, value: float) -> None:
        """Add to a declared counter."""
        if counter not in self.counts:
            raise KeyError(f"undeclared counter {counter!r}: declare it in model/year.py COUNTERS")
        self.counts[counter] += float(value)

    def handled(self, desk_draw: np.ndarray) -> np.ndarray:
        """Whether the pooled desk handles these residents this year (their fixed draw is below the share)."""
        return desk_draw < self.share

    def date(self, rows: np.ndarray, month: np.ndarray) -> None:
        """Mark these residents' single dated transition of the year at ``month``."""
        self.moved[rows] = True
        self.month[rows] = month
