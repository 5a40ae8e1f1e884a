"""SocialDomainModel: one Dutch municipality's social domain, simulated in yearly steps.

Compares compartmentalised funding (each law's budget holder funds its own instruments for its
own clients) with integrated funding (one pooled budget, one household intake) and the gradual
form in between (a transformation desk that receives ``pooled_share`` of each budget).

This module is the table of contents: the model builds the municipality, ``step`` runs the
yearly phases in order (``model/phases/``), and the reporters collect what happened. Resident
state lives in ``model.pop`` (``population.py``), changed only by its named transitions, which
record the event history; ``Resident`` agents are the identities.
"""

from __future__ import annotations

import copy
from functools import partial
from typing import Any

import mesa
import numpy as np
import pandas as pd

from model.actors import Actors
from model.budget_holder import BudgetHolder
from model.case_worker import CLIENT_MANAGER_VIEWS, CaseWorker, Team
from model.constants import (
    COMPACT_WHEN_GONE,
    PER_10K,
    SPUN_UP_KEPT,
    SPUN_UP_MAX_ROWS,
    WHOLE_POPULATION,
    Event,
    ExitReason,
    Holder,
    Role,
)
from model.desks import desks
from model.events import INITIAL_YEAR
from model.funding import REGIME_SHARE, Funding, Prices
from model.parameters import PARAMETERS, ParameterError, Values, check_combinations, kwarg_to_path
from model.personas import PERSONAS, check_names, persona_columns
from model.phases import access, accounting, allocation, demography, dynamics, opening, outcomes
from model.population import Population
from model.random_streams import Streams
from model.reporters import INDICATORS, group_records, year_indicators
from model.resident import Resident, Residents
from model.social_firm import SocialFirm
from model.trace import Tracer
from model.year import YearState

# Spun-up states kept per process (the arms and coalitions of one seed share one spin-up, ODD section 3).
_SPUN_UP: dict[tuple, dict] = {}
SCENARIO_KEYS = ("regime", "pooled_share", "from_year", "inhabitants", "years", "social_firms", "social_firm_places")
# What the spin-up keeps of a run's levers (status "scenario"): the municipality itself. Every other lever
# (regime, pooled share, switch year, practices, grant factor, client managers' view) is at its default
# there, so every arm of a comparison with the same seed starts from the same spun-up state.
SPIN_UP_KEEPS = ("scenario.inhabitants", "scenario.years", "scenario.social_firms", "scenario.spin_up_years")
STAFFING = {  # role: (FTE per 10,000 inhabitants, caseload limit)
    Role.CLIENT_MANAGER: ("staff.client_managers_per_10k", "staff.client_manager_caseload"),
    Role.WMO_CONSULTANT: ("staff.wmo_consultants_per_10k", "staff.wmo_consultant_caseload"),
    Role.GENERALIST: ("staff.generalists_per_10k", "staff.generalist_caseload"),
    Role.REGISSEUR: ("practice.regisseurs_per_10k", "staff.regisseur_caseload"),
}


class SocialDomainModel(mesa.Model):
    """A municipality's social domain under a funding regime; one ``step`` is one year."""

    def __init__(
        self,
        *,
        regime: str | None = None,
        pooled_share: float | None = None,
        from_year: int | None = None,
        inhabitants: int | None = None,
        years: int | None = None,
        social_firms: int | None = None,
        social_firm_places: int | None = None,
        params: dict[str, Any] | Values | None = None,
        personas: tuple[str, ...] | list[str] = (),
        trace=(),
        rng: int | None = None,
        breakdowns: bool = True,
        **parameter_kwargs: Any,
    ):
        """Build the municipality. Defaults come from ``parameters.toml``.

        Args:
            regime: "compartmentalised", "integrated" or "gradual" (``scenario.regime``).
            pooled_share: share pooled in the transformation desk when gradual (``scenario.pooled_share``).
            from_year: the first year under ``regime`` (year 1 is the first simulated year); compartmentalised
                before it.
            inhabitants: municipality size.
            years: horizon; ``running`` turns False after this many steps.
            social_firms: number of social firms.
            social_firm_places: trajectory places per social firm.
            params: overrides keyed by parameter path (validated here), or a ``Values`` mapping from
                ``PARAMETERS.resolve`` (validated already, used as it is).
            personas: scripted residents to place and follow (keys of ``model/personas.toml``); their
                decisions are traced (``model/trace.py``).
            trace: uids of further residents whose decisions to trace: which desk saw them each year, what it
                offered, their place in its queue, the money left, the rule (``model.tracer``). A run that traces
                nobody does no extra work, and tracing changes no result.
            rng: seed (int) for the model's generator; the common-random-number key is drawn from it.
            breakdowns: keep the yearly indicators by group (age band, disability, wage band). Runs whose
                whole-population figures are all that is read (a decomposition's coalitions) skip them;
                nothing else in the run depends on them.
            **parameter_kwargs: overrides in keyword form, ``staff__salary=15000``.

        Raises:
            ParameterError: an unknown key, a wrong type, a value out of range, or a combination
                of values that cannot hold together (a ValueError subclass).
        """
        super().__init__(rng=rng)
        args = dict(zip(SCENARIO_KEYS, (regime, pooled_share, from_year, inhabitants, years, social_firms,
                                        social_firm_places), strict=True))
        self.p = _parameters(params, {f"scenario.{k}": v for k, v in args.items() if v is not None}, parameter_kwargs)
        p = self.p
        self.seed = rng
        self.funding = Funding(regime=p["scenario.regime"], pooled_share=p["scenario.pooled_share"],
                               from_year=p["scenario.from_year"], prices=Prices(p), desks=desks(p))
        self.streams = Streams(int(self.rng.integers(0, np.iinfo(np.int64).max)))
        self.year = 0
        self.share = 0.0
        self.pop = Population()
        self.actors = Actors(holders={h: BudgetHolder(self, holder=h) for h in Holder}, teams=self._teams(),
                             firms=self._firms(), residents=Residents(self),
                             sheltered_places=demography.sheltered_places(p))
        self.persona_names = check_names(personas)
        self.persona_uids: dict[str, np.ndarray] = {}
        self.persona_paths: list[dict] = []
        if not self._restore_spun_up():  # the same seed and baseline spun up before in this process: its state
            if p["scenario.spin_up_years"] > 0:  # nothing of the spin-up is reported (see _spin_up)
                self.pop.stop_recording()
                self.actors.residents.defer()
            demography.populate(self.pop, self.actors, p, self.streams)
            self._spin_up()  # unreported years under today's policy: the run starts from a settled state
            self._keep_spun_up()
        for k, name in enumerate(self.persona_names):
            self._place_persona(k, name)
        self.tracer: Tracer | None = None
        self.follow([*trace, *(u for uids in self.persona_uids.values() for u in uids.tolist())])
        self.initial_residents = len(self.pop.alive_rows())
        self.year_state: YearState | None = None
        self.indicators: dict[str, float] = {}
        self.group_rows: list[tuple] = []
        self.breakdowns = breakdowns
        # ``year`` first: the simulated year of each row (1 = the first year). Mesa 3.3's batch_run labels a row
        # Step = model.steps - 1 (mesa/mesa#2514), so its rows carry the real year in this column.
        self.datacollector = mesa.DataCollector(
            model_reporters={YEAR_COLUMN: _year, **{name: partial(_indicator, name) for name in INDICATORS}}
        )

    # ------------------------------------------------------------------ the year
    def step(self) -> None:
        """One year, in this order."""
        year = self._open_year(self.year, self.funding.share_for_year(self.year))  # share, labour market, leavers' rows dropped
        self._phases(year, self.funding, self.actors, self.p)
        self._collect(year)  # indicators for the DataCollector, by-group records, persona paths
        self.year += 1
        self.running = self.year < self.years

    def _phases(self, year: YearState, funding: Funding, actors: Actors, p: Values) -> None:
        """The yearly phases in order (reported years and spin-up years alike)."""
        phase_inputs = (self.pop, year, funding, actors, p, self.streams)
        opening.run(*phase_inputs)  # budgets per holder; the staff of the structure in force and its cost
        demography.run(*phase_inputs)  # ageing, exits (pension, death, moving, out of the social domain), inflow
        dynamics.run(*phase_inputs)  # severities move with work, activity, inactivity and the household
        access.run(*phase_inputs)  # hidden residents come into sight; household intake; referrals between desks
        allocation.run(*phase_inputs)  # review, then instruments within budgets and caseloads
        outcomes.run(*phase_inputs)  # jobs, job loss, drop-out, other exits from benefit
        accounting.run(*phase_inputs)  # every euro on a budget holder and an instrument; savings to who gains

    def _open_year(self, index: int, share: float) -> YearState:
        pop = self.pop
        alive = pop.alive_rows()
        if pop.n and (pop.n - len(alive)) >= COMPACT_WHEN_GONE * pop.n:
            keep = np.flatnonzero(pop.alive[: pop.n] | (pop.persona[: pop.n] >= 0))
            self.actors.residents.remap(pop.compact(keep))
        self.share = share
        path = self.p["economy.unemployed_per_vacancy_path"]
        self.year_state = YearState(index=index, share=share, slack=path[min(max(index, 0), len(path) - 1)])
        self.year_state.trace = self.tracer if index >= 0 else None  # reported years only
        return self.year_state

    def _spin_up(self) -> None:
        """Run ``scenario.spin_up_years`` unreported years (indices -S .. -1) under today's policy, then restart the history.

        The synthetic starting population is far from the steady state of its own flows (no Wmo
        provisions, nobody on other income yet); the spin-up lets the stocks settle before year 1.
        Its policy is the baseline (compartmentalised, every lever but the municipality's size at its
        default, the labour market of year 1), and its draws are keyed by negative years, so every
        arm of a comparison with the same seed starts from the same state (common random numbers).
        Nothing of it is reported: the event history restarts from the spun-up population (one
        ENTER per resident at set-up), and grants are fixed again in year 1 from the spun-up state.
        So it records no events (``Population.recording``) and its residents get their Mesa agents
        only when it ends (``Residents.defer``); the state it leaves is the same either way.
        """
        years = self.p["scenario.spin_up_years"]
        if years <= 0:
            return
        base = spin_up_values(self.p)
        funding = Funding(regime=base["scenario.regime"], pooled_share=base["scenario.pooled_share"],
                          from_year=base["scenario.from_year"], prices=Prices(base), desks=desks(base))
        teams = self._teams(base)
        actors = Actors(holders=self.actors.holders, teams=teams, firms=self.actors.firms,
                        residents=self.actors.residents, sheltered_places=self.actors.sheltered_places)
        opening.fix_grants(self.pop, self.pop.alive_rows(), actors.holders, funding, base)
        for index in range(-years, 0):
            self._phases(self._open_year(index, REGIME_SHARE["compartmentalised"]), funding, actors, base)
        for team in teams.values():
            for worker in team.workers:
                worker.remove()
        self.share = 0.0
        self.year_state = None
        self.pop.compact(self.pop.alive_rows())  # year 1 starts with its residents only
        self.actors.residents.catch_up(self.pop.n)
        self.pop.restart_history(INITIAL_YEAR)

    # ------------------------------------------------------------------ the spun-up state, shared by the arms
    def _spun_up_key(self) -> tuple | None:
        """What decides the spun-up state: the random-stream key and every value of the spin-up's parameters."""
        signature = spin_up_signature(self.p)
        return None if signature is None else (int(self.streams.key), signature)

    def _keep_spun_up(self) -> None:
        """Keep a copy of the spun-up state for the next model of this process with the same key (every arm, every coalition).

        Only municipalities up to ``SPUN_UP_MAX_ROWS`` residents are kept, at most ``SPUN_UP_KEPT`` at once.
        """
        key = self._spun_up_key()
        if key is None or self.pop.n > SPUN_UP_MAX_ROWS:
            return
        if len(_SPUN_UP) >= SPUN_UP_KEPT:
            _SPUN_UP.pop(next(iter(_SPUN_UP)))
        _SPUN_UP[key] = {"pop": copy.deepcopy(self.pop), "firms": [f.state() for f in self.actors.firms]}

    def _restore_spun_up(self) -> bool:
        """Start from a kept spun-up state, if this process has one for this model's key; its residents get agents."""
        key = self._spun_up_key()
        kept = _SPUN_UP.get(key) if key is not None else None
        if kept is None:
            return False
        self.pop = copy.deepcopy(kept["pop"])
        for firm, state in zip(self.actors.firms, kept["firms"], strict=True):
            firm.restore(state)
        self.actors.residents.create(np.arange(self.pop.n))
        return True

    def _collect(self, year: YearState) -> None:
        if self.tracer:
            self.tracer.close_year(self.pop, self.year + 1)
        self._record_personas()
        self.indicators = year_indicators(self.pop, year, self.actors, self.p)
        if self.breakdowns:
            self.group_rows.extend(group_records(self.pop, year, self.p))
        self.datacollector.collect(self)

    def follow(self, uids) -> None:
        """Trace these residents' decisions from the next year on (``model/trace.py``); no uids: nothing changes."""
        uids = list(uids)
        if not uids:
            return
        if self.tracer is None:
            self.tracer = Tracer(uids)
        else:
            self.tracer.follow(uids)

    def why(self, uid: int, year: int) -> str:
        """The traced decisions about a resident in a reported year, as one line (needs the uid traced)."""
        return self.tracer.why(uid, year) if self.tracer else "not traced"

    # ------------------------------------------------------------------ regime
    def set_regime(self, regime: str, pooled_share: float | None = None) -> None:
        """Switch the funding regime from the next simulated year on (for the workshop page).

        The recorded parameters follow, so a manifest written afterwards says what ran last.
        """
        self.p.update(self.funding.switch(regime, pooled_share, self.year + 1))

    @property
    def regime(self) -> str:
        """Funding regime in force from ``from_year`` on."""
        return self.funding.regime

    @property
    def pooled_share(self) -> float:
        """Share pooled when the regime is gradual."""
        return self.funding.pooled_share

    @property
    def from_year(self) -> int:
        """The first year (1-based) under the regime."""
        return self.funding.from_year

    # ------------------------------------------------------------------ building
    def _teams(self, p: Values | None = None) -> dict[Role, Team]:
        p = self.p if p is None else p
        per = p["scenario.inhabitants"] / PER_10K
        views = {Role.CLIENT_MANAGER: CLIENT_MANAGER_VIEWS[p["staff.client_manager_view"]]}
        teams = {}
        for role, (fte, cap) in STAFFING.items():
            # At least one post of a staffed role, even in a small municipality; none when its FTE is 0.
            posts = max(1, round(p[fte] * per)) if p[fte] > 0 else 0
            workers = [CaseWorker(self, role=role, caseload_limit=p[cap], domains_seen=views.get(role))
                       for _ in range(max(posts, 1))]
            teams[role] = Team(workers, staffed=posts)
        return teams

    def _firms(self) -> list[SocialFirm]:
        p = self.p
        return [SocialFirm(self, index=i, places=p["scenario.social_firm_places"],
                           pwet_share=p["firm.pwet_share_partitioned"], lock_in=p["firm.lock_in"])
                for i in range(p["scenario.social_firms"])]

    def _place_persona(self, index: int, name: str) -> None:
        """Add a scripted household (a persona) with the state its case describes."""
        members = len(PERSONAS[name]["members"])
        first_uid, household = self.pop.issue_ids(members, 1)
        columns = persona_columns(name, index, first_uid, household, self.p,
                                  lambda uid: self.streams.uniform(uid, 0, Event.DESK))
        rows = self.pop.enter(columns, INITIAL_YEAR)
        self.actors.residents.create(rows)
        self.persona_uids[name] = self.pop.uid[rows].copy()

    # ------------------------------------------------------------------ reading
    @property
    def holders(self) -> dict[Holder, BudgetHolder]:
        """Budget holders by line."""
        return self.actors.holders

    @property
    def firms(self) -> list[SocialFirm]:
        """The social firms."""
        return self.actors.firms

    @property
    def workers(self) -> dict[Role, list[CaseWorker]]:
        """Case workers by role."""
        return {role: team.workers for role, team in self.actors.teams.items()}

    @property
    def inhabitants(self) -> int:
        """Municipality size."""
        return self.p["scenario.inhabitants"]

    @property
    def years(self) -> int:
        """Horizon in years."""
        return self.p["scenario.years"]

    @property
    def events(self):
        """The event history (``events.EventLog``); ``events_frame()`` gives it as a table."""
        return self.pop.events

    def events_frame(self) -> pd.DataFrame:
        """Every recorded transition as a tidy frame (see ``model/events.py``)."""
        return self.pop.events.frame()

    @property
    def persona_rows(self) -> dict[str, np.ndarray]:
        """Population rows of each persona's members, in the order of ``personas.toml``."""
        uid = self.pop.uid[: self.pop.n]
        return {name: np.array([int(np.flatnonzero(uid == u)[0]) for u in uids])
                for name, uids in self.persona_uids.items()}

    def status_of(self, rows) -> np.ndarray:
        """Primary status of residents (see ``Population.status``)."""
        return self.pop.status(rows)

    def agent_of(self, row: int) -> Resident | None:
        """The Resident agent of a population row (None once the resident has left)."""
        return self.actors.residents.of(row)

    def _record_personas(self) -> None:
        """Append each persona member's state at the end of this year to ``persona_paths``."""
        for name, rows in self.persona_rows.items():
            for role_index, row in enumerate(rows.tolist()):
                role = PERSONAS[name]["members"][role_index]["role"]
                agent = self.agent_of(row)
                if agent is not None:
                    state = agent.snapshot()
                else:
                    why = ExitReason(int(self.pop.exit_reason[row])).name.lower()
                    state = {"uid": int(self.pop.uid[row]), "alive": False, "status": f"left ({why})",
                             "on_benefit": False, "provisions": [], "payers": {}, "severities": {}}
                self.persona_paths.append({"year": self.year + 1, "persona": name, "member": role,
                                           "regime_share": self.share, **state,
                                           "why": self.why(int(self.pop.uid[row]), self.year + 1)})

    def release(self) -> None:
        """Let Python free this model once the caller drops it.

        Mesa 3.3.1 keeps every model it has seen in the class-level ``Agent._ids`` registry, so a
        process that runs many models (a sweep worker, the calibration) grows without bound
        (mesa/mesa#3179, fixed upstream in #3180 for Mesa versions that need Python >= 3.12). On
        those versions the registry is gone and that part does nothing. The resident agents were
        kept out of the garbage collector's rescans (``gc.freeze``, see ``Residents``); they are
        handed back to it here (``gc.unfreeze``), and a model built later collects them.
        """
        registry = getattr(mesa.Agent, "_ids", None)
        if isinstance(registry, dict):
            registry.pop(self, None)
        self.actors.residents.release()

    def tidy(self) -> pd.DataFrame:
        """Yearly indicators and group breakdowns as one long frame: year, indicator, group_by, group, value."""
        wide = self.datacollector.get_model_vars_dataframe().drop(columns=YEAR_COLUMN)
        values = wide.to_numpy(dtype=float)  # years x indicators
        years, indicators = values.shape
        # Indicator by indicator, each over the years (as DataFrame.melt orders them), then the group rows.
        columns = {
            "year": [np.tile(np.arange(1, years + 1), indicators)],
            "indicator": [np.repeat(np.asarray(wide.columns, dtype=object), years)],
            "group_by": [np.full(years * indicators, WHOLE_POPULATION, dtype=object)],
            "group": [np.full(years * indicators, WHOLE_POPULATION, dtype=object)],
            "value": [values.T.ravel()],
        }
        if self.group_rows:
            for name, column in zip(columns, zip(*self.group_rows, strict=True), strict=True):
                columns[name].append(np.asarray(column, dtype=TIDY_DTYPES[name]))
        return pd.DataFrame({name: np.concatenate(parts) for name, parts in columns.items()})


TIDY_DTYPES = {"year": np.int64, "indicator": object, "group_by": object, "group": object, "value": float}


def _parameters(params, scenario: dict, keyword: dict) -> Values:
    """Parameter values of a run: a resolved ``Values`` as it is, else defaults plus validated overrides."""
    if isinstance(params, Values) and not scenario and not keyword:
        values = Values(params)
    else:
        overrides = dict(params or {})
        overrides.update({kwarg_to_path(k): v for k, v in keyword.items()})
        overrides.update(scenario)
        values = PARAMETERS.resolve(overrides)
    check_combinations(values)
    return values


def spin_up_values(p: Values) -> Values:
    """Values of the spin-up: the run's, with every lever but the municipality's size at its default and year 1's labour market."""
    levers = {q.path: q.value for q in p.parameters if q.status == "scenario" and q.path not in SPIN_UP_KEEPS}
    changes = {path: value for path, value in levers.items() if p.get(path) != value}
    path = p["economy.unemployed_per_vacancy_path"]
    if len(path) > 1:
        changes["economy.unemployed_per_vacancy_path"] = [path[0]]
    base = Values(p)
    base.update(changes)  # shipped defaults and a value the run already holds: allowed, so not checked again
    return base


def spin_up_signature(p: Values) -> tuple | None:
    """Every value the spin-up depends on besides the seed (None without a spin-up): runs alike in it share the spun-up state."""
    if p["scenario.spin_up_years"] <= 0:
        return None
    base = spin_up_values(p)
    return tuple(sorted((k, repr(dict.__getitem__(base, k))) for k in base))


YEAR_COLUMN = "year"  # the data collector's column of simulated years (not an indicator)


def _year(model: "SocialDomainModel") -> int:
    """DataCollector reporter: the year just simulated (1-based; collected at the end of the year)."""
    return model.year + 1


def _indicator(name: str, model: SocialDomainModel) -> float:
    """DataCollector reporter: one indicator, computed once per year by ``year_indicators`` (units in INDICATORS)."""
    return model.indicators[name]


__all__ = ["SocialDomainModel", "ParameterError", "PARAMETERS"]
