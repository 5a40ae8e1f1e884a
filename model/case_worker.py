"""CaseWorker agent: a professional with a role, a caseload limit, a view on domains and instruments."""

from __future__ import annotations

import mesa

from model.constants import (
    PWET_INSTRUMENTS,
    PWET_VIEW,
    WMO_INSTRUMENTS,
    WMO_VIEW,
    Domain,
    Instrument,
    Role,
)

VIEWS = {
    Role.CLIENT_MANAGER: PWET_VIEW,
    Role.WMO_CONSULTANT: WMO_VIEW,
    Role.GENERALIST: tuple(Domain),
    Role.REGISSEUR: tuple(Domain),
}
INSTRUMENTS = {
    Role.CLIENT_MANAGER: PWET_INSTRUMENTS,
    Role.WMO_CONSULTANT: WMO_INSTRUMENTS,
    Role.GENERALIST: tuple(i for i in Instrument if i not in (Instrument.BENEFIT, Instrument.CASE_MANAGEMENT)),
    Role.REGISSEUR: tuple(i for i in Instrument if i not in (Instrument.BENEFIT, Instrument.CASE_MANAGEMENT)),
}


class CaseWorker(mesa.Agent):
    """One FTE. Active in a year when its structure (partitioned or integrated) is in force."""

    def __init__(self, model: mesa.Model, *, role: Role, caseload_limit: int):
        super().__init__(model)
        self.role = role
        self.caseload_limit = caseload_limit
        self.domains_seen = VIEWS[role]
        self.instruments = INSTRUMENTS[role]
        self.active = False
        self.caseload = 0

    def sees(self, domain: Domain) -> bool:
        """Whether this role's diagnosis looks at the domain [R12][M16]."""
        return domain in self.domains_seen

    def may_deploy(self, instrument: Instrument) -> bool:
        """Whether this role may deploy the instrument."""
        return instrument in self.instruments
