"""The model is a proper Mesa citizen: batch_run drives it unchanged; agents of all four types exist."""

from __future__ import annotations

import mesa
import pandas as pd

from model import SocialDomainModel
from model.budget_holder import BudgetHolder
from model.case_worker import CaseWorker
from model.constants import Role
from model.resident import Resident
from model.social_firm import SocialFirm


def test_batch_run_returns_the_reporters_seeded():
    params = {"regime": ["compartmentalised", "integrated"], "inhabitants": 4000, "years": 3, "rng": [5]}
    kwargs = dict(parameters=params, iterations=1, max_steps=3, number_processes=1, data_collection_period=-1,
                  display_progress=False)
    first = pd.DataFrame(mesa.batch_run(SocialDomainModel, **kwargs))
    second = pd.DataFrame(mesa.batch_run(SocialDomainModel, **kwargs))
    assert len(first) == 2
    assert {"benefit_stock", "outflow_work", "spend_total", "firm_utilisation"} <= set(first.columns)
    pd.testing.assert_frame_equal(first, second)
    direct = SocialDomainModel(regime="integrated", inhabitants=4000, years=3, rng=5)
    while direct.running:
        direct.step()
    row = first.set_index("regime").loc["integrated"]
    assert row["benefit_stock"] == direct.indicators["benefit_stock"]
    assert row["spend_total"] == direct.indicators["spend_total"]
    by = first.set_index("regime")
    assert by.loc["integrated", "spend_pooled"] > 0 and by.loc["compartmentalised", "spend_pooled"] == 0


def test_all_four_agent_types_are_mesa_agents():
    model = SocialDomainModel(inhabitants=4000, rng=1)
    types = set(model.agent_types)
    assert {Resident, CaseWorker, SocialFirm, BudgetHolder} <= types
    assert len(model.agents_by_type[BudgetHolder]) == 4
    roles = {w.role for w in model.agents_by_type[CaseWorker]}
    assert roles == set(Role)
    resident = model.agents_by_type[Resident][0]
    snap = resident.snapshot()
    assert snap["status"] and set(snap["severities"]) >= {"mental", "debts", "household"}
    cm = model.workers[Role.CLIENT_MANAGER][0]
    assert not cm.sees(cm.domains_seen[0].__class__.DEBTS) and model.workers[Role.GENERALIST][0].sees(
        cm.domains_seen[0].__class__.DEBTS)


def test_exited_residents_leave_mesas_agent_set():
    model = SocialDomainModel(inhabitants=4000, rng=1, years=3)
    model.step()
    model.step()
    gone = [r for r in range(model.pop.n) if not model.pop.alive[r]]
    assert gone and all(model.agent_of(r) is None for r in gone)


def test_finished_models_can_be_freed_in_a_long_running_process():
    """Mesa 3.3.1 keeps every model in Agent._ids (mesa/mesa#3179); release() lets it go."""
    import gc
    import weakref

    from experiments.runner import run_one

    run_one("compartmentalised", 1, {"scenario.inhabitants": 3000, "scenario.years": 2})
    model = SocialDomainModel(inhabitants=3000, years=2, rng=1)
    model.step()
    ref = weakref.ref(model)
    model.release()
    del model
    gc.collect()
    assert ref() is None


def test_batch_registration_is_what_mesa_itself_registers(monkeypatch):
    """Residents are registered and removed in batches on Mesa 3.3's registry: the same agents, ids and sets."""
    import model.model as model_module
    import model.resident as resident

    def registries(model):
        return ([(type(a).__name__, a.unique_id) for a in model._agents],
                [a.unique_id for a in model.agents], {t.__name__: [a.unique_id for a in s]
                                                      for t, s in model.agents_by_type.items()},
                model.tidy())

    def run(batched):
        monkeypatch.setattr(model_module, "_SPUN_UP", {})  # both spin up, neither restores the other's state
        if not batched:
            monkeypatch.setattr(resident, "mesa_registry", lambda model: False)
        model = SocialDomainModel(inhabitants=4000, rng=3, years=3, params={"scenario.spin_up_years": 2})
        assert resident.mesa_registry(model) is batched
        while model.running:
            model.step()
        monkeypatch.undo()
        return registries(model)

    batched, mesas = run(True), run(False)
    assert batched[:3] == mesas[:3]
    pd.testing.assert_frame_equal(batched[3], mesas[3])


def test_batch_runs_rows_carry_the_simulated_year_and_its_values():
    """Every batch_run row has a ``year`` column, the simulated year whose values it holds (1 = the first year).

    Mesa 3.3's batch_run labels a row ``Step = model.steps - 1`` (mesa/mesa#2514, fixed in Mesa 3.4+ which needs
    Python 3.12): this model collects once per year at the end of the year, so on the pinned Mesa the last row of a
    3-year run has Step 2. ``year`` does not depend on that label: it is collected with the row.
    """
    params = {"inhabitants": 3000, "years": 3, "rng": [4]}
    rows = pd.DataFrame(mesa.batch_run(SocialDomainModel, parameters=params, iterations=1, max_steps=100,
                                       number_processes=1, data_collection_period=1, display_progress=False))
    assert rows["year"].tolist() == [1, 2, 3]
    first_step = 0 if mesa.__version__.startswith("3.3.") else 1  # the pinned Mesa (requirements.lock) gives 0
    assert rows["Step"].tolist() == [first_step, first_step + 1, first_step + 2]
    direct = SocialDomainModel(inhabitants=3000, years=3, rng=4)
    while direct.running:
        direct.step()
    assert direct.steps == 3
    wide = direct.datacollector.get_model_vars_dataframe()
    assert wide["year"].tolist() == [1, 2, 3]
    for _, row in rows.iterrows():
        assert row["benefit_stock"] == wide["benefit_stock"].iloc[int(row["year"]) - 1]
        assert row["spend_total"] == wide["spend_total"].iloc[int(row["year"]) - 1]
    last = pd.DataFrame(mesa.batch_run(SocialDomainModel, parameters=params, iterations=1, max_steps=100,
                                       number_processes=1, data_collection_period=-1, display_progress=False))
    assert last["year"].tolist() == [3] and last["benefit_stock"].iloc[0] == wide["benefit_stock"].iloc[-1]
    assert "year" not in set(direct.tidy()["indicator"])  # the year is a column of the rows, not an indicator


def test_the_projects_own_batch_api_does_not_use_mesa_batch_run():
    """Mesa 4 removes batch_run: experiments/ (batch, runner, sweeps, calibration) must not depend on it."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "experiments"
    users = [p.name for p in root.rglob("*.py") if "batch_run" in p.read_text()]
    assert not users, f"experiments/ calls mesa.batch_run: {users}"
