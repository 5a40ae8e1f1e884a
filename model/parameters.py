"""The parameter set: every behavioural number as data with unit, range, status and source.

Values live in ``parameters.toml`` (one table per parameter, keyed by a dotted path such as
``benefit.cost_per_year``). Scenario files and ``--set`` flags override values by path; every
override is validated against the metadata before anything runs, once: ``ParameterSet.resolve``
(or ``resolve_overrides`` for command-line input) gives a ``Values`` mapping that runs use as it
is, and ``Values.with_changes`` derives another one validating only what changed.

This module imports nothing from the simulation, so input can be checked without loading the model.
"""

from __future__ import annotations

import difflib
import json
import math
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PARAMETER_FILE = Path(__file__).with_name("parameters.toml")
STATUSES = ("legislated", "published", "calibrated", "assumption", "scenario")
KINDS = ("float", "int", "choice", "float_list")
REQUIRED = ("value", "unit", "status", "label", "source", "kind")


class InputError(ValueError):
    """Wrong input from the user: an unknown, mistyped or out-of-range parameter, a bad scenario or design file.

    The command line prints it as one line and exits with status 2; any other exception is a bug
    and surfaces with its traceback.
    """


ParameterError = InputError  # the name the simulation and its tests use; one type


@dataclass(frozen=True)
class Parameter:
    """One named number (or choice) with the metadata that makes it checkable."""

    path: str
    value: Any
    unit: str
    status: str
    label: str
    source: str
    kind: str
    range: tuple[float, float] | None = None
    choices: tuple[str, ...] = ()
    length: int | None = None

    def describe_allowed(self) -> str:
        """Human-readable statement of what this parameter accepts."""
        if self.kind == "choice":
            return "one of " + ", ".join(repr(c) for c in self.choices)
        lo, hi = self.range
        what = {"float": "a number", "int": "a whole number", "float_list": "a list of numbers"}[self.kind]
        each = " each" if self.kind == "float_list" else ""
        n = f" of length {self.length}" if self.length else ""
        return f"{what}{n}{each} from {_fmt(lo)} to {_fmt(hi)} ({self.unit})"

    def coerce(self, value: Any, origin: str = "") -> Any:
        """Return ``value`` converted to this parameter's kind, or raise ParameterError."""
        where = f" (from {origin})" if origin else ""

        def fail() -> ParameterError:
            return ParameterError(
                f"parameter '{self.path}' = {value!r}{where} is not allowed: expected {self.describe_allowed()}"
            )

        if self.kind == "choice":
            if not isinstance(value, str) or value not in self.choices:
                raise fail()
            return value
        if self.kind == "float_list":
            if not isinstance(value, (list, tuple)) or (self.length and len(value) != self.length) or not value:
                raise fail()
            out = [self._number(v, fail, whole=False) for v in value]
            return out
        return self._number(value, fail, whole=self.kind == "int")

    def _number(self, v: Any, fail, whole: bool):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise fail()
        if isinstance(v, float) and not math.isfinite(v):
            raise fail()
        if whole:
            if isinstance(v, float):
                if not v.is_integer():
                    raise fail()
                v = int(v)
        else:
            v = float(v)
        lo, hi = self.range
        if not lo <= v <= hi:
            raise fail()
        return v


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() and abs(x) >= 1000 else f"{x:g}"


def flatten(tree: Mapping[str, Any], keep: Callable[[dict], bool] | None = None, prefix: str = "") -> dict[str, Any]:
    """Nested TOML tables as one mapping by dotted path: ``{"a": {"b": 1}}`` becomes ``{"a.b": 1}``.

    Args:
        tree: a parsed TOML document or one of its tables; quoted dotted keys (``"a.b" = 1``) pass as they are.
        keep: a table for which this is true is a value itself, not walked into (the parameter
            file's tables, which hold ``value``).
        prefix: the path of ``tree`` itself.

    Returns:
        Every leaf value (or kept table) by its dotted path.
    """
    flat: dict[str, Any] = {}
    for key, sub in tree.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(sub, dict) and not (keep and keep(sub)):
            flat.update(flatten(sub, keep, path))
        else:
            flat[path] = sub
    return flat


def read_toml(path: str | Path, what: str) -> dict[str, Any]:
    """Parse a TOML file; a missing or malformed file is an InputError naming ``what`` it is and where."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{what} '{path}' does not exist")
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{what} '{path}' is not valid TOML: {exc}") from None


def _build(path: str, raw: dict) -> Parameter:
    if not isinstance(raw, dict):
        raise ParameterError(f"parameter '{path}' in {PARAMETER_FILE.name} is not a table with a value")
    missing = [k for k in REQUIRED if k not in raw or raw[k] in ("", None)]
    if missing:
        raise ParameterError(f"parameter '{path}' in {PARAMETER_FILE.name} lacks {', '.join(missing)}")
    if raw["status"] not in STATUSES:
        raise ParameterError(f"parameter '{path}' has status {raw['status']!r}; allowed: {', '.join(STATUSES)}")
    if raw["kind"] not in KINDS:
        raise ParameterError(f"parameter '{path}' has kind {raw['kind']!r}; allowed: {', '.join(KINDS)}")
    rng = tuple(raw["range"]) if "range" in raw else None
    if raw["kind"] != "choice" and (rng is None or len(rng) != 2 or rng[0] > rng[1]):
        raise ParameterError(f"parameter '{path}' needs a range [low, high]")
    p = Parameter(
        path=path,
        value=raw["value"],
        unit=raw["unit"],
        status=raw["status"],
        label=raw["label"],
        source=raw["source"],
        kind=raw["kind"],
        range=rng,
        choices=tuple(raw.get("choices", ())),
        length=raw.get("length"),
    )
    p.coerce(p.value, origin=PARAMETER_FILE.name)  # the shipped default must itself be allowed
    return p


class ParameterSet:
    """All parameters with their metadata, plus validated overrides."""

    def __init__(self, definitions: dict[str, Parameter]):
        self.definitions = definitions

    @classmethod
    def load(cls, path: Path = PARAMETER_FILE) -> "ParameterSet":
        """Read and check the parameter file."""
        tables = flatten(read_toml(path, "parameter file"), keep=lambda table: "value" in table)
        return cls({p: _build(p, raw) for p, raw in tables.items()})

    def __contains__(self, path: str) -> bool:
        return path in self.definitions

    def __iter__(self):
        return iter(self.definitions.values())

    def get(self, path: str) -> Parameter:
        """Metadata of one parameter; unknown paths get a suggestion."""
        if path not in self.definitions:
            raise ParameterError(self.unknown_message(path))
        return self.definitions[path]

    def unknown_message(self, path: str, origin: str = "") -> str:
        """The error text for an unknown key, with the closest known keys."""
        where = f" (from {origin})" if origin else ""
        close = difflib.get_close_matches(path, list(self.definitions), n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        return f"unknown parameter '{path}'{where}{hint} (list them with: ontschot params)"

    def validate(self, overrides: dict[str, Any], origin: str = "") -> dict[str, Any]:
        """Check overrides by path; return them coerced. Raises ParameterError on the first bad one."""
        clean = {}
        for path, value in overrides.items():
            if path not in self.definitions:
                raise ParameterError(self.unknown_message(path, origin))
            clean[path] = self.definitions[path].coerce(value, origin)
        return clean

    def resolve(self, overrides: Mapping[str, Any] | None = None, origin: str = "") -> Values:
        """Defaults updated with validated overrides, combinations checked: the one validation of a run's input.

        Raises:
            ParameterError: an unknown key, a wrong type, a value out of range, or values that cannot
                hold together.
        """
        return self._assemble(self.validate(overrides or {}, origin))

    def _assemble(self, clean: dict[str, Any]) -> Values:
        """Defaults updated with overrides that ``validate`` has already coerced; combinations checked."""
        values = Values({p.path: p.value for p in self})
        values.update(clean)
        values.overrides = dict(clean)
        values._parameters = self
        check_combinations(values)
        values.used.clear()  # the check's reads are not the model's
        return values


class Values(dict):
    """Parameter values by path, validated; remembers which were read (for the 'unused parameter' check).

    Made by ``ParameterSet.resolve``. ``overrides`` holds the values asked for (what a manifest
    records); ``with_changes`` derives new values without validating the unchanged ones again.
    ``Values(values)`` is a copy with a fresh read record.
    """

    used: set
    overrides: dict

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.used = set()
        source = args[0] if args and isinstance(args[0], Values) else None
        self.overrides = dict(source.overrides) if source is not None else {}
        self._parameters = source._parameters if source is not None else None

    def __getitem__(self, key):
        self.used.add(key)
        return super().__getitem__(key)

    def __reduce__(self):
        # Sent to sweep workers: the shipped parameter set travels by reference, not with every run.
        own = None if self._parameters is PARAMETERS else self._parameters
        return _rebuild_values, (dict(self), self.overrides, own)

    @property
    def parameters(self) -> ParameterSet:
        """The parameter set these values were validated against."""
        return PARAMETERS if self._parameters is None else self._parameters

    def with_changes(self, changes: Mapping[str, Any], origin: str = "") -> Values:
        """New values with ``changes`` applied: only the changed keys are validated, then the combinations are checked.

        Raises:
            ParameterError: a changed key is unknown, mistyped or out of range, or the result cannot hold together.
        """
        clean = self.parameters.validate(changes, origin)
        new = Values(self)
        new.update(clean)
        new.overrides.update(clean)
        check_combinations(new)
        new.used.clear()
        return new


def _rebuild_values(items: dict[str, Any], overrides: dict[str, Any], parameters: ParameterSet | None) -> Values:
    values = Values(items)
    values.overrides = dict(overrides)
    values._parameters = parameters
    return values


def as_values(params: Mapping[str, Any] | None) -> Values:
    """``Values`` as they are; a plain mapping of overrides resolved (validated) against the shipped set."""
    return params if isinstance(params, Values) else PARAMETERS.resolve(params)


def kwarg_to_path(name: str) -> str:
    """Model keyword form (``benefit__cost_per_year``) to parameter path (``benefit.cost_per_year``)."""
    return name.replace("__", ".")


PARAMETERS = ParameterSet.load()


def check_combinations(p) -> None:
    """Reject parameter combinations that cannot hold together (each value may be in range on its own)."""
    if p["scenario.switch_year"] > p["scenario.years"]:
        raise ParameterError(
            f"parameter 'scenario.switch_year' = {p['scenario.switch_year']} is after the horizon "
            f"scenario.years = {p['scenario.years']}: allowed 0 to {p['scenario.years']}"
        )
    order = ["wage.sheltered_min", "wage.subsidy_min", "wage.regular_min"]
    if [p[k] for k in order] != sorted(p[k] for k in order):
        raise ParameterError("wage thresholds must rise: " + ", ".join(f"{k} = {p[k]}" for k in order))
    if p["wmo.exit_self_reliance"] < p["wmo.need_threshold"]:
        raise ParameterError(
            f"parameter 'wmo.exit_self_reliance' = {p['wmo.exit_self_reliance']} must be at least "
            f"wmo.need_threshold = {p['wmo.need_threshold']} (support would end before it starts)"
        )
    if sum(p["population.household_size_probs"]) <= 0:
        raise ParameterError("parameter 'population.household_size_probs' must not be all 0")


# ---------------------------------------------------------------- command-line and scenario input


def parse_set(items: list[str]) -> dict[str, Any]:
    """Turn ``key=value`` strings into typed, validated overrides (type from the parameter's kind)."""
    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise ParameterError(f"--set {item!r} is not of the form key=value (e.g. --set benefit.cost_per_year=15000)")
        key, raw = (x.strip() for x in item.split("=", 1))
        if key not in PARAMETERS:
            raise ParameterError(PARAMETERS.unknown_message(key, "--set"))
        spec = PARAMETERS.get(key)
        out[key] = spec.coerce(_typed(raw, spec.kind), "--set")
    return out


def _typed(raw: str, kind: str) -> Any:
    """Best reading of a command-line string for a parameter kind; leaves it a string if it does not read."""
    if kind == "choice":
        return raw
    if kind == "float_list":
        text = raw if raw.startswith("[") else f"[{raw}]"
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return raw
    try:
        return int(raw) if kind == "int" and raw.lstrip("-").isdigit() else float(raw)
    except ValueError:
        return raw


def load_scenario(path: str | Path) -> dict[str, Any]:
    """Read and validate a scenario file of overrides keyed by parameter path (tables or dotted keys)."""
    return PARAMETERS.validate(flatten(read_toml(path, "scenario file")), origin=str(path))


def resolve_overrides(scenario: str | Path | None, sets: list[str], extra: dict[str, Any]) -> Values:
    """A command's parameter values: scenario file, then --set flags, then explicit options.

    Each input is validated once, naming where it came from; the combinations are checked on the
    result. ``values.overrides`` holds what was asked for.
    """
    overrides: dict[str, Any] = {}
    if scenario:
        overrides.update(load_scenario(scenario))
    overrides.update(parse_set(sets))
    overrides.update(PARAMETERS.validate(extra, origin="command-line option"))
    return PARAMETERS._assemble(overrides)
