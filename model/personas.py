"""Personas: scripted residents from the documents' cases, placed into a run and followed year by year."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np

from model.constants import Desk, Domain, Member
from model.parameters import ParameterError
from model.rules import problems as prob

PERSONA_FILE = Path(__file__).with_name("personas.toml")
FIELDS = ("role", "source", "age", "on_benefit", "known_to", "years_out_of_work", "benefit_spell_years", "wage_value",
          "motivation", "severities")


def load_personas(path: Path = PERSONA_FILE) -> dict[str, dict]:
    """All personas by key, each with label, source and members; checked for completeness.

    Every member names its own source (the document's section and what in it sets the member's values).
    """
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


def persona_columns(name: str, index: int, first_uid: int, household: int, p, desk_draw) -> dict:
    """Population columns for a persona's household, from its case description in ``personas.toml``."""
    members = PERSONAS[name]["members"]
    n = len(members)
    sev = np.zeros((n, len(Domain)))
    for k, member in enumerate(members):
        for domain, value in member["severities"].items():
            sev[k, Domain[domain.upper()]] = value
    wage = np.array([m["wage_value"] for m in members], dtype=float)
    disability = prob.disability_type(sev, p["problems.disability_threshold"])
    sev[:, Domain.WORK_INCOME] = prob.work_income_severity(np.zeros(n, dtype=bool), wage)
    uid = first_uid + np.arange(n)
    member = np.array([Member.HEAD if k == 0 else Member.PARTNER if m.get("partner", False) else Member.HOUSEMATE
                       for k, m in enumerate(members)], dtype=np.int8)
    return {"member": member, "unit": np.where(member == Member.HOUSEMATE, uid, uid[0]),
        "uid": uid, "household": np.full(n, household), "age": [m["age"] for m in members], "sev": sev,
        "wage": wage, "motivation": [m["motivation"] for m in members],
        "discrimination": [m.get("attributes_discrimination", False) for m in members],
        "on_benefit": [m["on_benefit"] for m in members],
        "desk": [sum((Desk[d.upper()] for d in m["known_to"]), Desk.NONE) for m in members],
        "years_out": [m["years_out_of_work"] for m in members],
        "spell_years": [m["benefit_spell_years"] for m in members],
        "persona": np.full(n, index), "disability": disability, "desk_draw": desk_draw(uid),
    }
