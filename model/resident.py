"""Resident agent: identity of one person in the social domain; state lives in the population's columns."""

from __future__ import annotations

import mesa
import numpy as np

from model.constants import DISPLAY_DIGITS, Desk, Disability, Domain, Instrument, Status
from model.funding import Funding


class Resident(mesa.Agent):
    """A resident with problems on several life domains; reads its row of ``model.pop``."""

    def __init__(self, model: mesa.Model, *, row: int):
        super().__init__(model)
        self.row = row

    @property
    def uid(self) -> int:
        """Stable id across regimes (the common-random-number key)."""
        return int(self.model.pop.uid[self.row])

    @property
    def alive(self) -> bool:
        return bool(self.model.pop.alive[self.row])

    @property
    def age(self) -> float:
        return float(self.model.pop.age[self.row])

    @property
    def household(self) -> int:
        return int(self.model.pop.household[self.row])

    @property
    def status(self) -> Status:
        return Status(int(self.model.pop.status(np.array([self.row]))[0]))

    @property
    def severities(self) -> dict[str, float]:
        """Problem severity (0-1) per life domain."""
        return {d.name.lower(): float(self.model.pop.sev[self.row, d]) for d in Domain}

    @property
    def wage_value(self) -> float:
        return float(self.model.pop.wage[self.row])

    @property
    def disability(self) -> Disability:
        return Disability(int(self.model.pop.disability[self.row]))

    @property
    def desk(self) -> Desk:
        return Desk(int(self.model.pop.desk[self.row]))

    @property
    def on_benefit(self) -> bool:
        return bool(self.model.pop.on_benefit[self.row])

    @property
    def provisions(self) -> list[Instrument]:
        """Instruments held this year."""
        bits = int(self.model.pop.provisions[self.row])
        return [i for i in Instrument if bits & (1 << int(i))]

    def payers(self) -> dict[str, str]:
        """Who pays each provision (and the benefit) this year."""
        handled = bool(self.model.pop.desk_draw[self.row] < self.model.share)
        out = {i.name.lower(): Funding.payer_of(i, handled).name.lower() for i in self.provisions}
        if self.on_benefit:
            out["benefit"] = Funding.payer_of(Instrument.BENEFIT, handled).name.lower()
        return out

    def snapshot(self) -> dict:
        """Everything a persona table shows for one year."""
        return {
            "uid": self.uid,
            "alive": self.alive,
            "age": round(self.age, DISPLAY_DIGITS),
            "status": self.status.name.lower(),
            "on_benefit": self.on_benefit,
            "wage_value": round(self.wage_value, DISPLAY_DIGITS),
            "provisions": [i.name.lower() for i in self.provisions],
            "payers": self.payers(),
            "severities": {k: round(v, DISPLAY_DIGITS) for k, v in self.severities.items()},
        }


class Residents:
    """The Resident agents by population row: created and removed in batches with the rows."""

    def __init__(self, model: mesa.Model):
        self.model = model
        self.by_row: list[Resident | None] = []

    def create(self, rows: np.ndarray) -> None:
        """One agent per new row (rows are appended in order)."""
        self.by_row.extend(Resident.create_agents(self.model, len(rows), row=rows.tolist()))

    def remove(self, rows: np.ndarray) -> None:
        """Remove the agents of these rows from the model."""
        agents = self.by_row
        for r in rows.tolist():
            agents[r].remove()
            agents[r] = None

    def remap(self, new_row: np.ndarray) -> None:
        """After the population dropped rows: keep the agents of kept rows, each with its new row."""
        kept = [None] * int((new_row >= 0).sum())
        for old, agent in enumerate(self.by_row):
            if new_row[old] >= 0:
                kept[new_row[old]] = agent
                if agent is not None:
                    agent.row = int(new_row[old])
        self.by_row = kept

    def of(self, row: int) -> Resident | None:
        """The agent of a row (None once the resident has left)."""
        return self.by_row[row]
