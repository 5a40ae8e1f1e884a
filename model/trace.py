"""Why-trace: for a few followed residents, which desk saw them each year, what it offered, and the rule that decided.

A run follows the residents it is asked to (``SocialDomainModel(trace=[uid, ...])``; the personas always):
the model hands a ``Tracer`` to each reported year (``YearState.trace``), and the allocation and access
phases call it at the points where they decide. Every call site is guarded (``if year.trace:``), so a
run that follows nobody does no extra work, and the tracer only reads: it draws no random number and
changes no state, so a followed run gives the same results as one that is not followed.

What is recorded per resident and year (``Entry``): the desk (P-wet desk, Wmo desk, pooled desk, the
sheltered-work places, the regisseurs, the generalists who triage), what it offered, the resident's place
in its queue (rank among that year's candidates, how many were chosen), the money left in the desk's
discretionary budget when the resident's turn came, and the rule in words. The queue is read exactly as
``rules/allocation.select_within_limits`` serves it: in priority order, stopping at the first candidate
who does not fit the money or the caseload room.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from model.constants import BLOCKING_DOMAINS, DAY_BITS, TRAJ_BITS, WMO_BITS, Desk, Instrument, Intake, Status
from model.rules import allocation as alloc
from model.rules import problems as prob

DESK_LABELS = {"pwet": "P-wet desk", "wmo": "Wmo desk", "pooled": "pooled desk", "sheltered": "sheltered work",
               "regie": "regisseurs", "triage": "generalists", "review": "review", "access": "access",
               "outcomes": "then"}
RANKINGS = {"outflow-chance": "outflow-chance ranking: wage value, years out", "need": "greatest need first",
            "all-budgets": "ranking by money across all budgets", "benefit-savings": "benefit savings",
            "need-first": "greatest need first, money breaking ties"}
CHOSEN, NOT_CHOSEN, NOT_CANDIDATE, NOTE = "chosen", "not chosen", "not a candidate", "note"
GUIDANCE_BIT = 1 << int(Instrument.GUIDANCE)
HOUSEHOLD_HELP_BIT = 1 << int(Instrument.HOUSEHOLD_HELP)


@dataclass(frozen=True)
class Entry:
    """One decision about one followed resident in one year.

    Attributes:
        year: reported year (1 = the first).
        uid: the resident.
        desk: ``pwet``, ``wmo``, ``pooled``, ``sheltered``, ``regie``, ``triage``, ``review``, ``access`` or
            ``outcomes`` (what happened after the desks decided).
        stage: what was decided: ``work`` (re-integration), ``support`` (the Wmo), ``sheltered``, ``regie``,
            ``triage``, or ``note`` (an event).
        outcome: ``chosen``, ``not chosen``, ``not a candidate`` or ``note``.
        rule: the decision in words.
        instrument: what was offered (None when nothing was).
        rank: place in the desk's queue (1 = first), None for a non-candidate.
        candidates: how many were in that queue.
        chosen: how many of them the desk took on.
        money_left: the desk's discretionary money left when this resident's turn came (EUR; None for a right).
    """

    year: int
    uid: int
    desk: str
    stage: str
    outcome: str
    rule: str
    instrument: str | None = None
    rank: int | None = None
    candidates: int | None = None
    chosen: int | None = None
    money_left: float | None = None

    def line(self) -> str:
        """The decision as one phrase, with the desk it was taken at."""
        return f"{DESK_LABELS[self.desk]}: {self.rule}"


def _euro(amount: float) -> str:
    return "no limit" if not np.isfinite(amount) else f"EUR {amount:,.0f}"


def queue_places(priority: np.ndarray, cost: np.ndarray, budget: float, capacity: int):
    """Each candidate's place in a queue served like ``select_within_limits``: rank (0 = first), money left at its turn, and why the queue stopped.

    Returns (rank, money_left, stop, stopped_by): ``stop`` is the number served, ``stopped_by`` ``budget``,
    ``room`` or None when everyone was served.
    """
    n = len(priority)
    order = np.argsort(-priority, kind="stable")
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    spent = np.cumsum(cost[order])
    before = np.concatenate(([0.0], spent[:-1]))
    money_left = np.empty(n)
    money_left[order] = budget - before
    if budget <= 0:
        return rank, money_left, 0, "budget"
    if capacity <= 0:
        return rank, money_left, 0, "room"
    fits_money = spent <= budget
    fits_room = np.arange(n) < capacity
    fits = fits_money & fits_room
    if fits.all():
        return rank, money_left, n, None
    stop = int(np.argmin(fits))
    return rank, money_left, stop, "budget" if not fits_money[stop] else "room"


class Tracer:
    """Records the decisions about a set of followed residents (by uid); read with ``why`` and ``entries``."""

    def __init__(self, uids=()):
        self.uids = np.unique(np.asarray(list(uids), dtype=np.int64))
        self.records: list[Entry] = []
        self.status: dict[tuple[int, int], str] = {}  # (uid, year) -> status at the end of the year

    def follow(self, uids) -> None:
        """Follow these residents too (from the next decision on)."""
        self.uids = np.union1d(self.uids, np.asarray(list(uids), dtype=np.int64))

    def __bool__(self) -> bool:
        return len(self.uids) > 0

    # ------------------------------------------------------------------ reading
    def entries(self, uid: int | None = None, year: int | None = None) -> list[Entry]:
        """The recorded decisions, for one resident and/or year."""
        return [e for e in self.records if (uid is None or e.uid == uid) and (year is None or e.year == year)]

    def why(self, uid: int, year: int) -> str:
        """One line: every decision about this resident this year, in the order they were taken."""
        lines = [e.line() for e in self.entries(uid, year)]
        return "; ".join(lines) if lines else "no desk decided on them (not known to any desk, or not followed)"

    def frame_records(self) -> list[dict]:
        """The entries as plain records (for a frame or JSON)."""
        return [asdict(e) for e in self.records]

    # ------------------------------------------------------------------ helpers
    def _mine(self, pop, rows) -> np.ndarray:
        """Positions within ``rows`` of the followed residents."""
        return np.flatnonzero(np.isin(pop.uid[rows], self.uids))

    def _add(self, year, uid, desk, stage, outcome, rule, **fields) -> None:
        self.records.append(Entry(year=year.index + 1, uid=int(uid), desk=desk, stage=stage, outcome=outcome, rule=rule,
                                  **fields))

    def note(self, year, pop, rows, desk: str, rule: str) -> None:
        """A plain event for any followed resident among ``rows`` (a referral, a trajectory's end)."""
        for k in self._mine(pop, rows):
            self._add(year, pop.uid[rows[k]], desk, "note", NOTE, rule)

    def outcomes(self, year, pop, rows, job, kind, other, drop, lost, month) -> None:
        """What happened to a followed resident after the desks decided (``phases/outcomes.py``): a job, a drop-out, an exit."""
        for k in self._mine(pop, rows):
            events = []
            if job[k]:
                events.append(f"took {Status(int(kind[k])).name.lower().replace('_', ' ')} in month {month[k]:.0f}")
            if drop[k]:
                events.append(f"dropped out of the activity in month {month[k]:.0f}")
            if other[k]:
                events.append("left the benefit for other income")
            if lost[k]:
                events.append("lost the job")
            if events:
                self._add(year, pop.uid[rows[k]], "outcomes", "note", NOTE, ", ".join(events))

    def close_year(self, pop, year_number: int) -> None:
        """Each followed resident's status at the end of the year (``--uid`` paths)."""
        rows = pop.alive_rows()
        for k in self._mine(pop, rows):
            status = Status(int(pop.status(rows[k:k + 1])[0])).name.lower()
            self.status[(int(pop.uid[rows[k]]), year_number)] = status

    # ------------------------------------------------------------------ who is a candidate
    def work_sift(self, year, desk, pop, rows, cand, instr, team, p) -> None:
        """The P-wet re-integration candidates of a desk (``allocation.allocate_work``): why each followed non-candidate is not one."""
        for k in self._mine(pop, rows):
            if cand[k]:
                continue  # its place in the queue follows (``queue``)
            row = rows[k]
            if not pop.desk[row] & Desk.PWET:
                why = "not known to the P-wet desk"
            elif not pop.on_benefit[row]:
                why = "not on benefit"
            elif pop.employment[row] >= 0:
                why = "in work"
            elif pop.holds(np.array([row]), TRAJ_BITS)[0]:
                why = "holds a re-integration trajectory already"
            elif pop.holds(np.array([row]), DAY_BITS)[0] and pop.intake[row] != Intake.TAKEN:
                why = "holds a Wmo day activity, no cross-law intake taken"
            elif instr[k] == alloc.NONE:
                why = (f"no instrument: wage value {pop.wage[row]:.2f} < care-client threshold "
                       f"{p['wage.care_client_threshold']:.2f}")
            else:
                why = f"its workers may not deploy {Instrument(int(instr[k])).name.lower()}"
            self._add(year, pop.uid[row], desk.name, "work", NOT_CANDIDATE, f"no re-integration: {why}")

    def support_sift(self, year, desk, pop, rows, assessed, p) -> None:
        """The Wmo assessment of a desk (``allocation.support_candidates``): why each followed resident is or is not found in need."""
        threshold = p["wmo.need_threshold"]
        for k in self._mine(pop, rows):
            row = rows[k]
            sr = float(pop.self_reliance(np.array([row]))[0])
            if assessed[k]:
                continue  # its place in the assessment queue follows (``support_queue``)
            if not pop.desk[row] & Desk.WMO:
                why = "not known to the Wmo desk"
            elif pop.employment[row] >= 0:
                why = "in work"
            elif pop.holds(np.array([row]), WMO_BITS)[0]:
                why = "holds Wmo support already"
            else:
                why = f"Wmo assessment: self-reliance {sr:.2f} >= need threshold {threshold:.2f}, not in need"
            self._add(year, pop.uid[row], desk.name, "support", NOT_CANDIDATE, f"no Wmo support: {why}")

    # ------------------------------------------------------------------ queues
    def work_queue(self, year, desk, pop, r, instr, priority, amount, budget, room, chosen, coordinated,
                   no_place) -> None:
        """A desk's re-integration queue (``BudgetHolder.select`` within its discretionary money and room).

        ``no_place``: wanted a social-firm place, none left for the desk's stream, so priced as training.
        """
        if len(self._mine(pop, r)):
            names = np.array([Instrument(int(i)).name.lower() + (" (no firm place left)" if gone else "")
                              for i, gone in zip(instr, no_place, strict=True)], dtype=object)
            self.queue(year, desk.name, desk.objective, pop, r, names, priority, amount, budget, room, chosen,
                       coordinated, "caseload room", "work")

    def sheltered_queue(self, year, pop, r, priority, cost, free, chosen) -> None:
        """Sheltered work: one count of places for both desks, the lowest wage value first (a right up to the places)."""
        if len(self._mine(pop, r)):
            names = np.full(len(r), "sheltered work", dtype=object)
            self.queue(year, "sheltered", "lowest wage value first", pop, r, names, priority, cost, np.inf, free, chosen,
                       limit="sheltered-work places", stage="sheltered")

    def support_queue(self, year, desk, pop, r, support, day, priority, cost, room, chosen, coordinated) -> None:
        """The Wmo assessment queue (a right: the room to assess limits it, not the money)."""
        if len(self._mine(pop, r)):
            names = np.array([_package(int(s), bool(d)) for s, d in zip(support, day, strict=True)], dtype=object)
            self.queue(year, desk.name, desk.objective, pop, r, names, priority, cost, np.inf, room, chosen,
                       coordinated, "room to assess", "support")

    def queue(self, year, desk_name: str, ranking: str, pop, r, names, priority, cost, budget, room, chosen,
              coordinated=None, limit: str = "caseload room", stage: str = "work") -> None:
        """A queue served like ``select_within_limits``: rank, money left at their turn, and the rule, for each followed candidate.

        ``names``: per candidate what is offered; ``budget``: the money the queue is bought within (``inf`` for
        a right, which is granted whatever the money); ``coordinated``: regisseur households, who go first;
        ``limit``: what ``room`` counts (caseload room, room to assess, places); ``stage``: ``Entry.stage``.
        """
        mine = self._mine(pop, r)
        if len(mine) == 0:
            return
        rank, left, stop, stopped_by = queue_places(priority, cost, budget, room)
        n, served = len(r), int(chosen.sum())
        if stop != served:  # the queue read here must be the one served
            raise AssertionError(f"trace of the {desk_name} desk: {stop} served by the queue, {served} chosen")
        money = bool(np.isfinite(budget))
        for k in mine:
            place = f"ranked {rank[k] + 1} of {n}"
            first = coordinated is not None and bool(coordinated[k])
            order = "regisseur coordination: first in queue" if first else RANKINGS.get(ranking, ranking)
            if chosen[k] and money:
                rule = (f"offered {names[k]}, chosen: {place}, {served} chosen "
                        f"({order}; {_euro(left[k])} left at their turn)")
            elif chosen[k]:
                rule = f"offered {names[k]}, granted: {place}, {served} granted ({order}; a right: money does not limit)"
            elif stopped_by == "budget":
                why = f"no discretionary money left ({_euro(budget)})" if stop == 0 else f"budget ran out at {stop}"
                rule = (f"{names[k]} not offered: {place}; {why} "
                        f"({order}; {_euro(max(left[k], 0.0))} left at their turn)")
            else:
                rule = f"{names[k]} not offered: {place}; {limit} ran out at {stop} ({order})"
            self._add(year, pop.uid[r[k]], desk_name, stage, CHOSEN if chosen[k] else NOT_CHOSEN, rule,
                      instrument=str(names[k]).split(" (", 1)[0], rank=int(rank[k]) + 1, candidates=n, chosen=served,
                      money_left=float(left[k]) if money else None)

    # ------------------------------------------------------------------ practices
    def regie(self, year, pop, rows, inv, per_hh, chosen_hh, cap, known, p) -> None:
        """Regisseurs take the heaviest multi-problem households (``allocation.assign_regie``)."""
        mine = self._mine(pop, rows)
        if len(mine) == 0:
            return
        least = p["problems.multi_problem_count"]
        multi = np.flatnonzero(per_hh >= least)
        order = multi[np.argsort(-per_hh[multi], kind="stable")]
        place = np.full(len(per_hh), -1)
        place[order] = np.arange(len(order))
        for k in mine:
            h = inv[k]
            if not known[k]:
                continue  # an unknown resident is not coordinated; the desks' lines say they are not known
            if per_hh[h] < least:
                self._add(year, pop.uid[rows[k]], "regie", "regie", NOT_CANDIDATE,
                          f"no coordination: household has {per_hh[h]:.0f} severe problems < {least}")
            elif h in chosen_hh:
                self._add(year, pop.uid[rows[k]], "regie", "regie", CHOSEN,
                          f"coordinated: household ranked {place[h] + 1} of {len(order)} multi-problem households, "
                          f"{cap} coordinated", rank=int(place[h]) + 1, candidates=len(order), chosen=len(chosen_hh))
            else:
                self._add(year, pop.uid[rows[k]], "regie", "regie", NOT_CHOSEN,
                          f"no coordination: household ranked {place[h] + 1} of {len(order)}; caseload of {cap} full",
                          rank=int(place[h]) + 1, candidates=len(order), chosen=len(chosen_hh))

    def triage(self, year, pop, rows, light, idx, room, p) -> None:
        """A generalist handles light problems directly (``access.triage``), while its caseload lasts."""
        if p["practice.generalist_triage"] <= 0:
            return
        taken = np.zeros(len(rows), dtype=bool)
        taken[idx] = True
        severe = p["problems.severe_threshold"]
        refer_from = p["access.refer_from_severe_count"]
        for k in self._mine(pop, rows):
            row = rows[k]
            blocking = int(prob.count_severe(pop.sev[row:row + 1], BLOCKING_DOMAINS, severe)[0])
            if taken[k]:
                rule = f"triaged by generalist: light problem ({blocking} severe blocking problem(s) < {refer_from})"
                outcome = CHOSEN
            elif pop.desk[row] == Desk.NONE:
                continue
            elif blocking == 0:
                rule, outcome = "not triaged: no severe blocking problem", NOT_CANDIDATE
            elif blocking >= refer_from:
                rule, outcome = f"not triaged: {blocking} severe blocking problems, referred on (>= {refer_from})", \
                    NOT_CANDIDATE
            elif light[k]:
                rule, outcome = f"not triaged: generalists' caseload of {room} full", NOT_CHOSEN
            else:
                rule, outcome = (f"not triaged: outside the share reached "
                                 f"(practice.generalist_triage = {p['practice.generalist_triage']:.2f})"), NOT_CHOSEN
            self._add(year, pop.uid[row], "triage", "triage", outcome, rule)


def _package(support: int, day: bool) -> str:
    parts = [name for bit, name in ((GUIDANCE_BIT, "guidance"), (HOUSEHOLD_HELP_BIT, "household help"))
             if support & bit]
    if day:
        parts.append("day activities")
    return " + ".join(parts) or "Wmo support"
