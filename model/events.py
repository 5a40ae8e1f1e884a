"""The event history: every named transition of a resident, kept in columnar buffers.

One row per resident per transition: its place in the recording order (seq), who (uid, household),
when (year index and month), what (the event), the status before and after, the participation step
after (-1 on leaving, 0 before the first ladder review), the instrument concerned, the budget holder
that pays and the amount committed where money moves, whether the resident is on benefit after it, and
the resident's benefit spell and instrument spell numbers. An end of several instruments gives one row
per instrument; instruments a transition takes away without naming them close with ``LAPSE`` rows right
after it, and instruments held on entering open with ``HOLD`` rows. ``Population``'s transitions are the
only writers. The data dictionary is docs/events.md (version ``DATA_DICTIONARY``). Researchers read it as
synthetic microdata (``ontschot run --events`` writes ``events.parquet``); the yearly indicators are
reconciled with it in ``tests/test_events.py``, the spells in ``tests/test_event_history.py``.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np
import pandas as pd

from model.constants import Holder, Instrument, Status

DATA_DICTIONARY = "events-2"  # the version of docs/events.md this history follows (stamped into events.parquet)
DICTIONARY_KEY = "ontschot.data_dictionary"  # the Parquet metadata key that holds it
NO_CODE = -1  # no instrument, no payer, or (as a status) not in the population
INITIAL_YEAR = -1  # year index of the events that set up the initial population (year 0 in the frame)


class EventKind(IntEnum):
    """What happened to a resident."""

    ENTER = 0  # came into the modelled population (initial stock, inflow, persona)
    LEAVE = 1  # left the population (retirement, moving, death, recovery, past the other-income horizon)
    COME_INTO_SIGHT = 2  # a hidden resident became known to a desk
    JOIN_DESK = 3  # became known to another law's desk (self-referral, household intake, cross-law intake)
    START = 4  # started an instrument
    END = 5  # an instrument ended at its planned end or on recovery
    DROP_OUT = 6  # left a trajectory or day activity early
    LOCK_IN = 7  # the firm kept a client past the planned end
    TAKE_JOB = 8  # moved into regular or subsidised work
    TO_SHELTERED = 9  # moved into sheltered work
    LOSE_JOB = 10  # a job ended: back on benefit
    JOIN_CLAIM = 11  # joined the household's benefit as a co-claimant (a partner without income)
    LEAVE_BENEFIT = 12  # the household's income reached its norm (a partner's job): benefit ends, resident stays
    TO_OTHER_INCOME = 13  # left benefit for other income (partner income, another benefit): stays, no claim
    RETURN_TO_BENEFIT = 14  # the other income ended and the household is below its norm: a new claim at the P-wet desk
    # Codes need not be contiguous (``_names`` maps each code to its name).
    REFERRAL = 20  # referred to another law's intake under partitions; waits for it
    INTAKE = 21  # the cross-law intake took place: on the other law's list
    FELL_THROUGH = 22  # the referral was lost between the desks
    STEP_UP = 23  # moved up the participation ladder at the yearly review
    STEP_DOWN = 24  # moved down the participation ladder at the yearly review
    LAPSE = 25  # an instrument ended with the resident's previous event (a job, leaving, other income, end of benefit)
    HOLD = 26  # held an instrument on entering the history (set-up, inflow, persona): a spell begun before it


COLUMNS = {
    "uid": np.int64, "household": np.int64, "year": np.int16, "month": np.float32, "event": np.int8,
    "status_before": np.int8, "status_after": np.int8, "step": np.int8, "instrument": np.int8, "payer": np.int8,
    "amount": np.float64, "on_benefit_after": np.bool_, "benefit_spell": np.int32, "instrument_spell": np.int32,
}
CLOSING = (EventKind.END, EventKind.DROP_OUT)  # events that end the instrument they name (one row per instrument)


# Ids are kept as 32-bit integers while they fit (a municipality hands out a few million at most) and
# read back as the 64-bit integers of ``COLUMNS``: the same values in half the memory.
NARROW_IDS = ("uid", "household")
_ID32 = np.iinfo(np.int32)


class EventLog:
    """Append-only columnar event buffers (a list of chunks per column, joined on read).

    A value that is the same for every event of a transition (its year, its kind, often its payer and
    amount) is kept once, as a 0-d array, and repeated when the column is read; ids are kept narrow
    (``NARROW_IDS``). Reading gives every column in its ``COLUMNS`` dtype, so what is read is unchanged.
    """

    def __init__(self):
        self._chunks: dict[str, list[np.ndarray]] = {name: [] for name in COLUMNS}
        self._sizes: list[int] = []  # events per record, in order
        self.size = 0

    def record(self, event: EventKind, *, uid, household, year: int, month, before, after, step=NO_CODE,
               instrument=NO_CODE, payer=NO_CODE, amount=0.0, on_benefit=False, benefit_spell=0,
               instrument_spell=0) -> None:
        """Append one event per element of ``uid``; scalars are broadcast."""
        uid = np.asarray(uid)
        n = len(uid)
        if n == 0:
            return
        values = {"uid": uid, "household": household, "year": year, "month": month, "event": int(event),
                  "status_before": before, "status_after": after, "step": step, "instrument": instrument, "payer": payer,
                  "amount": amount, "on_benefit_after": on_benefit, "benefit_spell": benefit_spell,
                  "instrument_spell": instrument_spell}
        for name, dtype in COLUMNS.items():
            self._chunks[name].append(_chunk(values[name], dtype, n, narrow=name in NARROW_IDS))
        self._sizes.append(n)
        self.size += n

    def column(self, name: str) -> np.ndarray:
        """One column over all events so far."""
        out = np.empty(self.size, dtype=COLUMNS[name])
        start = 0
        for chunk, n in zip(self._chunks[name], self._sizes, strict=True):
            out[start: start + n] = chunk  # a 0-d chunk is repeated
            start += n
        return out

    def frame(self) -> pd.DataFrame:
        """The history as a tidy frame; codes become names (year as in the indicators: 1 = first year, 0 = set-up)."""
        data = {"seq": np.arange(self.size, dtype=np.int64)}  # recording order: each resident's chain in order
        data.update({name: self.column(name) for name in COLUMNS})
        frame = pd.DataFrame(data)
        frame["year"] = frame["year"].astype(np.int32) + 1
        frame["event"] = _names(frame["event"], EventKind)
        for col in ("status_before", "status_after"):
            frame[col] = _names(frame[col], Status, missing="outside")
        frame["instrument"] = _names(frame["instrument"], Instrument, missing="")
        frame["payer"] = _names(frame["payer"], Holder, missing="")
        return frame

    def nbytes(self) -> int:
        """Memory held by the buffers."""
        return sum(c.nbytes for chunks in self._chunks.values() for c in chunks)


def to_parquet(frame: pd.DataFrame, path) -> None:
    """Write an event history as Parquet with the data dictionary's version in its metadata (``DICTIONARY_KEY``)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    metadata = {**(table.schema.metadata or {}), DICTIONARY_KEY.encode(): DATA_DICTIONARY.encode()}
    pq.write_table(table.replace_schema_metadata(metadata), path)


def _chunk(value, dtype, n: int, narrow: bool = False) -> np.ndarray:
    """What a record keeps of one column: a copy of an array of ``n`` values, or one value for all ``n`` (0-d).

    Values are cast to ``dtype`` exactly as ``np.broadcast_to(np.asarray(value, dtype), (n,)).copy()`` would;
    with ``narrow``, ids that fit are kept as 32-bit integers.
    """
    if isinstance(value, np.ndarray) and value.shape == (n,):
        if narrow and value.dtype.kind == "i" and _ID32.min <= value.min() and value.max() <= _ID32.max:
            return value.astype(np.int32)
        return value.astype(dtype)  # always a copy: the caller's array may be a view of population state
    if isinstance(value, (int, float)) or (isinstance(value, np.ndarray) and value.ndim == 0):
        return np.asarray(value, dtype=dtype).copy()
    return np.broadcast_to(np.asarray(value, dtype=dtype), (n,)).copy()


def _names(codes: pd.Series, enum: type[IntEnum], missing: str = "") -> pd.Categorical:
    members = sorted(enum, key=int)
    labels = [missing] + [m.name.lower() for m in members]
    position = np.zeros(int(members[-1]) + 2, dtype=np.int64)  # code + 1 -> category; NO_CODE -> 0
    position[[int(m) + 1 for m in members]] = np.arange(1, len(members) + 1)
    return pd.Categorical.from_codes(position[codes.to_numpy().astype(np.int64) + 1], categories=labels)
