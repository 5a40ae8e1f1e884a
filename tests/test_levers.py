"""The levers of [FW19] and the [M16] practice examples (model/levers.py): off by default, each doing what it says.

Each lever at its default changes nothing; switched on, volunteering puts benefit clients on the step of
unpaid work, the old Wsw workforce shrinks and frees one beschut-werk place per three Wsw places under the
three-to-one rule, walk-in day activities need no assessment, mixed places fill free places of either
stream; the categories 1-4 add up to the benefit stock every year; every case file is sound.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from experiments import cases as cs
from experiments.cases import CASES_DIR as CASES
from model import levers
from model.constants import VOLUNTEER_BIT, Holder, Instrument, Step
from model.parameters import PARAMETERS
from tests.conftest import run_model

SIZE = 5000
YEARS = 3
OFF = {"practice.volunteering": 0.0, "practice.open_access": 0.0, "pwet.wsw_workers_per_10k": 0.0,
       "pwet.sheltered_place_rule": "fixed", "practice.mixed_places": "per-stream"}


def frame(model) -> pd.DataFrame:
    return model.datacollector.get_model_vars_dataframe()


def test_every_lever_is_off_by_default():
    assert {path: PARAMETERS.get(path).value for path in OFF} == OFF


def test_levers_at_their_default_or_without_effect_give_the_same_frame():
    base = run_model(years=YEARS, inhabitants=SIZE).tidy()
    explicit = run_model(years=YEARS, inhabitants=SIZE, params=dict(OFF)).tidy()
    pd.testing.assert_frame_equal(base, explicit)
    # A lever whose volume is zero changes nothing: the three-to-one rule without a Wsw workforce, a price
    # of volunteering nobody takes up.
    idle = run_model(years=YEARS, inhabitants=SIZE, params={"pwet.sheltered_place_rule": "three-to-one",
                                                            "pwet.volunteering_cost": 9000.0}).tidy()
    pd.testing.assert_frame_equal(base, idle)


def test_mixed_places_change_nothing_without_firms_and_fill_more_places_with_them():
    kw = {"years": YEARS, "inhabitants": SIZE, "social_firms": 0}
    pd.testing.assert_frame_equal(run_model(**kw).tidy(),
                                  run_model(**kw, params={"practice.mixed_places": "any-stream"}).tidy())
    per_stream = frame(run_model(years=YEARS, inhabitants=SIZE))
    mixed = frame(run_model(years=YEARS, inhabitants=SIZE, params={"practice.mixed_places": "any-stream"}))
    assert mixed["firm_occupied"].sum() > per_stream["firm_occupied"].sum()
    assert (mixed["firm_occupied"] <= mixed["firm_places"]).all()


def test_categories_add_up_to_the_benefit_stock_every_year_and_follow_their_rule():
    model = run_model(years=YEARS, inhabitants=SIZE, params={"practice.volunteering": 0.3})
    w = frame(model)
    cats = sum(w[f"benefit_category_{c}"] for c in levers.CATEGORIES)
    assert (cats == w["benefit_stock"]).all()
    assert (w["benefit_long_term"] == w["benefit_category_3"] + w["benefit_category_4"]).all()
    assert all((w[f"benefit_category_{c}"] > 0).all() for c in levers.CATEGORIES)
    pop, p = model.pop, model.p
    rows = pop.alive_rows()
    cat = levers.benefit_categories(pop, rows, p)
    assert ((cat > 0) == pop.on_benefit[rows]).all()
    short = np.isin(cat, (levers.CATEGORY_CLOSE, levers.CATEGORY_TRAINING))
    assert (pop.spell_years[rows][short] < p["benefit.category_long_term_years"]).all()
    assert (pop.wage[rows][cat == levers.CATEGORY_CLOSE] >= p["wage.regular_min"]).all()
    assert (pop.wage[rows][cat == levers.CATEGORY_SOCIAL] < p["wage.subsidy_min"]).all()
    # A longer cut-off moves recipients from categories 3-4 to 1-2, never the other way.
    longer = levers.benefit_categories(pop, rows, p.with_changes({"benefit.category_long_term_years": 3.0}))
    assert ((longer >= levers.CATEGORY_SUPPORTED) <= (cat >= levers.CATEGORY_SUPPORTED)).all()


def test_volunteering_puts_benefit_clients_on_the_step_of_unpaid_work():
    off = run_model(years=YEARS, inhabitants=SIZE)
    on = run_model(years=YEARS, inhabitants=SIZE, params={"practice.volunteering": 0.5})
    w_off, w_on = frame(off), frame(on)
    assert (w_off["volunteers"] == 0).all() and (w_on["volunteers"] > 0).all()
    assert (w_on["volunteers_on_benefit"] == w_on["volunteers"]).all()  # it ends with the benefit or a job
    pop = on.pop
    rows = pop.alive_rows()
    volunteer = pop.holds(rows, VOLUNTEER_BIT)
    assert (pop.step[rows][volunteer] <= Step.UNPAID_WORK).all()
    # Volunteering sustains step 4; the step climbs towards it one step a year (ladder.up_worklike): the same
    # residents (common random numbers) stand higher than without volunteering.
    uids = pop.uid[rows][volunteer]
    rows_off = off.pop.alive_rows()
    step_off = dict(zip(off.pop.uid[rows_off].tolist(), off.pop.step[rows_off].tolist(), strict=True))
    both = np.array([u in step_off for u in uids.tolist()])
    assert both.mean() > 0.8
    mine = pop.step[rows][volunteer][both]
    theirs = np.array([step_off[u] for u in uids[both].tolist()])
    assert mine.mean() > theirs.mean() and (mine >= theirs).mean() > 0.8
    level = levers.volunteer_level(np.array([Step.ISOLATED, Step.ORGANISED_ACTIVITY, Step.ISOLATED], dtype=np.int8),
                                   np.array([True, True, False]), np.array([False, False, False]))
    assert level.tolist() == [Step.UNPAID_WORK, Step.UNPAID_WORK, Step.ISOLATED]
    employed = levers.volunteer_level(np.array([Step.PAID_WORK], dtype=np.int8), np.array([True]), np.array([True]))
    assert employed.tolist() == [Step.PAID_WORK]
    assert w_on["residents_step_4"].iloc[-1] > w_off["residents_step_4"].iloc[-1]
    assert w_on["step_1"].iloc[-1] < w_off["step_1"].iloc[-1]
    # Paid per volunteer on the participation line (the pooled desk for its residents), not rationed.
    assert (w_on["spend_instrument_volunteering"] > 0).all() and (w_off["spend_instrument_volunteering"] == 0).all()
    spent = on.actors.holders[Holder.PWET_PARTICIPATION].spent[Instrument.VOLUNTEERING]
    assert spent == pytest.approx(w_on["spend_instrument_volunteering"].iloc[-1])


def test_volunteering_runs_are_reproducible():
    a = run_model(years=2, inhabitants=SIZE, params={"practice.volunteering": 0.4, "practice.open_access": 0.3})
    b = run_model(years=2, inhabitants=SIZE, params={"practice.volunteering": 0.4, "practice.open_access": 0.3})
    pd.testing.assert_frame_equal(a.tidy(), b.tidy())


def test_the_old_wsw_workforce_shrinks_and_frees_one_sheltered_place_per_three():
    params = {"pwet.wsw_workers_per_10k": 57.0, "pwet.sheltered_place_rule": "three-to-one"}
    base = frame(run_model(years=5, inhabitants=20000))
    w = frame(run_model(years=5, inhabitants=20000, params=params))
    p = PARAMETERS.resolve({**params, "scenario.inhabitants": 20000})
    start = 57.0 * 20000 / 10_000
    assert w["wsw_workers"].iloc[0] == pytest.approx(start)
    assert np.allclose(w["wsw_workers"].to_numpy()[1:] / w["wsw_workers"].to_numpy()[:-1], 1 - p["pwet.wsw_attrition"])
    added = w["sheltered_places"] - w["sheltered_places"].iloc[0]
    assert (added == np.floor(w["wsw_places_left"] / 3)).all() and added.iloc[-1] >= 3
    assert (base["sheltered_places"] == base["sheltered_places"].iloc[0]).all()
    assert w["in_sheltered_work"].iloc[-1] > base["in_sheltered_work"].iloc[-1]  # the new places are filled
    # The workforce costs the state's contribution per place, on the participation line with a grant of the same
    # size: the first year (no new places yet) leaves the re-integration money and the line's result unchanged.
    wsw = w["spend_instrument_sheltered_work"] - base["spend_instrument_sheltered_work"]
    assert wsw.iloc[0] == pytest.approx(start * p["pwet.sheltered_cost"])
    assert w["own_result_pwet_participation"].iloc[0] == pytest.approx(base["own_result_pwet_participation"].iloc[0])
    assert w["new_trajectories"].iloc[0] == base["new_trajectories"].iloc[0]


def test_the_old_wsw_workforce_follows_the_participation_money_to_the_pooled_desk():
    w = frame(run_model(years=2, inhabitants=SIZE, regime="integrated", params={"pwet.wsw_workers_per_10k": 57.0}))
    base = frame(run_model(years=2, inhabitants=SIZE, regime="integrated"))
    assert w["spend_pwet_participation"].iloc[0] == pytest.approx(base["spend_pwet_participation"].iloc[0])
    assert w["spend_pooled"].iloc[0] > base["spend_pooled"].iloc[0]
    assert w["own_result_pooled"].iloc[0] == pytest.approx(base["own_result_pooled"].iloc[0])


def test_walk_in_day_activities_need_no_assessment():
    off = frame(run_model(years=YEARS, inhabitants=SIZE))
    on = frame(run_model(years=YEARS, inhabitants=SIZE, params={"practice.open_access": 0.5}))
    assert (off["walk_ins"] == 0).all() and (on["walk_ins"] > 0).all()
    assert on["day_activities_on_benefit"].iloc[-1] > off["day_activities_on_benefit"].iloc[-1]
    assert on["wmo_granted"].iloc[0] <= off["wmo_granted"].iloc[0]  # no assessment is added for a walk-in
    assert on["spend_instrument_day_activities"].sum() > off["spend_instrument_day_activities"].sum()


CASE_FILES = sorted(CASES.glob("*.toml"))
MINE = ("fw19_basis_arbeidsmarkt", "m16_respijtzorg_katwijk", "m16_overschie_voor_elkaar", "m16_stadskamer",
        "m16_dutch_career_cup", "m16_krachtbedrijf", "m16_athos")


def test_the_levers_case_files_are_there():
    assert set(MINE) <= {f.stem for f in CASE_FILES}


@pytest.mark.parametrize("name", MINE)
def test_case_file_is_sound_and_its_claims_compute(name):
    case = cs.read_case(CASES / f"{name}.toml")
    small = {"scenario.inhabitants": 3000, "scenario.years": 3}
    runs = cs.run_cases(cs.plan_cases([case], 1, 7, small), workers=1, progress=False)
    table = cs.claim_table([case], runs, small)
    assert len(table) == len(case.claims) and np.isfinite(table["result"]).all()
