"""The documents' cases: every case file validates and runs; the claim table is recomputed from stored runs alone;
the levers the cases need (a care-to-work pilot, a team's budget ceiling) and the outputs they read (the generalist's
referral share, plans per multi-problem household)."""

from __future__ import annotations

import math
import shutil

import numpy as np
import pandas as pd
import pytest

from experiments import cases as cs
from experiments.cli import main
from model.constants import Holder, Instrument
from model.parameters import PARAMETERS, InputError, load_scenario
from model.phases import opening
from tests.conftest import run_model

TINY = {"scenario.inhabitants": 2500, "scenario.years": 2}


def whole(model) -> pd.DataFrame:
    frame = model.tidy()
    return frame[frame["group_by"] == "all"].reset_index(drop=True)


def indicator(model, name: str) -> np.ndarray:
    frame = whole(model)
    return frame[frame["indicator"] == name].sort_values("year")["value"].to_numpy()


# ---------------------------------------------------------------- the case files


@pytest.mark.parametrize("path", cs.case_files(), ids=lambda p: p.stem)
def test_every_case_file_validates_and_names_its_document(path):
    case = cs.read_case(path)
    assert case.document and case.where and case.setting and case.claims
    for variant in case.variants:
        case.values(variant)  # resolves: every override within its parameter's range
    assert load_scenario(path) == case.overrides  # a case file is a scenario file too (its [case] table apart)
    for claim in case.claims:
        assert claim.quote and claim.mechanism and claim.where


def test_every_case_runs_at_a_small_size_and_gives_each_claim_a_verdict():
    chosen = cs.load_cases()
    runs = cs.run_cases(cs.plan_cases(chosen, 1, 5, TINY), workers=1, progress=False)
    table = cs.claim_table(chosen, runs, TINY)
    assert len(table) == sum(len(c.claims) for c in chosen)
    assert set(table["verdict"]) <= set(cs.VERDICTS)
    # Every case file marks what its own parameters set, so the summary can keep it apart from evidence.
    built = [c.claim for case in chosen for c in case.claims if c.by_construction]
    assert table["by_construction"].sum() == len(built) and "by construction" in cs.summary_line(table)


def test_the_table_is_recomputed_from_a_stored_folder_alone(tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["cases", "--case", "boekel_zorg_naar_werk", "--replications", "2", "--set", "scenario.inhabitants=3000",
            "--years", "3", "--no-progress", "--workers", "1", "--out", str(out)]
    assert main(argv) == 0
    folder = next(out.iterdir())
    stored = pd.read_csv(folder / cs.TABLE_FILE)
    doc = tmp_path / "cases.md"
    assert main(["cases", "--from", str(folder), "--doc", str(doc)]) == 0
    _, again, _ = cs.recompute(folder)
    pd.testing.assert_frame_equal(stored, again.astype(stored.dtypes.to_dict()), check_exact=False, rtol=1e-9)
    text = doc.read_text()
    assert "| case | claim |" in text and "boekel_zorg_naar_werk.toml" in text
    # The numbers come from the runs: change the stored runs and the table changes with them.
    runs = pd.read_parquet(folder / cs.RUNS_FILE)
    runs.loc[runs["indicator"] == "pilot_eligible", "value"] += 100.0
    runs.to_parquet(folder / cs.RUNS_FILE, index=False)
    _, changed, _ = cs.recompute(folder)
    row = changed["measure"] == "pilot_eligible"
    assert np.allclose(changed.loc[row, "result"], stored.loc[row, "result"] + 100.0)
    capsys.readouterr()


def test_a_changed_case_file_is_refused_when_recomputing(tmp_path):
    cases_dir = tmp_path / "cases"
    shutil.copytree(cs.CASES_DIR, cases_dir)
    chosen = [cs.read_case(cases_dir / "boekel_zorg_naar_werk.toml")]
    runs = cs.run_cases(cs.plan_cases(chosen, 1, 3, TINY), workers=1, progress=False)
    folder = tmp_path / "folder"
    folder.mkdir()
    cs.store(folder, chosen, runs, cs.claim_table(chosen, runs, TINY), {"replications": 1, "seed": 3, "extra": TINY})
    cs.recompute(folder, cases_dir)  # unchanged: fine
    path = cases_dir / "boekel_zorg_naar_werk.toml"
    path.write_text(path.read_text().replace("years = 5", "years = 4"))
    with pytest.raises(InputError, match="changed since"):
        cs.recompute(folder, cases_dir)


@pytest.mark.parametrize("change, message", [
    (lambda t: t.replace("[case]", "[kase]"), "case"),
    (lambda t: t.replace('measure = "pilot_eligible"', 'measure = "no_such_indicator"'), "measure"),
    (lambda t: t.replace('reduce = "first"', 'reduce = "median"'), "reduce"),
    (lambda t: t.replace('contrast = ["pilot", "no_pilot"]', 'contrast = ["pilot", "nowhere"]', 1), "contrast"),
    (lambda t: t.replace("expect = { at_least = 7.0 }", "expect = { above = 7.0 }"), "expect"),
    (lambda t: t.replace('"pilot.candidates" = 7', '"pilot.candidates" = -7'), "pilot.candidates"),
])
def test_a_bad_case_file_is_refused_naming_the_key(tmp_path, change, message):
    source = (cs.CASES_DIR / "boekel_zorg_naar_werk.toml").read_text()
    path = tmp_path / "bad.toml"
    path.write_text(change(source))
    with pytest.raises(InputError, match=message):
        cs.read_case(path)


def test_claim_values_reduce_over_the_years_and_contrast_by_seed():
    frame = pd.DataFrame({"year": [1, 2, 3] * 2, "indicator": ["a"] * 3 + ["b"] * 3,
                          "value": [1.0, 2.0, 6.0, 2.0, 2.0, 4.0]})
    claim = cs.Claim(claim="c", quote="q", where="w", measure="outflow_work", expect={"at_least": 0.0}, mechanism="m")
    frame["indicator"] = frame["indicator"].map({"a": "outflow_work", "b": "benefit_stock"})
    for how, expected in (("sum", 9.0), ("mean", 3.0), ("first", 1.0), ("last", 6.0)):
        assert cs.claim_value(cs.Claim(**{**claim.__dict__, "reduce": how}), frame, {}) == expected
    per = cs.Claim(**{**claim.__dict__, "reduce": "sum", "per": "benefit_stock"})
    assert cs.claim_value(per, frame, {}) == pytest.approx(9.0 / 8.0)
    row = {"verdict": "reproduced", "sure": True, "by_construction": True}
    assert "by construction" in cs.verdict_text(row)
    assert cs.verdict_text({**row, "by_construction": False, "sure": False}) == "reproduced (interval crosses the bound)"
    mean, lo, hi = cs.interval([1.0, 2.0, 3.0])
    assert mean == 2.0 and lo < 2.0 < hi
    assert claim.holds(0.0) and not claim.holds(-1e-9) and not claim.holds(math.nan)


# ---------------------------------------------------------------- the levers the cases need


def test_the_pilot_off_changes_nothing_and_on_coaches_within_its_money():
    base = run_model(years=3, inhabitants=6000, rng=4)
    off = run_model(years=3, inhabitants=6000, rng=4, params={"pilot.care_to_work_fund": 0.0, "pilot.candidates": 7})
    pd.testing.assert_frame_equal(whole(base), whole(off))
    on = run_model(years=3, inhabitants=6000, rng=4, params={"pilot.care_to_work_fund": 10000.0, "pilot.candidates": 7})
    price = PARAMETERS.get("work.job_coaching_cost").value
    candidates = indicator(on, "pilot_candidates")
    assert (candidates <= min(7, 10000.0 // price)).all() and candidates.sum() > 0
    assert np.allclose(indicator(on, "pilot_spent"), candidates * price)
    assert (indicator(on, "pilot_to_work") <= candidates).all()
    # Booked where the memo reserved it: job coaching on the Wmo line (no pooled desk under partitions).
    wmo = on.actors.holders[Holder.WMO]
    assert wmo.spent[Instrument.JOB_COACHING] == pytest.approx(candidates[-1] * price)


def test_a_team_ceiling_caps_the_desk_and_keeps_the_money_whole():
    budgets = {Holder.PWET_INCOME: (100.0, 0.0), Holder.PWET_PARTICIPATION: (900.0, 800.0), Holder.WMO: (500.0, 50.0),
               Holder.POOLED: (400.0, 300.0)}
    capped = opening.team_ceiling(budgets, households=0, per_household=1000.0)
    assert capped[Holder.POOLED][1] == 0.0
    for i in (0, 1):
        assert sum(v[i] for v in capped.values()) == pytest.approx(sum(v[i] for v in budgets.values()))
    loose = opening.team_ceiling(budgets, households=10, per_household=1000.0)  # 10,000 > 300: the ceiling does not bind
    assert loose == budgets


def test_the_generalists_referral_share_and_plans_per_household():
    model = run_model(years=2, inhabitants=6000, rng=3, params={"practice.generalist_triage": 1.0})
    seen, referred = indicator(model, "generalist_seen"), indicator(model, "generalist_referred")
    assert (seen > 0).all() and (referred <= seen).all()
    assert np.allclose(indicator(model, "generalist_referral_share"), referred / seen)
    assert np.allclose(indicator(model, "triaged"), seen - referred)
    plans, workers = indicator(model, "plans_per_mp_household"), indicator(model, "case_workers_per_mp_household")
    professionals = indicator(model, "professionals_per_mp_household")
    assert (plans <= workers + 1e-12).all() and (workers <= professionals + 1e-12).all()
    pooled = run_model(years=2, inhabitants=6000, rng=3, regime="integrated")
    assert np.allclose(indicator(pooled, "plans_per_mp_household"), 1.0)  # one household, one plan


def test_the_pooled_desk_does_not_rank_a_late_arrival_as_cheaper():
    """A trajectory costs its whole planned price whatever month it starts in: two candidates alike in all but their
    entry month rank alike under a money objective (a late arrival once looked cheap for this year's part only)."""
    from model.constants import Desk
    from model.phases import allocation
    from tests.tiny import tiny

    alike = {"wage": 0.6, "on_benefit": True, "desk": Desk.PWET, "years_out": 2.0}
    world = tiny([dict(alike), dict(alike, unit=1, household=1)], share=1.0,
                 overrides={"practice.desk_objective": "all-budgets"})
    rows = world.rows()
    world.pop.entry_month[rows[1]] = 11.0  # arrives in the last month of the year
    for instrument in (Instrument.SOCIAL_FIRM, Instrument.TRAINING):
        instr = np.full(2, instrument, dtype=np.int8)
        priority = allocation.work_priority(world.funding.desks["pooled"], world.pop, rows, instr, world.year,
                                            world.funding, world.p)
        assert priority[0] == pytest.approx(priority[1])
