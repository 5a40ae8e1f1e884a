"""Tier 1b: parameter health and code health (every number has a home)."""

from __future__ import annotations

import ast
import json
import pickle
import re
import subprocess
import sys
from pathlib import Path

import pytest

from model.parameters import (
    PARAMETERS,
    STATUSES,
    Parameter,
    ParameterError,
    ParameterSet,
    Values,
    _build,
    flatten,
    load_scenario,
    parse_set,
    resolve_overrides,
)
from tests.conftest import run_model

ROOT = Path(__file__).resolve().parent.parent
DOMAIN_TAGS = ("[SR]", "[M16]", "[R12]", "[BK18]", "[FW19]")


def test_every_parameter_is_complete_and_in_range():
    assert len(PARAMETERS.definitions) > 100
    for p in PARAMETERS:
        assert p.unit and p.label and p.source, p.path
        assert p.status in STATUSES, p.path
        assert p.coerce(p.value) is not None  # the shipped value is itself allowed


@pytest.mark.parametrize("status", ["published", "legislated", "assumption", "scenario", "calibrated"])
def test_sources_match_status(status):
    for p in PARAMETERS:
        if p.status != status:
            continue
        if status == "published":
            assert any(tag in p.source for tag in DOMAIN_TAGS), f"{p.path}: a published value needs a domain.md tag"
        elif status == "assumption":
            assert p.source.startswith("assumption"), f"{p.path}: an assumption states its reason"
        elif status == "calibrated":
            assert "calibrated" in p.source, p.path


def test_every_parameter_is_used_by_the_model():
    used = set()
    for regime in ("compartmentalised", "integrated", "gradual"):
        used |= run_model(years=3, regime=regime, inhabitants=8000).p.used
    unused = sorted(set(PARAMETERS.definitions) - used)
    assert not unused, f"parameters never read by the model: {unused}"


def test_a_parameter_lacking_metadata_is_rejected():
    with pytest.raises(ParameterError, match="lacks source"):
        _build("x.y", {"value": 1.0, "unit": "u", "status": "assumption", "label": "l", "kind": "float",
                       "range": [0, 2]})
    with pytest.raises(ParameterError, match="not allowed"):
        _build("x.y", {"value": 3.0, "unit": "u", "status": "assumption", "label": "l", "kind": "float",
                       "range": [0, 2], "source": "assumption: test"})


def test_parameter_file_loads_the_same_twice():
    again = ParameterSet.load()
    assert {p.path: p.value for p in again} == {p.path: p.value for p in PARAMETERS}


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"benefit.cost_per_yer": 15000}, "unknown parameter 'benefit.cost_per_yer'; did you mean 'benefit.cost_per_year'"),
        ({"benefit.cost_per_year": "a lot"}, "parameter 'benefit.cost_per_year' = 'a lot'"),
        ({"benefit.cost_per_year": 99.0}, "from 12,000 to 16,000"),
        ({"scenario.years": 2.5}, "a whole number"),
        ({"scenario.regime": "pooled"}, "one of 'compartmentalised', 'integrated', 'gradual'"),
        ({"scenario.pooled_share": True}, "scenario.pooled_share"),
        ({"population.household_size_probs": [0.5, 0.5]}, "length 4"),
    ],
)
def test_bad_overrides_name_key_value_and_what_is_allowed(overrides, fragment):
    with pytest.raises(ParameterError) as err:
        PARAMETERS.validate(overrides)
    assert fragment in str(err.value)


# Code health: agent and rule code contains no behavioural numbers, only 0, 1 and named constants.
CHECKED = sorted((ROOT / "model" / "rules").glob("*.py")) + [
    ROOT / "model" / f for f in ("model.py", "resident.py", "case_worker.py", "social_firm.py", "budget_holder.py",
                                 "reporters.py")
]


@pytest.mark.parametrize("path", CHECKED, ids=lambda p: p.name)
def test_no_magic_numbers_in_agent_or_rule_code(path):
    magic = [
        (node.lineno, node.value)
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float))
        and not isinstance(node.value, bool) and node.value not in (0, 1)
    ]
    assert not magic, f"{path.name}: numbers outside the parameter set at (line, value) {magic}"


@pytest.mark.parametrize("path", sorted((ROOT / "model" / "rules").glob("*.py")), ids=lambda p: p.name)
def test_every_rule_function_states_its_rule(path):
    tree = ast.parse(path.read_text())
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
            doc = ast.get_docstring(node)
            assert doc and len(doc.splitlines()[0]) > 20, f"{path.name}:{node.name} needs a one-line rule docstring"


def test_every_parameter_path_appears_in_model_code():
    code = "".join(p.read_text() for p in (ROOT / "model").rglob("*.py"))
    missing = [p.path for p in PARAMETERS if not re.search(re.escape(f'"{p.path}"'), code)]
    assert not missing, f"parameters never named in model code: {missing}"


# One validation: resolve once, then derive with with_changes (only the changed keys are checked again).


def test_resolve_keeps_what_was_asked_for_and_with_changes_derives_new_values():
    values = PARAMETERS.resolve({"scenario.years": 5})
    assert isinstance(values, Values) and values.overrides == {"scenario.years": 5}
    gradual = values.with_changes({"scenario.regime": "gradual"})
    assert gradual["scenario.regime"] == "gradual" and gradual["scenario.years"] == 5
    assert values["scenario.regime"] == PARAMETERS.get("scenario.regime").value  # the original is untouched
    assert gradual.overrides == {"scenario.years": 5, "scenario.regime": "gradual"}
    assert Values(gradual) == gradual and Values(gradual).overrides == gradual.overrides


def test_with_changes_validates_only_the_changed_keys(monkeypatch):
    values = PARAMETERS.resolve()
    checked = []
    real = Parameter.coerce
    monkeypatch.setattr(Parameter, "coerce", lambda self, v, origin="": checked.append(self.path) or real(self, v, origin))
    values.with_changes({"scenario.pooled_share": 0.3, "benefit.cost_per_year": 15000})
    assert sorted(checked) == ["benefit.cost_per_year", "scenario.pooled_share"]


def test_with_changes_rejects_a_bad_value_and_rechecks_combinations():
    values = PARAMETERS.resolve({"scenario.years": 5})
    with pytest.raises(ParameterError, match="'scenario.pooled_share' = 1.5 .*from 0 to 1"):
        values.with_changes({"scenario.pooled_share": 1.5})
    with pytest.raises(ParameterError, match="unknown parameter 'scenario.regim'"):
        values.with_changes({"scenario.regim": "gradual"})
    with pytest.raises(ParameterError, match="switch_year"):
        values.with_changes({"scenario.switch_year": 9})  # allowed on its own, not with 5 years
    with pytest.raises(ParameterError, match="switch_year"):
        PARAMETERS.resolve({"scenario.years": 5, "scenario.switch_year": 9})


def test_values_start_with_no_reads_and_travel_to_workers_whole():
    values = PARAMETERS.resolve({"scenario.years": 5}).with_changes({"scenario.regime": "integrated"})
    assert values.used == set()  # the combination check's reads are not counted as the model's
    copy = pickle.loads(pickle.dumps(values))
    assert isinstance(copy, Values) and copy == values and copy.overrides == values.overrides
    assert copy.parameters is PARAMETERS  # the shipped set travels by reference
    assert copy.with_changes({"scenario.years": 6})["scenario.years"] == 6


def test_one_flattener_reads_parameter_tables_scenarios_and_dotted_keys():
    tree = {"a": {"b": {"value": 1, "unit": "u"}, "c": {"d": 2}}, "e.f": 3}
    assert flatten(tree) == {"a.b.value": 1, "a.b.unit": "u", "a.c.d": 2, "e.f": 3}
    assert flatten(tree, keep=lambda t: "value" in t) == {"a.b": {"value": 1, "unit": "u"}, "a.c.d": 2, "e.f": 3}


def test_scenario_files_and_set_flags_are_validated_in_the_parameter_module(tmp_path):
    scenario = tmp_path / "s.toml"
    scenario.write_text('"scenario.years" = 4\n[scenario]\npooled_share = 0.2\n')
    assert load_scenario(scenario) == {"scenario.years": 4, "scenario.pooled_share": 0.2}
    assert parse_set(["population.household_size_probs=0.4,0.3,0.2,0.1", "scenario.years=3"]) == {
        "population.household_size_probs": [0.4, 0.3, 0.2, 0.1], "scenario.years": 3}
    values = resolve_overrides(scenario, ["scenario.years=6"], {"scenario.inhabitants": 5000})
    assert values.overrides == {"scenario.years": 6, "scenario.pooled_share": 0.2, "scenario.inhabitants": 5000}
    (tmp_path / "broken.toml").write_text("[scenario\n")
    with pytest.raises(ParameterError, match="scenario file '.*broken.toml' is not valid TOML"):
        load_scenario(tmp_path / "broken.toml")


# The parameter module imports nothing from the simulation (checked in a fresh interpreter).
IMPORT_PROBE = """
import json, sys, types
if sys.argv[1] == "alone":  # the module on its own, without the package's __init__
    package = types.ModuleType("model")
    package.__path__ = [sys.argv[2]]
    sys.modules["model"] = package
from model.parameters import PARAMETERS, load_scenario, resolve_overrides
load_scenario(sys.argv[3])
resolve_overrides(sys.argv[3], ["scenario.years=4"], {})
print(json.dumps(sorted(m for m in sys.modules if m == "mesa" or m.startswith(("model.", "mesa.")))))
"""


def _modules_loaded_to_validate(how: str) -> list[str]:
    scenario = ROOT / "experiments" / "scenarios" / "recession.toml"
    proc = subprocess.run([sys.executable, "-c", IMPORT_PROBE, how, str(ROOT / "model"), str(scenario)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_the_parameter_module_validates_a_scenario_without_the_simulation():
    assert _modules_loaded_to_validate("alone") == ["model.parameters"]


def test_importing_model_parameters_does_not_load_the_simulation():
    loaded = _modules_loaded_to_validate("package")
    if "model.model" in loaded and "from model.model import" in (ROOT / "model" / "__init__.py").read_text():
        pytest.xfail("model/__init__.py imports model.model eagerly; the package must load it lazily")
    assert "model.model" not in loaded and "mesa" not in loaded, loaded
