"""Actors: the non-resident agents a phase may consult, bundled for the phase functions."""

from __future__ import annotations

from dataclasses import dataclass

from model.budget_holder import BudgetHolder
from model.case_worker import Team
from model.constants import Holder, Role
from model.resident import Residents
from model.social_firm import SocialFirm


@dataclass
class Actors:
    """Budget holders, case-worker teams per role, social firms, the resident agents and sheltered places."""

    holders: dict[Holder, BudgetHolder]
    teams: dict[Role, Team]
    firms: list[SocialFirm]
    residents: Residents
    sheltered_places: int
