"""The arms of a comparison: each a name, a funding form (regime, pooled share) and the practices it runs with.

An arm's name is not its regime. By default every arm has the same practices (those of the
scenario: `--scenario`, `--set`), so the comparison of compartmentalised and integrated funding is
the funding alone. A practice bundle (`--practices FILE`, by default
``scenarios/pooling_practices.toml``) adds one explicitly named arm, e.g. ``integrated + pooling
practices``: the last regime compared, with the bundle's practice levers on top of the scenario's.
It differs from the arm of the same regime only in ``practice.*`` values. ``--practices none``
leaves it out.

An arm's contents (``Arm.contents``) are read from the values it runs on, so what is stated is
what ran; they go into the manifest, the printed table, ``--json`` and the report.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model.parameters import PARAMETERS, InputError, Values

POOLING_PRACTICES = Path(__file__).parent / "scenarios" / "pooling_practices.toml"
BUILT_IN_BUNDLE = "pooling practices"
BASELINE_REGIME = "compartmentalised"
REGIME_SHARE = {"compartmentalised": 0.0, "integrated": 1.0}  # gradual: scenario.pooled_share
PRACTICE_PREFIX = "practice."


@dataclass(frozen=True)
class Bundle:
    """A practice bundle: its name in arm names, where it comes from, and its ``practice.*`` overrides."""

    name: str
    source: str
    levers: dict[str, Any]


def practice_bundle(choice: str | None) -> Bundle | None:
    """The bundle of the extra arm: the built-in pooling practices (``None``), a TOML file, or none (``"none"``).

    Raises:
        InputError: the file is unreadable, sets nothing, or sets anything other than practice levers.
    """
    from model.parameters import load_scenario

    if choice is not None and choice.strip().lower() == "none":
        return None
    path = POOLING_PRACTICES if choice is None else Path(choice)
    levers = load_scenario(path)
    other = sorted(k for k in levers if not k.startswith(PRACTICE_PREFIX))
    if other:
        raise InputError(f"--practices {path}: sets '{other[0]}', but a practice bundle may set only practice.* "
                         "levers (put other parameters in --scenario)")
    if not levers:
        raise InputError(f"--practices {path}: sets no practice lever (use --practices none for no bundle arm)")
    if choice is None:
        return Bundle(BUILT_IN_BUNDLE, "experiments/scenarios/pooling_practices.toml (built in)", levers)
    return Bundle(path.stem.replace("_", " "), str(path), levers)


@dataclass(frozen=True)
class Arm:
    """One arm: its name, the values it runs on, and the bundle (if any) it carries on top of the scenario."""

    name: str
    values: Values
    bundle: Bundle | None = None

    @property
    def regime(self) -> str:
        """The funding regime (``scenario.regime``)."""
        return self.values["scenario.regime"]

    @property
    def pooled_share(self) -> float:
        """The pooled share in force once the regime applies: 0 partitioned, 1 integrated, s for gradual."""
        return float(REGIME_SHARE.get(self.regime, self.values["scenario.pooled_share"]))

    @property
    def practices(self) -> dict[str, Any]:
        """Every practice lever with the value this arm runs with."""
        return {k: v for k, v in dict.items(self.values) if k.startswith(PRACTICE_PREFIX)}

    def contents(self) -> dict[str, Any]:
        """What the arm holds, as stored in the manifest and printed with ``--json``."""
        first = int(self.values["scenario.from_year"]) if "scenario.from_year" in self.values else 1
        return {"name": self.name, "regime": self.regime, "pooled_share": self.pooled_share,
                "from_year": first, "practices": self.practices,
                "bundle": None if self.bundle is None else {"name": self.bundle.name, "source": self.bundle.source,
                                                            "levers": self.bundle.levers}}


def stored_from_year(values: dict[str, Any]) -> int:
    """The first year (1-based) under the regime, from arm contents or parameters, old folders included.

    Results stored before the rename hold ``switch_year`` (or ``scenario.switch_year``), a 0-based index.
    """
    for key in ("from_year", "scenario.from_year"):
        if key in values:
            return int(values[key])
    for key in ("switch_year", "scenario.switch_year"):
        if key in values:
            return int(values[key]) + 1
    return 1


def describe_funding(contents: dict[str, Any]) -> str:
    """``integrated (pooled share 1)``, with the first year under it when the regime starts later."""
    text = f"{contents['regime']} (pooled share {contents['pooled_share']:g})"
    first = stored_from_year(contents)
    if first > 1 and contents["regime"] != BASELINE_REGIME:  # year 1 is the first simulated year
        text += f" from year {first}, compartmentalised before"
    return text


def describe_practices(practices: dict[str, Any]) -> str:
    """``outreach 0, household intake 0, ...`` from ``practice.*`` values."""
    return ", ".join(f"{lever_label(k)} {_short(v)}" for k, v in practices.items())


def describe(contents: dict[str, Any]) -> str:
    """One line a policymaker reads: name, funding, practices and where the practices came from."""
    bundle = contents.get("bundle")
    origin = f" (the {bundle['name']} bundle, {bundle['source']}, on top of the scenario)" if bundle else ""
    return (f"{contents['name']}: funding {describe_funding(contents)}; practices: "
            f"{describe_practices(contents['practices'])}{origin}")


def lever_label(key: str) -> str:
    """A practice lever's short name (``practice.household_intake`` -> ``household intake``)."""
    return key.removeprefix(PRACTICE_PREFIX).replace("_", " ")


def _short(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def build_arms(values: Values, regimes: list[str], bundle: Bundle | None, required: bool = True) -> list[Arm]:
    """One arm per regime with the scenario's practices, then (with a bundle) the last regime plus the bundle.

    A bundle that changes nothing (the scenario already has its practices, e.g. ``--scenario
    pooling_practices.toml``: the bundle in every arm) adds no arm when not ``required``.

    Raises:
        InputError: a ``required`` bundle that changes nothing (the extra arm would equal an existing one).
    """
    arms = [Arm(regime, values.with_changes({"scenario.regime": regime})) for regime in regimes]
    if bundle is None:
        return arms
    last = arms[-1]
    changed = last.values.with_changes(bundle.levers, origin="--practices")
    arm = Arm(f"{last.regime} + {bundle.name}", changed, bundle)
    if arm.practices == last.practices:
        if not required:
            return arms
        raise InputError(f"--practices {bundle.source}: the bundle sets the practices the scenario already has, so "
                         f"'{arm.name}' would be the same as '{last.name}' (use --practices none)")
    return [*arms, arm]


def differing_keys(a: Arm, b: Arm) -> list[str]:
    """The parameter paths in which two arms' values differ."""
    return sorted(p.path for p in PARAMETERS if dict.get(a.values, p.path) != dict.get(b.values, p.path))
