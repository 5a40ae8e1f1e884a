"""Scenario input: TOML files and ``--set key=value`` flags, validated before anything runs."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from model.parameters import PARAMETERS, ParameterError, check_combinations, load_toml_overrides


def parse_set(items: list[str]) -> dict[str, Any]:
    """Turn ``key=value`` strings into typed, validated overrides (type from the parameter's kind)."""
    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise ParameterError(f"--set {item!r} is not of the form key=value (e.g. --set benefit.cost_per_year=15000)")
        key, raw = (x.strip() for x in item.split("=", 1))
        if key not in PARAMETERS:
            raise ParameterError(PARAMETERS.unknown_message(key, "--set"))
        out[key] = PARAMETERS.get(key).coerce(_typed(raw, PARAMETERS.get(key).kind), "--set")
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
    """Read and validate a scenario file of overrides keyed by parameter path."""
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"scenario file '{path}' does not exist")
    try:
        raw = load_toml_overrides(path)
    except tomllib.TOMLDecodeError as exc:
        raise ParameterError(f"scenario file '{path}' is not valid TOML: {exc}") from None
    return PARAMETERS.validate(raw, origin=str(path))


def resolve_overrides(scenario: str | None, sets: list[str], extra: dict[str, Any]) -> dict[str, Any]:
    """Scenario file, then --set flags, then explicit options; all validated, combinations checked."""
    overrides: dict[str, Any] = {}
    if scenario:
        overrides.update(load_scenario(scenario))
    overrides.update(parse_set(sets))
    overrides.update(PARAMETERS.validate(extra, origin="command-line option"))
    check_combinations(PARAMETERS.resolve(overrides))
    return overrides
