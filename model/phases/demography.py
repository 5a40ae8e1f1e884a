"""Demography and inflow: ageing, exits (pension, death, moving, out of the social domain), new households.

The initial population and each year's inflow are households: a head of a given kind (benefit
stock, Wmo stock, supported work, hidden; a benefit report or a Wmo applicant) plus extra adult
members whose problems correlate with the head's [R12 case Myra].
"""

from __future__ import annotations

import numpy as np

from model import entitlement
from model.constants import (
    MONTHS_PER_YEAR,
    N_DOMAINS,
    PER_10K,
    Desk,
    Domain,
    Event,
    ExitReason,
    Instrument,
    Kind,
    Member,
    Status,
)
from model.events import INITIAL_YEAR
from model.rules import benefit as ben
from model.rules import demography as demo
from model.rules import problems as prob


def run(pop, year, funding, actors, p, streams) -> None:
    """Everyone ages a year (on other income too); leavers leave (later reasons win); then this year's reports and Wmo applicants arrive."""
    rows = pop.alive_rows()
    pop.age_one_year(rows)
    reason = exit_reasons(pop, rows, year.index, p, streams)
    leaving = reason >= 0
    year.add("benefit_exits_demographic", (leaving & pop.on_benefit[rows]).sum())
    remove(pop, rows[leaving], reason[leaving], year, actors)
    factor = demo.cycle_factor(year.slack, p["economy.reference_unemployed_per_vacancy"],
                               p["economy.inflow_elasticity"])
    u = streams.uniform(np.array([0, 1]), year.index, Event.INFLOW_COUNT)
    inhabitants = p["scenario.inhabitants"]
    n_reports = demo.stochastic_round(inhabitants * p["inflow.benefit_reports_per_inhabitant"] * factor, u[0])
    n_wmo = demo.stochastic_round(inhabitants * p["inflow.wmo_per_inhabitant"], u[1])
    kinds = np.concatenate([np.full(n_reports, Kind.INFLOW_REPORT, dtype=np.int8),
                            np.full(n_wmo, Kind.INFLOW_WMO, dtype=np.int8)])
    new = new_households(pop, actors, kinds, year.index, p, streams, draw_entry_month=True)
    year.add("inflow", len(new))
    year.track(pop.n)  # the year's population is complete: the per-row marks start here


def exit_reasons(pop, rows, t: int, p, streams) -> np.ndarray:
    """Why each resident leaves this year (-1 stays): past the other-income horizon, recovery, moving, death, retirement.

    Personas stay [ODD]. Residents on other income age, move, die and retire like everyone; after
    ``benefit.return_horizon_years`` without a return they leave the social domain [DIV19].
    """
    age, uid = pop.age[rows], pop.uid[rows]
    load = pop.load[rows]
    scripted_out = pop.persona[rows] < 0
    recovered = demo.recovered(pop.employment[rows] == Status.REGULAR_WORK, pop.years_in_work[rows], load,
                               p["demography.recovery_years"], p["demography.recovery_severity"])
    unseen = demo.unseen_without_need(pop.status(rows) == Status.NOT_IN_SIGHT, load, p["access.hidden_need"])
    settled = pop.other_income[rows] & (t - pop.other_income_since[rows] >= p["benefit.return_horizon_years"])
    checks = [
        (ExitReason.OTHER_INCOME, settled & scripted_out),
        (ExitReason.RECOVERED, demo.household_leaves(pop.household[rows], recovered | unseen)),
        # Personas are kept from moving away or dying so that their path can be followed.
        (ExitReason.MOVED, (streams.uniform(uid, t, Event.EXIT_MOVE) < p["demography.move_rate"]) & scripted_out),
        (ExitReason.DEATH, (streams.uniform(uid, t, Event.EXIT_DEATH) < demo.mortality(
            age, p["demography.mortality_at_40"], p["demography.gompertz_slope"])) & scripted_out),
        (ExitReason.RETIREMENT, age >= p["population.pension_age"]),
    ]
    reason = np.full(len(rows), -1)
    for r, hit in checks:  # later checks win: retirement over death over moving over recovery over settling
        reason[hit] = r
    return reason


def remove(pop, rows, reasons, year, actors, month=0.0) -> None:
    """Residents leave the population and Mesa's agent set; exits are counted by reason."""
    pop.leave(rows, reasons, year.index, month)
    actors.residents.remove(rows)
    per_reason = np.bincount(np.asarray(reasons, dtype=np.int64), minlength=len(ExitReason))
    for reason in ExitReason:
        year.add(f"exit_{reason.name.lower()}", per_reason[reason])
    year.add("exits", len(rows))


def populate(pop, actors, p, streams) -> np.ndarray:
    """The initial stocks per inhabitant: benefit, Wmo, supported work, hidden (non-take-up) [M16]."""
    inh = p["scenario.inhabitants"]
    counts = {
        Kind.STOCK_BENEFIT: round(inh * p["population.benefit_per_inhabitant"]),
        Kind.STOCK_WMO: round(inh * p["population.wmo_per_inhabitant"]),
        Kind.STOCK_SUPPORTED: round(inh * p["population.supported_work_per_inhabitant"]),
        Kind.STOCK_HIDDEN: round(inh * p["population.hidden_per_inhabitant"]),
    }
    kinds = np.concatenate([np.full(n, k, dtype=np.int8) for k, n in counts.items()])
    return new_households(pop, actors, kinds, 0, p, streams, draw_entry_month=False)


def sheltered_places(p) -> int:
    """Sheltered-work places of the municipality."""
    return round(p["pwet.sheltered_places_per_10k"] * p["scenario.inhabitants"] / PER_10K)


def new_households(pop, actors, kinds, t: int, p, streams, draw_entry_month: bool) -> np.ndarray:
    """Create household heads of the given kinds plus their extra adult members; return the new rows.

    The initial population is there from month 0 (its events carry the set-up year); inflow arrives
    at a month drawn on the head.
    """
    if len(kinds) == 0:
        return np.empty(0, dtype=np.int64)
    ids = _household_ids(pop, kinds, t, p, streams)
    values = _profiles(ids, t, p, streams)
    head_kind = ids["kind"][ids["head_pos"]][ids["head_of"]]
    values.update(_positions(ids["kind"], head_kind, values, p, streams.uniform(ids["uid"], t, Event.INFLOW_TAKE_UP)))
    _claim_as_a_household(ids, values, p)
    values["own_income"] = _own_income(ids, values, t, p, streams)
    if draw_entry_month:
        month = MONTHS_PER_YEAR * streams.uniform(ids["head_uid"], t, Event.INFLOW_MONTH)
        values["entry_month"] = month[ids["head_of"]]
    values["desk_draw"] = streams.uniform(ids["uid"], 0, Event.DESK)
    rows = pop.enter(values, t if draw_entry_month else INITIAL_YEAR)
    actors.residents.create(rows)
    return rows


def _household_ids(pop, kinds, t, p, streams) -> dict[str, np.ndarray]:
    """Household size per head, then uids (each head followed by its members) and household ids."""
    n_heads = len(kinds)
    # Household size and composition are drawn per head before any uid is handed out.
    size = demo.household_sizes(streams.uniform(pop.next_uid + np.arange(n_heads), t, Event.INFLOW_SIZE),
                                p["population.household_size_probs"])
    total = int(size.sum())
    first_uid, first_household = pop.issue_ids(total, n_heads)
    uid = first_uid + np.arange(total)
    head_pos = np.concatenate([[0], np.cumsum(size)[:-1]])
    is_head = np.zeros(total, dtype=bool)
    is_head[head_pos] = True
    head_of = np.repeat(np.arange(n_heads), size)
    kind = np.where(is_head, kinds[head_of], Kind.MEMBER).astype(np.int8)
    # The second adult is the head's partner (one benefit unit) or a housemate (a unit of its own).
    has_partner = streams.uniform(uid[head_pos], t, Event.INFLOW_PARTNER) < p["population.partner_share"]
    position = np.arange(total) - head_pos[head_of]
    member = np.where(is_head, Member.HEAD, Member.HOUSEMATE)
    member = np.where((position == 1) & has_partner[head_of], Member.PARTNER, member).astype(np.int8)
    unit = np.where(member == Member.HOUSEMATE, uid, uid[head_pos][head_of])
    return {"uid": uid, "household": first_household + head_of, "head_pos": head_pos, "head_of": head_of,
            "head_uid": uid[head_pos], "is_head": is_head, "kind": kind, "member": member, "unit": unit}


def _profiles(ids, t, p, streams) -> dict[str, np.ndarray]:
    """Problem severities (household-correlated), wage value, age, motivation, disability."""
    uid, kind, is_head = ids["uid"], ids["kind"], ids["is_head"]
    shift = np.select(
        [kind == Kind.STOCK_BENEFIT, kind == Kind.STOCK_WMO, kind == Kind.STOCK_SUPPORTED,
         kind == Kind.STOCK_HIDDEN, kind == Kind.INFLOW_REPORT, kind == Kind.INFLOW_WMO],
        [p["problems.benefit_stock_shift"], p["problems.wmo_shift"], p["problems.supported_work_shift"],
         p["problems.hidden_shift"], p["inflow.problem_shift"], p["problems.wmo_shift"]],
        default=0.0,
    )
    z = streams.normal(uid, t, Event.INFLOW_PROFILE)
    head_latent = (z + shift)[ids["head_pos"]][ids["head_of"]]
    rho = p["population.household_latent_correlation"]
    latent = np.where(is_head, z + shift, rho * head_latent + np.sqrt(1.0 - rho * rho) * z)
    eps = streams.normal_columns(uid, t, range(Event.INFLOW_SEVERITY, Event.INFLOW_SEVERITY + N_DOMAINS))
    sev = prob.severities(latent, eps, p["problems.baseline_logit"], p["problems.latent_loading"],
                          p["problems.idiosyncratic_sd"])
    wage = prob.wage_value(sev, p["wage.value_base"], p["wage.severity_weight"], p["wage.sd"],
                           streams.normal(uid, t, Event.INFLOW_WAGE))
    stock = kind <= Kind.STOCK_HIDDEN
    skew = np.where(stock | (kind == Kind.MEMBER), p["population.stock_age_skew"], p["population.inflow_age_skew"])
    age = demo.draw_age(streams.uniform(uid, t, Event.INFLOW_AGE), p["population.age_min"],
                        p["population.pension_age"] - 1, skew)
    motivation = p["problems.motivation_min"] + (1 - p["problems.motivation_min"]) * streams.uniform(
        uid, t, Event.INFLOW_MOTIVATION)
    discrimination = (age >= p["firm.older_age_min"]) & (
        streams.uniform(uid, t, Event.INFLOW_DISCRIMINATION) < p["firm.discrimination_share"])
    return {"uid": uid, "household": ids["household"], "member": ids["member"], "unit": ids["unit"], "age": age,
            "sev": sev, "wage": wage,
            "motivation": motivation, "discrimination": discrimination,
            "disability": prob.disability_type(sev, p["problems.disability_threshold"]),
            "spell": -p["benefit.initial_mean_spell_years"] * np.log(streams.uniform(uid, t, Event.INFLOW_SPELL))}


def _claim_as_a_household(ids, values, p) -> None:
    """A head's claim is the unit's: a partner without work is a co-claimant; a unit above its norm gets nothing."""
    partner = values["member"] == Member.PARTNER
    employed = values["employment"] >= 0
    head_claims = values["on_benefit"][ids["head_pos"]][ids["head_of"]]
    co_claimant = partner & ~employed & head_claims
    values["on_benefit"] = values["on_benefit"] | co_claimant
    values["desk"] = np.where(co_claimant, values["desk"] | Desk.PWET, values["desk"])
    head_spell = values["spell_years"][ids["head_pos"]][ids["head_of"]]
    values["spell_years"] = np.where(co_claimant, head_spell, values["spell_years"])
    entitled = entitlement.monthly_benefit(values["household"], values["unit"], values["age"], employed, p) > 0
    values["on_benefit"] = values["on_benefit"] & entitled


def _own_income(ids, values, t, p, streams) -> np.ndarray:
    """Residents who arrive out of sight (no claim, no job, no desk) may have income of their own [ISZW21].

    Irregular or part-time work, self-employment, a partial benefit: EUR net per month, a share of the
    resident's norm drawn from the income of the non-users of social assistance, so that a top-up can be small.
    """
    hidden = ~values["on_benefit"] & (values["employment"] < 0) & (values["desk"] == Desk.NONE)
    uid = ids["uid"]
    share = ben.own_income_share(streams.uniform(uid, t, Event.INFLOW_OWN_INCOME),
                                 streams.uniform(uid, t, Event.INFLOW_OWN_INCOME_LEVEL),
                                 p["take_up.entitled_no_income"], p["take_up.entitled_low_income"],
                                 p["take_up.full_benefit_income"])
    norm = ben.person_norm(values["age"], ben.cost_sharers(values["household"], values["age"],
                                                           p["benefit.cost_sharer_min_age"]), p)
    return np.where(hidden, share * norm, 0.0)


def _positions(kind, head_kind, values, p, u_take_up) -> dict[str, np.ndarray]:
    """Benefit, desk, work and clocks by kind; reports apply or not [M16: ~40% of reports do not apply]."""
    wage, spell = values["wage"], values.pop("spell")
    load = prob.problem_load(values["sev"])
    applies = u_take_up >= p["inflow.non_take_up"]
    on_benefit = (kind == Kind.STOCK_BENEFIT) | ((kind == Kind.INFLOW_REPORT) & applies)
    desk = np.where(on_benefit, Desk.PWET, Desk.NONE)
    desk = np.where((kind == Kind.STOCK_WMO) | (kind == Kind.INFLOW_WMO), Desk.WMO, desk)
    employment = np.full(len(kind), -1, dtype=np.int8)
    supported = kind == Kind.STOCK_SUPPORTED
    employment[supported] = np.where(wage[supported] >= p["wage.subsidy_min"], Status.SUBSIDISED_WORK,
                                     Status.SHELTERED_WORK)
    # The partner of a head in the benefit stock has no job: the household is on benefit together.
    benefit_partner = (values["member"] == Member.PARTNER) & (head_kind == Kind.STOCK_BENEFIT)
    member_works = (kind == Kind.MEMBER) & (load < p["population.member_in_work_severity"]) & (
        wage >= p["wage.regular_min"]) & ~benefit_partner
    employment[member_works] = Status.REGULAR_WORK
    employed = employment >= 0
    long_out = (kind == Kind.STOCK_BENEFIT) | (kind == Kind.STOCK_WMO) | (kind == Kind.STOCK_HIDDEN) | (
        (kind == Kind.MEMBER) & ~employed)
    provisions = np.where(employment == Status.SUBSIDISED_WORK, 1 << int(Instrument.WAGE_SUBSIDY), 0) | np.where(
        employment == Status.SHELTERED_WORK, 1 << int(Instrument.SHELTERED_WORK), 0)
    values["sev"][:, Domain.WORK_INCOME] = prob.work_income_severity(employment == Status.REGULAR_WORK, wage)
    return {"employment": employment, "provisions": provisions, "on_benefit": on_benefit, "desk": desk,
            "years_out": np.where(long_out, spell, 0.0),
            # Members already in work hold an established job, not one that just began (job loss falls with tenure).
            "years_in_work": np.where(employed, p["work.initial_tenure_years"], 0.0),
            "spell_years": np.where(kind == Kind.STOCK_BENEFIT, spell, 0.0)}
