"""Levers from the Ferm Werk note and the practice examples: what they share, as data and small rules [FW19][M16].

- The benefit stock's categories 1-4 [FW19] 'Aanleiding', an output: 1-2 use the benefit briefly and are
  close to work (1: the wage value for regular work, 2: a short training away), 3-4 are long-term dependent
  or have severe problems on several life domains (3: some perspective on supported work, 4: social and
  societal participation only).
- The old Wsw workforce [FW19]: no inflow since 2015, a yearly outflow by retirement and death; the
  state's grant per place pays it on the P-wet participation line. Under the three-to-one rule every
  ``pwet.wsw_places_per_sheltered_place`` places that left give one new beschut-werk place [FW19] footnote 4.
  The workforce is a cohort number, not residents: it works and is out of the social domain's caseloads.
- Volunteering or work in return for the benefit (tegenprestatie, Pw art. 9 lid 1 sub c), offered without
  an indication: no assessment, no caseload room, not rationed by a budget [M16] Katwijk, Overschie.
- Walk-in day activities as a general facility, without a Wmo assessment [M16] Stadskamer, Athos, PrachtHuis.

Every lever is off at its default and then changes nothing (``tests/test_levers.py``).
"""

from __future__ import annotations

import numpy as np

from model.constants import (
    ACTIVITY_BITS,
    MONTHS_PER_YEAR,
    PER_10K,
    SELF_RELIANCE_DOMAINS,
    TRAJ_BITS,
    TRAJECTORY_INSTRUMENTS,
    VOLUNTEER_BIT,
    Desk,
    Domain,
    Event,
    Instrument,
    Status,
    Step,
)
from model.rules import problems as prob

CATEGORY_CLOSE, CATEGORY_TRAINING, CATEGORY_SUPPORTED, CATEGORY_SOCIAL = 1, 2, 3, 4  # [FW19] categories 1-4
CATEGORIES = (CATEGORY_CLOSE, CATEGORY_TRAINING, CATEGORY_SUPPORTED, CATEGORY_SOCIAL)
NOT_ON_BENEFIT = 0
COUNTS = ("volunteers_started", "walk_ins")  # counters of model/year.py this module adds to

INDICATORS: dict[str, tuple[str, str]] = {
    **{f"benefit_category_{c}": ("persons", f"benefit recipients in [FW19] category {c} at year end "
                                             "(1-2 short spells close to work, 3-4 long-term dependent; levers.py)")
       for c in CATEGORIES},
    "benefit_long_term": ("persons", "benefit recipients in [FW19] categories 3-4 at year end (long-term dependent "
                                     "or severe problems on several life domains)"),
    "volunteers": ("persons", "residents volunteering without an indication at year end (practice.volunteering)"),
    "volunteers_on_benefit": ("persons", "benefit recipients volunteering at year end"),
    "volunteers_started": ("persons", "benefit clients who took up volunteering this year"),
    "walk_ins": ("persons", "residents who walked into day activities without an assessment this year"),
    "wsw_workers": ("persons", "old Wsw workforce this year (pwet.wsw_workers_per_10k, shrinking by pwet.wsw_attrition)"),
    "wsw_places_left": ("places", "old Wsw places that left since the run's start"),
    "sheltered_places": ("places", "sheltered-work (beschut werk) places this year (pwet.sheltered_place_rule)"),
    "outflow_work_from_trajectory": ("persons", "moves from benefit to work this year of residents holding a "
                                                "re-integration trajectory after allocation"),
    "outflow_work_from_volunteering": ("persons", "moves from benefit to work this year of residents volunteering "
                                                  "after allocation"),
    **{f"{i.name.lower()}_started": ("persons", f"{i.name.lower().replace('_', ' ')} trajectories started this year")
       for i in TRAJECTORY_INSTRUMENTS},
    **{f"outflow_work_from_{i.name.lower()}": ("persons", f"moves from benefit to work this year of residents holding "
                                                          f"a {i.name.lower().replace('_', ' ')} trajectory after "
                                                          "allocation") for i in TRAJECTORY_INSTRUMENTS},
    "day_activities_on_benefit": ("persons", "benefit recipients in day activities at year end (P-wet clients in a "
                                             "Wmo place: mixed target groups)"),
}


# ------------------------------------------------------------------ [FW19] categories 1-4
def benefit_categories(pop, rows, p) -> np.ndarray:
    """[FW19] category of each resident on benefit (0 for everyone else).

    Long-term dependent (3-4): a spell of ``benefit.category_long_term_years`` or more, or severe problems on
    ``benefit.category_several_domains`` life domains or more. Among them 3 has the wage value for subsidised
    (supported) work, 4 not. Among the others 1 has the wage value for regular work, 2 needs a short training.
    """
    long_spell = pop.spell_years[rows] >= p["benefit.category_long_term_years"]
    severe = prob.count_severe(pop.sev[rows], SELF_RELIANCE_DOMAINS, p["problems.severe_threshold"])
    long_term = long_spell | (severe >= p["benefit.category_several_domains"])
    wage = pop.wage[rows]
    category = np.where(long_term, np.where(wage >= p["wage.subsidy_min"], CATEGORY_SUPPORTED, CATEGORY_SOCIAL),
                        np.where(wage >= p["wage.regular_min"], CATEGORY_CLOSE, CATEGORY_TRAINING))
    return np.where(pop.on_benefit[rows], category, NOT_ON_BENEFIT)


# ------------------------------------------------------------------ the old Wsw workforce and the 3:1 rule
def wsw_workers(year_index: int, p) -> float:
    """The old Wsw workforce in a year: the start's stock, less a constant share each year since (no inflow) [FW19]."""
    start = p["pwet.wsw_workers_per_10k"] * p["scenario.inhabitants"] / PER_10K
    return start * (1.0 - p["pwet.wsw_attrition"]) ** max(year_index, 0)


def wsw_places_left(year_index: int, p) -> float:
    """Old Wsw places that left between the run's start and this year."""
    return wsw_workers(0, p) - wsw_workers(year_index, p)


def wsw_cost(year_index: int, p) -> float:
    """This year's cost of the old Wsw workforce (EUR): the state's contribution per place [R12], grant and cost alike."""
    return wsw_workers(year_index, p) * p["pwet.sheltered_cost"]


def sheltered_places(fixed: int, year_index: int, p) -> int:
    """Sheltered-work places this year: the fixed number, plus under three-to-one one per three Wsw places that left [FW19]."""
    rule = p["pwet.sheltered_place_rule"]
    ratio = p["pwet.wsw_places_per_sheltered_place"]
    if rule == "fixed":
        return fixed
    return fixed + int(np.floor(wsw_places_left(year_index, p) / ratio))


# ------------------------------------------------------------------ access without an indication
def _year_fraction(pop, rows) -> np.ndarray:
    return (MONTHS_PER_YEAR - pop.entry_month[rows]) / MONTHS_PER_YEAR


def _start_paid(pop, rows, take, handled, instrument, year, funding, actors) -> None:
    """Start ``instrument`` for the chosen residents, committed as a right on the payer of their desk."""
    price = funding.prices[instrument]
    for h_flag in (False, True):
        r = rows[take & (handled == h_flag)]
        if len(r) == 0:
            continue
        payer = funding.payer_of(instrument, h_flag)
        amount = price * _year_fraction(pop, r)
        actors.holders[payer].commit(float(amount.sum()))
        pop.start(r, np.full(len(r), instrument, dtype=np.int8), year.index, payer=int(payer), amount=amount)


def walk_in(pop, rows, handled, year, funding, actors, p, streams) -> None:
    """Day activities as a general facility: a known resident out of work, severely isolated, without an activity walks in [M16].

    No Wmo assessment (no wait, no caseload room) and no indication: a P-wet client comes in as a Wmo
    client does (mixed target groups). Paid from the Wmo line (the pooled desk for its residents).
    """
    chance = p["practice.open_access"]
    if chance <= 0 or len(rows) == 0:
        return
    isolated = pop.sev[rows, Domain.ISOLATION] >= p["problems.severe_threshold"]
    cand = (pop.desk[rows] != Desk.NONE) & (pop.employment[rows] < 0) & ~pop.holds(rows, ACTIVITY_BITS) & isolated
    take = cand & (streams.uniform(pop.uid[rows], year.index, Event.WALK_IN) < chance)
    _start_paid(pop, rows, take, handled, Instrument.DAY_ACTIVITIES, year, funding, actors)
    year.add("walk_ins", take.sum())


def volunteering(pop, rows, handled, year, funding, actors, p, streams) -> None:
    """Volunteering offered without an indication to benefit clients out of work and without an activity [M16][FW19].

    It ends with the benefit or a job (``population.OFF_BENEFIT_ENDS``) and, at the next allocation, when the
    client holds a trajectory or day activity. A client known to the P-wet takes it up with chance ``practice.volunteering`` a year:
    no assessment, no caseload room, paid per volunteer (coordination and training) on the participation line.
    """
    held = pop.holds(rows, VOLUNTEER_BIT)
    free = pop.on_benefit[rows] & (pop.employment[rows] < 0) & ~pop.holds(rows, ACTIVITY_BITS)
    ending = held & ~free
    if ending.any():
        pop.end(rows[ending], VOLUNTEER_BIT, year.index)
    chance = p["practice.volunteering"]
    if chance <= 0 or len(rows) == 0:
        return
    known = (pop.desk[rows] & Desk.PWET) != 0
    take = free & known & ~held & (streams.uniform(pop.uid[rows], year.index, Event.VOLUNTEER) < chance)
    _start_paid(pop, rows, take, handled, Instrument.VOLUNTEERING, year, funding, actors)
    year.add("volunteers_started", take.sum())


def volunteer_level(level: np.ndarray, volunteer: np.ndarray, employed: np.ndarray) -> np.ndarray:
    """Volunteering sustains the step of unpaid work on the participation ladder [M16], as work-like day activities do."""
    raised = volunteer & ~employed & (level < Step.UNPAID_WORK)
    return np.where(raised, Step.UNPAID_WORK, level).astype(level.dtype)


# ------------------------------------------------------------------ indicators
def year_indicators(pop, rows, year, actors, p) -> dict[str, float]:
    """The levers' yearly indicators (``INDICATORS``), from public state only."""
    ind: dict[str, float] = {}
    category = benefit_categories(pop, rows, p)
    counts = np.bincount(category, minlength=len(CATEGORIES) + 1)
    for c in CATEGORIES:
        ind[f"benefit_category_{c}"] = float(counts[c])
    ind["benefit_long_term"] = float(counts[CATEGORY_SUPPORTED] + counts[CATEGORY_SOCIAL])
    volunteer = pop.holds(rows, VOLUNTEER_BIT)
    ind["volunteers"] = float(volunteer.sum())
    ind["volunteers_on_benefit"] = float((volunteer & pop.on_benefit[rows]).sum())
    for key in COUNTS:
        ind[key] = year.counts[key]
    ind["wsw_workers"] = wsw_workers(year.index, p)
    ind["wsw_places_left"] = wsw_places_left(year.index, p)
    ind["sheltered_places"] = float(actors.sheltered_places)
    moved = np.unique(np.concatenate(year.outflow)) if year.outflow else np.empty(0, dtype=np.int64)
    before = year.provisions_before
    moved = moved[moved < len(before)]
    ind["outflow_work_from_trajectory"] = float(((before[moved] & TRAJ_BITS) != 0).sum())
    ind["outflow_work_from_volunteering"] = float(((before[moved] & VOLUNTEER_BIT) != 0).sum())
    started = pop.activity_start_year[rows] == year.index
    held = before[rows[rows < len(before)]] if len(before) else np.zeros(0, dtype=before.dtype)
    started = started[: len(held)]
    for i in TRAJECTORY_INSTRUMENTS:
        bit = 1 << int(i)
        ind[f"{i.name.lower()}_started"] = float((((held & bit) != 0) & started).sum())
        ind[f"outflow_work_from_{i.name.lower()}"] = float(((before[moved] & bit) != 0).sum())
    status = pop.status(rows)
    ind["day_activities_on_benefit"] = float(((status == Status.DAY_ACTIVITIES) & pop.on_benefit[rows]).sum())
    return ind
