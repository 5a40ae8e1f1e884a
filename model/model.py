"""SocialDomainModel: one Dutch municipality's social domain, simulated in yearly steps.

Compares compartmentalised funding (each law's budget holder funds its own instruments for its
own clients) with integrated funding (one pooled budget, one household intake) and the gradual
form in between (a transformation desk that receives ``pooled_share`` of each budget).

Resident state lives in numpy arrays (``model.pop``, see ``population.py``); ``Resident``
agents are the identities. Case workers, social firms and budget holders are ordinary agents.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import mesa
import numpy as np
import pandas as pd

from model.budget_holder import BudgetHolder
from model.case_worker import CaseWorker
from model.constants import (
    BLOCKING_DOMAINS,
    DAY_INSTRUMENTS,
    EXIT_SPELL_EDGES,
    EXIT_SPELL_LABELS,
    FIRM_INSTRUMENTS,
    HALF_YEAR,
    LAW_OF_INSTRUMENT,
    LUMP_SUM_INSTRUMENTS,
    MONTHS_PER_YEAR,
    N_DOMAINS,
    N_HOLDERS,
    N_INSTRUMENTS,
    PER_10K,
    RETURN_WINDOWS,
    TRAJECTORY_INSTRUMENTS,
    WMO_INSTRUMENTS,
    Desk,
    Disability,
    Domain,
    Event,
    ExitReason,
    Holder,
    Instrument,
    Kind,
    Role,
    Status,
    bits,
)
from model.parameters import PARAMETERS, ParameterError, check_combinations, kwarg_to_path
from model.personas import PERSONAS, check_names
from model.population import Population
from model.random_streams import Streams
from model.reporters import INDICATORS, OBSERVED_COUNTS, group_records, year_indicators
from model.resident import Resident
from model.rules import allocation as alloc
from model.rules import demography as demo
from model.rules import dynamics as dyn
from model.rules import outcomes as out
from model.rules import problems as prob
from model.social_firm import SocialFirm

REGIME_SHARE = {"compartmentalised": 0.0, "integrated": 1.0}


TRAJ_BITS = bits(TRAJECTORY_INSTRUMENTS)
DAY_BITS = bits(DAY_INSTRUMENTS)
WMO_BITS = bits(WMO_INSTRUMENTS)
FIRM_BITS = bits(FIRM_INSTRUMENTS)
ACTIVITY_BITS = TRAJ_BITS | DAY_BITS
GUIDANCE_BIT = bits([Instrument.GUIDANCE])
PWET_TRAJ_FOR_SUBSIDY = TRAJ_BITS  # someone who arranges a wage-cost subsidy placement
SCENARIO_KEYS = ("regime", "pooled_share", "switch_year", "inhabitants", "years", "social_firms", "social_firm_places")


class SocialDomainModel(mesa.Model):
    """A municipality's social domain under a funding regime; one ``step`` is one year."""

    def __init__(
        self,
        *,
        regime: str | None = None,
        pooled_share: float | None = None,
        switch_year: int | None = None,
        inhabitants: int | None = None,
        years: int | None = None,
        social_firms: int | None = None,
        social_firm_places: int | None = None,
        params: dict[str, Any] | None = None,
        personas: tuple[str, ...] | list[str] = (),
        rng: int | None = None,
        **parameter_kwargs: Any,
    ):
        """Build the municipality. Defaults come from ``parameters.toml``.

        Args:
            regime: "compartmentalised", "integrated" or "gradual" (``scenario.regime``).
            pooled_share: share pooled in the transformation desk when gradual (``scenario.pooled_share``).
            switch_year: year index from which ``regime`` applies; compartmentalised before it.
            inhabitants: municipality size.
            years: horizon; ``running`` turns False after this many steps.
            social_firms: number of social firms.
            social_firm_places: trajectory places per social firm.
            params: overrides keyed by parameter path, e.g. ``{"benefit.cost_per_year": 15000}``.
            personas: scripted residents to place and follow (keys of ``model/personas.toml``).
            rng: seed (int) for the model's generator; the common-random-number key is drawn from it.
            **parameter_kwargs: overrides in keyword form, ``benefit__cost_per_year=15000``.

        Raises:
            ParameterError: an unknown key, a wrong type, a value out of range, or a combination
                of values that cannot hold together (a ValueError subclass).
        """
        super().__init__(rng=rng)
        overrides = dict(params or {})
        overrides.update({kwarg_to_path(k): v for k, v in parameter_kwargs.items()})
        scenario_args = dict(zip(SCENARIO_KEYS, (regime, pooled_share, switch_year, inhabitants, years,
                                                 social_firms, social_firm_places), strict=True))
        overrides.update({f"scenario.{k}": v for k, v in scenario_args.items() if v is not None})
        self.p = PARAMETERS.resolve(overrides)
        self.overrides = overrides
        self._check_combinations()
        p = self.p
        self.seed = rng
        self.regime = p["scenario.regime"]
        self.pooled_share = p["scenario.pooled_share"]
        self.switch_year = p["scenario.switch_year"]
        self.inhabitants = p["scenario.inhabitants"]
        self.years = p["scenario.years"]
        self.streams = Streams(int(self.rng.integers(0, np.iinfo(np.int64).max)))
        self.year = 0
        self.share = 0.0
        self.pop = Population()
        self._desk_draw = np.empty(0)
        self._agents_by_row: list[Resident | None] = []
        self._next_uid = 0
        self._next_household = 0
        self.price = self._prices()
        self.sheltered_places = round(p["pwet.sheltered_places_per_10k"] * self.inhabitants / PER_10K)

        self.holders = {h: BudgetHolder(self, holder=h) for h in Holder}
        self.workers = self._create_workers()
        self.firms = [
            SocialFirm(self, index=i, places=p["scenario.social_firm_places"],
                       pwet_share=p["firm.pwet_share_partitioned"], price=p["firm.place_price"],
                       lock_in=p["firm.lock_in"])
            for i in range(p["scenario.social_firms"])
        ]
        self.persona_names = check_names(personas)
        self.persona_rows: dict[str, np.ndarray] = {}
        self.persona_paths: list[dict] = []
        self._populate()
        for k, name in enumerate(self.persona_names):
            self._place_persona(k, name)
        self.initial_residents = len(self.pop.alive_rows())
        self.counts: dict[str, float] = {}
        self.indicators: dict[str, float] = {}
        self.group_rows: list[dict] = []
        self.datacollector = mesa.DataCollector(
            model_reporters={name: partial(_indicator, name) for name in INDICATORS}
        )

    # ------------------------------------------------------------------ setup
    def _check_combinations(self) -> None:
        check_combinations(self.p)

    def _prices(self) -> np.ndarray:
        p = self.p
        price = np.zeros(N_INSTRUMENTS)
        price[Instrument.BENEFIT] = p["benefit.cost_per_year"]
        price[Instrument.MEDIATION] = p["pwet.mediation_cost"]
        price[Instrument.JOB_COACHING] = p["work.job_coaching_cost"]
        price[Instrument.WAGE_SUBSIDY] = p["work.minimum_wage_cost"]  # times (1 - wage value) per resident
        price[Instrument.SHELTERED_WORK] = p["pwet.sheltered_cost"]
        price[Instrument.SOCIAL_FIRM] = p["firm.place_price"]
        price[Instrument.TRAINING] = p["pwet.training_cost"]
        price[Instrument.DAY_ACTIVITIES_WORKLIKE] = p["wmo.worklike_cost"]
        price[Instrument.DAY_ACTIVITIES] = p["wmo.day_activities_cost"]
        price[Instrument.GUIDANCE] = p["wmo.guidance_hours"] * p["wmo.hourly_rate"]
        price[Instrument.HOUSEHOLD_HELP] = p["wmo.household_help_cost"]
        price[Instrument.CASE_MANAGEMENT] = p["staff.salary"]
        return price

    def _create_workers(self) -> dict[Role, list[CaseWorker]]:
        p, per = self.p, self.inhabitants / PER_10K
        spec = {
            Role.CLIENT_MANAGER: ("staff.client_managers_per_10k", "staff.client_manager_caseload"),
            Role.WMO_CONSULTANT: ("staff.wmo_consultants_per_10k", "staff.wmo_consultant_caseload"),
            Role.GENERALIST: ("staff.generalists_per_10k", "staff.generalist_caseload"),
            Role.REGISSEUR: ("staff.regisseurs_per_10k", "staff.regisseur_caseload"),
        }
        return {
            role: [CaseWorker(self, role=role, caseload_limit=p[cap]) for _ in range(max(1, round(p[fte] * per)))]
            for role, (fte, cap) in spec.items()
        }

    def _populate(self) -> None:
        p, inh = self.p, self.inhabitants
        counts = {
            Kind.STOCK_BENEFIT: round(inh * p["population.benefit_per_inhabitant"]),
            Kind.STOCK_WMO: round(inh * p["population.wmo_per_inhabitant"]),
            Kind.STOCK_SUPPORTED: round(inh * p["population.supported_work_per_inhabitant"]),
            Kind.STOCK_HIDDEN: round(inh * p["population.hidden_per_inhabitant"]),
        }
        kinds = np.concatenate([np.full(n, k, dtype=np.int8) for k, n in counts.items()])
        self._new_households(kinds, draw_entry_month=False)

    def _place_persona(self, index: int, name: str) -> None:
        """Add a scripted household (a persona) with the state its case describes."""
        p, pop = self.p, self.pop
        members = PERSONAS[name]["members"]
        rows = pop.add(len(members))
        household = self._next_household
        self._next_household += 1
        for row, member in zip(rows.tolist(), members, strict=True):
            pop.uid[row] = self._next_uid
            self._next_uid += 1
            pop.alive[row] = True
            pop.age[row] = member["age"]
            pop.household[row] = household
            for domain, value in member["severities"].items():
                pop.sev[row, Domain[domain.upper()]] = value
            pop.wage[row] = member["wage_value"]
            pop.motivation[row] = member["motivation"]
            pop.discrimination[row] = member.get("attributes_discrimination", False)
            pop.on_benefit[row] = member["on_benefit"]
            pop.desk[row] = sum((Desk[d.upper()] for d in member["known_to"]), Desk.NONE)
            pop.years_out[row] = member["years_out_of_work"]
            pop.spell_years[row] = member["benefit_spell_years"]
            pop.persona[row] = index
        pop.disability[rows] = prob.disability_type(pop.sev[rows], p["problems.disability_threshold"])
        pop.sev[rows, Domain.WORK_INCOME] = prob.work_income_severity(np.zeros(len(rows), dtype=bool), pop.wage[rows])
        self._agents_by_row.extend(Resident(self, row=r) for r in rows.tolist())
        self.persona_rows[name] = rows

    def _new_households(self, kinds: np.ndarray, draw_entry_month: bool) -> np.ndarray:
        """Create household heads of the given kinds plus their extra adult members; return the new rows.

        The initial population is there from month 0; inflow arrives at a month drawn on the head.
        """
        p, s, year = self.p, self.streams, self.year
        n_heads = len(kinds)
        if n_heads == 0:
            return np.empty(0, dtype=np.int64)
        head_uid = self._next_uid + np.arange(n_heads)
        # Household size and composition are drawn per head before any uid is handed out.
        size = demo.household_sizes(s.uniform(head_uid, year, Event.INFLOW_SIZE), p["population.household_size_probs"])
        # uids: each head followed by its members, so every id is a pure function of creation order.
        total = int(size.sum())
        uid = self._next_uid + np.arange(total)
        head_pos = np.concatenate([[0], np.cumsum(size)[:-1]])
        is_head = np.zeros(total, dtype=bool)
        is_head[head_pos] = True
        head_of = np.repeat(np.arange(n_heads), size)
        head_uid = uid[head_pos]
        self._next_uid += total
        hh = self._next_household + head_of
        self._next_household += n_heads

        kind = np.where(is_head, kinds[head_of], Kind.MEMBER).astype(np.int8)
        # Take-up of reports is decided on the head [M16: ~40% of reports do not apply].
        report = kind == Kind.INFLOW_REPORT
        applies = s.uniform(uid, year, Event.INFLOW_TAKE_UP) >= p["inflow.non_take_up"]

        shift = np.select(
            [kind == Kind.STOCK_BENEFIT, kind == Kind.STOCK_WMO, kind == Kind.STOCK_SUPPORTED,
             kind == Kind.STOCK_HIDDEN, kind == Kind.INFLOW_REPORT, kind == Kind.INFLOW_WMO],
            [p["problems.benefit_stock_shift"], p["problems.wmo_shift"], p["problems.supported_work_shift"],
             p["problems.hidden_shift"], p["inflow.problem_shift"], p["problems.wmo_shift"]],
            default=0.0,
        )
        z = s.normal(uid, year, Event.INFLOW_PROFILE)
        head_latent = (z + shift)[head_pos][head_of]
        rho = p["population.household_latent_correlation"]
        latent = np.where(is_head, z + shift, rho * head_latent + np.sqrt(1.0 - rho * rho) * z)
        eps = np.stack([s.normal(uid, year, Event.INFLOW_SEVERITY + d) for d in range(N_DOMAINS)], axis=1)
        sev = prob.severities(latent, eps, p["problems.baseline_logit"], p["problems.latent_loading"],
                              p["problems.idiosyncratic_sd"])
        wage = prob.wage_value(sev, p["wage.value_base"], p["wage.severity_weight"], p["wage.sd"],
                               s.normal(uid, year, Event.INFLOW_WAGE))
        stock = kind <= Kind.STOCK_HIDDEN
        skew = np.where(stock | (kind == Kind.MEMBER), p["population.stock_age_skew"], p["population.inflow_age_skew"])
        age = demo.draw_age(s.uniform(uid, year, Event.INFLOW_AGE), p["population.age_min"],
                            p["population.pension_age"] - 1, skew)
        spell = -p["benefit.initial_mean_spell_years"] * np.log(s.uniform(uid, year, Event.INFLOW_SPELL))
        load = prob.problem_load(sev)

        on_benefit = (kind == Kind.STOCK_BENEFIT) | (report & applies)
        desk = np.where(on_benefit, Desk.PWET, Desk.NONE)
        desk = np.where((kind == Kind.STOCK_WMO) | (kind == Kind.INFLOW_WMO), Desk.WMO, desk)
        employment = np.full(total, -1, dtype=np.int8)
        supported = kind == Kind.STOCK_SUPPORTED
        employment[supported] = np.where(wage[supported] >= p["wage.subsidy_min"], Status.SUBSIDISED_WORK,
                                         Status.SHELTERED_WORK)
        member_works = (kind == Kind.MEMBER) & (load < p["population.member_in_work_severity"]) & (
            wage >= p["wage.regular_min"])
        employment[member_works] = Status.REGULAR_WORK
        employed = employment >= 0
        long_out = (kind == Kind.STOCK_BENEFIT) | (kind == Kind.STOCK_WMO) | (kind == Kind.STOCK_HIDDEN) | (
            (kind == Kind.MEMBER) & ~employed)

        rows = self.pop.add(total)
        pop = self.pop
        pop.uid[rows] = uid
        pop.alive[rows] = True
        pop.age[rows] = age
        pop.household[rows] = hh
        pop.sev[rows] = sev
        pop.wage[rows] = wage
        pop.motivation[rows] = p["problems.motivation_min"] + (1 - p["problems.motivation_min"]) * s.uniform(
            uid, year, Event.INFLOW_MOTIVATION)
        pop.discrimination[rows] = (age >= p["firm.older_age_min"]) & (
            s.uniform(uid, year, Event.INFLOW_DISCRIMINATION) < p["firm.discrimination_share"])
        pop.disability[rows] = prob.disability_type(sev, p["problems.disability_threshold"])
        pop.employment[rows] = employment
        pop.provisions[rows] = np.where(employment == Status.SUBSIDISED_WORK, 1 << int(Instrument.WAGE_SUBSIDY), 0) | \
            np.where(employment == Status.SHELTERED_WORK, 1 << int(Instrument.SHELTERED_WORK), 0)
        pop.on_benefit[rows] = on_benefit
        pop.desk[rows] = desk
        pop.years_out[rows] = np.where(long_out, spell, 0.0)
        pop.spell_years[rows] = np.where(kind == Kind.STOCK_BENEFIT, spell, 0.0)
        if draw_entry_month:
            pop.entry_month[rows] = (MONTHS_PER_YEAR * s.uniform(head_uid, year, Event.INFLOW_MONTH))[head_of]
        pop.sev[rows, Domain.WORK_INCOME] = prob.work_income_severity(employment == Status.REGULAR_WORK, wage)
        self._agents_by_row.extend(Resident(self, row=r) for r in rows.tolist())
        return rows

    # ------------------------------------------------------------------ regime
    def share_for_year(self, year: int) -> float:
        """Pooled share in force in ``year``: 0 before the switch year, then the regime's share."""
        if year < self.switch_year:
            return 0.0
        return REGIME_SHARE.get(self.regime, self.pooled_share)

    def set_regime(self, regime: str, pooled_share: float | None = None) -> None:
        """Switch the funding regime from the next simulated year on (for the workshop page)."""
        changes = {"scenario.regime": regime}
        if pooled_share is not None:
            changes["scenario.pooled_share"] = pooled_share
        clean = PARAMETERS.validate(changes)
        self.regime = clean["scenario.regime"]
        self.pooled_share = clean.get("scenario.pooled_share", self.pooled_share)
        self.switch_year = self.year

    def handled_by_desk(self, rows) -> np.ndarray:
        """Whether the pooled desk (integrated rules) handles these residents this year.

        Each resident has one fixed draw; the desk handles those whose draw is below the pooled
        share, so share 0 handles nobody, share 1 everybody, and a resident's desk does not
        flip from year to year.
        """
        pop = self.pop
        if len(self._desk_draw) < pop.n:  # one fixed draw per resident, computed once
            start = len(self._desk_draw)
            self._desk_draw = np.concatenate([self._desk_draw, self.streams.uniform(pop.uid[start:pop.n], 0, Event.DESK)])
        return self._desk_draw[rows] < self.share

    @staticmethod
    def payer_of(instrument: Instrument, handled) -> Holder:
        """Budget holder paying an instrument: the law's own holder, or the pooled desk for handled residents."""
        law = LAW_OF_INSTRUMENT[Instrument(instrument)]
        if law == Holder.PWET_INCOME or not bool(handled):
            return law
        return Holder.POOLED

    def status_of(self, rows) -> np.ndarray:
        """Primary status from employment, provisions, benefit and desk (exactly one per resident)."""
        pop = self.pop
        emp = pop.employment[rows]
        prov = pop.provisions[rows]
        status = np.where(pop.on_benefit[rows], Status.BENEFIT_NO_SUPPORT, Status.NOT_IN_SIGHT)
        status = np.where((prov & (WMO_BITS & ~DAY_BITS)) != 0, Status.GUIDANCE_ONLY, status)
        status = np.where((prov & DAY_BITS) != 0, Status.DAY_ACTIVITIES, status)
        status = np.where((prov & TRAJ_BITS) != 0, Status.TRAJECTORY, status)
        return np.where(emp >= 0, emp, status).astype(np.int8)

    # ------------------------------------------------------------------ the year
    def step(self) -> None:
        """One year, in this order."""
        self._open_year()  # regime share, budgets, active staff, staff costs
        self._demography()  # ageing, exits (pension, death, moving, out of the social domain), inflow
        self._problem_dynamics()  # severities move with work, activity, inactivity and the household
        self._access()  # hidden residents come into sight; household intake; Wmo self-referral; cross-law intake
        self._allocation()  # instruments within budgets and caseloads (creaming under partitions)
        self._outcomes()  # jobs, job loss, drop-out, lock-in, trajectory ends, care exits, other exits
        self._accounting()  # every euro on a budget holder and an instrument; savings to who gains them
        self._collect()  # indicators for the DataCollector and by-group records
        self.year += 1
        self.running = self.year < self.years

    def _open_year(self) -> None:
        p = self.p
        self.share = self.share_for_year(self.year)
        alive = self.pop.alive_rows()
        stock = int(self.pop.on_benefit[alive].sum())
        participation = p["pwet.reintegration_per_recipient"] * stock
        wmo = p["wmo.budget_per_inhabitant"] * self.inhabitants
        s = self.share
        active = {
            Role.CLIENT_MANAGER: round((1 - s) * len(self.workers[Role.CLIENT_MANAGER])),
            Role.WMO_CONSULTANT: round((1 - s) * len(self.workers[Role.WMO_CONSULTANT])),
            Role.GENERALIST: round(s * len(self.workers[Role.GENERALIST])),
            Role.REGISSEUR: round(s * len(self.workers[Role.REGISSEUR])),
        }
        for role, workers in self.workers.items():
            for i, w in enumerate(workers):
                w.active = i < active[role]
                w.caseload = 0
        salary = p["staff.salary"]
        staff_holder = {Role.CLIENT_MANAGER: Holder.PWET_PARTICIPATION, Role.WMO_CONSULTANT: Holder.WMO,
                        Role.GENERALIST: Holder.POOLED, Role.REGISSEUR: Holder.POOLED}
        staff_cost = np.zeros(N_HOLDERS)
        for role, n in active.items():
            staff_cost[staff_holder[role]] += n * salary
        budgets = {
            Holder.PWET_INCOME: p["benefit.cost_per_year"] * stock,
            Holder.PWET_PARTICIPATION: (1 - s) * participation,
            Holder.WMO: (1 - s) * wmo,
            Holder.POOLED: s * (participation + wmo),
        }
        for h, holder in self.holders.items():
            holder.open_year(budgets[h] + staff_cost[h])
            holder.commit(staff_cost[h])
            holder.spent[Instrument.CASE_MANAGEMENT] = staff_cost[h]
        self.active_staff = active
        self.counts = {k: 0.0 for k in ("inflow", "exits", "reached", "found_in_household", "new_traj_wmo_clients",
                                        "new_traj", "care_exits", "dropouts", "lock_ins", "job_losses")}
        self.counts.update({f"exit_{r.name.lower()}": 0.0 for r in ExitReason})
        self.counts.update({k: 0.0 for k in OBSERVED_COUNTS})
        self.counts.update({f"outflow_{s.name.lower()}": 0.0 for s in (Status.REGULAR_WORK, Status.SUBSIDISED_WORK,
                                                                        Status.SHELTERED_WORK)})
        self.start_residents = len(alive)

    def _demography(self) -> None:
        p, s, pop, year = self.p, self.streams, self.pop, self.year
        rows = pop.alive_rows()
        pop.age[rows] += 1.0
        pop.entry_month[rows] = 0.0
        age, uid = pop.age[rows], pop.uid[rows]
        load = prob.problem_load(pop.sev[rows])
        reason = np.full(len(rows), -1)
        scripted_out = pop.persona[rows] < 0
        checks = [
            (ExitReason.RECOVERED, demo.household_leaves(pop.household[rows], demo.recovered(
                pop.employment[rows] == Status.REGULAR_WORK, pop.years_in_work[rows], load,
                p["demography.recovery_years"], p["demography.recovery_severity"])
                | demo.unseen_without_need(self.status_of(rows) == Status.NOT_IN_SIGHT, load,
                                           p["access.hidden_need"]))),
            # Personas are kept from moving away or dying so that their path can be followed.
            (ExitReason.MOVED, (s.uniform(uid, year, Event.EXIT_MOVE) < p["demography.move_rate"]) & scripted_out),
            (ExitReason.DEATH, (s.uniform(uid, year, Event.EXIT_DEATH) < demo.mortality(
                age, p["demography.mortality_at_40"], p["demography.gompertz_slope"])) & scripted_out),
            (ExitReason.RETIREMENT, age >= p["population.pension_age"]),
        ]
        for r, hit in checks:  # later checks win: retirement over death over moving over recovery
            reason[hit] = r
        leaving = reason >= 0
        self.counts["benefit_exits_demographic"] = float((leaving & pop.on_benefit[rows]).sum())
        self._remove(rows[leaving], reason[leaving])

        slack = self.slack(year)
        factor = demo.cycle_factor(slack, p["economy.reference_unemployed_per_vacancy"], p["economy.inflow_elasticity"])
        key = np.array([0, 1])
        u = s.uniform(key, year, Event.INFLOW_COUNT)
        n_reports = demo.stochastic_round(self.inhabitants * p["inflow.benefit_reports_per_inhabitant"] * factor, u[0])
        n_wmo = demo.stochastic_round(self.inhabitants * p["inflow.wmo_per_inhabitant"], u[1])
        kinds = np.concatenate([np.full(n_reports, Kind.INFLOW_REPORT, dtype=np.int8),
                                np.full(n_wmo, Kind.INFLOW_WMO, dtype=np.int8)])
        new = self._new_households(kinds, draw_entry_month=True)
        self.counts["inflow"] = float(len(new))

    def slack(self, year: int) -> float:
        """Unemployed per vacancy in ``year`` (the last value of the path holds)."""
        path = self.p["economy.unemployed_per_vacancy_path"]
        return path[min(year, len(path) - 1)]

    def _remove(self, rows: np.ndarray, reasons: np.ndarray) -> None:
        pop = self.pop
        pop.alive[rows] = False
        pop.exit_reason[rows] = reasons
        pop.provisions[rows] = 0
        pop.firm[rows] = -1
        pop.on_benefit[rows] = False
        agents = self._agents_by_row
        for r in rows.tolist():
            agents[r].remove()
            agents[r] = None
        per_reason = np.bincount(np.asarray(reasons, dtype=np.int64), minlength=len(ExitReason))
        for reason in ExitReason:
            self.counts[f"exit_{reason.name.lower()}"] += float(per_reason[reason])
        self.counts["exits"] += len(rows)

    def _problem_dynamics(self) -> None:
        p, s, pop = self.p, self.streams, self.pop
        rows = pop.alive_rows()
        uid = pop.uid[rows]
        sev = pop.sev[rows]
        prov = pop.provisions[rows]
        working = pop.employment[rows] >= 0
        active = (prov & ACTIVITY_BITS) != 0
        guided = (prov & GUIDANCE_BIT) != 0
        inactive = ~working & ~active
        load = prob.problem_load(sev)
        other, _ = dyn.other_members_load(pop.household[rows], load)
        noise = np.stack([s.normal(uid, self.year, Event.SEVERITY_NOISE + d) for d in range(N_DOMAINS)], axis=1)
        pop.sev[rows] = dyn.severity_change(sev, working, active, guided, inactive, load, other, noise, p)
        pop.wage[rows] = dyn.wage_value_change(pop.wage[rows], working | ((prov & TRAJ_BITS) != 0), p)
        pop.sev[rows, Domain.WORK_INCOME] = prob.work_income_severity(
            pop.employment[rows] == Status.REGULAR_WORK, pop.wage[rows])

    def _access(self) -> None:
        p, s, pop, year = self.p, self.streams, self.pop, self.year
        rows = pop.alive_rows()
        uid = pop.uid[rows]
        handled = self.handled_by_desk(rows)
        load = prob.problem_load(pop.sev[rows])
        hidden = (pop.desk[rows] == Desk.NONE) & ~pop.on_benefit[rows] & (pop.employment[rows] < 0) & (
            pop.provisions[rows] == 0)
        need = load >= p["access.hidden_need"]
        p_reach = p["access.reach_base"] + p["access.outreach_gain"] * handled
        reached = hidden & need & (s.uniform(uid, year, Event.REACH) < p_reach)
        # A generalist's household intake sees every member [R12]: hidden members of known households are found.
        known = pop.desk[rows] != Desk.NONE
        hh = pop.household[rows]
        known_hh = np.isin(hh, hh[known & handled])
        found = hidden & need & handled & known_hh & ~reached & (
            s.uniform(uid, year, Event.HOUSEHOLD_FIND) < p["integrated.household_find"])
        come_in = reached | found
        r = rows[come_in]
        pop.on_benefit[r] = pop.employment[r] < 0
        pop.desk[r] = np.where(handled[come_in], Desk.PWET | Desk.WMO, Desk.PWET)
        pop.spell_years[r] = 0.0
        pop.entry_month[r] = MONTHS_PER_YEAR * s.uniform(pop.uid[r], year, Event.REACH_MONTH)
        # Handled residents are known to the one household intake, i.e. to both laws.
        pop.desk[rows[handled & known]] = Desk.PWET | Desk.WMO
        # Under partitions a benefit client with low self-reliance may apply to the Wmo on own initiative.
        low_sr = prob.self_reliance(pop.sev[rows]) < p["wmo.need_threshold"]
        refer = ~handled & pop.on_benefit[rows] & low_sr & ((pop.desk[rows] & Desk.WMO) == 0) & (
            s.uniform(uid, year, Event.WMO_SELF_REFERRAL) < p["pwet.wmo_self_referral"])
        pop.desk[rows[refer]] |= Desk.WMO
        # Under partitions, moving from Wmo day activities towards work needs a new P-wet intake [BK18][FW19].
        in_day = (pop.provisions[rows] & DAY_BITS) != 0
        cross = ~handled & in_day & pop.on_benefit[rows] & (
            s.uniform(uid, year, Event.CROSS_INTAKE) < p["pwet.cross_law_intake_prob"])
        c = rows[cross]
        pop.provisions[c] &= np.invert(np.uint16(DAY_BITS))
        pop.firm[c] = -1
        pop.desk[c] |= Desk.PWET
        self.counts["reached"] = float(reached.sum())
        self.counts["found_in_household"] = float(found.sum())

    # ------------------------------------------------------------------ allocation
    def _firm_slots(self, stream: Holder | None) -> np.ndarray:
        """Free places as a list of firm indices (one entry per free place) for a funding stream.

        Under partitions the P-wet and the Wmo fill only the places they bought; the pooled desk
        (``stream`` None) may fill any free place [SR].
        """
        pop = self.pop
        rows = pop.alive_rows()
        firm = pop.firm[rows]
        handled = self.handled_by_desk(rows)
        wmo_paid = ((pop.provisions[rows] & bits([Instrument.DAY_ACTIVITIES_WORKLIKE])) != 0) & ~handled
        pwet_paid = ((pop.provisions[rows] & bits([Instrument.SOCIAL_FIRM])) != 0) & ~handled
        slots = []
        for f in self.firms:
            at = firm == f.index
            free_total = f.places - int(at.sum())
            if stream == Holder.PWET_PARTICIPATION:
                free = min(f.pwet_places - int((at & pwet_paid).sum()), free_total)
            elif stream == Holder.WMO:
                free = min(f.wmo_places - int((at & wmo_paid).sum()), free_total)
            else:
                free = free_total
            slots.append(np.full(max(free, 0), f.index, dtype=np.int32))
        return np.concatenate(slots) if slots else np.empty(0, dtype=np.int32)

    def _caseload_room(self, role: Role, in_care: int) -> int:
        cap = sum(w.caseload_limit for w in self.workers[role] if w.active)
        return max(cap - in_care, 0)

    def _start(self, rows: np.ndarray, instruments: np.ndarray, firm: np.ndarray | None = None) -> None:
        pop = self.pop
        for instr in np.unique(instruments):
            r = rows[instruments == instr]
            pop.provisions[r] |= np.uint16(1 << int(instr))
            if int(instr) in TRAJECTORY_INSTRUMENTS:
                pop.trajectory_years[r] = 0.0
                pop.locked_in[r] = False
        pop.activity_start_year[rows] = self.year
        if firm is not None:
            pop.firm[rows] = firm
            self._firm_started[rows[firm >= 0]] = True

    def _year_fraction(self, rows) -> np.ndarray:
        return (MONTHS_PER_YEAR - self.pop.entry_month[rows]) / MONTHS_PER_YEAR

    def _allocation(self) -> None:
        pop = self.pop
        rows = pop.alive_rows()
        self._moved = np.zeros(pop.n, dtype=bool)  # dated transition this year
        self._month = np.full(pop.n, MONTHS_PER_YEAR)
        self._benefit_before = pop.on_benefit[: pop.n].copy()
        self._job_coaching = np.zeros(pop.n, dtype=bool)
        self._regie = np.zeros(pop.n, dtype=bool)
        self._light = np.zeros(pop.n, dtype=bool)  # light problems handled by the generalist this year
        self._firm_started = np.zeros(pop.n, dtype=bool)  # took a social-firm place this year
        self._firm_dropped = np.zeros(pop.n, dtype=bool)  # left that place by drop-out the same year
        self._outflow_rows = []
        handled = self.handled_by_desk(rows)
        frac = self._year_fraction(rows)
        # Review at the start of the year: planned trajectory ends, lock-in, recovered Wmo clients.
        self._trajectory_ends(rows, handled)
        self._care_exits(rows)
        # Provisions that continue from last year are contracts: commit them first.
        self._commit_continuing(rows, handled, frac)
        self._allocate_sheltered(rows, handled)
        self._allocate_pwet(rows[~handled])
        self._allocate_wmo(rows[~handled])
        self._allocate_integrated(rows[handled])
        self._provisions_before = pop.provisions[: pop.n].copy()
        on_benefit = pop.on_benefit[rows]
        self.counts["benefit_stock_at_allocation"] = float(on_benefit.sum())
        self.counts["reintegration_served"] = float((on_benefit & ((pop.provisions[rows] & TRAJ_BITS) != 0)).sum())

    def _yearly_price(self, instrument: Instrument, rows) -> np.ndarray | float:
        """Price of a year of the instrument; the wage-cost subsidy is (1 - wage value) of the minimum-wage cost."""
        if instrument == Instrument.WAGE_SUBSIDY:
            return self.price[instrument] * (1.0 - self.pop.wage[rows])
        return self.price[instrument]

    def _provision_cost(self, rows, prov: np.ndarray) -> np.ndarray:
        """Yearly cost (EUR) of the provisions in ``prov`` (bit masks), per resident."""
        cost = np.zeros(len(rows))
        for i in Instrument:
            if i in (Instrument.BENEFIT, Instrument.CASE_MANAGEMENT):
                continue
            held = (prov & (1 << int(i))) != 0
            cost += held * self._yearly_price(i, rows)
        return cost

    def _charged(self, instruments: np.ndarray, frac: np.ndarray) -> np.ndarray:
        """Share of the yearly price charged: all of it for a lump-sum trajectory, else the part of the year held."""
        return np.where(np.isin(instruments, LUMP_SUM_INSTRUMENTS), 1.0, frac)

    def _commit_continuing(self, rows, handled, frac) -> None:
        prov = self.pop.provisions[rows]
        for i in Instrument:
            if i in (Instrument.BENEFIT, Instrument.CASE_MANAGEMENT) or i in LUMP_SUM_INSTRUMENTS:
                continue  # lump sums were paid when the trajectory started
            held = (prov & (1 << int(i))) != 0
            if not held.any():
                continue
            amount = held * self._yearly_price(i, rows) * frac
            for h_flag in (False, True):
                sel = handled == h_flag
                self.holders[self.payer_of(i, h_flag)].commit(float(amount[sel].sum()))

    def _allocate_sheltered(self, rows, handled) -> None:
        """Sheltered work (beschut werk) for those who can work only in a sheltered setting, while places last."""
        p, pop = self.p, self.pop
        free = self.sheltered_places - int((pop.employment[rows] == Status.SHELTERED_WORK).sum())
        if free <= 0:
            return
        wage = pop.wage[rows]
        band = (wage >= p["wage.sheltered_min"]) & (wage < p["wage.subsidy_min"])
        known_pwet = (pop.desk[rows] & Desk.PWET) != 0
        no_wmo = (pop.provisions[rows] & WMO_BITS) == 0
        cand = band & (pop.employment[rows] < 0) & pop.on_benefit[rows] & known_pwet & (handled | no_wmo)
        frac = self._year_fraction(rows)
        cost = self.price[Instrument.SHELTERED_WORK] * frac
        chosen = np.zeros(len(rows), dtype=bool)
        for h_flag in (False, True):
            sel = cand & (handled == h_flag)
            holder = self.holders[self.payer_of(Instrument.SHELTERED_WORK, h_flag)]
            pick = alloc.select_within_limits(wage[sel], cost[sel], holder.remaining, free - int(chosen.sum()))
            idx = np.flatnonzero(sel)[pick]
            chosen[idx] = True
            holder.commit(float(cost[idx].sum()))
        r = rows[chosen]
        pop.employment[r] = Status.SHELTERED_WORK
        pop.provisions[r] = (pop.provisions[r] & np.invert(np.uint16(ACTIVITY_BITS))) | np.uint16(
            1 << int(Instrument.SHELTERED_WORK))
        pop.firm[r] = -1
        pop.on_benefit[r] = False
        pop.left_for_work[r] = True
        pop.left_benefit_at[r] = self.year + pop.entry_month[r] / MONTHS_PER_YEAR
        self._moved[r] = True
        self._month[r] = pop.entry_month[r]
        self._outflow_rows.append(r)
        self.counts["outflow_sheltered_work"] += len(r)
        self.counts["leavers_for_work"] += len(r)

    def _allocate_pwet(self, rows) -> None:
        """Partitioned P-wet: client managers serve benefit clients known to them, best outflow chance first [M16]."""
        p, pop = self.p, self.pop
        prov = pop.provisions[rows]
        in_care = int(((prov & (TRAJ_BITS)) != 0).sum())
        room = self._caseload_room(Role.CLIENT_MANAGER, in_care)
        known = (pop.desk[rows] & Desk.PWET) != 0
        # Wmo clients are not on a client manager's list: they never enter a P-wet trajectory here.
        cand = known & pop.on_benefit[rows] & (pop.employment[rows] < 0) & ((prov & (ACTIVITY_BITS | WMO_BITS)) == 0)
        instr = alloc.pwet_instrument(pop.wage[rows], p)
        cand &= instr != alloc.NONE
        idx = np.flatnonzero(cand)
        if len(idx) == 0:
            return
        r = rows[idx]
        instr = instr[idx]
        frac = self._year_fraction(r)
        priority = alloc.pwet_priority(pop.wage[r], pop.years_out[r], p)
        holder = self.holders[Holder.PWET_PARTICIPATION]
        chosen = alloc.select_within_limits(priority, self.price[instr] * self._charged(instr, frac),
                                            holder.remaining, room)
        r, instr, priority, frac = r[chosen], instr[chosen], priority[chosen], frac[chosen]
        wants = instr == Instrument.SOCIAL_FIRM
        firm = alloc.assign_slots(wants, priority, self._firm_slots(Holder.PWET_PARTICIPATION))
        instr = np.where(wants & (firm < 0), Instrument.TRAINING, instr).astype(np.int8)
        holder.commit(float((self.price[instr] * self._charged(instr, frac)).sum()))
        self._start(r, instr, np.where(instr == Instrument.SOCIAL_FIRM, firm, -1))
        self.counts["new_traj"] += len(r)

    def _wmo_package(self, rows, day_allowed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Wmo package from the self-reliance view: guidance, household help, day activities [M16]."""
        p, pop = self.p, self.pop
        sev = pop.sev[rows]
        severe = p["problems.severe_threshold"]
        guidance = prob.count_severe(sev, BLOCKING_DOMAINS, severe) > 0
        help_ = sev[:, Domain.PHYSICAL] >= severe
        day = day_allowed & ((sev[:, Domain.ISOLATION] >= severe) | ~(guidance | help_))
        guidance |= ~(day | help_)
        bits = (guidance * (1 << int(Instrument.GUIDANCE)) | help_ * (1 << int(Instrument.HOUSEHOLD_HELP))).astype(
            np.uint16)
        return bits, day

    def _allocate_wmo(self, rows) -> None:
        """Partitioned Wmo: consultants grant support by need to residents who applied to the Wmo [M16]."""
        p, s, pop = self.p, self.streams, self.pop
        prov = pop.provisions[rows]
        in_care = int(((prov & WMO_BITS) != 0).sum())
        room = self._caseload_room(Role.WMO_CONSULTANT, in_care)
        sr = prob.self_reliance(pop.sev[rows])
        cand = ((pop.desk[rows] & Desk.WMO) != 0) & (pop.employment[rows] < 0) & (sr < p["wmo.need_threshold"]) & (
            (prov & WMO_BITS) == 0)
        idx = np.flatnonzero(cand)
        if len(idx) == 0:
            return
        r = rows[idx]
        bits, day = self._wmo_package(r, (pop.provisions[r] & TRAJ_BITS) == 0)
        frac = self._year_fraction(r)
        cost = (self._provision_cost(r, bits) + day * self.price[Instrument.DAY_ACTIVITIES]) * frac
        holder = self.holders[Holder.WMO]
        need = 1.0 - sr[idx]
        chosen = alloc.select_within_limits(need, cost, holder.remaining, room)
        r, bits, day, need, frac = r[chosen], bits[chosen], day[chosen], need[chosen], frac[chosen]
        # Referral to a work-like place at the social firm stagnates under partitions [SR].
        refer = day & (s.uniform(pop.uid[r], self.year, Event.FIRM_REFERRAL) < p["firm.wmo_referral_partitioned"])
        firm = alloc.assign_slots(refer, need, self._firm_slots(Holder.WMO))
        day_instr = np.where(firm >= 0, Instrument.DAY_ACTIVITIES_WORKLIKE, Instrument.DAY_ACTIVITIES)
        pop.provisions[r] |= bits
        self._start(r[day], day_instr[day].astype(np.int8), firm[day])
        holder.commit(float(((self._provision_cost(r, bits) + day * self.price[day_instr]) * frac).sum()))

    def _allocate_integrated(self, rows) -> None:
        """Pooled desk: one household intake, all domains, instruments of both laws combined, judged on total cost [R12][SR]."""
        p, pop = self.p, self.pop
        if len(rows) == 0:
            return
        prov = pop.provisions[rows]
        in_care = int(((prov & (ACTIVITY_BITS | WMO_BITS)) != 0).sum())
        room = self._caseload_room(Role.GENERALIST, in_care)
        sev = pop.sev[rows]
        sr = prob.self_reliance(sev)
        known = pop.desk[rows] != Desk.NONE
        cand = known & (pop.employment[rows] < 0) & (pop.on_benefit[rows] | (sr < p["wmo.need_threshold"])) & (
            (prov & ACTIVITY_BITS) == 0)
        self._assign_regie(rows)
        idx = np.flatnonzero(cand)
        if len(idx) == 0:
            return
        r = rows[idx]
        wage = pop.wage[r]
        core = alloc.integrated_instrument(wage, p)
        severe = p["problems.severe_threshold"]
        blocking = prob.count_severe(pop.sev[r], BLOCKING_DOMAINS, severe)
        has_guidance = (pop.provisions[r] & GUIDANCE_BIT) != 0
        # The generalist handles light problems directly and refers on only heavier ones [R12].
        refer = blocking >= p["integrated.referral_severe_count"]
        light = (blocking > 0) & ~refer
        extra = (refer & ~has_guidance) * (1 << int(Instrument.GUIDANCE)) | (
            (pop.sev[r, Domain.PHYSICAL] >= severe) & ((pop.provisions[r] & (1 << int(Instrument.HOUSEHOLD_HELP))) == 0)
        ) * (1 << int(Instrument.HOUSEHOLD_HELP))
        extra = extra.astype(np.uint16)
        frac = self._year_fraction(r)
        cost = self.price[core] * self._charged(core, frac) + self._provision_cost(r, extra) * frac
        # Expected gain in job chance from the package, seen from all domains.
        base_h = out.job_hazard(wage, pop.years_out[r], prob.problem_load(pop.sev[r]), pop.motivation[r], p)
        mult = np.select([core == Instrument.MEDIATION, core == Instrument.SOCIAL_FIRM],
                         [p["work.mediation_effect"], p["work.trajectory_effect"]], p["work.worklike_effect"])
        unaddressed_now = np.where(has_guidance | self._regie[r], 0, blocking)
        addressed_by_package = np.where(refer | light, 0, unaddressed_now)
        with_pkg = out.hazard_to_probability(base_h * mult * out.unaddressed_multiplier(
            addressed_by_package, p["work.unaddressed_penalty"]))
        without = out.hazard_to_probability(base_h * out.unaddressed_multiplier(unaddressed_now,
                                                                                p["work.unaddressed_penalty"]))
        priority = alloc.coordinated_first(
            alloc.integrated_priority(with_pkg - without, pop.on_benefit[r], 1.0 - sr[idx], cost, p), self._regie[r])
        holder = self.holders[Holder.POOLED]
        chosen = alloc.select_within_limits(priority, cost, holder.remaining, room)
        r, core, extra, priority, frac = r[chosen], core[chosen], extra[chosen], priority[chosen], frac[chosen]
        self._light[r[light[chosen]]] = True
        wants = np.isin(core, FIRM_INSTRUMENTS)
        firm = alloc.assign_slots(wants, priority, self._firm_slots(None))
        fallback = np.where(core == Instrument.SOCIAL_FIRM, Instrument.TRAINING, Instrument.DAY_ACTIVITIES)
        core = np.where(wants & (firm < 0), fallback, core).astype(np.int8)
        self.counts["new_traj_wmo_clients"] += float(
            (np.isin(core, TRAJECTORY_INSTRUMENTS) & ((pop.provisions[r] & WMO_BITS) != 0)).sum())
        self.counts["new_traj"] += float(np.isin(core, TRAJECTORY_INSTRUMENTS).sum())
        pop.provisions[r] |= extra
        self._start(r, core, np.where(np.isin(core, FIRM_INSTRUMENTS), firm, -1))
        holder.commit(float((self.price[core] * self._charged(core, frac) + self._provision_cost(r, extra) * frac).sum()))

    def _assign_regie(self, rows) -> None:
        """Regisseurs coordinate the heaviest multi-problem households, up to their caseload [R12]."""
        p, pop = self.p, self.pop
        cap = sum(w.caseload_limit for w in self.workers[Role.REGISSEUR] if w.active)
        if cap == 0 or len(rows) == 0:
            return
        severe = prob.count_severe(pop.sev[rows], tuple(Domain)[1:], p["problems.severe_threshold"])
        hh, inv = np.unique(pop.household[rows], return_inverse=True)
        per_hh = np.bincount(inv, weights=severe)
        mp = np.flatnonzero(per_hh >= p["problems.multi_problem_count"])
        chosen_hh = mp[np.argsort(-per_hh[mp], kind="stable")][:cap]
        self._regie[rows[np.isin(inv, chosen_hh)]] = True

    # ------------------------------------------------------------------ outcomes
    def _outcomes(self) -> None:
        p, s, pop, year = self.p, self.streams, self.pop, self.year
        rows = pop.alive_rows()
        rows = rows[~self._moved[rows]]
        uid = pop.uid[rows]
        t0 = pop.entry_month[rows]
        frac = (MONTHS_PER_YEAR - t0) / MONTHS_PER_YEAR
        month = t0 + (MONTHS_PER_YEAR - t0) * s.uniform(uid, year, Event.JOB_MONTH)
        handled = self.handled_by_desk(rows)
        prov = pop.provisions[rows]
        emp = pop.employment[rows]
        wage = pop.wage[rows]
        sev = pop.sev[rows]
        load = prob.problem_load(sev)
        not_employed = emp < 0
        severe = p["problems.severe_threshold"]
        guided = ((prov & GUIDANCE_BIT) != 0) | self._regie[rows] | self._light[rows]
        unaddressed = np.where(guided, 0, prob.count_severe(sev, BLOCKING_DOMAINS, severe))

        # Jobs: who can be hired, at what chance.
        has = {i: (prov & (1 << int(i))) != 0 for i in Instrument}
        arranged = ((prov & PWET_TRAJ_FOR_SUBSIDY) != 0) | (has[Instrument.DAY_ACTIVITIES_WORKLIKE] & handled)
        regular_ok = wage >= p["wage.regular_min"]
        subsidy_ok = (wage >= p["wage.subsidy_min"]) & arranged
        h = out.job_hazard(wage, pop.years_out[rows], load, pop.motivation[rows], p)
        hard_core = load >= p["economy.hard_core_severity"]
        h *= out.cycle_multiplier(self.slack(year), p["economy.reference_unemployed_per_vacancy"],
                                  p["economy.job_elasticity"], hard_core)
        h *= np.select(
            [has[Instrument.MEDIATION], has[Instrument.SOCIAL_FIRM], has[Instrument.TRAINING],
             has[Instrument.DAY_ACTIVITIES_WORKLIKE]],
            [p["work.mediation_effect"], p["work.trajectory_effect"], p["work.training_effect"],
             p["work.worklike_effect"]],
            1.0,
        )
        h *= np.where(has[Instrument.SOCIAL_FIRM],
                      out.firm_group_multiplier(pop.age[rows], pop.years_out[rows], pop.discrimination[rows], p), 1.0)
        h *= np.where(pop.locked_in[rows], p["firm.lock_in_job_factor"], 1.0)
        h *= out.unaddressed_multiplier(unaddressed, p["work.unaddressed_penalty"])
        h *= np.where(pop.on_benefit[rows] & (pop.spell_years[rows] < 1.0), p["benefit.first_year_exit_boost"], 1.0)
        job = not_employed & (regular_ok | subsidy_ok) & (
            s.uniform(uid, year, Event.JOB) < out.hazard_to_probability(h * frac))
        kind = np.where(regular_ok, Status.REGULAR_WORK, Status.SUBSIDISED_WORK)

        # Other exits from benefit (partner income, other benefits) [FW19].
        other = ~job & pop.on_benefit[rows] & (pop.persona[rows] < 0) & (
            s.uniform(uid, year, Event.OTHER_EXIT) < out.hazard_to_probability(p["benefit.other_exit_rate"] * frac))

        # Drop-out from trajectories and day activities [SR].
        in_activity = (prov & ACTIVITY_BITS) != 0
        drop = ~job & ~other & in_activity & (
            s.uniform(uid, year, Event.DROPOUT) < out.dropout_probability(pop.disability[rows], guided, p) * frac)

        # Job loss and the end of subsidised jobs.
        loss_p = out.job_loss_probability(load, p)
        loss_p = np.where(emp == Status.SUBSIDISED_WORK, 1 - (1 - loss_p) * (1 - p["work.subsidised_end_rate"]), loss_p)
        loss = ((emp == Status.REGULAR_WORK) | (emp == Status.SUBSIDISED_WORK)) & (
            s.uniform(uid, year, Event.JOB_LOSS) < loss_p * frac)

        moved = job | other | drop | loss
        self._moved[rows] = moved
        self._month[rows[moved]] = month[moved]

        self._observe(rows, job, other, drop, loss, month, t0, has[Instrument.SOCIAL_FIRM])

        # Apply: jobs.
        j = rows[job]
        was_on_benefit = pop.on_benefit[j]
        pop.employment[j] = kind[job]
        pop.on_benefit[j] = False
        pop.left_for_work[j] = was_on_benefit | pop.left_for_work[j]
        pop.left_benefit_at[j[was_on_benefit]] = year + month[job][was_on_benefit] / MONTHS_PER_YEAR
        pop.provisions[j] &= np.invert(np.uint16(ACTIVITY_BITS))
        sub = j[kind[job] == Status.SUBSIDISED_WORK]
        pop.provisions[sub] |= np.uint16(1 << int(Instrument.WAGE_SUBSIDY))
        self._job_coaching[sub] = True
        pop.firm[j] = -1
        pop.locked_in[j] = False
        pop.years_out[j] = 0.0
        pop.spell_years[j] = 0.0
        pop.years_in_work[j] = 0.0
        self._outflow_rows.append(j)
        self.counts["outflow_regular_work"] += float((kind[job] == Status.REGULAR_WORK).sum())
        self.counts["outflow_subsidised_work"] += float(len(sub))
        # Drop-outs.
        d = rows[drop]
        pop.provisions[d] &= np.invert(np.uint16(ACTIVITY_BITS))
        pop.firm[d] = -1
        pop.locked_in[d] = False
        self.counts["dropouts"] = float(len(d))
        # Job losses: back to benefit, known to the P-wet [FW19 returns].
        lo = rows[loss]
        pop.employment[lo] = -1
        pop.provisions[lo] &= np.invert(np.uint16(bits([Instrument.WAGE_SUBSIDY])))
        pop.on_benefit[lo] = True
        pop.left_for_work[lo] = False
        pop.desk[lo] |= Desk.PWET
        pop.spell_years[lo] = 0.0
        self.counts["job_losses"] = float(len(lo))
        # Other exits leave the population after accounting.
        self._leaving = rows[other]

        # Durations.
        emp_now = pop.employment[rows] >= 0
        pop.years_in_work[rows] += np.where(emp_now & ~job, frac, 0.0)
        pop.years_out[rows] += np.where(~emp_now, frac, 0.0)
        pop.spell_years[rows] += np.where(pop.on_benefit[rows] & ~loss, frac, 0.0)

    def _observe(self, rows, job, other, drop, loss, month, t0, at_firm) -> None:
        """Record the dynamics that calibration checks: spells at exit, returns, work spells, firm outcomes."""
        pop, c, year = self.pop, self.counts, self.year
        spell = pop.spell_years[rows] + (month - t0) / MONTHS_PER_YEAR  # benefit spell at the moment of exit
        from_benefit = pop.on_benefit[rows]
        for kind, ended in (("work", job & from_benefit), ("other", other)):
            bands = np.searchsorted(np.asarray(EXIT_SPELL_EDGES), spell[ended], side="right")
            for k, label in enumerate(EXIT_SPELL_LABELS):
                c[f"exits_{kind}_spell_{label}"] += float((bands == k).sum())
        completed = (job & from_benefit) | other
        c["outflow_work_within_half_year"] += float((job & from_benefit & (spell < HALF_YEAR)).sum())
        c["completed_spells"] += float(completed.sum())
        c["completed_spell_months"] += float(spell[completed].sum() * MONTHS_PER_YEAR)
        c["leavers_for_work"] += float((job & from_benefit).sum())
        # Returns: job losses of residents who had left benefit for work, by time since leaving.
        since = year + month / MONTHS_PER_YEAR - pop.left_benefit_at[rows]
        returned = loss & np.isfinite(since)
        c["returns"] += float(returned.sum())
        for w in RETURN_WINDOWS:
            c[f"returns_within_{int(w)}y"] += float((returned & (since <= w)).sum())
        c["work_spells_ended"] += float(loss.sum())
        c["work_spell_years_sum"] += float((pop.years_in_work[rows] + (month - t0) / MONTHS_PER_YEAR)[loss].sum())
        c["firm_trajectories_to_work"] += float((job & at_firm).sum())
        c["firm_trajectories_ended"] += float(((job | drop | other) & at_firm).sum())
        started_now = pop.activity_start_year[rows] == year
        self._firm_dropped[rows[drop & (pop.firm[rows] >= 0) & started_now]] = True

    def _trajectory_ends(self, rows, handled) -> None:
        """At the planned end a trajectory stops, unless LVB clients stay [SR] or the firm locks a productive client in [SR]."""
        p, s, pop, year = self.p, self.streams, self.pop, self.year
        prov = pop.provisions[rows]
        in_traj = (prov & TRAJ_BITS) != 0
        pop.trajectory_years[rows[in_traj]] += 1.0
        done = in_traj & (pop.trajectory_years[rows] >= p["firm.trajectory_years"])
        at_firm = (prov & bits([Instrument.SOCIAL_FIRM])) != 0
        uid = pop.uid[rows]
        lvb = pop.disability[rows] == Disability.INTELLECTUAL
        stay_lvb = done & at_firm & lvb & (s.uniform(uid, year, Event.LVB_STAY) < p["firm.lvb_stay_prob"])
        free_sheltered = self.sheltered_places - int((pop.employment[rows] == Status.SHELTERED_WORK).sum())
        to_sheltered = done & at_firm & lvb & ~stay_lvb & (
            s.uniform(uid, year, Event.TO_SHELTERED) < p["firm.lvb_to_sheltered"])
        if free_sheltered <= 0:
            to_sheltered[:] = False
        else:
            keep = np.flatnonzero(to_sheltered)[:free_sheltered]
            to_sheltered[:] = False
            to_sheltered[keep] = True
        lock = done & at_firm & ~stay_lvb & ~to_sheltered & (
            s.uniform(uid, year, Event.LOCK_IN) < out.lock_in_probability(pop.wage[rows], handled, p))
        pop.locked_in[rows[lock]] = True
        self.counts["lock_ins"] = float(lock.sum())
        ends = done & ~stay_lvb & ~lock
        self.counts["firm_trajectories_ended"] += float((ends & at_firm).sum())
        e = rows[ends]
        pop.provisions[e] &= np.invert(np.uint16(TRAJ_BITS))
        pop.firm[e] = -1
        pop.locked_in[e] = False
        sh = rows[to_sheltered]
        pop.employment[sh] = Status.SHELTERED_WORK
        pop.provisions[sh] = (pop.provisions[sh] & np.invert(np.uint16(ACTIVITY_BITS))) | np.uint16(
            1 << int(Instrument.SHELTERED_WORK))
        pop.firm[sh] = -1
        pop.left_for_work[sh] = pop.on_benefit[sh]
        pop.left_benefit_at[sh[pop.on_benefit[sh]]] = float(self.year)
        self.counts["leavers_for_work"] += float(pop.on_benefit[sh].sum())
        pop.on_benefit[sh] = False
        self._moved[sh] = True
        self._month[sh] = pop.entry_month[sh]
        self._outflow_rows.append(sh)
        self.counts["outflow_sheltered_work"] += float(len(sh))

    def _care_exits(self, rows) -> None:
        """Wmo support ends when self-reliance has recovered or no severe problem is left; the care no longer needed is a saving [SR]."""
        p, pop = self.p, self.pop
        prov = pop.provisions[rows]
        wmo = (prov & WMO_BITS) != 0
        sev = pop.sev[rows]
        no_severe = prob.count_severe(sev, tuple(Domain)[1:], p["problems.severe_threshold"]) == 0
        recovered = wmo & ((prob.self_reliance(sev) >= p["wmo.exit_self_reliance"]) | no_severe)
        r = rows[recovered]
        pop.care_saving[r] = self._provision_cost(r, pop.provisions[r] & np.uint16(WMO_BITS))
        pop.provisions[r] &= np.invert(np.uint16(WMO_BITS))
        pop.firm[r[(pop.provisions[r] & FIRM_BITS) == 0]] = -1
        self.counts["care_exits"] = float(len(r))

    # ------------------------------------------------------------------ accounting
    def _accounting(self) -> None:
        """Book every euro on its budget holder and instrument; attribute savings to the budget that gains them."""
        pop = self.pop
        rows = pop.alive_rows()
        n = pop.n
        t0 = pop.entry_month[rows]
        month = self._month[rows]
        handled = self.handled_by_desk(rows)
        before_prov = self._provisions_before[rows]
        after_prov = pop.provisions[rows].copy()
        leaving = np.isin(rows, self._leaving)
        after_prov[leaving] = 0
        benefit_after = pop.on_benefit[rows] & ~leaving
        cost = np.zeros((len(rows), N_INSTRUMENTS))
        ben_months = out.months_in_state(self._benefit_before[rows], benefit_after, month, t0, MONTHS_PER_YEAR)
        cost[:, Instrument.BENEFIT] = ben_months / MONTHS_PER_YEAR * self.price[Instrument.BENEFIT]
        started_now = pop.activity_start_year[rows] == self.year
        for i in Instrument:
            if i in (Instrument.BENEFIT, Instrument.CASE_MANAGEMENT, Instrument.JOB_COACHING):
                continue
            bit = 1 << int(i)
            if i in LUMP_SUM_INSTRUMENTS:  # the whole price in the year the trajectory starts
                cost[:, i] = ((before_prov & bit) != 0) * started_now * self.price[i]
                continue
            m = out.months_in_state((before_prov & bit) != 0, (after_prov & bit) != 0, month, t0, MONTHS_PER_YEAR)
            cost[:, i] = m / MONTHS_PER_YEAR * self._yearly_price(i, rows)
        cost[:, Instrument.JOB_COACHING] = self._job_coaching[rows] * self.price[Instrument.JOB_COACHING]
        payer = np.empty((len(rows), N_INSTRUMENTS), dtype=np.int64)
        for i in Instrument:
            if i == Instrument.CASE_MANAGEMENT:
                payer[:, i] = Holder.POOLED  # staff costs were booked at the start of the year; no resident pays
                continue
            payer[:, i] = np.where(handled, self.payer_of(i, True), self.payer_of(i, False))
        ledger = np.bincount((payer * N_INSTRUMENTS + np.arange(N_INSTRUMENTS)).ravel(), weights=cost.ravel(),
                             minlength=N_HOLDERS * N_INSTRUMENTS).reshape(N_HOLDERS, N_INSTRUMENTS)
        for h, holder in self.holders.items():
            holder.spent += ledger[h]
        self.resident_cost = np.zeros(n)
        self.resident_cost[rows] = cost.sum(axis=1)
        self.resident_cost_by_instrument = cost.sum(axis=0)

        # Savings: benefits not paid to those who left for work; care not needed after a care exit.
        employed = pop.employment[rows] >= 0
        off_months = out.months_in_state(~self._benefit_before[rows], ~benefit_after, month, t0, MONTHS_PER_YEAR)
        off_months = np.where(pop.left_for_work[rows] & employed, off_months, 0.0)
        self.holders[Holder.PWET_INCOME].savings["benefit"] = float(
            (off_months / MONTHS_PER_YEAR * self.price[Instrument.BENEFIT]).sum())
        no_wmo = (after_prov & WMO_BITS) == 0
        care = np.where(no_wmo, pop.care_saving[rows], 0.0)
        pop.care_saving[rows[~no_wmo]] = 0.0
        for h_flag in (False, True):
            sel = handled == h_flag
            self.holders[self.payer_of(Instrument.GUIDANCE, h_flag)].savings["care"] += float(care[sel].sum())
        self.left_this_year = self._leaving
        if len(self._leaving):
            self._remove(self._leaving, np.full(len(self._leaving), ExitReason.OTHER_INCOME))

    # ------------------------------------------------------------------ outputs
    def _collect(self) -> None:
        self._record_personas()
        self.indicators = year_indicators(self)
        self.group_rows.extend(group_records(self))
        self.datacollector.collect(self)

    def _record_personas(self) -> None:
        """Append each persona member's state at the end of this year to ``persona_paths``."""
        for name, rows in self.persona_rows.items():
            for role_index, row in enumerate(rows.tolist()):
                role = PERSONAS[name]["members"][role_index]["role"]
                agent = self._agents_by_row[row]
                if agent is not None:
                    state = agent.snapshot()
                else:
                    why = ExitReason(int(self.pop.exit_reason[row])).name.lower()
                    state = {"uid": int(self.pop.uid[row]), "alive": False, "status": f"left ({why})",
                             "on_benefit": False, "provisions": [], "payers": {}, "severities": {}}
                self.persona_paths.append({"year": self.year + 1, "persona": name, "member": role,
                                           "regime_share": self.share, **state})

    def release(self) -> None:
        """Let Python free this model once the caller drops it.

        Mesa 3.3.1 keeps every model it has seen in the class-level ``Agent._ids`` registry, so a
        process that runs many models (a sweep worker, the calibration) grows without bound
        (mesa/mesa#3179, fixed upstream in #3180 for Mesa versions that need Python >= 3.12). On
        those versions the registry is gone and this does nothing.
        """
        registry = getattr(mesa.Agent, "_ids", None)
        if isinstance(registry, dict):
            registry.pop(self, None)

    def agent_of(self, row: int) -> Resident | None:
        """The Resident agent of an array row (None once the resident has left)."""
        return self._agents_by_row[row]

    def tidy(self) -> pd.DataFrame:
        """Yearly indicators and group breakdowns as one long frame: year, indicator, group_by, group, value."""
        wide = self.datacollector.get_model_vars_dataframe().reset_index(drop=True)
        wide["year"] = np.arange(1, len(wide) + 1)
        long = wide.melt(id_vars="year", var_name="indicator", value_name="value")
        long["group_by"] = "all"
        long["group"] = "all"
        groups = pd.DataFrame(self.group_rows, columns=["year", "indicator", "group_by", "group", "value"])
        frame = pd.concat([long[groups.columns], groups], ignore_index=True)
        frame["value"] = frame["value"].astype(float)
        return frame


def _indicator(name: str, model: SocialDomainModel) -> float:
    """DataCollector reporter: one indicator, computed once per year by ``year_indicators`` (units in INDICATORS)."""
    return model.indicators[name]


__all__ = ["SocialDomainModel", "ParameterError", "PARAMETERS"]
