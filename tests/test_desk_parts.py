"""What the funding alone consists of: the one pot and each field of the pooled desk, on paired seeds."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from experiments.cli import main
from experiments.desk_parts import INTERACTIONS, ONE_POT, TOTAL, desk_parts, desk_runs
from model.desks import as_law_desks
from model.model import SocialDomainModel
from model.parameters import PARAMETERS

SMALL = {"scenario.inhabitants": 6000, "scenario.years": 4}


def _pair():
    base = PARAMETERS.resolve(SMALL)
    return base, base.with_changes({"scenario.regime": "integrated"})


def test_the_law_desk_settings_do_not_touch_a_compartmentalised_run():
    base, _ = _pair()
    runs = []
    for values in (base, base.with_changes(as_law_desks(base))):
        model = SocialDomainModel(params=values, rng=5)
        while model.running:
            model.step()
        runs.append(model.datacollector.get_model_vars_dataframe())
    pd.testing.assert_frame_equal(runs[0], runs[1])


def test_the_runs_are_the_one_pot_and_one_field_at_a_time():
    base, pooled = _pair()
    runs = desk_runs(base, pooled)
    law = as_law_desks(pooled)
    assert list(runs)[:3] == ["baseline", "pooled", ONE_POT]
    changed = {key for key, _ in runs.values() if key}
    assert changed == {k for k, v in law.items() if dict.__getitem__(pooled, k) != v}
    for key, values in runs.values():
        if key:  # exactly one key differs from the full pooled desk
            assert [k for k in law if dict.__getitem__(values, k) != dict.__getitem__(pooled, k)] == [key]


def test_the_parts_and_the_interactions_add_up_to_the_total_per_replication():
    base, pooled = _pair()
    result = desk_parts(base, pooled, 2, 3)
    per = result["per_replication"]
    for (_, _), rows in per.groupby(["replication", "indicator"]):
        parts = rows.set_index("part")["value"]
        assert parts.drop(TOTAL).sum() == pytest.approx(parts[TOTAL], abs=1e-6)
    table = result["table"].set_index(["indicator", "part"])
    # The worker's all-domain view is what brings benefit clients to a Wmo assessment under pooling.
    assert table.loc[("wmo_clients", ONE_POT), "mean"] == pytest.approx(0.0, abs=1e-9)
    assert INTERACTIONS in set(result["table"]["part"])


def test_run_prints_the_desk_parts_and_the_audit_and_audit_reads_the_folder(tmp_path, capsys):
    small = ["--set", "scenario.inhabitants=4000", "--years", "3", "--replications", "2", "--no-progress",
             "--practices", "none"]
    assert main(["run", "--out", str(tmp_path), *small]) == 0
    text = capsys.readouterr().out
    assert "What pooling the money consists of" in text and "one pot" in text
    assert "The controller's audit" in text
    (folder,) = sorted(tmp_path.iterdir())
    parts = pd.read_csv(folder / "desk_parts.csv")
    assert set(parts["indicator"]) >= {"outflow_work", "wmo_clients", "spend_total"}
    audit = pd.read_csv(folder / "audit.csv")
    same = audit[audit["name"] == "same discretionary money"]
    assert (same["verdict"] == "holds").all() and np.allclose(same["measured"], 0.0)
    assert main(["audit", str(folder), "--json"]) == 0
    checks = json.loads(capsys.readouterr().out)
    assert {c["name"] for c in checks} >= {"same discretionary money", "firm ledger", "within the discretionary budget"}


def test_audit_of_a_folder_that_is_no_run_is_one_line(tmp_path, capsys):
    assert main(["audit", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ontschot: error:") and "not a run folder" in err
