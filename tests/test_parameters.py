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
    decimal_number,
    flatten,
    load_scenario,
    parse_set,
    resolve_overrides,
    whole_number,
)
from tests.conftest import run_model

ROOT = Path(__file__).resolve().parent.parent
DOMAIN_TAGS = ("[SR]", "[M16]", "[R12]", "[BK18]", "[FW19]", "[CBS24]", "[DIV19]", "[ISZW21]", "[SCP07]")  # docs/sources.md


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
            assert any(tag in p.source for tag in DOMAIN_TAGS), f"{p.path}: a published value needs a tag of docs/sources.md"
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
        ({"staff.salry": 15000}, "unknown parameter 'staff.salry'; did you mean 'staff.salary'"),
        ({"staff.salary": "a lot"}, "parameter 'staff.salary' = 'a lot'"),
        ({"staff.salary": 99.0}, "from 40,000 to 120,000"),
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
    values.with_changes({"scenario.pooled_share": 0.3, "staff.salary": 65000})
    assert sorted(checked) == ["scenario.pooled_share", "staff.salary"]


def test_with_changes_rejects_a_bad_value_and_rechecks_combinations():
    values = PARAMETERS.resolve({"scenario.years": 5})
    with pytest.raises(ParameterError, match="'scenario.pooled_share' = 1.5 .*from 0 to 1"):
        values.with_changes({"scenario.pooled_share": 1.5})
    with pytest.raises(ParameterError, match="unknown parameter 'scenario.regim'"):
        values.with_changes({"scenario.regim": "gradual"})
    with pytest.raises(ParameterError, match="from_year"):
        values.with_changes({"scenario.from_year": 9})  # allowed on its own, not with 5 years
    with pytest.raises(ParameterError, match="from_year"):
        PARAMETERS.resolve({"scenario.years": 5, "scenario.from_year": 9})


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


# Input coercion: numpy values are the numbers they hold; files and command-line numbers are read strictly.


def test_numpy_scalars_and_arrays_are_accepted_as_the_python_values_they_hold():
    import numpy as np

    values = PARAMETERS.resolve({"scenario.inhabitants": np.int64(2000), "scenario.pooled_share": np.float32(0.5),
                                 "scenario.regime": np.str_("gradual"), "scenario.years": np.uint8(3),
                                 "population.household_size_probs": np.array([0.4, 0.3, 0.2, 0.1])})
    assert type(values["scenario.inhabitants"]) is int and type(values["scenario.years"]) is int
    assert type(values["scenario.pooled_share"]) is float and type(values["scenario.regime"]) is str
    assert values["population.household_size_probs"] == [0.4, 0.3, 0.2, 0.1]
    assert json.dumps(values.overrides)  # plain Python: manifests and run ids see the same values as for ints
    with pytest.raises(ParameterError, match="'scenario.inhabitants' = True is not allowed"):
        PARAMETERS.resolve({"scenario.inhabitants": np.bool_(True)})


def test_the_model_takes_numpy_scalars_as_mesa_batch_run_passes_them():
    import numpy as np

    from model import SocialDomainModel

    model = SocialDomainModel(inhabitants=np.int64(1000), years=np.int64(1), pooled_share=np.float64(0.5),
                              regime=np.str_("gradual"), rng=np.int64(3), staff__salary=np.int32(65000))
    assert model.p["scenario.inhabitants"] == 1000 and model.p["staff.salary"] == 65000.0
    model.step()
    assert not model.running


def test_mesa_batch_run_over_np_arange():
    import mesa
    import numpy as np

    from model import SocialDomainModel

    rows = mesa.batch_run(SocialDomainModel, parameters={"inhabitants": np.arange(1000, 3000, 1000), "years": 1,
                                                          "rng": 5}, number_processes=1, iterations=1, max_steps=1,
                          display_progress=False)
    assert sorted({r["inhabitants"] for r in rows}) == [1000, 2000]


@pytest.mark.parametrize(("value", "fragment"), [
    (10**5000, "<a whole number of about 5,001 digits>"),  # an int too large for a float is out of range
    (10**400, "<a whole number of about 401 digits>"),
    (float("nan"), "nan"),
    ("x" * 10_000, "..."),  # long values are shortened in the message
], ids=["5001 digits", "401 digits", "nan", "long text"])
def test_out_of_range_giants_and_long_values_give_a_short_message(value, fragment):
    with pytest.raises(ParameterError) as err:
        PARAMETERS.validate({"staff.salary": value})
    assert fragment in str(err.value) and len(str(err.value)) < 300


def test_a_list_parameter_has_a_length_limit():
    with pytest.raises(ParameterError, match="1 to 1,000 of them"):
        PARAMETERS.validate({"economy.unemployed_per_vacancy_path": [4.0] * 1001})


@pytest.mark.parametrize("text", ["٣", "1_0", " 3", "3 ", "0x10", "1e", "nan", "inf", "-inf", "3.0.0", "", "+", "١٢"])
def test_command_line_numbers_are_ascii_decimal_only(text):
    assert whole_number(text) is None
    if text.strip() == text:  # --set strips the spaces around its value; the options take the text as it is
        assert decimal_number(text) is None
        with pytest.raises(ParameterError, match="is not allowed"):
            parse_set([f"scenario.years={text}"])


def test_command_line_lists_and_a_key_given_twice():
    assert parse_set(["population.household_size_probs=[0.4, 0.3,0.2 , 0.1]"]) == {
        "population.household_size_probs": [0.4, 0.3, 0.2, 0.1]}
    with pytest.raises(ParameterError, match="is not allowed"):
        parse_set(["population.household_size_probs=" + "[" * 5000 + "]" * 5000])
    with pytest.raises(ParameterError, match="'scenario.years' is given twice with --set"):
        parse_set(["scenario.years=3", "scenario.years=4"])
    with pytest.raises(ParameterError, match="'scenario.years' is given both with --set and by its own option"):
        resolve_overrides(None, ["scenario.years=3"], {"scenario.years": 4})


@pytest.mark.parametrize(("content", "fragment"), [
    (b'"scenario.years" = 4\n[scenario]\nyears = 5\n', "'scenario.years' is given twice in"),
    (b"[scenario]\nyears = 4\n[scenario]\n", "not valid TOML"),
    (b"[scenario]\nyears = 4\n[scenario.yeras]\n", "unknown parameter 'scenario.yeras'"),
    (b"\xff\xfe[scenario]\n", "is not UTF-8 text (byte 0xff at position 0)"),
    (b"a = " + b"[" * 3000 + b"]" * 3000 + b"\n", "nests tables and lists too deeply"),
    (b"a = " + b"[" * 20 + b"1" + b"]" * 20 + b"\n", "nests tables and lists 21 levels deep: at most 8"),
    (b"a = " + b"1" * 5000 + b"\n", "holds a number too long to read"),
    (b"# " + b"x" * (2 << 20) + b"\n", "bytes: at most 1,048,576 are allowed"),
    (b"[scenario]\nyears = 4.5\n", "'scenario.years' = 4.5 (from"),
])
def test_a_bad_scenario_file_is_one_clear_error(tmp_path, content, fragment):
    path = tmp_path / "s.toml"
    path.write_bytes(content)
    with pytest.raises(ParameterError) as err:
        load_scenario(path)
    message = str(err.value)
    assert fragment in message and len(message.splitlines()) == 1 and len(message) < 400
    assert "s.toml" in message


def test_scenario_paths_that_cannot_be_files(tmp_path):
    cases = {"": "is empty", str(tmp_path): "is a folder", str(tmp_path / ("x" * 5000)): "cannot be read",
             "a\0b.toml": "holds a NUL character", "/dev/null": "is not a regular file",
             str(tmp_path / "missing.toml"): "does not exist"}
    for path, fragment in cases.items():
        with pytest.raises(ParameterError, match=fragment) as err:
            load_scenario(path)
        assert len(str(err.value)) < 400
    with pytest.raises(ParameterError, match="scenario file path '' is empty"):
        resolve_overrides("", [], {})  # an empty --scenario is refused, not ignored


# Every assumption says what it rests on and why its range is as wide as it is (issue 20).


def test_every_assumption_gives_a_reason_and_a_range_reason():
    assumptions = [p for p in PARAMETERS if p.status == "assumption"]
    assert len(assumptions) > 100
    for p in assumptions:
        reason = re.sub(r"^assumption\s*:?", "", p.source, flags=re.IGNORECASE).strip()
        assert len(reason) > 30, f"{p.path}: an assumption says what it rests on, not only 'assumption'"
        assert len(p.range_reason) > 15, f"{p.path}: an assumption justifies its range (range_reason)"


def test_the_parameter_file_accepts_range_reason_and_refuses_unknown_fields():
    spec = {"value": 1.0, "unit": "u", "status": "assumption", "label": "l", "kind": "float", "range": [0, 2],
            "source": "assumption: test"}
    assert _build("x.y", {**spec, "range_reason": "0 to 2: why"}).range_reason == "0 to 2: why"
    assert _build("x.y", spec).range_reason == ""
    with pytest.raises(ParameterError, match="unknown field.*range_reasn"):
        _build("x.y", {**spec, "range_reasn": "a typo would be lost silently"})


def test_the_parameter_listing_shows_the_range_reason(capsys):
    from experiments import cli

    assert cli.main(["params"]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("wage.learning "))
    assert "range: " + PARAMETERS.get("wage.learning").range_reason in line


def test_the_odd_names_only_parameters_that_exist():
    """docs/ODD.md states each rule in parameter names: a renamed or removed parameter must not linger there."""
    import fnmatch

    sections = {path.split(".")[0] for path in PARAMETERS.definitions}
    named = set(re.findall(r"`([a-z_]+\.[a-z0-9_*]+)`", (ROOT / "docs" / "ODD.md").read_text()))
    stale = sorted(n for n in named if n.split(".")[0] in sections
                   and not any(fnmatch.fnmatch(path, n) for path in PARAMETERS.definitions))
    assert not stale, f"docs/ODD.md names parameters that do not exist: {stale}"
