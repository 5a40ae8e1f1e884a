"""The event history reconciles with the yearly indicators: every move is an event, and vice versa."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from model.constants import TRAJECTORY_INSTRUMENTS
from tests.conftest import events_run


@pytest.fixture(scope="module", params=["compartmentalised", "integrated", "gradual"])
def run(request):
    model, events, wide = events_run(request.param, inhabitants=8000, years=6, rng=17)
    yield model, events, wide
    model.release()


def _per_year(events: pd.DataFrame, mask, years) -> pd.Series:
    return events[mask].groupby("year", observed=True).size().reindex(years, fill_value=0)


def test_every_move_to_work_is_an_event_and_every_event_a_move(run):
    _, ev, wide = run
    years = wide.index
    job = ev["event"] == "take_job"
    for kind in ("regular", "subsidised"):
        counted = _per_year(ev, job & (ev["status_after"] == f"{kind}_work"), years)
        assert counted.tolist() == wide[f"outflow_{kind}_work"].astype(int).tolist(), kind
    sheltered = _per_year(ev, ev["event"] == "to_sheltered", years)
    assert sheltered.tolist() == wide["outflow_sheltered_work"].astype(int).tolist()
    moves = _per_year(ev, job | (ev["event"] == "to_sheltered"), years)
    assert moves.tolist() == wide["outflow_work"].astype(int).tolist()
    assert moves.sum() > 0


def test_entries_exits_and_other_transitions_match_their_counters(run):
    model, ev, wide = run
    years = wide.index
    pairs = {"leave": "exits", "enter": "inflow", "lose_job": "job_losses", "drop_out": "dropouts",
             "lock_in": "lock_ins", "come_into_sight": None, "step_up": "ladder_moves_up",
             "step_down": "ladder_moves_down", "referral": "cross_law_referrals", "intake": "cross_law_intakes",
             "fell_through": "cross_law_fell_through", "to_other_income": "leavers_for_other_income",
             "return_to_benefit": "returns_to_benefit"}
    for event, indicator in pairs.items():
        counted = _per_year(ev, ev["event"] == event, years)
        expected = (wide["reached"] + wide["found_in_household"]) if indicator is None else wide[indicator]
        assert counted.tolist() == expected.astype(int).tolist(), event
    starts = ev[(ev["event"] == "start") & ev["instrument"].isin([i.name.lower() for i in TRAJECTORY_INSTRUMENTS])]
    assert _per_year(starts, slice(None), years).tolist() == wide["new_trajectories"].astype(int).tolist()
    # The set-up year holds the initial population (and the instruments it holds); entered minus left is who is there now.
    assert ((ev["year"] == 0) & (ev["event"] == "enter")).sum() == model.initial_residents
    assert ev.loc[ev["year"] == 0, "event"].isin(["enter", "hold"]).all()
    entered = (ev["event"] == "enter").sum()
    left = (ev["event"] == "leave").sum()
    assert entered - left == wide["residents"].iloc[-1]


def test_statuses_chain_per_resident(run):
    """Each resident's events form one path: every event starts from the status the previous one ended in."""
    _, ev, _ = run
    ev = ev.reset_index().sort_values(["uid", "index"])
    same = ev["uid"].eq(ev["uid"].shift())
    prev_after = ev["status_after"].astype(str).shift()
    broken = ev[same & (ev["status_before"].astype(str) != prev_after)]
    assert broken.empty, broken.head(10).to_string()
    assert ev.loc[ev["event"] == "enter", "status_before"].eq("outside").all()
    assert ev.loc[ev["event"] == "leave", "status_after"].eq("outside").all()
    assert same.sum() > 1000


def test_money_on_start_events_names_its_payer(run):
    model, ev, _ = run
    starts = ev[ev["event"] == "start"]
    assert (starts["payer"] != "").all()
    if model.funding.regime == "compartmentalised":
        assert not (starts["payer"] == "pooled").any()
    if model.funding.regime == "integrated":
        assert set(starts["payer"]) == {"pooled"}
    assert (starts["amount"] >= 0).all() and starts["amount"].sum() > 0


def test_run_events_writes_microdata_that_duckdb_reconciles_with_the_results(tmp_path):
    """``ontschot run --events`` stores events.parquet; a DuckDB query of moves to work equals the stored outflow."""
    import duckdb

    from experiments.cli import main

    assert main(["run", "--no-explain", "--events", "--replications", "2", "--years", "3", "--set", "scenario.inhabitants=4000",
                 "--out", str(tmp_path), "--no-progress"]) == 0
    (folder,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    events, results = folder / "events.parquet", folder / "results.parquet"
    moves = duckdb.sql(f"""
        select arm, replication, year, count(*) as n from '{events}'
        where event in ('take_job', 'to_sheltered') group by all""").df()
    stored = duckdb.sql(f"""
        select arm, replication, year, value as n from '{results}'
        where indicator = 'outflow_work' and group_by = 'all' and value > 0""").df()
    keys = ["arm", "replication", "year"]  # two arms may share a regime (integrated, integrated + pooling practices)
    merged = moves.merge(stored, on=keys, how="outer", suffixes=("_events", "_results")).fillna(0)
    assert len(merged) > 0
    assert (merged["n_events"] == merged["n_results"]).all(), merged


def test_the_revolving_door_is_in_the_event_history(run):
    """Other-income exits stay in the population; returns, hire-year losses and settled exits reconcile with their counters."""
    model, ev, wide = run
    years = wide.index
    to_other = ev[ev["event"] == "to_other_income"]
    assert len(to_other) > 0 and to_other["status_before"].ne("outside").all()
    assert (to_other["status_after"] != "outside").all()
    back = ev[ev["event"] == "return_to_benefit"]
    held = ["day_activities", "guidance_only", "trajectory"]  # provisions may continue or start on other income
    assert len(back) > 0 and back["status_after"].isin(["benefit_no_support", *held]).all()
    assert back["status_before"].isin(["other_income", *held]).all()
    # A job lost in the year it was taken: the same resident has a take_job and a later lose_job that year.
    work = ev[ev["event"].isin(["take_job", "lose_job"])].sort_values(["uid", "year", "month"])
    hired = work[work["event"] == "take_job"][["uid", "year", "month"]]
    lost = work[work["event"] == "lose_job"][["uid", "year", "month"]]
    same_year = hired.merge(lost, on=["uid", "year"], suffixes=("_hire", "_loss"))
    same_year = same_year[same_year["month_loss"] >= same_year["month_hire"]]
    per_year = same_year.groupby("year").size().reindex(years, fill_value=0)
    assert per_year.tolist() == wide["hire_year_losses"].astype(int).tolist()
    assert per_year.sum() > 0
    # Everyone on other income at the end has an event that put them there and no later return or claim.
    rows = model.pop.alive_rows()
    on_other = set(model.pop.uid[rows][model.pop.other_income[rows]].tolist())
    assert len(on_other) == wide["on_other_income"].iloc[-1]
    last = ev.reset_index().sort_values(["uid", "index"]).groupby("uid").tail(1).set_index("uid")
    assert last.loc[sorted(on_other), "status_after"].isin(["other_income", *held]).all()


def test_the_log_reads_back_what_was_recorded_in_its_column_types():
    """Narrow ids and values kept once per transition read back as the full columns, wide ids too."""
    from model.events import COLUMNS, EventKind, EventLog

    log = EventLog()
    big = np.iinfo(np.int32).max + np.arange(3, dtype=np.int64)
    log.record(EventKind.ENTER, uid=np.arange(3), household=np.array([7, 7, 8]), year=-1, month=np.array([0.5, 1, 2]),
               before=-1, after=np.array([6, 7, 8], dtype=np.int8), amount=12.5)
    log.record(EventKind.START, uid=big, household=big, year=2, month=3.0, before=np.array([6, 7, 8]), after=4,
               instrument=np.array([1, 2, 3]), payer=2, amount=np.array([1.0, 2.0, 3.0]))
    assert log.column("uid").tolist() == [0, 1, 2, *big.tolist()]
    assert log.column("household").tolist() == [7, 7, 8, *big.tolist()]
    assert log.column("year").tolist() == [-1] * 3 + [2] * 3
    assert log.column("amount").tolist() == [12.5] * 3 + [1.0, 2.0, 3.0]
    assert log.column("status_after").tolist() == [6, 7, 8, 4, 4, 4]
    assert all(log.column(name).dtype == dtype for name, dtype in COLUMNS.items())
