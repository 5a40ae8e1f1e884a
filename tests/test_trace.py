"""The why-trace (model/trace.py): its queue ranks and money agree with what the allocation chose, it changes
nothing, the personas are rebuilt from [R12], and `ontschot persona` shows the why line."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from experiments.cli import DEFAULT_SEED, main
from model.constants import TRAJ_BITS, Instrument
from model.model import SocialDomainModel
from model.personas import FIELDS, PERSONA_FILE, PERSONAS
from model.rules import allocation as alloc
from model.trace import CHOSEN, NOT_CANDIDATE, NOT_CHOSEN, Tracer, queue_places

SMALL = {"inhabitants": 5000, "years": 2}


def _traced_year(regime: str, seed: int = 4):
    """One year with every resident followed (the inflow of the year included)."""
    model = SocialDomainModel(regime=regime, rng=seed, **SMALL)
    model.follow(range(int(model.pop.uid[: model.pop.n].max()) + 5000))
    model.step()
    return model


@pytest.fixture(scope="module", params=["compartmentalised", "integrated"])
def traced(request):
    return _traced_year(request.param)


def _row(model, uid):
    return int(np.flatnonzero(model.pop.uid[: model.pop.n] == uid)[0])


def test_queue_places_serve_the_queue_as_select_within_limits_does():
    rng = np.random.default_rng(0)
    for _ in range(200):
        n = int(rng.integers(1, 40))
        priority, cost = rng.normal(size=n).round(1), rng.uniform(0, 100, n)
        budget, room = float(rng.uniform(-10, 1500)), int(rng.integers(0, 45))
        chosen = alloc.select_within_limits(priority, cost, budget, room)
        rank, left, stop, stopped_by = queue_places(priority, cost, budget, room)
        assert np.array_equal(chosen, rank < stop)
        assert (stopped_by is None) == chosen.all()
        if stopped_by == "budget" and stop > 0:
            first_out = np.flatnonzero(rank == stop)[0]
            assert left[first_out] < cost[first_out]  # the money left at their turn did not pay for them
        assert np.all(left[chosen] >= cost[chosen] - 1e-9)


def test_work_entries_agree_with_what_the_allocation_chose(traced):
    work = [e for e in traced.tracer.entries(year=1) if e.stage == "work" and e.rank is not None]
    assert work, "somebody must be in a re-integration queue"
    held = traced.year_state.provisions_before  # what residents held right after allocation
    for desk in {e.desk for e in work}:
        mine = [e for e in work if e.desk == desk]
        chosen = [e for e in mine if e.outcome == CHOSEN]
        assert all(e.chosen == len(chosen) and e.candidates == len(mine) for e in mine)  # everyone was followed
        assert sorted(e.rank for e in chosen) == list(range(1, len(chosen) + 1))  # served in order, none skipped
        assert sorted(e.rank for e in mine) == list(range(1, len(mine) + 1))
        for e in chosen:
            assert held[_row(traced, e.uid)] & (1 << int(Instrument[e.instrument.upper()])), e
            assert e.money_left is not None and e.money_left > 0
        for e in mine:
            if e.outcome == NOT_CHOSEN and "budget ran out" in e.rule:
                assert not held[_row(traced, e.uid)] & TRAJ_BITS, e  # no trajectory after all
        money = [e.money_left for e in sorted(mine, key=lambda e: e.rank)]
        assert all(a >= b for a, b in zip(money, money[1:], strict=False))  # the money only goes down the queue
    assert sum(e.outcome == CHOSEN for e in work) == traced.year_state.counts["new_traj"]


def test_support_and_sift_entries_agree_with_the_allocation(traced):
    entries = traced.tracer.entries(year=1)
    granted = [e for e in entries if e.stage == "support" and e.outcome == CHOSEN]
    assert len(granted) == traced.year_state.counts["wmo_granted"] and all("granted" in e.rule for e in granted)
    waiting = [e for e in entries if e.stage == "support" and e.outcome == NOT_CHOSEN]
    assert len(waiting) == traced.year_state.counts["wmo_waiting"]
    for e in entries:
        if e.outcome == NOT_CANDIDATE and "not in need" in e.rule:
            sr, threshold = map(float, re.search(r"self-reliance ([\d.]+) >= need threshold ([\d.]+)", e.rule).groups())
            assert sr >= threshold
    # every resident a desk served has exactly one line per stage there: a rank in its queue or a reason it is not in it
    by_stage = {}
    for e in entries:
        if e.stage in ("work", "support"):
            by_stage.setdefault((e.uid, e.desk, e.stage), []).append(e)
    assert by_stage and all(len(v) == 1 for v in by_stage.values())
    assert all((e.rank is None) == (e.outcome == NOT_CANDIDATE) for v in by_stage.values() for e in v)


def test_a_traced_run_gives_the_same_results_as_an_untraced_one():
    plain = SocialDomainModel(regime="integrated", rng=8, **SMALL)
    traced = SocialDomainModel(regime="integrated", rng=8, trace=list(range(0, 3000, 7)), **SMALL)
    assert plain.tracer is None and traced.tracer
    for m in (plain, traced):
        while m.running:
            m.step()
    assert traced.tracer.records
    pd.testing.assert_frame_equal(plain.tidy(), traced.tidy())
    pd.testing.assert_frame_equal(plain.events_frame(), traced.events_frame())


def test_an_untraced_year_carries_no_tracer_and_the_personas_are_always_traced():
    m = SocialDomainModel(personas=["theo"], rng=2, **SMALL)
    m.step()
    assert m.year_state.trace is m.tracer and m.tracer
    uid = int(m.persona_uids["theo"][0])
    assert m.why(uid, 1) == m.persona_paths[0]["why"] and "desk" in m.persona_paths[0]["why"]
    plain = SocialDomainModel(rng=2, **SMALL)
    plain.step()
    assert plain.year_state.trace is None and not Tracer()


def test_myra_under_integrated_funding_is_kept_out_by_the_need_test_and_the_ranking():
    """The finding of the why-trace: Myra's mean severity leaves her self-reliant for the Wmo test, and her
    tiny gain in job chance puts her near the end of the pooled desk's queue, after the money ran out."""
    m = SocialDomainModel(regime="integrated", personas=["myra"], rng=1, inhabitants=5000, years=3)
    while m.running:
        m.step()
    uid = int(m.persona_uids["myra"][0])
    for year in (1, 2, 3):
        mine = m.tracer.entries(uid, year)
        assert any(e.outcome == NOT_CANDIDATE and "not in need" in e.rule for e in mine)
        queue = [e for e in mine if e.desk == "pooled" and e.stage == "work"]
        assert len(queue) == 1 and queue[0].outcome == NOT_CHOSEN and queue[0].rank > queue[0].chosen
        assert "budget ran out" in queue[0].rule and queue[0].money_left <= 0


def test_personas_are_rebuilt_from_r12_and_every_member_cites_it():
    assert list(PERSONAS) == ["myra", "theo", "chantal"]
    assert "source" in FIELDS
    for persona in PERSONAS.values():
        assert persona["source"].startswith("[R12] ch. ")
        for member in persona["members"]:
            assert member["source"].startswith("[R12] ch. "), member["role"]
    theo, chantal = PERSONAS["theo"]["members"][0], PERSONAS["chantal"]["members"][0]
    assert theo["age"] == 55 and theo["on_benefit"] and "800" in theo["source"]
    assert chantal["on_benefit"] and "loverboys" in chantal["source"]
    assert PERSONAS["myra"]["members"][0]["age"] == 44 and PERSONAS["myra"]["members"][0]["years_out_of_work"] == 14
    # every scripted number carries a comment: from the text ([R12]), an assumption, or the model's simplification
    for line in PERSONA_FILE.read_text().splitlines():
        if re.match(r"(age|years_out_of_work|benefit_spell_years|wage_value|motivation|on_benefit|known_to) =", line):
            comment = line.split("#", 1)[1].strip() if "#" in line else ""
            assert comment.startswith(("[R12]", "assumption", "model simplification")), line


def test_persona_command_shows_the_why_line(capsys):
    assert main(["persona", "theo", "--years", "3", "--set", "scenario.inhabitants=5000"]) == 0
    out = capsys.readouterr().out
    assert "Persona Theo" in out and "[R12] ch. 4.4" in out
    assert out.count("why (compartmentalised): ") == 3 and out.count("why (integrated): ") == 3
    assert "P-wet desk: " in out and "pooled desk: " in out
    assert main(["persona", "theo", "--years", "2", "--no-why", "--set", "scenario.inhabitants=5000"]) == 0
    assert "why (" not in capsys.readouterr().out


def test_persona_command_follows_any_uid(capsys):
    m = SocialDomainModel(rng=DEFAULT_SEED, inhabitants=5000, years=1)
    uid = int(m.pop.uid[m.pop.alive_rows()][-1])
    assert main(["persona", "--uid", str(uid), "--years", "2", "--set", "scenario.inhabitants=5000"]) == 0
    out = capsys.readouterr().out
    assert f"Resident {uid}" in out and out.count("why: ") == 4
    with pytest.raises(SystemExit):  # a name or --uid, not both
        main(["persona", "theo", "--uid", str(uid)])
