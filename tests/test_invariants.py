"""Tier 3: model invariants over many seeds and random scenarios (residents and euros conserved)."""

from __future__ import annotations

import numpy as np
import pytest

from model import SocialDomainModel
from model.constants import ACTIVITY_BITS, N_INSTRUMENTS, Holder, Instrument, Member, Status
from model.parameters import PARAMETERS, ParameterError, check_combinations
from model.resident import Resident
from tests.conftest import SMALL

# Parameters drawn at random within their allowed ranges for the invariant checks.
VARIED = [
    "scenario.pooled_share", "scenario.social_firm_places", "scenario.social_firms", "staff.salary",
    "benefit.other_exit_rate", "work.base_hazard", "work.duration_effect", "work.job_loss_base",
    "work.job_loss_tenure_decay", "work.loss_to_benefit_share", "benefit.return_hazard", "benefit.return_decay",
    "firm.lock_in", "firm.dropout_base", "pwet.reintegration_per_recipient", "wmo.budget_per_inhabitant",
    "dynamics.household_spillover", "dynamics.noise_sd", "access.reach_base", "inflow.non_take_up",
    "staff.client_managers_per_10k", "staff.generalists_per_10k", "economy.job_elasticity", "practice.outreach",
    "practice.household_intake", "practice.generalist_triage", "practice.regisseurs_per_10k",
    "pwet.sheltered_places_per_10k", "pwet.cross_law_intake_prob", "pwet.wmo_self_referral",
]


def random_scenario(seed: int, years: tuple[int, int] = (2, 6), inhabitants: tuple[int, int] = (2000, 9000)) -> dict:
    """A random but allowed scenario: regime, first year under it and the VARIED parameters within their ranges.

    ``years`` and ``inhabitants`` are the half-open ranges the horizon and the size are drawn from.
    """
    g = np.random.default_rng(seed)
    years = int(g.integers(*years))
    params = {"scenario.years": years, "scenario.from_year": int(g.integers(1, years + 2)),
              "scenario.regime": str(g.choice(["compartmentalised", "integrated", "gradual"])),
              "scenario.inhabitants": int(g.integers(*inhabitants))}
    for path in VARIED:
        spec = PARAMETERS.get(path)
        lo, hi = spec.range
        params[path] = int(g.integers(lo, hi + 1)) if spec.kind == "int" else float(g.uniform(lo, hi))
    params["scenario.social_firm_places"] = min(params["scenario.social_firm_places"], 200)
    params["scenario.social_firms"] = min(params["scenario.social_firms"], 5)
    check_combinations(PARAMETERS.resolve(params))
    return params


def check_year(model: SocialDomainModel) -> None:
    """Every invariant that must hold after any year."""
    pop = model.pop
    ind = model.indicators
    rows = pop.alive_rows()
    # Residents: start + inflow - exits = end; every one once, and once only in Mesa's agent set.
    year = model.year_state
    assert year.start_residents + ind["inflow"] - ind["exits"] == ind["residents"] == len(rows)
    assert len(np.unique(pop.uid[rows])) == len(rows)
    residents = model.agents_by_type[Resident]
    assert len(residents) == len(rows)
    assert sorted(a.row for a in residents) == rows.tolist()
    exits_by_reason = sum(v for k, v in ind.items() if k.startswith("exit_"))
    assert exits_by_reason == ind["exits"]
    # Exactly one status each, consistent with what the resident holds.
    status = model.status_of(rows)
    assert sum(ind[k] for k in ("in_regular_work", "in_subsidised_work", "in_sheltered_work", "in_trajectory",
                                "in_day_activities", "guidance_only", "not_in_sight", "other_income_only")) + (
        status == Status.BENEFIT_NO_SUPPORT).sum() == len(rows)
    # Other income: off benefit and not in work (provisions of either law may continue or start).
    other = pop.other_income[rows]
    assert not (other & (pop.on_benefit[rows] | (pop.employment[rows] >= 0))).any()
    employed = pop.employment[rows] >= 0
    assert not (employed & pop.on_benefit[rows]).any(), "nobody both in work and on benefit"
    assert not (employed & ((pop.provisions[rows] & ACTIVITY_BITS) != 0)).any(), "nobody both in work and in a trajectory"
    at_firm = pop.firm[rows] >= 0
    for f in model.firms:
        assert (pop.firm[rows] == f.index).sum() <= f.places, "no firm over its places"
    assert at_firm.sum() == ind["firm_occupied"]
    # Euros: instrument totals = budget-holder totals = grand total = resident costs + staff.
    ledger = np.array([h.spent for h in model.holders.values()])
    assert ledger.shape == (len(Holder), N_INSTRUMENTS)
    assert np.isclose(ledger.sum(axis=0).sum(), ledger.sum(axis=1).sum())
    assert np.isclose(ledger.sum(), ind["spend_total"])
    assert np.isclose(sum(ind[f"spend_instrument_{i.name.lower()}"] for i in Instrument), ind["spend_total"])
    staff = ledger[:, Instrument.CASE_MANAGEMENT].sum()
    contracts = sum(f.contract_income for f in model.firms)  # social-firm places bought, filled or not
    assert np.isclose(contracts, ind["firm_contract_income"])
    assert np.isclose(year.resident_cost.sum() + staff + contracts, ind["spend_total"])
    # Grants and own results add up: own result = budget + safety net - spending, per holder and in total.
    for h, holder in model.holders.items():
        name = h.name.lower()
        assert np.isclose(ind[f"own_result_{name}"], ind[f"budget_{name}"] + holder.compensation - ind[f"spend_{name}"])
    assert np.isclose(ind["own_result_total"], sum(ind[f"own_result_{h.name.lower()}"] for h in Holder))
    # Benefit units: partners share one unit; nobody is in two units; a unit holds at most a head and a partner.
    unit = pop.unit[rows]
    _, per_unit = np.unique(unit, return_counts=True)
    assert per_unit.max() <= 2
    pairs = np.unique(np.stack([unit, pop.household[rows]]), axis=1)
    assert pairs.shape[1] == len(np.unique(unit)), "a unit's members live in one household"
    heads = pop.member[rows] == Member.HEAD
    assert np.array_equal(np.sort(unit[heads]), np.sort(pop.uid[rows][heads])), "a head's unit is its own uid"
    assert (ledger >= 0).all()
    # Budgets never silently negative: any spending above the budget is reported as overspend.
    for h, holder in model.holders.items():
        name = h.name.lower()
        assert holder.budget >= 0
        assert np.isclose(ind[f"overspend_{name}"], max(ind[f"spend_{name}"] - ind[f"budget_{name}"], 0.0))
    # Partitions: nothing is booked on the pooled desk when nothing is pooled, and vice versa.
    if model.share == 0:
        assert ledger[Holder.POOLED].sum() == 0
    if model.share == 1:
        assert ledger[Holder.PWET_PARTICIPATION].sum() == 0 and ledger[Holder.WMO].sum() == 0


@pytest.mark.parametrize("seed", range(12))
def test_invariants_hold_in_random_scenarios(seed):
    params = random_scenario(seed)
    model = SocialDomainModel(params=params, rng=seed)
    for _ in range(params["scenario.years"]):
        model.step()
        check_year(model)


@pytest.mark.parametrize("seed", range(100, 104))
def test_invariants_hold_in_long_random_scenarios(seed):
    """Long horizons too: the issue's 'other income' kept in sheltered work showed in 2 of 57 long random runs."""
    params = random_scenario(seed, years=(12, 26), inhabitants=(2000, 3500))
    model = SocialDomainModel(params=params, rng=seed)
    for _ in range(params["scenario.years"]):
        model.step()
        check_year(model)


@pytest.mark.parametrize("regime", ["compartmentalised", "integrated", "gradual"])
def test_invariants_hold_over_a_long_default_run(regime):
    model = SocialDomainModel(regime=regime, inhabitants=SMALL, years=15, rng=3)
    while model.running:
        model.step()
        check_year(model)
    assert model.year == 15


def test_tight_budget_stops_trajectories_but_not_wmo_rights():
    """Re-integration is discretionary: no money, no trajectory. Wmo support is a right: served, overspend recorded."""
    model = SocialDomainModel(inhabitants=SMALL, years=2, rng=5, params={"pwet.reintegration_per_recipient": 0.0,
                                                                         "wmo.budget_per_inhabitant": 0.0})
    model.step()
    check_year(model)
    assert model.indicators["new_trajectories"] == 0
    assert model.indicators["spend_instrument_mediation"] == 0
    assert model.indicators["wmo_clients"] > 0 and model.indicators["wmo_granted"] > 0
    assert model.indicators["overspend_wmo"] == pytest.approx(model.indicators["spend_wmo"] - model.indicators["budget_wmo"])
    assert model.indicators["overspend_wmo"] > 0


def test_income_overspend_is_recorded_when_the_stock_grows():
    # From the synthetic start (no spin-up): the stock grows away from the grant fixed in year 1.
    model = SocialDomainModel(inhabitants=SMALL, years=3, rng=5,
                              params={"benefit.other_exit_rate": 0.0, "work.base_hazard": 0.01,
                                      "scenario.spin_up_years": 0})
    for _ in range(3):
        model.step()
    assert model.indicators["overspend_pwet_income"] > 0
    assert model.holders[Holder.PWET_INCOME].overspend == model.indicators["overspend_pwet_income"]


def test_impossible_combinations_are_rejected_before_running():
    with pytest.raises(ParameterError, match="from_year"):
        SocialDomainModel(years=5, from_year=9)
    with pytest.raises(ParameterError, match="wage thresholds must rise"):
        SocialDomainModel(params={"wage.subsidy_min": 0.6, "wage.regular_min": 0.55})


def test_group_breakdowns_add_up_to_the_totals():
    model = SocialDomainModel(inhabitants=SMALL, years=3, rng=2, regime="integrated")
    for _ in range(3):
        model.step()
    frame = model.tidy()
    last = frame[frame["year"] == 3]
    total = last[last["group_by"] == "all"].set_index("indicator")["value"]
    for group_by in ("age_band", "disability", "wage_band"):
        sums = last[last["group_by"] == group_by].groupby("indicator")["value"].sum()
        assert sums["residents"] == total["residents"]
        assert sums["benefit_stock"] == total["benefit_stock"]
        assert sums["outflow_work"] == total["outflow_work"]
        for kind in ("regular", "subsidised", "sheltered"):
            assert sums[f"outflow_{kind}_work"] == total[f"outflow_{kind}_work"]
        assert sums["wmo_clients"] == total["wmo_clients"]
        assert sums["spend"] == pytest.approx(total["spend_total"] - total["spend_instrument_case_management"]
                                              - total["firm_contract_income"])
        assert sum(sums[f"step_{k}"] for k in range(1, 7)) == total["residents"]
