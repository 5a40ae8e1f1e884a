"""The parameter set: every behavioural number as data with unit, range, status and source.

Values live in ``parameters.toml`` (one table per parameter, keyed by a dotted path such as
``staff.salary``). Scenario files and ``--set`` flags override values by path; every
override is validated against the metadata before anything runs, once: ``ParameterSet.resolve``
(or ``resolve_overrides`` for command-line input) gives a ``Values`` mapping that runs use as it
is, and ``Values.with_changes`` derives another one validating only what changed.

This module imports nothing from the simulation, so input can be checked without loading the model.
"""

from __future__ import annotations

import difflib
import math
import numbers
import os
import re
import reprlib
import stat
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PARAMETER_FILE = Path(__file__).with_name("parameters.toml")
STATUSES = ("legislated", "published", "calibrated", "assumption", "scenario")
KINDS = ("float", "int", "choice", "float_list")
REQUIRED = ("value", "unit", "status", "label", "source", "kind")
OPTIONAL = ("range", "choices", "length", "range_reason", "prior")  # prior: a calibrated value's reason before calibration
MAX_FILE_BYTES = 1 << 20  # a scenario, design or parameter file: 1 MiB is thousands of times any real one
MAX_DEPTH = 8  # tables and lists inside each other in such a file (the parameter file needs 4)
MAX_LIST = 1000  # entries of a list parameter without a fixed length (a yearly path needs at most scenario.years)
_WHOLE = re.compile(r"[+-]?[0-9]{1,30}", re.ASCII)  # ASCII digits only: no '٣', no '1_0', no spaces
_DECIMAL = re.compile(r"[+-]?(?:[0-9]{1,30}(?:\.[0-9]{0,30})?|\.[0-9]{1,30})(?:[eE][+-]?[0-9]{1,4})?", re.ASCII)


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
    range_reason: str = ""  # why the range is as wide as it is (every assumption has one; tests/test_parameters.py)

    def describe_allowed(self) -> str:
        """Human-readable statement of what this parameter accepts."""
        if self.kind == "choice":
            return "one of " + ", ".join(repr(c) for c in self.choices)
        lo, hi = self.range
        what = {"float": "a number", "int": "a whole number", "float_list": "a list of numbers"}[self.kind]
        if self.kind == "float_list":
            n = f" of length {self.length}" if self.length else f" (1 to {MAX_LIST:,} of them)"
            return f"{what}{n} each from {_fmt(lo)} to {_fmt(hi)} ({self.unit})"
        return f"{what} from {_fmt(lo)} to {_fmt(hi)} ({self.unit})"

    def coerce(self, value: Any, origin: str = "") -> Any:
        """Return ``value`` converted to this parameter's kind, or raise ParameterError.

        numpy scalars and arrays are taken as the Python numbers, strings and lists they hold (so
        ``mesa.batch_run`` over ``np.arange`` works); a bool is never a number.
        """
        where = f" (from {origin})" if origin else ""
        value = plain(value)

        def fail() -> ParameterError:
            return ParameterError(
                f"parameter '{self.path}' = {show(value)}{where} is not allowed: expected {self.describe_allowed()}"
            )

        if self.kind == "choice":
            if not isinstance(value, str) or value not in self.choices:
                raise fail()
            return value
        if self.kind == "float_list":
            if not isinstance(value, list) or not value or len(value) != (self.length or len(value)) \
                    or len(value) > MAX_LIST:
                raise fail()
            return [self._number(v, fail, whole=False) for v in value]
        return self._number(value, fail, whole=self.kind == "int")

    def _number(self, v: Any, fail, whole: bool):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise fail()
        if isinstance(v, float) and not math.isfinite(v):
            raise fail()
        lo, hi = self.range
        if not lo <= v <= hi:  # compared before converting: an int too large for a float is just out of range
            raise fail()
        if whole:
            if isinstance(v, float):
                if not v.is_integer():
                    raise fail()
                v = int(v)
        else:
            v = float(v)
        return v


def plain(value: Any) -> Any:
    """Python values for numpy scalars and arrays (``np.int64`` -> ``int``); lists and tuples element by element.

    Other values are returned as they are, so the checks that follow see only Python types.
    """
    if type(value).__module__ == "numpy" and hasattr(value, "tolist"):
        value = value.tolist()  # np.int64 -> int, np.bool_ -> bool, np.str_ -> str, ndarray -> list
    if isinstance(value, bool) or type(value) in (int, float, str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


_SHOW = reprlib.Repr()  # keyword arguments need Python 3.12
_SHOW.maxlevel, _SHOW.maxlist, _SHOW.maxtuple, _SHOW.maxdict, _SHOW.maxstring, _SHOW.maxother = 3, 8, 8, 6, 60, 60


def show(value: Any) -> str:
    """A value as it appears in an error message: its repr, shortened, always on one line."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**30:
        return f"<a whole number of about {int(abs(value).bit_length() * math.log10(2)) + 1:,} digits>"
    if isinstance(value, float):
        return repr(value)
    try:
        return _SHOW.repr(value)
    except ValueError:  # a huge int deep in a list
        return f"<{type(value).__name__}>"


def closest(word: str, options) -> str:
    """'; did you mean ...?' naming the closest of ``options`` to a misspelt ``word``, or ''."""
    close = difflib.get_close_matches(str(word), [str(o) for o in options], n=3, cutoff=0.6)
    return f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""


def whole_number(text: str) -> int | None:
    """A command-line whole number: ASCII digits with an optional sign, else None (no '٣', '1_0', ' 3')."""
    return int(text) if isinstance(text, str) and _WHOLE.fullmatch(text) else None


def decimal_number(text: str) -> float | None:
    """A command-line number in plain decimal or exponent notation (ASCII), else None (no 'nan', 'inf', '1_0')."""
    return float(text) if isinstance(text, str) and _DECIMAL.fullmatch(text) else None


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() and abs(x) >= 1000 else f"{x:g}"


def flatten(tree: Mapping[str, Any], keep: Callable[[dict], bool] | None = None, prefix: str = "",
            origin: str = "") -> dict[str, Any]:
    """Nested TOML tables as one mapping by dotted path: ``{"a": {"b": 1}}`` becomes ``{"a.b": 1}``.

    Args:
        tree: a parsed TOML document or one of its tables; quoted dotted keys (``"a.b" = 1``) pass as they are.
        keep: a table for which this is true is a value itself, not walked into (the parameter
            file's tables, which hold ``value``).
        prefix: the path of ``tree`` itself.
        origin: where the tree comes from, for the error message.

    Returns:
        Every leaf value (or kept table) by its dotted path.

    Raises:
        InputError: the same path given twice (as a quoted dotted key and in a table).

    An empty table is kept as a value (``{}``), so a stray ``[scenario.typo]`` is checked, not dropped.
    """
    flat: dict[str, Any] = {}
    for key, sub in tree.items():
        path = f"{prefix}.{key}" if prefix else key
        walk = isinstance(sub, dict) and sub and not (keep and keep(sub))  # an empty table is a value: checked
        for leaf, value in (flatten(sub, keep, path, origin).items() if walk else [(path, sub)]):
            if leaf in flat:
                where = f" in {origin}" if origin else ""
                raise InputError(f"'{leaf}' is given twice{where} (as a quoted dotted key and in a table): "
                                 "keep one")
            flat[leaf] = value
    return flat


def show_path(path: str | Path) -> str:
    """A file path as it appears in an error message: quoted, whole up to 300 characters, on one line."""
    text = repr(os.fsdecode(path) if isinstance(path, (bytes, os.PathLike)) else str(path))
    return text if len(text) <= 300 else f"{text[:140]}...{text[-140:]}"


def read_toml(path: str | Path, what: str) -> dict[str, Any]:
    """Parse a TOML file; any problem with it is an InputError naming ``what`` it is and where.

    Refused: an empty path, a missing, unreadable or non-regular file, one over ``MAX_FILE_BYTES``,
    text that is not UTF-8 or not TOML, and tables and lists nested more than ``MAX_DEPTH`` deep.
    """
    if not str(path).strip():
        raise InputError(f"{what} path {show_path(path)} is empty: expected the path of a TOML file")
    shown = f"{what} {show_path(path)}"
    try:
        info = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        raise InputError(f"{shown} does not exist") from None
    except OSError as exc:
        raise InputError(f"{shown} cannot be read: {exc.strerror or exc}") from None
    except ValueError:  # a NUL character in the path
        raise InputError(f"{shown} is not a usable path (it holds a NUL character)") from None
    if stat.S_ISDIR(info.st_mode):
        raise InputError(f"{shown} is a folder: expected a TOML file")
    if not stat.S_ISREG(info.st_mode):
        raise InputError(f"{shown} is not a regular file: expected a TOML file")
    if info.st_size > MAX_FILE_BYTES:
        raise InputError(f"{shown} has {info.st_size:,} bytes: at most {MAX_FILE_BYTES:,} are allowed")
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise InputError(f"{shown} cannot be read: {exc.strerror or exc}") from None
    if len(data) > MAX_FILE_BYTES:
        raise InputError(f"{shown} has more than {MAX_FILE_BYTES:,} bytes: that many are not allowed")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{shown} is not UTF-8 text (byte 0x{data[exc.start]:02x} at position {exc.start})") from None
    try:
        tree = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{shown} is not valid TOML: {exc}") from None
    except RecursionError:
        raise InputError(f"{shown} nests tables and lists too deeply: at most {MAX_DEPTH} levels are allowed") from None
    except ValueError:  # an integer of more than 4,300 digits
        raise InputError(f"{shown} is not valid TOML: it holds a number too long to read") from None
    depth = nesting_depth(tree)
    if depth > MAX_DEPTH:
        raise InputError(f"{shown} nests tables and lists {depth} levels deep: at most {MAX_DEPTH} are allowed")
    return tree


def nesting_depth(tree: Any) -> int:
    """How many tables and lists lie inside each other in a parsed TOML document (the document is 1)."""
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, (dict, list)):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in (node.values() if isinstance(node, dict) else node))
    return deepest


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
    stray = sorted(set(raw) - set(REQUIRED) - set(OPTIONAL))
    if stray:
        raise ParameterError(f"parameter '{path}' has unknown field(s) {', '.join(stray)}; "
                             f"allowed: {', '.join(REQUIRED + OPTIONAL)}")
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
        range_reason=raw.get("range_reason", ""),
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
        tables = flatten(read_toml(path, "parameter file"), keep=lambda table: "value" in table, origin=path.name)
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
        shown = show(path)[1:-1] if isinstance(path, str) else show(path)
        if path in RENAMED:
            return f"parameter '{shown}'{where} is no longer used: {RENAMED[path]}"
        return f"unknown parameter '{shown}'{where}{closest(path, self.definitions)} (list them with: ontschot params)"

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
    """Model keyword form (``staff__salary``) to parameter path (``staff.salary``)."""
    return name.replace("__", ".")


# Parameters that were renamed, with what to write instead (named in the error for the old key).
RENAMED = {
    "scenario.switch_year": "write 'scenario.from_year' = N for 'from year N' (year 1 is the first simulated year; "
                            "the old switch_year = N - 1)",
}

PARAMETERS = ParameterSet.load()


def check_combinations(p) -> None:
    """Reject parameter combinations that cannot hold together (each value may be in range on its own)."""
    if p["scenario.from_year"] > p["scenario.years"] + 1:
        raise ParameterError(
            f"parameter 'scenario.from_year' = {p['scenario.from_year']} is after the horizon "
            f"scenario.years = {p['scenario.years']}: allowed 1 to {p['scenario.years'] + 1} "
            f"({p['scenario.years'] + 1}: the regime never takes effect)"
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
    """Turn ``key=value`` strings into typed, validated overrides (type from the parameter's kind).

    Numbers are read strictly (ASCII digits, no ``1_0``, no ``nan``); lists as ``1,2,3`` or
    ``[1, 2, 3]``. A key given twice is refused rather than the last one silently winning.
    """
    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise ParameterError(f"--set {show(item)} is not of the form key=value "
                                 "(e.g. --set staff.salary=65000)")
        key, raw = (x.strip() for x in item.split("=", 1))
        if key not in PARAMETERS:
            raise ParameterError(PARAMETERS.unknown_message(key, "--set"))
        if key in out:
            raise ParameterError(f"parameter '{key}' is given twice with --set: give it once")
        spec = PARAMETERS.get(key)
        out[key] = spec.coerce(_typed(raw, spec.kind), "--set")
    return out


def _typed(raw: str, kind: str) -> Any:
    """Best reading of a command-line string for a parameter kind; leaves it a string if it does not read."""
    if kind == "choice":
        return raw
    if kind == "float_list":
        inner = raw[1:-1] if raw.startswith("[") and raw.endswith("]") else raw
        parts = [decimal_number(part.strip()) for part in inner.split(",")]
        return raw if None in parts else parts
    number = whole_number(raw) if kind == "int" else None
    if number is None:
        number = decimal_number(raw)
    return raw if number is None else number


CASE_TABLE = "case"  # a case file's description of its document and claims, not parameters


def load_scenario(path: str | Path) -> dict[str, Any]:
    """Read and validate a scenario file of overrides keyed by parameter path (tables or dotted keys).

    The file's schema is the parameter set itself: every key a parameter path (unknown ones get the
    closest known paths), every value checked against that parameter's kind and range, no path twice.
    """
    origin = str(path)
    document = read_toml(path, "scenario file")
    document.pop(CASE_TABLE, None)  # a case file is a scenario file too (experiments/cases.py reads this table)
    return PARAMETERS.validate(flatten(document, origin=origin), origin=origin)


def resolve_overrides(scenario: str | Path | None, sets: list[str], extra: dict[str, Any]) -> Values:
    """A command's parameter values: scenario file, then --set flags, then explicit options.

    Each input is validated once, naming where it came from; the combinations are checked on the
    result. ``values.overrides`` holds what was asked for. A parameter given both with --set and by
    an explicit option (``--years``) is refused; --set over a scenario file's value is the documented order.
    """
    overrides: dict[str, Any] = {}
    if scenario is not None:
        overrides.update(load_scenario(scenario))
    sets_clean = parse_set(sets)
    overrides.update(sets_clean)
    both = sorted(set(sets_clean) & set(extra))
    if both:
        raise ParameterError(f"parameter '{both[0]}' is given both with --set and by its own option: give it once")
    overrides.update(PARAMETERS.validate(extra, origin="command-line option"))
    return PARAMETERS._assemble(overrides)
