"""Resident agent: identity of one person in the social domain; state lives in the population's columns."""

from __future__ import annotations

import gc
import itertools
import weakref
from collections import defaultdict

import mesa
import numpy as np

from model.constants import DISPLAY_DIGITS, RELEASED_ROWS_PER_COLLECTION, Desk, Disability, Domain, Instrument, Status
from model.funding import Funding
from model.population import grown_capacity


class Resident(mesa.Agent):
    """A resident with problems on several life domains; reads its row of ``model.pop``.

    Created only by ``Residents``, which keeps the row of each agent (rows move when the
    population drops the rows of residents who left).
    """

    @property
    def row(self) -> int:
        """The resident's row in ``model.pop``."""
        return self.model.actors.residents.row_of(self.unique_id)

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
    Three costs of Mesa 3.3.1 are handled here:

    * Creation and removal, thousands a year. ``Agent.__init__`` and ``Model.register_agent``
      register one agent at a time (a ``unique_id`` from ``Agent._ids``, the model's dict of hard
      references, one weak reference in each of two ``AgentSet``s, a debug message formatted every
      time); ``deregister_agent`` undoes that one at a time. ``_register`` and ``_deregister`` do
      exactly the same for a whole batch on Mesa 3.3's registry (``mesa_registry`` checks its
      layout): the same agents with the same ``unique_id``, in the same order, in the same
      structures, at about a third of the cost. On any other layout they call Mesa's own
      constructor and ``deregister_agent``. ``Resident`` overrides neither ``__init__`` nor ``remove``.
    * Python's cyclic garbage collector. Each agent adds a few GC-tracked objects (the agent, its
      weak references in the agent sets); every time new objects make up a quarter of the old
      ones, a full collection rescans them all (a third of a model year at 100,000 residents, a
      second or more of a national year). So the automatic collector is paused while a batch is
      created (``gc.disable``, re-enabled afterwards if it was on) and then ``gc.freeze()`` moves
      every tracked object to the permanent generation, which collections skip. Agents that
      leave are still freed at once by reference counting (they hold no cycle).
    * Rows. When the population drops the rows of leavers, the rows of everyone else move. The
      registry keeps the row of each agent by ``unique_id`` (and the ``unique_id`` of each row) in
      numpy arrays, so a compaction moves no agent attribute; ``Resident.row`` reads it. The
      agents themselves are in a list: the collector does not see into numpy object arrays, so a
      model held from one could never be freed.

    What this means for a process: frozen objects, the model's included, are not collected until
    ``gc.unfreeze()``. ``SocialDomainModel.release()`` calls ``Residents.release``, which unfreezes
    and counts the model's rows; once released models held ``RELEASED_ROWS_PER_COLLECTION`` rows,
    the next ``Residents`` built (the next model) runs a full collection first, so a process that
    runs many models one after another (a sweep worker) frees finished ones in batches. A model that is never released stays in memory, as it
    does anyway in Mesa 3.3.1 (its ``Agent._ids`` registry keeps every model, mesa/mesa#3179).
    """

    _released_rows = 0  # rows of the models released since the last full collection

    def __init__(self, model: mesa.Model):
        self.model = model
        self.n = 0  # rows known (the population's rows)
        self._agent: list[Resident | None] = []  # agent by row; None once the resident left (a list: the
        # collector must see these references, and it does not look into numpy object arrays)
        self._id = np.empty(0, dtype=np.int64)  # the agent's unique_id by row; -1 once the resident left
        self._row = np.empty(0, dtype=np.int32)  # row by unique_id; -1 for other agents and leavers
        self.deferred = False  # while True (the unreported spin-up), rows get no agents: see ``defer``
        if Residents._released_rows >= RELEASED_ROWS_PER_COLLECTION:
            Residents._released_rows = 0
            gc.collect()

    def defer(self) -> None:
        """No agents until ``catch_up``: rows created, removed and moved meanwhile are not followed.

        For the unreported spin-up, where nothing reads an agent: resident state is in the population's
        columns and every random draw is keyed by uid (``random_streams``), so no result depends on
        the agents, and creating and removing them each spin-up year would cost a quarter of it.
        """
        if self.n:
            raise ValueError("agents are deferred before the first is created")
        self.deferred = True

    def catch_up(self, rows_in_use: int) -> None:
        """End ``defer``: one agent for each of the population's rows (rows of leavers dropped first)."""
        self.deferred = False
        self.create(np.arange(rows_in_use))

    def create(self, rows: np.ndarray) -> None:
        """One agent per new row (rows are appended in order), kept out of the collector's rescans."""
        count = len(rows)
        if count == 0 or self.deferred:
            return
        if rows[0] != self.n or rows[-1] != self.n + count - 1:
            raise ValueError(f"rows {rows[0]}..{rows[-1]} do not follow the {self.n} rows known")
        model = self.model
        enabled = gc.isenabled()
        gc.disable()
        try:
            agents = _register(model, count)
        finally:
            if enabled:
                gc.enable()
        gc.freeze()
        first, last = agents[0].unique_id, agents[-1].unique_id
        ids = (np.arange(first, last + 1) if last - first == count - 1  # unique_ids only increase
               else np.fromiter((a.unique_id for a in agents), dtype=np.int64, count=count))
        end = self.n + count
        if end > len(self._id):
            self._id = _grown(self._id, grown_capacity(end, len(self._id)), -1)
        self._agent.extend(agents)
        self._id[self.n: end] = ids
        if ids[-1] >= len(self._row):
            self._row = _grown(self._row, grown_capacity(int(ids[-1]) + 1, len(self._row)), -1)
        self._row[ids] = rows
        self.n = end

    def remove(self, rows: np.ndarray) -> None:
        """Remove the agents of these rows from the model."""
        if self.deferred:
            return
        agents = self._agent
        _deregister(self.model, [agents[row] for row in rows.tolist()])
        for row in rows.tolist():
            agents[row] = None
        self._row[self._id[rows]] = -1
        self._id[rows] = -1

    def remap(self, new_row: np.ndarray) -> None:
        """After the population dropped rows: keep the agents of kept rows, each with its new row."""
        if self.deferred:
            return
        keep = np.flatnonzero(new_row >= 0)
        kept = len(keep)
        agents = self._agent
        self._agent = [agents[row] for row in keep.tolist()]
        self._id[:kept] = self._id[keep]
        self._id[kept: self.n] = -1
        ids = self._id[:kept]
        present = ids >= 0
        self._row[ids[present]] = np.flatnonzero(present)
        self.n = kept

    def of(self, row: int) -> Resident | None:
        """The agent of a row (None once the resident has left)."""
        return self._agent[row]

    def row_of(self, unique_id: int) -> int:
        """The row of a resident agent, by its Mesa ``unique_id``."""
        row = int(self._row[unique_id]) if unique_id < len(self._row) else -1
        if row < 0:
            raise KeyError(f"no resident agent with unique_id {unique_id}")
        return row

    def release(self) -> None:
        """Give frozen objects back to the collector (``gc.unfreeze``); a model built later collects them.

        A full collection rescans every object of the process (some 60 ms with Mesa, pandas and SciPy
        loaded, more than a small model's run), so it runs only once the released models held
        ``RELEASED_ROWS_PER_COLLECTION`` rows; until then their garbage waits, frozen with the next model.
        """
        gc.unfreeze()
        Residents._released_rows += max(self.n, 1)


def mesa_registry(model: mesa.Model) -> bool:
    """Whether the model keeps its agents as Mesa 3.3 does (what ``_register`` and ``_deregister`` write to).

    That is: ``Agent._ids`` hands out each model's ``unique_id``s; ``model._agents`` is a dict of hard
    references; ``model.agents`` and each of ``model.agents_by_type`` is an ``AgentSet`` whose ``_agents``
    is a ``WeakKeyDictionary`` (with no removal pending from an iteration in progress).
    """
    sets = [model.agents, *model.agents_by_type.values()]
    return (isinstance(getattr(mesa.Agent, "_ids", None), defaultdict) and isinstance(getattr(model, "_agents", None), dict)
            and all(isinstance(getattr(s, "_agents", None), weakref.WeakKeyDictionary) and not s._agents._pending_removals
                    for s in sets))


def _register(model: mesa.Model, count: int) -> list[Resident]:
    """``count`` new Resident agents, registered with the model as ``Resident(model)`` would, one batch at a time."""
    if not mesa_registry(model):
        return [Resident(model) for _ in range(count)]
    new = Resident.__new__
    agents = []
    for unique_id in itertools.islice(mesa.Agent._ids[model], count):  # Agent.__init__'s ids, in order
        agent = new(Resident)
        agent.model = model
        agent.unique_id = unique_id
        agent.pos = None
        agents.append(agent)
    batch = dict.fromkeys(agents)
    model._agents.update(batch)
    by_type = model.agents_by_type
    if Resident in by_type:
        by_type[Resident]._agents.update(batch)
    else:
        by_type[Resident] = mesa.agent.AgentSet(agents, random=model.random)
    model.agents._agents.update(batch)
    return agents


def _deregister(model: mesa.Model, agents: list[Resident]) -> None:
    """Remove these agents from the model as ``model.deregister_agent`` would, one batch at a time."""
    if not agents:
        return
    if not mesa_registry(model):
        for agent in agents:
            model.deregister_agent(agent)
        return
    hard = model._agents
    by_type = model.agents_by_type[Resident]._agents.data
    everyone = model.agents._agents.data
    for agent in agents:
        del hard[agent]
        key = weakref.ref(agent)  # equal to the set's own key for this agent
        del by_type[key]
        del everyone[key]


def _grown(array: np.ndarray, capacity: int, fill) -> np.ndarray:
    grown = np.full(capacity, fill, dtype=array.dtype)
    grown[: len(array)] = array
    return grown
