"""Resident agent: identity of one person in the social domain; state lives in the population's columns."""

from __future__ import annotations

import gc

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
    """The Resident agents by population row: created and removed in batches with the rows.

    Every resident is a Mesa agent, registered in ``model.agents`` and ``model.agents_by_type``.
    Two costs of Mesa 3.3.1 are handled here, with public Mesa API only:

    * Creation. ``Agent.create_agents`` builds a throw-away ``AgentSet`` of the new agents (one
      more weak reference each) and a keyword dict per agent; a plain loop over the constructor
      registers the same agents, in the same order and with the same ``unique_id``, at about two
      thirds of the cost. Removal calls ``model.deregister_agent`` (what ``Agent.remove`` does,
      without its ``contextlib.suppress``); ``Resident`` does not override ``remove``.
    * Python's cyclic garbage collector. Each agent adds a few GC-tracked objects (the agent, its
      weak references in the agent sets); every time new objects make up a quarter of the old
      ones, a full collection rescans them all (a third of a model year at 100,000 residents, a
      second or more of a national year). So the automatic collector is paused while a batch is
      created (``gc.disable``, re-enabled afterwards if it was on) and then ``gc.freeze()`` moves
      every tracked object to the permanent generation, which collections skip. Agents that
      leave are still freed at once by reference counting (they hold no cycle).

    What this means for a process: frozen objects, the model's included, are not collected until
    ``gc.unfreeze()``. ``SocialDomainModel.release()`` calls ``Residents.release``, which unfreezes
    and marks a full collection as due; the next ``Residents`` built (the next model) runs it
    first, so a process that runs many models one after another (a sweep worker) frees each
    finished one before freezing the next. A model that is never released stays in memory, as it
    does anyway in Mesa 3.3.1 (its ``Agent._ids`` registry keeps every model, mesa/mesa#3179).
    """

    _collect_due = False  # a released model may be garbage: collect before the next freeze

    def __init__(self, model: mesa.Model):
        self.model = model
        self.by_row: list[Resident | None] = []
        if Residents._collect_due:
            Residents._collect_due = False
            gc.collect()

    def create(self, rows: np.ndarray) -> None:
        """One agent per new row (rows are appended in order), kept out of the collector's rescans."""
        model = self.model
        enabled = gc.isenabled()
        gc.disable()
        try:
            agents = [Resident(model, row=row) for row in rows.tolist()]
        finally:
            if enabled:
                gc.enable()
        gc.freeze()
        self.by_row.extend(agents)

    def remove(self, rows: np.ndarray) -> None:
        """Remove the agents of these rows from the model."""
        agents = self.by_row
        deregister = self.model.deregister_agent
        for row in rows.tolist():
            deregister(agents[row])
            agents[row] = None

    def remap(self, new_row: np.ndarray) -> None:
        """After the population dropped rows: keep the agents of kept rows, each with its new row."""
        kept_rows = np.flatnonzero(new_row >= 0)
        moved = np.flatnonzero(kept_rows != np.arange(len(kept_rows)))
        by_row = self.by_row
        kept = by_row[: len(kept_rows)] if not len(moved) else [by_row[old] for old in kept_rows.tolist()]
        for row in moved.tolist():
            agent = kept[row]
            if agent is not None:
                agent.row = row
        self.by_row = kept

    def of(self, row: int) -> Resident | None:
        """The agent of a row (None once the resident has left)."""
        return self.by_row[row]

    @staticmethod
    def release() -> None:
        """Give frozen objects back to the collector (``gc.unfreeze``); the next model collects first."""
        gc.unfreeze()
        Residents._collect_due = True
