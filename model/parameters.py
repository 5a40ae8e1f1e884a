"""The parameter set: every behavioural number as data with unit, range, status and source.

Values live in ``parameters.toml`` (one table per parameter, keyed by a dotted path such as
``benefit.cost_per_year``). Scenario files and ``--set`` flags override values by path; every
override is validated against the metadata before anything runs.
"""

from __future__ import annotations

import difflib
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PARAMETER_FILE = Path(__file__).with_name("parameters.toml")
STATUSES = ("legislated", "published", "calibrated", "assumption", "scenario")
KINDS = ("float", "int", "choice", "float_list")
REQUIRED = ("value", "unit", "status", "label", "source", "kind")


class ParameterError(ValueError):
    """A parameter override that is unknown, of the wrong type or out of range."""


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


def _flatten(tree: dict, prefix: str = "") -> dict[str, dict]:
    """Find parameter tables (those holding 'value') in the nested TOML tree."""
    out: dict[str, dict] = {}
    for key, sub in tree.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(sub, dict) and "value" in sub:
            out[path] = sub
        elif isinstance(sub, dict):
            out.update(_flatten(sub, path))
    return out


def _build(path: str, raw: dict) -> Parameter:
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
        with open(path, "rb") as fh:
            tree = tomllib.load(fh)
        return cls({p: _build(p, raw) for p, raw in _flatten(tree).items()})

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

    def resolve(self, overrides: dict[str, Any] | None = None) -> "Values":
        """Defaults updated with validated overrides, as a read-tracking mapping."""
        values = {p.path: p.value for p in self}
        values.update(self.validate(overrides or {}))
        return Values(values)


class Values(dict):
    """Parameter values by path; remembers which were read (for the 'unused parameter' check)."""

    used: set

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.used = set()

    def __getitem__(self, key):
        self.used.add(key)
        return super().__getitem__(key)


def kwarg_to_path(name: str) -> str:
    """Model keyword form (``benefit__cost_per_year``) to parameter path (``benefit.cost_per_year``)."""
    return name.replace("__", ".")


def load_toml_overrides(path: Path) -> dict[str, Any]:
    """Read a scenario file: nested tables or dotted keys, flattened to parameter paths."""
    with open(path, "rb") as fh:
        tree = tomllib.load(fh)
    flat: dict[str, Any] = {}

    def walk(node: dict, prefix: str):
        for k, v in node.items():
            p = f"{prefix}.{k}" if prefix else k
            if isinstance(v, dict):
                walk(v, p)
            else:
                flat[p] = v

    walk(tree, "")
    return flat


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
