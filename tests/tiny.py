"""A hand-made municipality of a few residents for phase tests: no model, no 20,000 inhabitants."""

from __future__ import annotations

from dataclasses import dataclass

import mesa
import numpy as np

from model.actors import Actors
from model.budget_holder import BudgetHolder
from model.case_worker import CaseWorker, Team
from model.constants import N_DOMAINS, Desk, Holder, Role
from model.desks import desks
from model.funding import Funding, Prices
from model.parameters import PARAMETERS
from model.phases import opening
from model.population import Population
from model.random_streams import Streams
from model.resident import Residents
from model.social_firm import SocialFirm
from model.year import YearState

# One resident: every column a phase reads, with a plain default (a 40-year-old with no problems).
DEFAULTS = {"age": 40.0, "wage": 0.9, "motivation": 1.0, "on_benefit": False, "desk": Desk.NONE, "employment": -1,
            "years_out": 0.0, "spell_years": 0.0, "provisions": 0, "firm": -1, "desk_draw": 0.5}


@dataclass
class Tiny:
    """Everything a phase function takes, for a handful of residents."""

    pop: Population
    year: YearState
    funding: Funding
    actors: Actors
    p: dict
    streams: Streams
    host: mesa.Model

    @property
    def inputs(self):
        """The phase arguments, in order."""
        return self.pop, self.year, self.funding, self.actors, self.p, self.streams

    def rows(self):
        return self.pop.alive_rows()

    def events(self):
        return self.pop.events.frame()


def tiny(residents: list[dict], *, share: float = 0.0, overrides: dict | None = None, firm_places: int = 4,
         sheltered_places: int = 2, caseload: int = 10, key: int = 1) -> Tiny:
    """Build a tiny world: each dict sets a resident's columns (``sev`` as {domain index: value})."""
    p = PARAMETERS.resolve(overrides or {})
    host = mesa.Model(rng=0)
    pop = Population(capacity=16)
    n = len(residents)
    values = {name: np.array([r.get(name, default) for r in residents]) for name, default in DEFAULTS.items()}
    sev = np.zeros((n, N_DOMAINS))
    for k, r in enumerate(residents):
        for domain, value in r.get("sev", {}).items():
            sev[k, domain] = value
    per = {name: np.array([r.get(name, k) for k, r in enumerate(residents)]) for name in ("household", "unit")}
    values.update({"uid": np.arange(n), "sev": sev, "member": np.array([r.get("member", 0) for r in residents]),
                   **per})
    rows = pop.enter(values, -1)
    pop.next_uid, pop.next_household = n, n
    residents_registry = Residents(host)
    residents_registry.create(rows)
    teams = {role: Team([CaseWorker(host, role=role, caseload_limit=caseload)]) for role in Role}
    for role, team in teams.items():  # the law-based desks work for the unpooled part, the pooled desk for the rest
        partitioned = role in (Role.CLIENT_MANAGER, Role.WMO_CONSULTANT)
        team.activate(int(share < 1) if partitioned else int(share > 0))
    firms = [SocialFirm(host, index=0, places=firm_places, pwet_share=0.5, lock_in=p["firm.lock_in"])]
    holders = {h: BudgetHolder(host, holder=h) for h in Holder}
    for holder in holders.values():
        holder.open_year(1e9, 1e9)
    actors = Actors(holders=holders, teams=teams, firms=firms, residents=residents_registry,
                    sheltered_places=sheltered_places)
    funding = Funding(regime="gradual", pooled_share=share, from_year=1, prices=Prices(p), desks=desks(p))
    opening.buy_firm_places(actors, share, p)  # each stream's places for the year (the firm's ledger)
    year = YearState(index=0, share=share, slack=4.0)
    year.track(pop.n)  # as after demography: the year's population is complete
    return Tiny(pop, year, funding, actors, p, Streams(key), host)
