"""The event history is built for analysis: spells rebuilt from the events alone match the model's own stocks.

docs/events.md describes the columns; these tests hold it to its word in every regime: the benefit spells a
researcher rebuilds from ``benefit_spell`` and ``on_benefit_after`` give the yearly benefit stock exactly, every
instrument spell that opens closes (or is still held at the horizon), and ``seq`` orders each resident's statuses.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.query import query
from model.constants import Holder, Instrument, Status
from model.events import COLUMNS, DATA_DICTIONARY, EventKind
from tests.conftest import events_run

DICTIONARY_PAGE = Path(__file__).resolve().parents[1] / "docs" / "events.md"
OPENING = ("start", "hold", "take_job", "to_sheltered")  # events that open the instrument spell they name
CLOSING = ("end", "drop_out", "lapse")  # events that close it


@pytest.fixture(scope="module", params=["compartmentalised", "integrated", "gradual"])
def run(request):
    model, events, wide = events_run(request.param, inhabitants=6000, years=5, rng=23)
    yield model, events, wide
    model.release()


def benefit_spells(ev: pd.DataFrame) -> pd.DataFrame:
    """One row per benefit spell (uid, benefit_spell): the year it began (0 = before the run) and ended (NaN = open)."""
    on = ev[ev["on_benefit_after"]]
    began = on.groupby(["uid", "benefit_spell"])["year"].min().rename("began")
    off = ev[~ev["on_benefit_after"] & (ev["benefit_spell"] > 0)]
    ended = off.groupby(["uid", "benefit_spell"])["year"].min().rename("ended")
    return pd.concat([began, ended], axis=1).reset_index()


def test_benefit_spells_rebuilt_from_the_events_match_the_yearly_stock_exactly(run):
    _, ev, wide = run
    spells = benefit_spells(ev)
    assert spells["began"].notna().all(), "a spell ends that never began"
    stock = [int(((spells["began"] <= y) & ~(spells["ended"] <= y)).sum()) for y in wide.index]
    assert stock == wide["benefit_stock"].astype(int).tolist()
    assert (spells["ended"] > 0).sum() > 0 and (spells["began"] > 0).sum() > 0  # spells end and begin in the run


def test_benefit_status_after_each_event_is_the_status_the_event_ended_in(run):
    _, ev, _ = run
    on_benefit_statuses = ev["status_after"].isin(["benefit_no_support"])
    assert ev.loc[on_benefit_statuses, "on_benefit_after"].all()  # benefit without support is on benefit
    off = ev["status_after"].isin(["regular_work", "subsidised_work", "sheltered_work", "other_income", "outside",
                                   "not_in_sight"])
    assert not ev.loc[off, "on_benefit_after"].any()
    # A spell number only grows, by one at a time, along each resident's events.
    steps = ev.sort_values(["uid", "seq"]).groupby("uid")["benefit_spell"].diff().dropna()
    assert steps.isin([0, 1]).all()


def test_every_instrument_spell_that_opens_closes_or_is_still_held_at_the_horizon(run):
    model, ev, _ = run
    spells = ev[ev["instrument_spell"] > 0]
    assert spells["instrument"].ne("").all()
    opened = spells[spells["event"].isin(OPENING)]
    closed = spells[spells["event"].isin(CLOSING)]
    keys = ["uid", "instrument_spell"]
    assert not opened.duplicated(keys).any() and not closed.duplicated(keys).any()
    both = opened.merge(closed, on=keys, how="outer", suffixes=("_open", "_close"), indicator=True)
    assert (both["_merge"] != "right_only").all(), "a spell closes that never opened"
    closed_both = both[both["_merge"] == "both"]
    assert (closed_both["instrument_open"].astype(str) == closed_both["instrument_close"].astype(str)).all()
    assert (closed_both["seq_close"] > closed_both["seq_open"]).all()
    still = both[both["_merge"] == "left_only"]
    pop = model.pop
    rows = pop.alive_rows()
    row_of = pd.Series(rows, index=pop.uid[rows])
    assert still["uid"].isin(row_of.index).all(), "an open spell of a resident who left"
    codes = still["instrument_open"].astype(str).map(lambda name: int(Instrument[name.upper()])).to_numpy()
    held = pop.provisions[row_of.loc[still["uid"]].to_numpy()] & (np.uint16(1) << codes.astype(np.uint16))
    assert (held != 0).all(), "an open spell of an instrument the resident no longer holds"
    # And everything held at the horizon is an open spell.
    assert len(still) == sum(int(p).bit_count() for p in pop.provisions[rows])
    assert len(closed_both) > 0 and (closed["event"] == "lapse").any()


def test_ends_drop_outs_and_lock_ins_name_their_instrument(run):
    _, ev, _ = run
    for kind in ("end", "drop_out", "lapse", "lock_in"):
        rows = ev[ev["event"] == kind]
        assert rows["instrument"].ne("").all() and (rows["instrument_spell"] > 0).all(), kind


def test_seq_orders_every_residents_status_chain(run):
    _, ev, _ = run
    assert ev["seq"].is_unique and ev["seq"].is_monotonic_increasing
    shuffled = ev.sample(frac=1.0, random_state=1).sort_values(["uid", "seq"])
    same = shuffled["uid"].eq(shuffled["uid"].shift())
    broken = shuffled[same & (shuffled["status_before"].astype(str) != shuffled["status_after"].astype(str).shift())]
    assert broken.empty, broken.head(10).to_string()
    assert same.sum() > 1000


def test_the_dictionary_names_every_column_and_code_and_its_version():
    """docs/events.md lists every column, event kind, status, instrument and payer; its version is the one stamped."""
    text = DICTIONARY_PAGE.read_text(encoding="utf-8")
    assert DATA_DICTIONARY in text
    codes = [*EventKind, *Status, *Instrument, *Holder]
    names = ["seq", *COLUMNS, "arm", "regime", "replication", "seed", "outside", *(c.name.lower() for c in codes)]
    missing = [name for name in names if f"`{name}`" not in text]
    assert not missing, missing


def test_months_lie_within_the_year_and_leavers_have_no_step(run):
    _, ev, _ = run
    assert ev["month"].between(0, 12).all()
    assert (ev.loc[ev["event"] == "leave", "step"] == -1).all()
    assert (ev.loc[ev["event"] == "leave", "month"] == 0).all()  # at the turn of the year (docs/events.md, Months)
    # Dated transitions keep their drawn months: not all at the year's start or end.
    dated = ev[ev["event"].isin(["take_job", "lose_job", "drop_out", "come_into_sight"])]
    assert dated["month"].between(0, 12, inclusive="neither").mean() > 0.9


def test_run_folder_stamps_the_dictionary_version_and_the_worked_query_runs(tmp_path):
    """``ontschot run --events`` writes the version into events.parquet; the query of docs/events.md answers per regime."""
    import pyarrow.parquet as pq

    from experiments.cli import main

    assert main(["run", "--no-explain", "--events", "--replications", "1", "--years", "3", "--set",
                 "scenario.inhabitants=4000", "--out", str(tmp_path), "--no-progress"]) == 0
    (folder,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    meta = pq.read_schema(folder / "events.parquet").metadata
    assert meta[b"ontschot.data_dictionary"].decode() == DATA_DICTIONARY
    answer = query(folder, worked_query())
    arms = set(pd.read_parquet(folder / "results.parquet", columns=["arm"])["arm"])
    assert set(answer["arm"]) == arms and len(answer) == len(arms)
    assert (answer["spells_begun"] > 0).all() and (answer["work_exits_seen_a_year"] > 0).all()
    assert answer["returned_within_a_year"].between(0, 1).all()
    assert answer["median_months_completed"].between(0, 12 * 3).all()


def worked_query() -> str:
    """The SQL block under docs/events.md's heading "Worked query"."""
    text = DICTIONARY_PAGE.read_text(encoding="utf-8")
    section = text[text.index("## Worked query"):]
    start = section.index("```sql") + len("```sql")
    return section[start: section.index("```", start)].strip()
