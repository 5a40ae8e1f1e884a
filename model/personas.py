"""Personas: scripted residents from the documents' cases, placed into a run and followed year by year."""

from __future__ import annotations

import tomllib
from pathlib import Path

from model.parameters import ParameterError

PERSONA_FILE = Path(__file__).with_name("personas.toml")
FIELDS = ("role", "age", "on_benefit", "known_to", "years_out_of_work", "benefit_spell_years", "wage_value",
          "motivation", "severities")


def load_personas(path: Path = PERSONA_FILE) -> dict[str, dict]:
    """All personas by key, each with label, source and members; checked for completeness."""
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    for key, persona in data.items():
        for field in ("label", "source", "members"):
            if field not in persona:
                raise ParameterError(f"persona '{key}' in {path.name} lacks {field}")
        for member in persona["members"]:
            missing = [f for f in FIELDS if f not in member]
            if missing:
                raise ParameterError(f"persona '{key}' member {member.get('role')} lacks {', '.join(missing)}")
    return data


PERSONAS = load_personas()


def check_names(names) -> list[str]:
    """Validate persona keys; raise a clear error naming the allowed ones."""
    names = list(names)
    for name in names:
        if name not in PERSONAS:
            raise ParameterError(f"unknown persona '{name}': allowed {', '.join(repr(k) for k in PERSONAS)}")
    if len(set(names)) != len(names):
        raise ParameterError(f"a persona is named twice in {names}")
    return names
