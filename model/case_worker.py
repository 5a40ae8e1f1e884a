"""CaseWorker agent and Team: a professional's role decides what it sees and what it may deploy.

Allocation reads both from the agents: a P-wet client manager's single-domain diagnosis sees
distance to work only [M16][R12]; a Wmo consultant's kitchen-table talk sees self-reliance; a
generalist and a regisseur look at every domain of the household [R12]. Caseloads are counted:
each active worker carries the clients allocated to its role, up to its limit.
"""

from __future__ import annotations

import mesa
import numpy as np

from model.constants import (
    BLOCKING_DOMAINS,
    PWET_INSTRUMENTS,
    PWET_VIEW,
    WMO_INSTRUMENTS,
    WMO_VIEW,
    Domain,
    Instrument,
    Role,
    bits,
)

VIEWS = {
    Role.CLIENT_MANAGER: PWET_VIEW,
    Role.WMO_CONSULTANT: WMO_VIEW,
    Role.GENERALIST: tuple(Domain),
    Role.REGISSEUR: tuple(Domain),
}
# A client manager's diagnosis as a scenario choice (staff.client_manager_view): distance to work only
# (the single-domain diagnosis of [M16][R12]), work plus the problems that block work, or every domain.
CLIENT_MANAGER_VIEWS = {
    "work_only": PWET_VIEW,
    "work_and_blocking": PWET_VIEW + BLOCKING_DOMAINS,
    "all_domains": tuple(Domain),
}
_ANY_PROVISION = tuple(i for i in Instrument if i not in (Instrument.BENEFIT, Instrument.CASE_MANAGEMENT))
INSTRUMENTS = {
    Role.CLIENT_MANAGER: PWET_INSTRUMENTS,
    Role.WMO_CONSULTANT: WMO_INSTRUMENTS,
    Role.GENERALIST: _ANY_PROVISION,
    Role.REGISSEUR: _ANY_PROVISION,
}


class CaseWorker(mesa.Agent):
    """One FTE of a role. Active in a year when its structure (partitioned or pooled) is in force."""

    def __init__(self, model: mesa.Model, *, role: Role, caseload_limit: int, domains_seen: tuple | None = None):
        super().__init__(model)
        self.role = role
        self.caseload_limit = caseload_limit
        self.domains_seen = VIEWS[role] if domains_seen is None else tuple(domains_seen)
        self.instruments = INSTRUMENTS[role]
        self.active = False
        self.caseload = 0

    def sees(self, domain: Domain) -> bool:
        """Whether this role's diagnosis looks at the domain [R12][M16]."""
        return domain in self.domains_seen

    def may_deploy(self, instrument: Instrument) -> bool:
        """Whether this role may deploy the instrument."""
        return instrument in self.instruments


class Team:
    """The case workers of one role: their joint view, instruments, capacity and caseloads."""

    def __init__(self, workers: list[CaseWorker], staffed: int | None = None):
        """``staffed`` (default: all) is the posts actually filled; a role with none keeps one idle worker for its view."""
        roles = {w.role for w in workers}
        if len(roles) != 1:
            raise ValueError(f"a team has one role, not {sorted(roles)}")
        self.workers = workers
        self.role = workers[0].role
        self.staffed = len(workers) if staffed is None else min(int(staffed), len(workers))

    def __len__(self) -> int:
        """Posts filled (FTE)."""
        return self.staffed

    def activate(self, count: int) -> None:
        """The first ``count`` workers are active this year; caseloads start empty."""
        for i, worker in enumerate(self.workers):
            worker.active = i < min(count, self.staffed)
            worker.caseload = 0

    def capacity(self) -> int:
        """Clients the active workers can carry together."""
        return sum(w.caseload_limit for w in self.workers if w.active)

    def room(self, in_care: int) -> int:
        """Clients that can still be taken on when ``in_care`` are already carried."""
        return max(self.capacity() - in_care, 0)

    def carry(self, clients: int) -> None:
        """Spread ``clients`` over the active workers in turn, each up to its limit."""
        left = int(clients)
        for worker in self.workers:
            if worker.active:
                worker.caseload = min(worker.caseload_limit, left)
                left -= worker.caseload

    def seen(self, domains) -> tuple[Domain, ...]:
        """The domains among ``domains`` that this role's diagnosis looks at."""
        view = self.workers[0].domains_seen
        return tuple(d for d in domains if d in view)

    def sees(self, domain: Domain) -> bool:
        """Whether this role's diagnosis looks at the domain."""
        return self.workers[0].sees(domain)

    def _allowed(self) -> list[Instrument]:
        return [i for i in Instrument if self.workers[0].may_deploy(i)]

    @property
    def allowed_bits(self) -> int:
        """Bit mask of the instruments this role may deploy."""
        return bits(self._allowed())

    def deployable(self, instruments: np.ndarray) -> np.ndarray:
        """Per element: may this role deploy the instrument?"""
        return np.isin(instruments, [int(i) for i in self._allowed()])
