"""Tier 1b: parameter health and code health (every number has a home)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from model.parameters import PARAMETERS, STATUSES, ParameterError, ParameterSet, _build
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
