"""Resident agent: identity of one person in the social domain; state lives in the model's arrays."""

from __future__ import annotations

import mesa

from model.constants import DISPLAY_DIGITS, Desk, Disability, Domain, Instrument, Status


class Resident(mesa.Agent):
    """A resident with problems on several life domains; reads and writes its row of ``model.pop``."""

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
        return Status(int(self.model.status_of(self.row)))

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
        handled = self.model.handled_by_desk(self.row)
        out = {i.name.lower(): self.model.payer_of(i, handled).name.lower() for i in self.provisions}
        if self.on_benefit:
            out["benefit"] = self.model.payer_of(Instrument.BENEFIT, handled).name.lower()
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
