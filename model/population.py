"""Resident state as typed numpy columns, changed only through named transitions.

Why arrays: every yearly rule for residents is vectorisable, and a per-agent Python step would
cost more than the whole model year is allowed to (``benchmarks/bench_model_year.py``). The
``Resident`` agents stay the identity that personas, the page and data collection use; each
holds its row index here.

The transitions below (``enter``, ``leave``, ``come_into_sight``, ``start``, ``take_job``,
``leave_for_other_income``, ``return_to_benefit`` ...) are the only writers of resident state. Each keeps the invariants (nobody in work and on benefit at
once, a firm place only with a firm instrument, a lock-in only in a trajectory) and records one
event per resident in the event history (``events.py``). Rows of residents who left are dropped
by ``compact``; the rows of everyone else keep their order.
"""

from __future__ import annotations

import numpy as np

from model.constants import (
    ACTIVITY_BITS,
    DAY_BITS,
    FIRM_BITS,
    MONTHS_PER_YEAR,
    N_DOMAINS,
    N_INSTRUMENTS,
    TRAJ_BITS,
    UNPLACED,
    VOLUNTEER_BIT,
    WMO_BITS,
    WORKLIKE_BIT,
    Desk,
    Disability,
    Instrument,
    Intake,
    Member,
    Status,
    bits,
)
from model.events import CLOSING, NO_CODE, EventKind, EventLog
from model.rules import problems as prob

NO_FIRM = -1
NOT_EMPLOYED = -1
SUBSIDY_BIT = bits([Instrument.WAGE_SUBSIDY])
SHELTERED_BIT = bits([Instrument.SHELTERED_WORK])
SUPPORT_ONLY_BITS = WMO_BITS & ~DAY_BITS  # guidance, household help
OFF_BENEFIT_ENDS = VOLUNTEER_BIT  # what ends with the benefit: volunteering in return for it (model/levers.py)


# The status of a resident not in work, as a table (``Population.status`` reads it for every transition).
# Provisions that decide it, first match wins; without any, benefit, then other income, else out of sight.
PROVISION_STATUS = ((TRAJ_BITS, Status.TRAJECTORY), (DAY_BITS, Status.DAY_ACTIVITIES),
                    (SUPPORT_ONLY_BITS, Status.GUIDANCE_ONLY))
_FLAG_BITS = 2  # the key's low bits: on_benefit (bit 1), other_income (bit 0)


def _status_tables() -> tuple[np.ndarray, np.ndarray]:
    """Each provisions mask's class shifted past the flags (0 = none, i + 1 = PROVISION_STATUS[i]); the status per key."""
    masks = np.arange(1 << np.iinfo(np.uint16).bits)
    held = [(masks & bits) != 0 for bits, _ in PROVISION_STATUS]
    provision_class = np.select(held, np.arange(1, len(PROVISION_STATUS) + 1), 0) << _FLAG_BITS
    by_key = []
    for cls in range(len(PROVISION_STATUS) + 1):
        for on_benefit in (False, True):
            for other_income in (False, True):
                base = (Status.BENEFIT_NO_SUPPORT if on_benefit else Status.OTHER_INCOME if other_income
                        else Status.NOT_IN_SIGHT)
                by_key.append(PROVISION_STATUS[cls - 1][1] if cls else base)
    return provision_class.astype(np.int8), np.array(by_key, dtype=np.int8)


PROVISION_CLASS, STATUS_BY_KEY = _status_tables()


def _lowest_bits() -> np.ndarray:
    """The lowest instrument held per provisions mask (-1 for none)."""
    masks = np.arange(1 << np.iinfo(np.uint16).bits)
    lowest = np.full(len(masks), NO_CODE, dtype=np.int64)
    for i in reversed(range(N_INSTRUMENTS)):
        lowest[(masks & (1 << i)) != 0] = i
    return lowest


LOWEST_INSTRUMENT = _lowest_bits()

# name -> (dtype, shape suffix, fill value)
FIELDS: dict[str, tuple] = {
    "uid": (np.int64, (), -1),
    "alive": (np.bool_, (), False),
    "age": (np.float64, (), 0.0),
    "household": (np.int64, (), -1),
    "member": (np.int8, (), Member.HEAD),  # head, partner or housemate
    "unit": (np.int64, (), -1),  # benefit unit (bijstandseenheid): the head's uid for head and partner, else own uid
    "sev": (np.float64, (N_DOMAINS,), 0.0),
    "load": (np.float64, (), 0.0),  # problems.problem_load of sev, kept with it (read many times a year)
    "wage": (np.float64, (), 0.0),
    "motivation": (np.float64, (), 0.0),
    "discrimination": (np.bool_, (), False),
    "disability": (np.int8, (), Disability.NONE),
    "employment": (np.int8, (), NOT_EMPLOYED),  # else Status.REGULAR/SUBSIDISED/SHELTERED_WORK
    "on_benefit": (np.bool_, (), False),
    "desk": (np.int8, (), Desk.NONE),
    "provisions": (np.uint16, (), 0),  # bit i set = holds Instrument(i)
    "firm": (np.int32, (), NO_FIRM),
    "place_stream": (np.int8, (), -1),  # the funding stream (Holder) that bought the firm place held
    "trajectory_years": (np.float64, (), 0.0),
    "locked_in": (np.bool_, (), False),
    "years_out": (np.float64, (), 0.0),  # years since last paid work
    "spell_years": (np.float64, (), 0.0),  # elapsed current benefit spell
    "years_in_work": (np.float64, (), 0.0),
    "entry_month": (np.float64, (), 0.0),  # month of entry this year (0 for residents already there)
    "left_for_work": (np.bool_, (), False),  # left benefit for work in this run and not back on it
    "care_saving": (np.float64, (), 0.0),  # EUR/year of Wmo care no longer needed since a care exit
    "work_from_firm": (np.int32, (), NO_FIRM),  # firm whose trajectory the last move into a job left (else none)
    "benefit_at_exit": (np.float64, (), 0.0),  # EUR net per month of benefit when that move happened
    "care_exit_at_firm": (np.int32, (), NO_FIRM),  # firm whose place was held at the last Wmo care exit (else none)
    "left_benefit_at": (np.float64, (), np.nan),  # time (years) of the last move from benefit to work
    "other_income": (np.bool_, (), False),  # off benefit on an income of its own or the household's: no claim
    "other_income_since": (np.float64, (), np.nan),  # time (years) the current other-income period began
    "left_for_other": (np.bool_, (), False),  # left benefit for other income in this run and not back on it
    "left_other_at": (np.float64, (), np.nan),  # time (years) of the last move from benefit to other income
    "work_end_seen": (np.bool_, (), False),  # the first job end after the last move from benefit to work has happened
    "activity_start_year": (np.int32, (), -1),  # year the current trajectory or day activity began
    "own_income": (np.float64, (), 0.0),  # EUR net per month outside a modelled job; counts against the unit's norm
    "desk_draw": (np.float64, (), 1.0),  # fixed draw: the transformation desk handles those below the share
    "persona": (np.int8, (), -1),  # index into the model's persona list, -1 for everyone else
    "exit_reason": (np.int8, (), -1),
    "step": (np.int8, (), UNPLACED),  # participation step 1-6 (constants.Step); UNPLACED until the first review
    "intake": (np.int8, (), Intake.NONE),  # a pending cross-law intake under partitions (constants.Intake)
    "intake_due": (np.float64, (), np.nan),  # time (years) at which a WAITING intake takes place
    # The event history's spell keys (``_record``; docs/events.md), kept only while recording:
    "benefit_spell": (np.int32, (), 0),  # benefit spells begun in the history (the current or last one's number)
    "benefit_logged": (np.bool_, (), False),  # on benefit as of the last recorded event
    "instrument_spells": (np.int32, (), 0),  # instrument spells begun in the history
    "logged_provisions": (np.uint16, (), 0),  # provisions as of the last recorded event
    "instrument_spell_of": (np.int32, (N_INSTRUMENTS,), 0),  # the spell number of each instrument held (or last held)
}


def grown_capacity(need: int, capacity: int) -> int:
    """Room for ``need`` rows: at least a quarter more than ``capacity``, so growing stays cheap per row."""
    return max(need, capacity + capacity // 4)


class Population:
    """Growable struct-of-arrays for residents, with the named transitions that change them."""

    uid: np.ndarray
    alive: np.ndarray
    age: np.ndarray
    household: np.ndarray
    member: np.ndarray
    unit: np.ndarray
    sev: np.ndarray
    load: np.ndarray
    wage: np.ndarray
    motivation: np.ndarray
    discrimination: np.ndarray
    disability: np.ndarray
    employment: np.ndarray
    on_benefit: np.ndarray
    desk: np.ndarray
    provisions: np.ndarray
    firm: np.ndarray
    place_stream: np.ndarray
    trajectory_years: np.ndarray
    locked_in: np.ndarray
    years_out: np.ndarray
    spell_years: np.ndarray
    years_in_work: np.ndarray
    entry_month: np.ndarray
    left_for_work: np.ndarray
    care_saving: np.ndarray
    work_from_firm: np.ndarray
    benefit_at_exit: np.ndarray
    care_exit_at_firm: np.ndarray
    left_benefit_at: np.ndarray
    other_income: np.ndarray
    other_income_since: np.ndarray
    left_for_other: np.ndarray
    left_other_at: np.ndarray
    work_end_seen: np.ndarray
    activity_start_year: np.ndarray
    own_income: np.ndarray
    desk_draw: np.ndarray
    persona: np.ndarray
    exit_reason: np.ndarray
    step: np.ndarray
    intake: np.ndarray
    intake_due: np.ndarray
    benefit_spell: np.ndarray
    benefit_logged: np.ndarray
    instrument_spells: np.ndarray
    logged_provisions: np.ndarray
    instrument_spell_of: np.ndarray

    def __init__(self, capacity: int = 1024, events: EventLog | None = None):
        self.n = 0
        self._cap = max(int(capacity), 16)
        for name, (dtype, shape, fill) in FIELDS.items():
            setattr(self, name, np.full((self._cap, *shape), fill, dtype=dtype))
        self.events = events if events is not None else EventLog()
        # Whether transitions are recorded in ``events``: off in the unreported spin-up, whose history is
        # dropped anyway (``restart_history``), so it neither keeps its events nor computes their statuses.
        self.recording = True
        self.next_uid = 0  # ids are handed out in creation order, so each is a pure function of it
        self.next_household = 0

    def issue_ids(self, residents: int, households: int) -> tuple[int, int]:
        """Reserve ids for new residents and households; return the first of each."""
        first = self.next_uid, self.next_household
        self.next_uid += residents
        self.next_household += households
        return first

    # ------------------------------------------------------------------ rows and reading
    def _reserve(self, count: int) -> np.ndarray:
        need = self.n + count
        if need > self._cap:
            self._resize(grown_capacity(need, self._cap))
        rows = np.arange(self.n, need)
        self.n = need
        return rows

    def _resize(self, capacity: int, keep: np.ndarray | None = None) -> None:
        """Move every column into arrays of ``capacity`` rows: the first ``n`` rows, or the rows in ``keep``.

        One column at a time, so the memory held on top of the columns is one column's worth.
        """
        count = self.n if keep is None else len(keep)
        for name, (dtype, shape, fill) in FIELDS.items():
            column = getattr(self, name)
            moved = np.empty((capacity, *shape), dtype=dtype)
            if keep is None:
                moved[:count] = column[:count]
            else:
                np.take(column, keep, axis=0, out=moved[:count])
            moved[count:] = fill
            setattr(self, name, moved)
        self._cap = capacity

    def alive_rows(self) -> np.ndarray:
        """Indices of residents currently in the modelled population."""
        return np.flatnonzero(self.alive[: self.n])

    def self_reliance(self, rows) -> np.ndarray:
        """``problems.self_reliance`` of these residents' severities, from the problem load kept with them."""
        return 1.0 - self.load[rows]

    def holds(self, rows, instrument_bits: int) -> np.ndarray:
        """Whether each resident holds any of the instruments in the bit mask."""
        return (self.provisions[rows] & instrument_bits) != 0

    def status(self, rows) -> np.ndarray:
        """Primary status from employment, provisions and benefit (exactly one per resident).

        Work comes first, then a trajectory, a day activity, other support, benefit, other income,
        out of sight; read from two small tables (``PROVISION_STATUS``), because every transition
        takes the status before and after it.
        """
        emp = self.employment[rows]
        key = PROVISION_CLASS[self.provisions[rows]]
        key |= self.on_benefit[rows].view(np.int8) << 1
        key |= self.other_income[rows].view(np.int8)
        return np.where(emp >= 0, emp, STATUS_BY_KEY[key])

    def nbytes(self) -> int:
        """Memory held by the arrays (and the event history)."""
        return sum(getattr(self, name).nbytes for name in FIELDS) + self.events.nbytes()

    def _status_before(self, rows) -> np.ndarray | None:
        """The status a transition records as ``status_before``; not computed while nothing is recorded."""
        return self.status(rows) if self.recording else None

    def _record(self, event: EventKind, rows, year: int, month, before, instrument=NO_CODE, payer=NO_CODE,
                amount=0.0, after=None) -> None:
        """Record one event per resident, with the benefit and instrument spells it opens or closes.

        A benefit spell begins where a resident is on benefit and was not at the last recorded event. An
        instrument the event names opens a spell when it was not held before; an ``END`` or ``DROP_OUT``
        names the instrument it ends. Instruments the event takes away without naming them are closed by a
        ``LAPSE`` row right after it, instruments it brings without naming them (entering) opened by a
        ``HOLD`` row; an end of more than one instrument gives one row per instrument. The extra rows keep
        the status the event ended in, so each resident's statuses still chain in recording order.
        """
        if not self.recording:
            return
        rows = np.asarray(rows)
        n = len(rows)
        if n == 0:
            return
        after = self.status(rows) if after is None else np.broadcast_to(np.asarray(after, dtype=np.int8), (n,))
        month = np.broadcast_to(np.asarray(month, dtype=np.float64), (n,))
        step = np.full(n, NO_CODE, dtype=np.int8) if event == EventKind.LEAVE else self.step[rows]
        on = self.on_benefit[rows]
        self.benefit_spell[rows] += on & ~self.benefit_logged[rows]
        self.benefit_logged[rows] = on
        held, logged = self.provisions[rows], self.logged_provisions[rows]
        opened, closed = held & ~logged, logged & ~held
        self.logged_provisions[rows] = held
        if event in CLOSING:
            instrument = LOWEST_INSTRUMENT[closed]
        elif event == EventKind.LOCK_IN:
            instrument = LOWEST_INSTRUMENT[held & np.uint16(TRAJ_BITS)]
        instrument = np.broadcast_to(np.asarray(instrument, dtype=np.int64), (n,))
        named = instrument >= 0
        own_bit = np.where(named, np.left_shift(1, np.maximum(instrument, 0)), 0).astype(np.uint16)
        self._open_spells(rows, own_bit & opened)
        spell = np.zeros(n, dtype=np.int32)
        spell[named] = self.instrument_spell_of[rows[named], instrument[named]]
        self.events.record(event, uid=self.uid[rows], household=self.household[rows], year=year, month=month,
                           before=before, after=after, step=step, instrument=instrument, payer=payer,
                           amount=amount, on_benefit=on, benefit_spell=self.benefit_spell[rows], instrument_spell=spell)
        for kind, rest in ((event if event in CLOSING else EventKind.LAPSE, closed & ~own_bit),
                           (EventKind.HOLD, opened & ~own_bit)):
            if not rest.any():
                continue
            for instr in range(N_INSTRUMENTS):
                has = (rest & np.uint16(1 << instr)) != 0
                if not has.any():
                    continue
                r = rows[has]
                if kind == EventKind.HOLD:
                    self._open_spells(r, np.uint16(1 << instr))
                self.events.record(kind, uid=self.uid[r], household=self.household[r], year=year, month=month[has],
                                   before=after[has], after=after[has], step=step[has], instrument=instr,
                                   on_benefit=on[has], benefit_spell=self.benefit_spell[r],
                                   instrument_spell=self.instrument_spell_of[r, instr])

    def _open_spells(self, rows, opening) -> None:
        """New instrument spell numbers for the instruments in ``opening`` (at most one bit per resident)."""
        opens = np.broadcast_to(opening, rows.shape) != 0
        r = rows[opens]
        if len(r) == 0:
            return
        self.instrument_spells[r] += 1
        self.instrument_spell_of[r, LOWEST_INSTRUMENT[np.broadcast_to(opening, rows.shape)[opens]]] = self.instrument_spells[r]

    def _drop_lapsed_intakes(self, rows) -> None:
        """A cross-law intake lapses with the Wmo day activity it would move on from (an invariant: none without one)."""
        lapsed = rows[(self.provisions[rows] & DAY_BITS) == 0]
        self.intake[lapsed] = Intake.NONE
        self.intake_due[lapsed] = np.nan

    # ------------------------------------------------------------------ entering and leaving
    def enter(self, values: dict[str, np.ndarray], year: int) -> np.ndarray:
        """New residents with the given columns (others take their defaults); return their rows."""
        count = len(values["uid"])
        rows = self._reserve(count)
        for name, column in values.items():
            getattr(self, name)[rows] = column
        if "sev" in values:
            self.load[rows] = prob.problem_load(self.sev[rows])
        self.alive[rows] = True
        self._record(EventKind.ENTER, rows, year, self.entry_month[rows], NO_CODE)
        return rows

    def leave(self, rows, reasons, year: int, month=0.0) -> None:
        """Residents leave the population (retirement, moving, death, recovery, other income).

        They leave at the turn of the year (``demography``): present all of the year before, absent from this
        one, so the event is dated at month 0 of this year.
        """
        before = self._status_before(rows)
        self.intake[rows] = Intake.NONE
        self.intake_due[rows] = np.nan
        self.alive[rows] = False
        self.exit_reason[rows] = reasons
        self.provisions[rows] = 0
        self.firm[rows] = NO_FIRM
        self.on_benefit[rows] = False
        self.other_income[rows] = False
        self._record(EventKind.LEAVE, rows, year, month, before, after=NO_CODE)

    def stop_recording(self) -> None:
        """Record no transitions until ``restart_history`` (the unreported spin-up, whose history is dropped)."""
        self.recording = False

    def restart_history(self, year: int) -> None:
        """The event history starts afresh from the population as it is: one ENTER per resident present, at ``year``.

        Used after the unreported spin-up (``SocialDomainModel._spin_up``): its events are not part of the run.
        """
        self.events = EventLog()
        self.recording = True
        for name in ("benefit_spell", "benefit_logged", "instrument_spells", "logged_provisions", "instrument_spell_of"):
            getattr(self, name)[:] = FIELDS[name][2]
        rows = self.alive_rows()
        self._record(EventKind.ENTER, rows, year, self.entry_month[rows], NO_CODE)

    def compact(self, keep: np.ndarray) -> np.ndarray:
        """Drop every row not in ``keep`` (sorted rows); return the new row of each old row (-1 if dropped).

        The kept rows keep their order. The arrays shrink with the rows, to half as many again as
        the rows kept, when they could hold more than twice as many.
        """
        kept = len(keep)
        new_row = np.full(self.n, -1, dtype=np.int64)
        new_row[keep] = np.arange(kept)
        if self._cap > 2 * kept:
            self._resize(max(kept + kept // 2, 16), keep)
        else:
            for name, (_, _, fill) in FIELDS.items():
                column = getattr(self, name)
                column[:kept] = np.take(column, keep, axis=0)
                column[kept: self.n] = fill
        self.n = kept
        return new_row

    # ------------------------------------------------------------------ desks
    def come_into_sight(self, rows, desk, month, year: int, entitled=True) -> None:
        """A hidden resident becomes known: on benefit when entitled and not in work, a new spell from ``month``."""
        before = self._status_before(rows)
        self.on_benefit[rows] = (self.employment[rows] < 0) & entitled
        self._back_on_benefit(rows[self.on_benefit[rows]])
        self.desk[rows] = desk
        self.spell_years[rows] = 0.0
        self.entry_month[rows] = month
        self._record(EventKind.COME_INTO_SIGHT, rows, year, month, before)

    def join_claim(self, rows, year: int, month) -> None:
        """Residents without income join their household's benefit as co-claimants (known to the P-wet)."""
        before = self._status_before(rows)
        self.on_benefit[rows] = True
        self._back_on_benefit(rows)
        self.desk[rows] |= Desk.PWET
        self.spell_years[rows] = 0.0
        self._record(EventKind.JOIN_CLAIM, rows, year, month, before)

    def leave_benefit(self, rows, year: int, month) -> None:
        """Benefit ends because the household's income reached its norm; the resident stays in the population."""
        before = self._status_before(rows)
        self.on_benefit[rows] = False
        self.provisions[rows] &= np.invert(np.uint16(OFF_BENEFIT_ENDS))
        self._record(EventKind.LEAVE_BENEFIT, rows, year, month, before)

    def join_desk(self, rows, desk: Desk, year: int) -> None:
        """Residents become known to another desk too (the event is recorded only where it is new)."""
        new = rows[(self.desk[rows] & desk) != desk]
        self.desk[new] |= desk
        self._record(EventKind.JOIN_DESK, new, year, self.entry_month[new], self._status_before(new))

    # ------------------------------------------------------------------ instruments
    def start(self, rows, instruments, year: int, firm=None, payer=NO_CODE, amount=0.0, month=None) -> None:
        """Start one trajectory or day activity each (at a firm place where ``firm`` >= 0).

        ``month``: when it begins (default: the resident's month of entry this year, 0 for those there all year).
        """
        instruments = np.asarray(instruments)
        before = self._status_before(rows)
        for instr in np.unique(instruments):
            r = rows[instruments == instr]
            self.provisions[r] |= np.uint16(1 << int(instr))
            if TRAJ_BITS & (1 << int(instr)):
                self.trajectory_years[r] = 0.0
                self.locked_in[r] = False
        self.activity_start_year[rows] = year
        if firm is not None:
            self.firm[rows] = firm
            self.place_stream[rows] = payer
        self._record(EventKind.START, rows, year, self.entry_month[rows] if month is None else month, before,
                     instrument=instruments, payer=payer, amount=amount)

    def grant(self, rows, support_bits, year: int, payer=NO_CODE, month=None) -> None:
        """Add support that is no activity (guidance, household help); one event per instrument granted.

        ``month``: when it begins, per resident (default: the month of entry this year).
        """
        month = self.entry_month[rows] if month is None else np.broadcast_to(month, np.shape(rows))
        support_bits = np.asarray(support_bits, dtype=np.uint16)
        for instr in Instrument:
            got = (support_bits & (1 << int(instr))) != 0
            if got.any():
                r = rows[got]
                before = self._status_before(r)
                self.provisions[r] |= np.uint16(1 << int(instr))
                self._record(EventKind.START, r, year, month[got], before, instrument=int(instr), payer=payer)

    def end(self, rows, instrument_bits: int, year: int, event: EventKind = EventKind.END, month=None) -> None:
        """Instruments end (planned end, recovery, drop-out, a new intake); a firm place goes with its instrument.

        ``month`` defaults to the month of entry this year: an end at the yearly review or allocation takes
        effect from the resident's first month of the year (0 for those there all year).
        """
        month = self.entry_month[rows] if month is None else month
        before = self._status_before(rows)
        self.provisions[rows] &= np.invert(np.uint16(instrument_bits))
        left = self.provisions[rows]
        self.firm[rows[(left & FIRM_BITS) == 0]] = NO_FIRM
        self.locked_in[rows[(left & TRAJ_BITS) == 0]] = False
        self._drop_lapsed_intakes(rows)
        self._record(event, rows, year, month, before)

    def hand_over_places(self, rows, streams) -> None:
        """The firm places these residents hold pass to other funding streams (a change of funding; the clients stay)."""
        self.place_stream[rows] = streams

    def continue_at_firm(self, rows, year: int, payer=NO_CODE) -> None:
        """Work-like day activities at a social firm continue as a firm trajectory in the same place, no new intake."""
        before = self._status_before(rows)
        self.provisions[rows] = (self.provisions[rows] & np.invert(np.uint16(WORKLIKE_BIT))) | np.uint16(
            1 << int(Instrument.SOCIAL_FIRM))
        self.trajectory_years[rows] = 0.0
        self.locked_in[rows] = False
        self.activity_start_year[rows] = year
        self._drop_lapsed_intakes(rows)
        self._record(EventKind.START, rows, year, self.entry_month[rows], before, instrument=Instrument.SOCIAL_FIRM,
                     payer=payer)

    def lock_in(self, rows, year: int) -> None:
        """The firm keeps these clients in their trajectory past its planned end."""
        self.locked_in[rows] = True
        self._record(EventKind.LOCK_IN, rows, year, self.entry_month[rows], self._status_before(rows))

    def count_trajectory_year(self, rows) -> None:
        """One more year in the current trajectory."""
        self.trajectory_years[rows] += 1.0

    def set_care_saving(self, rows, amount) -> None:
        """Yearly Wmo cost no longer needed after a care exit (EUR/year); 0 clears it."""
        self.care_saving[rows] = amount

    def note_job_origin(self, rows, from_firm, monthly_benefit) -> None:
        """These residents take a job now: mark the firm whose trajectory they leave for it, or none [SR business case].

        ``monthly_benefit``: the benefit they received until now (EUR net per month), kept for the marked ones.
        """
        self.work_from_firm[rows] = np.where(from_firm, self.firm[rows], NO_FIRM)
        self.benefit_at_exit[rows] = np.where(from_firm & self.on_benefit[rows], monthly_benefit, 0.0)

    def note_care_exit(self, rows) -> None:
        """These residents leave Wmo care now: mark the firm whose place they hold, or none [SR business case]."""
        self.care_exit_at_firm[rows] = self.firm[rows]

    # ------------------------------------------------------------------ work and benefit
    def _leave_benefit_for_work(self, rows, year: int, month) -> None:
        was = self.on_benefit[rows]
        self.left_for_work[rows] = was | self.left_for_work[rows]
        self.work_end_seen[rows[was]] = False
        self.left_benefit_at[rows[was]] = year + np.broadcast_to(month, rows.shape)[was] / MONTHS_PER_YEAR
        self.on_benefit[rows] = False

    def take_job(self, rows, kind, year: int, month) -> None:
        """Into regular or subsidised work (``kind`` per resident): activities end, benefit ends, clocks reset."""
        before = self._status_before(rows)
        self.employment[rows] = kind
        self.other_income[rows] = False
        self._leave_benefit_for_work(rows, year, month)
        self.provisions[rows] &= np.invert(np.uint16(ACTIVITY_BITS | OFF_BENEFIT_ENDS))
        self.provisions[rows[kind == Status.SUBSIDISED_WORK]] |= np.uint16(SUBSIDY_BIT)
        self.firm[rows] = NO_FIRM
        self.locked_in[rows] = False
        self.years_out[rows] = 0.0
        self.spell_years[rows] = 0.0
        self.years_in_work[rows] = 0.0
        self._drop_lapsed_intakes(rows)
        self._record(EventKind.TAKE_JOB, rows, year, month, before,
                     instrument=np.where(kind == Status.SUBSIDISED_WORK, Instrument.WAGE_SUBSIDY, NO_CODE))

    def to_sheltered(self, rows, year: int, month) -> None:
        """Into sheltered work (beschut werk): activities end, the place is held from ``month``."""
        before = self._status_before(rows)
        self.employment[rows] = Status.SHELTERED_WORK
        self.other_income[rows] = False  # a wage of one's own, as with any job
        self.provisions[rows] = ((self.provisions[rows] & np.invert(np.uint16(ACTIVITY_BITS | OFF_BENEFIT_ENDS)))
                                 | np.uint16(SHELTERED_BIT))
        self.firm[rows] = NO_FIRM
        self.locked_in[rows] = False
        self._leave_benefit_for_work(rows, year, month)
        self._drop_lapsed_intakes(rows)
        self._record(EventKind.TO_SHELTERED, rows, year, month, before, instrument=Instrument.SHELTERED_WORK)

    def lose_job(self, rows, year: int, month, to_benefit=None) -> None:
        """A job ends: back on benefit where ``to_benefit`` (a new spell, known to the P-wet), else other income (WW, the household's)."""
        before = self._status_before(rows)
        claims = np.ones(len(rows), dtype=bool) if to_benefit is None else np.asarray(to_benefit, dtype=bool)
        self.employment[rows] = NOT_EMPLOYED
        self.provisions[rows] &= np.invert(np.uint16(SUBSIDY_BIT))
        self.work_end_seen[rows[self.left_for_work[rows]]] = True
        back, other = rows[claims], rows[~claims]
        self.on_benefit[back] = True
        self._back_on_benefit(back)
        self.desk[back] |= Desk.PWET
        self.spell_years[back] = 0.0
        self.other_income[other] = True
        self.other_income_since[other] = year + np.broadcast_to(month, rows.shape)[~claims] / MONTHS_PER_YEAR
        self._record(EventKind.LOSE_JOB, rows, year, month, before)

    def leave_for_other_income(self, rows, year: int, month) -> None:
        """Benefit ends for other income (partner income, another benefit): the resident stays, no claim; P-wet trajectories end."""
        before = self._status_before(rows)
        when = year + np.broadcast_to(month, rows.shape) / MONTHS_PER_YEAR
        self.on_benefit[rows] = False
        self.other_income[rows] = True
        self.other_income_since[rows] = when
        self.left_for_other[rows] = True
        self.left_other_at[rows] = when
        self.provisions[rows] &= np.invert(np.uint16(TRAJ_BITS | OFF_BENEFIT_ENDS))
        left = self.provisions[rows]
        self.firm[rows[(left & FIRM_BITS) == 0]] = NO_FIRM
        self.locked_in[rows] = False
        self._record(EventKind.TO_OTHER_INCOME, rows, year, month, before)

    def return_to_benefit(self, rows, year: int, month) -> None:
        """The other income ended and the household is below its norm: a new claim at the P-wet desk, a new spell."""
        before = self._status_before(rows)
        self.on_benefit[rows] = True
        self._back_on_benefit(rows)
        self.desk[rows] |= Desk.PWET
        self.spell_years[rows] = 0.0
        self._record(EventKind.RETURN_TO_BENEFIT, rows, year, month, before)

    def _back_on_benefit(self, rows) -> None:
        """Whoever comes (back) on benefit has no other income and no open exit any more."""
        self.other_income[rows] = False
        self.left_for_work[rows] = False
        self.work_from_firm[rows] = NO_FIRM
        self.left_for_other[rows] = False

    # ------------------------------------------------------------------ cross-law intakes (partitions)
    def refer_to_intake(self, rows, due, year: int, month) -> None:
        """Referred to a P-wet intake from a Wmo day activity; the intake takes place at ``due`` (years) [BK18][FW19]."""
        self.intake[rows] = Intake.WAITING
        self.intake_due[rows] = due
        self._record(EventKind.REFERRAL, rows, year, month, self._status_before(rows))

    def take_intake(self, rows, desk: Desk, year: int) -> None:
        """The intake takes place: the resident is on the other desk's list while the Wmo place continues."""
        self.intake[rows] = Intake.TAKEN
        self.intake_due[rows] = np.nan
        self.desk[rows] |= desk
        self._record(EventKind.INTAKE, rows, year, self.entry_month[rows], self._status_before(rows))

    def fall_through(self, rows, year: int) -> None:
        """The referral is lost between the desks; the resident stays where it was."""
        self.intake[rows] = Intake.NONE
        self.intake_due[rows] = np.nan
        self._record(EventKind.FELL_THROUGH, rows, year, self.entry_month[rows], self._status_before(rows))

    # ------------------------------------------------------------------ participation ladder
    def place_on_ladder(self, rows, steps) -> None:
        """First placement of residents on the participation ladder (no move, so no event)."""
        self.step[rows] = steps

    def move_on_ladder(self, rows, steps, year: int) -> None:
        """New participation steps from the yearly review; one event per resident whose step changed."""
        steps = np.asarray(steps, dtype=np.int8)
        up, down = steps > self.step[rows], steps < self.step[rows]
        for event, moved in ((EventKind.STEP_UP, up), (EventKind.STEP_DOWN, down)):
            r = rows[moved]
            self.step[r] = steps[moved]
            self._record(event, r, year, self.entry_month[r], self._status_before(r))

    # ------------------------------------------------------------------ time and problems
    def age_one_year(self, rows) -> None:
        """A year older; everyone present is there from month 0 of the new year."""
        self.age[rows] += 1.0
        self.entry_month[rows] = 0.0

    def assign_desk(self, rows, in_desk) -> None:
        """The transformation desk's households this year: key 0 inside the desk, 1 outside (``YearState.handled``).

        Not a change of status (no event): who pays and decides for the resident follows from it.
        """
        self.desk_draw[rows] = np.where(in_desk, 0.0, 1.0)

    def set_problems(self, rows, sev, wage) -> None:
        """New problem severities (all domains, work/income included) and wage value."""
        self.sev[rows] = sev
        self.load[rows] = prob.problem_load(np.asarray(sev, dtype=np.float64))
        self.wage[rows] = wage

    def add_time(self, rows, frac, hired, lost, hired_frac=0.0) -> None:
        """Clocks: time in work, out of work and on benefit, for the part of the year each was present.

        Those hired this year and still in work get the part of the year after the hire (``hired_frac``).
        """
        employed = self.employment[rows] >= 0
        self.years_in_work[rows] += np.where(employed & ~hired, frac, np.where(employed & hired, hired_frac, 0.0))
        self.years_out[rows] += np.where(~employed, frac, 0.0)
        self.spell_years[rows] += np.where(self.on_benefit[rows] & ~lost, frac, 0.0)
