"""Yearly indicators (one value per name, with its unit) and by-group records for creaming.

``year_indicators`` computes every indicator once per year from public state only: the
population's columns, the year's state (``year.py``) and the agents' booked figures. It changes
nothing. The DataCollector reads the indicators by name. ``INDICATORS`` gives each name its unit
and meaning, and is what tables and the command line use for labels.
"""

from __future__ import annotations

import numpy as np

from model import entitlement, firm_case, levers
from model.constants import (
    AGE_BAND_LABELS,
    AGE_BANDS,
    DAY_INSTRUMENTS,
    EXIT_SPELL_LABELS,
    MONTHS_PER_YEAR,
    N_DOMAINS,
    PWET_INSTRUMENTS,
    RETURN_WINDOWS,
    STOCK_SPELL_EDGES,
    STOCK_SPELL_LABELS,
    TRAJECTORY_INSTRUMENTS,
    WAGE_BAND_EDGES,
    WAGE_BAND_LABELS,
    WMO_INSTRUMENTS,
    WORK_END_WINDOWS,
    Desk,
    Disability,
    ExitReason,
    Holder,
    Instrument,
    Intake,
    Role,
    Status,
    Step,
    bits,
)
from model.grouping import unique, unique_inverse
from model.rules import problems as prob
from model.year import LADDER_COUNTS, OBSERVED_COUNTS, TRIAGE_COUNTS

_TRAJ, _DAY, _WMO = bits(TRAJECTORY_INSTRUMENTS), bits(DAY_INSTRUMENTS), bits(WMO_INSTRUMENTS)
_PROVIDERS = [i for i in Instrument if i not in (Instrument.BENEFIT, Instrument.WAGE_SUBSIDY,
                                                 Instrument.CASE_MANAGEMENT)]
_SUPPORT = bits(_PROVIDERS) | bits([Instrument.WAGE_SUBSIDY])
_PWET_PROVISIONS = bits(PWET_INSTRUMENTS) | bits([Instrument.WAGE_SUBSIDY])

# name: (unit, meaning)
INDICATORS: dict[str, tuple[str, str]] = {
    "residents": ("persons", "residents in the social domain at year end"),
    "inflow": ("persons", "new residents this year (reports, Wmo applicants, their household members)"),
    "exits": ("persons", "residents who left the social domain this year"),
    **{f"exit_{r.name.lower()}": ("persons", f"exits this year: {r.name.lower().replace('_', ' ')}") for r in ExitReason},
    "benefit_stock": ("persons", "residents on social assistance at year end"),
    "benefit_mean_spell_months": ("months", "mean elapsed spell of the benefit stock at year end"),
    "outflow_regular_work": ("persons", "moves into regular paid work this year"),
    "outflow_subsidised_work": ("persons", "moves into work with a wage-cost subsidy this year"),
    "outflow_sheltered_work": ("persons", "moves into sheltered work this year"),
    "outflow_work": ("persons", "moves into paid work of any kind this year"),
    "in_regular_work": ("persons", "residents in regular work at year end"),
    "in_subsidised_work": ("persons", "residents in subsidised work at year end"),
    "in_sheltered_work": ("persons", "residents in sheltered work at year end"),
    "in_trajectory": ("persons", "residents in a re-integration trajectory at year end"),
    "in_day_activities": ("persons", "residents in day activities at year end (day-activity places used)"),
    "guidance_only": ("persons", "residents with Wmo guidance or household help only at year end"),
    "wmo_clients": ("persons", "residents holding any Wmo provision at year end"),
    "guidance_hours": ("hours per year", "guidance hours delivered (clients with guidance x hours per client)"),
    "not_in_sight": ("persons", "residents with problems not known to any desk at year end"),
    "new_trajectories": ("persons", "trajectories started this year"),
    "new_trajectories_wmo_clients": ("persons", "trajectories started this year by residents holding a Wmo provision"),
    "care_exits": ("persons", "Wmo support ended this year because self-reliance recovered"),
    "dropouts": ("persons", "drop-outs from trajectories and day activities this year"),
    "lock_ins": ("persons", "trajectories extended by the firm past the planned end this year"),
    "job_losses": ("persons", "jobs lost this year (back on benefit, or on other income first)"),
    "reached": ("persons", "hidden residents who came into sight this year"),
    "found_in_household": ("persons", "hidden members found by a household intake this year"),
    "declined": ("persons", "entitled hidden residents found this year whose household did not claim (they stay out of sight)"),
    "entitled_units": ("households", "benefit units entitled to a benefit at year end, claiming or not (see non_take_up)"),
    "entitled_not_claiming": ("households", "entitled benefit units not claiming at year end (see non_take_up)"),
    "non_take_up": ("share", "entitled benefit units not claiming / entitled benefit units at year end; units with a "
                             "member on other income or known to the Wmo without a claim are left out (their income, "
                             "e.g. a partner's, WW or a disability benefit, is not held by the model)"),
    "care_clients_on_benefit": ("persons", "benefit recipients with wage value below the care-client threshold"),
    "care_clients_served_share": ("share", "share of care clients on benefit holding any instrument"),
    **{f"budget_{h.name.lower()}": ("EUR", f"budget of {h.name.lower()} this year (incl. its staff)") for h in Holder},
    **{f"spend_{h.name.lower()}": ("EUR", f"spending booked on {h.name.lower()} this year") for h in Holder},
    **{f"overspend_{h.name.lower()}": ("EUR", f"spending above the budget of {h.name.lower()}") for h in Holder},
    "spend_total": ("EUR", "municipal spending in the social domain this year"),
    **{f"spend_instrument_{i.name.lower()}": ("EUR", f"spending on {i.name.lower()} this year") for i in Instrument},
    "savings_benefit_pwet_income": ("EUR", "benefits not paid to residents who left benefit for work in this run"),
    "savings_care_wmo": ("EUR", "Wmo care no longer needed after care exits (partitioned residents)"),
    "savings_care_pooled": ("EUR", "Wmo care no longer needed after care exits (desk residents)"),
    "firm_places": ("places", "social-firm places"),
    "firm_occupied": ("places", "social-firm places occupied at year end"),
    "firm_utilisation": ("share", "occupied share of social-firm places at year end"),
    "firm_revenue": ("EUR", "social firms' own revenue from client work this year"),
    **{f"step_{s.value}": ("share", f"share of residents on participation step {s.value} ({s.name.lower()}), "
                                    "as set at this year's ladder review")
       for s in Step},
    **{f"residents_step_{s.value}": ("persons", f"residents on participation step {s.value} ({s.name.lower()}), "
                                                "as set at this year's ladder review")
       for s in Step},
    "ladder_moves_up": ("persons", "residents who moved up the participation ladder at this year's review"),
    "ladder_moves_down": ("persons", "residents who moved down the participation ladder at this year's review"),
    "care_to_work": ("persons", "Wmo day-activity clients who moved on to a re-integration trajectory this year"),
    "cross_law_referrals": ("persons", "Wmo clients referred to a P-wet intake this year (partitions)"),
    "cross_law_intakes": ("persons", "cross-law P-wet intakes that took place this year (partitions)"),
    "cross_law_fell_through": ("persons", "referrals to a P-wet intake lost between the desks this year (partitions)"),
    "cross_law_waiting": ("persons", "Wmo clients waiting for a P-wet intake at year end (partitions)"),
    "multi_problem_households": ("households", "known households with several severe problems"),
    "professionals_per_mp_household": ("professionals", "mean number of professionals per multi-problem household"),
    "case_workers_per_mp_household": ("professionals", "mean number of case workers per multi-problem household: one per "
                                      "law per member under partitions, one generalist for the desk's household, a "
                                      "regisseur when coordinated (providers left out)"),
    "plans_per_mp_household": ("plans", "mean number of separate plans per multi-problem household, counted the way [R12] "
                               "counts the domains that each direct their own help: one per law per member under "
                               "partitions, one for the household when the pooled desk or a regisseur holds it"),
    "triaged": ("persons", "light problems a generalist handled directly this year"),
    "generalist_seen": ("persons", "known residents with a severe blocking problem a generalist saw this year"),
    "generalist_referred": ("persons", "of those, referred on to a specialised provision this year"),
    "generalist_referral_share": ("share", "referred on per resident a generalist saw ([R12]: a GP refers at most "
                                  "about 174 of 1,000)"),
    "coordinated": ("persons", "residents in households a regisseur coordinated this year"),
    "pilot_eligible": ("persons", "Wmo clients a care-to-work pilot could take on this year [BK18]"),
    "pilot_candidates": ("persons", "candidates a care-to-work pilot coached this year [BK18]"),
    "pilot_spent": ("EUR", "job coaching paid from the care-to-work pilot's reserve this year [BK18]"),
    "pilot_to_work": ("persons", "of this year's pilot candidates, those who took a job this year"),
    "day_or_guidance_clients": ("persons", "residents with Wmo day activities or individual guidance at year end"),
    "day_or_guidance_on_benefit_idle": ("persons", "of those, on social assistance without a trajectory at year end "
                                        "([BK18]: 4 of 68)"),
    "pooled_share": ("share", "pooled share in force this year"),
    "triaged_on_benefit": ("persons", "of the triaged, benefit recipients not in work when the generalist took them on"),
    "triaged_to_work": ("persons", "of the triaged benefit recipients, those who took paid work (regular or subsidised) "
                                   "this year"),
    "triaged_near_work": ("persons", "of the triaged benefit recipients, those close to regular work (wage value at "
                                     "least wage.regular_min), like Theo and Chantal in [R12]"),
    "triaged_near_work_to_work": ("persons", "of the triaged benefit recipients close to regular work, those who took "
                                             "paid work this year"),
    # Dynamics checked by calibration and validation.
    **{f"benefit_stock_spell_{b}": ("persons", f"benefit stock by elapsed spell ({b} years)") for b in STOCK_SPELL_LABELS},
    **{f"exits_{k}_spell_{b}": ("persons", f"exits from benefit to {k} by spell at exit ({b} years)")
       for k in ("work", "other") for b in EXIT_SPELL_LABELS},
    "outflow_work_within_half_year": ("persons", "moves from benefit to work within six months of the spell's start"),
    "completed_spells": ("spells", "benefit spells that ended this year (to work or other exits)"),
    "completed_spell_months": ("months", "summed length of the benefit spells that ended this year"),
    "leavers_for_work": ("persons", "moves from benefit to work this year (regular, subsidised, sheltered)"),
    "benefit_exits_demographic": ("persons", "benefit recipients who retired, died or moved away this year"),
    "returns": ("persons", "returns to benefit of residents who had left it for work (a job loss or the end of other income)"),
    **{f"returns_within_{int(w)}y": ("persons", f"returns to benefit within {int(w)} year(s) of leaving it")
       for w in RETURN_WINDOWS},
    "returns_other": ("persons", "returns to benefit of residents who had left it for other income"),
    **{f"returns_other_within_{int(w)}y": ("persons", f"returns to benefit within {int(w)} year(s) of leaving it for "
                                           "other income") for w in RETURN_WINDOWS},
    "leavers_for_other_income": ("persons", "moves from benefit to other income this year (partner income, other benefits)"),
    **{f"work_ends_within_{m}m": ("persons", f"first job ends within {m} months of leaving benefit for the job")
       for m in WORK_END_WINDOWS},
    "returns_to_benefit": ("persons", "residents on other income whose income ended and who claimed benefit again"),
    "hire_year_losses": ("persons", "jobs lost in the year they were taken"),
    "returns_in_exit_year": ("persons", "returns to benefit in the year of the exit to other income"),
    "on_other_income": ("persons", "residents off benefit on other income at year end (with or without a Wmo provision)"),
    "other_income_only": ("persons", "residents on other income holding no provision at year end (status other income)"),
    "work_spells_ended": ("spells", "jobs that ended this year (to benefit or to other income)"),
    "work_spell_years_sum": ("years", "summed length of the jobs that ended this year"),
    "firm_trajectories_ended": ("trajectories", "social-firm trajectories that ended this year (work, drop-out, end)"),
    "firm_trajectories_to_work": ("trajectories", "social-firm trajectories that ended in paid work this year"),
    "reintegration_coverage": ("share", "share of the benefit stock holding a re-integration instrument this year"),
    "reintegration_served": ("persons", "benefit recipients holding a re-integration instrument this year"),
    "benefit_stock_at_allocation": ("persons", "benefit recipients when instruments were allocated"),
    "provision_users": ("persons", "residents holding any provision of either law (not the benefit)"),
    "multi_law_users": ("persons", "residents holding provisions of both the P-wet and the Wmo"),
    "multi_law_share": ("share", "share of provision users with provisions of both laws"),
    "multi_law_share_partitioned": ("share", "share of provision users with provisions of both laws, law-based desks"),
    "multi_law_share_pooled": ("share", "share of provision users with provisions of both laws, transformation desk"),
    "multi_law_share_incl_benefit": ("share", "share of users of either law, the benefit counted as a P-wet provision, "
                                              "who use both laws"),
    **{f"grant_{h.name.lower()}": ("EUR", f"share of the grants on {h.name.lower()} this year (the pooled desk: the "
                                          "pooled share of the participation and Wmo grants)") for h in Holder},
    **{f"staff_budget_{h.name.lower()}": ("EUR", f"staff paid by {h.name.lower()}, budgeted on top of its grant")
       for h in Holder},
    **{f"discretionary_budget_{h.name.lower()}": ("EUR", f"money of {h.name.lower()} for discretionary instruments "
                                                         "(trajectories, sheltered work, firm places) this year")
       for h in Holder},
    **{f"discretionary_spend_{h.name.lower()}": ("EUR", f"booked spending of {h.name.lower()} on discretionary "
                                                        "instruments, firm-place contracts included") for h in Holder},
    **{f"firm_places_bought_{h.name.lower()}": ("places", f"social-firm places bought by {h.name.lower()} this year")
       for h in Holder},
    **{f"firm_places_filled_{h.name.lower()}": ("places", f"social-firm places bought by {h.name.lower()} and filled "
                                                         "at year end") for h in Holder},
    **{f"own_result_{h.name.lower()}": ("EUR", f"budget plus safety-net compensation minus spending of {h.name.lower()}")
       for h in Holder},
    "own_result_total": ("EUR", "the municipality's own result in the social domain (all holders)"),
    "vangnet_compensation": ("EUR", "safety-net compensation of a deficit on the benefit grant (art. 74)"),
    "benefit_units": ("households", "benefit units (single or couple) receiving a benefit at year end"),
    "benefit_cost_per_unit": ("EUR per unit-year", "benefit spending per year of a benefit unit on benefit"),
    "benefit_unit_years": ("unit-years", "years on benefit of the benefit units this year"),
    "benefit_units_at_allocation": ("households", "benefit units receiving a benefit when instruments were allocated"),
    "wmo_granted": ("persons", "Wmo support granted after assessment this year"),
    "wmo_waiting": ("persons", "eligible Wmo applicants not yet assessed at year end (waiting)"),
    "wmo_wait_months": ("months", "mean months from report to provision of the support granted this year"),
    "firm_contract_income": ("EUR", "social-firm places bought by the municipality this year (paid filled or not)"),
    "firm_result": ("EUR", "social firms' own result: contracts plus sales minus running costs"),
    "firms_open": ("firms", "social firms still open at year end"),
    **firm_case.INDICATORS,  # the social firm's business case for the municipality [SR]
    **{f"caseload_{r.name.lower()}": ("clients per FTE", f"mean caseload of an active {r.name.lower().replace('_', ' ')}")
       for r in Role},
    **{f"active_{r.name.lower()}": ("FTE", f"active {r.name.lower().replace('_', ' ')}s this year") for r in Role},
    **levers.INDICATORS,  # the levers of [FW19] and the practice examples of [M16]
}

GROUP_INDICATORS = ("residents", "benefit_stock", "outflow_work", "outflow_regular_work", "outflow_subsidised_work",
                    "outflow_sheltered_work", "in_trajectory", "in_day_activities", "wmo_clients", "served",
                    "spend", *(f"step_{s.value}" for s in Step), "firm_starts", "firm_dropouts_first_year")
# The by-group rows are sums over a group's residents: persons, except spending in EUR (a step is a count there,
# where the whole-population indicator of the same name is a share).
GROUP_UNITS: dict[str, tuple[str, str]] = {
    name: ("EUR" if name == "spend" else "persons",
           "EUR booked on the group's residents this year" if name == "spend"
           else f"residents of the group counted by '{name}' this year (a sum over the group)")
    for name in GROUP_INDICATORS}


def year_indicators(pop, year, actors, p) -> dict[str, float]:
    """All indicators for the year just simulated (units in ``INDICATORS``)."""
    rows = pop.alive_rows()
    ind: dict[str, float] = {}
    _people(pop, rows, year, p, ind)
    _money(actors, year.counts, ind)
    _firm_indicators(actors.firms, ind)
    firm_case.indicators(actors, year, p, ind)
    _ladder_and_laws(pop, rows, year, p, ind)
    _spells_and_dynamics(pop, rows, year, ind)
    _staff(actors, ind)
    ind.update(levers.year_indicators(pop, rows, year, actors, p))
    return ind


def _people(pop, rows, year, p, ind) -> None:
    """Stocks by status, flows counted during the year, care clients."""
    status = pop.status(rows)
    prov = pop.provisions[rows]
    on_benefit = pop.on_benefit[rows]
    c = year.counts
    ind["residents"] = float(len(rows))
    for k in ("inflow", "exits", *(f"exit_{r.name.lower()}" for r in ExitReason), "outflow_regular_work",
              "outflow_subsidised_work", "outflow_sheltered_work", "care_exits", "dropouts", "lock_ins",
              "job_losses", "reached", "found_in_household", "declined", *TRIAGE_COUNTS):
        ind[k] = c[k]
    ind["benefit_stock"] = float(on_benefit.sum())
    ind["entitled_units"], ind["entitled_not_claiming"] = take_up_units(pop, rows, p)
    ind["non_take_up"] = ind["entitled_not_claiming"] / ind["entitled_units"] if ind["entitled_units"] else 0.0
    ind["on_other_income"] = float(pop.other_income[rows].sum())
    ind["other_income_only"] = float((status == Status.OTHER_INCOME).sum())
    ind["benefit_mean_spell_months"] = (float(pop.spell_years[rows][on_benefit].mean() * MONTHS_PER_YEAR)
                                        if on_benefit.any() else 0.0)
    ind["outflow_work"] = ind["outflow_regular_work"] + ind["outflow_subsidised_work"] + ind["outflow_sheltered_work"]
    for name, st in (("in_regular_work", Status.REGULAR_WORK), ("in_subsidised_work", Status.SUBSIDISED_WORK),
                     ("in_sheltered_work", Status.SHELTERED_WORK), ("in_trajectory", Status.TRAJECTORY),
                     ("in_day_activities", Status.DAY_ACTIVITIES), ("guidance_only", Status.GUIDANCE_ONLY),
                     ("not_in_sight", Status.NOT_IN_SIGHT)):
        ind[name] = float((status == st).sum())
    guided = (prov & (1 << int(Instrument.GUIDANCE))) != 0
    ind["wmo_clients"] = float(((prov & _WMO) != 0).sum())
    ind["guidance_hours"] = float(guided.sum() * p["wmo.guidance_hours"])
    ind["new_trajectories"] = c["new_traj"]
    ind["new_trajectories_wmo_clients"] = c["new_traj_wmo_clients"]
    ind["benefit_units"] = float(len(unique(pop.unit[rows][on_benefit])))
    ind["benefit_units_at_allocation"] = c["benefit_units_at_allocation"]
    ind["benefit_unit_years"] = c["benefit_unit_years"]
    ind["wmo_granted"] = c["wmo_granted"]
    ind["wmo_waiting"] = c["wmo_waiting"]
    ind["wmo_wait_months"] = c["wmo_wait_months"] / c["wmo_granted"] if c["wmo_granted"] else 0.0
    care = on_benefit & (pop.wage[rows] < p["wage.care_client_threshold"])
    ind["care_clients_on_benefit"] = float(care.sum())
    ind["care_clients_served_share"] = float(((prov & _SUPPORT) != 0)[care].mean()) if care.any() else 0.0


def take_up_units(pop, rows, p) -> tuple[float, float]:
    """Entitled benefit units (claiming or not) and those not claiming, as [ISZW21] counts them (households).

    A unit claims when a member is on benefit. A unit not claiming counts when the entitlement test
    gives it a benefit and none of its members is on other income or known to the Wmo: the model does
    not hold those incomes (a partner's, WW, a disability benefit), so it cannot tell their entitlement.
    """
    if len(rows) == 0:
        return 0.0, 0.0
    _, inv = unique_inverse(pop.unit[rows])

    def any_in(mask: np.ndarray) -> np.ndarray:
        return np.bincount(inv, weights=mask.astype(float)) > 0

    on_benefit = pop.on_benefit[rows]
    claiming = any_in(on_benefit)
    income_unseen = any_in(pop.other_income[rows] | ((pop.desk[rows] & Desk.WMO) != 0))
    not_claiming = any_in(entitlement.population_benefit(pop, rows, p) > 0) & ~claiming & ~income_unseen
    return float((claiming | not_claiming).sum()), float(not_claiming.sum())


def _money(actors, counts, ind) -> None:
    """Budgets, grants, spending, overspend and own result per holder, spending per instrument, attributed savings."""
    total = 0.0
    for h, holder in actors.holders.items():
        name = h.name.lower()
        ind[f"budget_{name}"] = holder.budget
        ind[f"grant_{name}"] = holder.grant
        ind[f"staff_budget_{name}"] = holder.staff_budget
        ind[f"discretionary_budget_{name}"] = holder.discretionary_budget
        ind[f"discretionary_spend_{name}"] = holder.discretionary_spent
        ind[f"firm_places_bought_{name}"] = float(sum(f.bought.get(h, 0) for f in actors.firms))
        ind[f"firm_places_filled_{name}"] = float(sum(f.occupied_by.get(h, 0) for f in actors.firms))
        ind[f"spend_{name}"] = holder.total
        ind[f"overspend_{name}"] = holder.overspend
        ind[f"own_result_{name}"] = holder.own_result
        total += holder.total
    ind["spend_total"] = total
    ind["own_result_total"] = sum(holder.own_result for holder in actors.holders.values())
    unit_years = counts["benefit_unit_years"]
    ind["benefit_cost_per_unit"] = by_instrument_benefit(actors) / unit_years if unit_years else 0.0
    ind["vangnet_compensation"] = actors.holders[Holder.PWET_INCOME].compensation
    by_instrument = sum(holder.spent for holder in actors.holders.values())
    for i in Instrument:
        ind[f"spend_instrument_{i.name.lower()}"] = float(by_instrument[i])
    ind["savings_benefit_pwet_income"] = actors.holders[Holder.PWET_INCOME].savings["benefit"]
    ind["savings_care_wmo"] = actors.holders[Holder.WMO].savings["care"]
    ind["savings_care_pooled"] = actors.holders[Holder.POOLED].savings["care"]


def by_instrument_benefit(actors) -> float:
    """Benefit spending this year over all holders (EUR)."""
    return float(sum(holder.spent[Instrument.BENEFIT] for holder in actors.holders.values()))


def _ladder_and_laws(pop, rows, year, p, ind) -> None:
    """Participation steps (the residents' ladder state) and moves, professionals per multi-problem household, use of both laws."""
    prov = pop.provisions[rows]
    counts = np.bincount(pop.step[rows], minlength=max(Step) + 1)
    for s in Step:
        ind[f"step_{s.value}"] = float(counts[s] / max(len(rows), 1))
        ind[f"residents_step_{s.value}"] = float(counts[s])
    for key in LADDER_COUNTS:
        ind[key] = year.counts[key]
    ind["cross_law_waiting"] = float((pop.intake[rows] == Intake.WAITING).sum())
    (ind["multi_problem_households"], ind["professionals_per_mp_household"], ind["case_workers_per_mp_household"],
     ind["plans_per_mp_household"]) = _professionals(pop, year, rows, p)
    for key in ("triaged", "generalist_seen", "generalist_referred", "coordinated", "pilot_eligible",
                "pilot_candidates", "pilot_spent"):
        ind[key] = year.counts[key]
    ind["pilot_to_work"] = float((year.pilot[rows] & (year.hired_kind[rows] >= 0)).sum())
    ind["generalist_referral_share"] = (year.counts["generalist_referred"] / year.counts["generalist_seen"]
                                        if year.counts["generalist_seen"] else 0.0)
    care = (prov & (_DAY | (1 << int(Instrument.GUIDANCE)))) != 0
    ind["day_or_guidance_clients"] = float(care.sum())
    ind["day_or_guidance_on_benefit_idle"] = float((care & pop.on_benefit[rows] & ((prov & _TRAJ) == 0)).sum())
    ind["pooled_share"] = float(year.share)
    pwet = (prov & _PWET_PROVISIONS) != 0
    wmo = (prov & _WMO) != 0
    ind["provision_users"] = float((pwet | wmo).sum())
    ind["multi_law_users"] = float((pwet & wmo).sum())
    ind["multi_law_share"] = _share(pwet & wmo, pwet | wmo)
    handled = year.handled(pop.desk_draw[rows])
    ind["multi_law_share_partitioned"] = _share(pwet & wmo & ~handled, (pwet | wmo) & ~handled)
    ind["multi_law_share_pooled"] = _share(pwet & wmo & handled, (pwet | wmo) & handled)
    pwet_or_benefit = pwet | pop.on_benefit[rows]
    ind["multi_law_share_incl_benefit"] = _share(pwet_or_benefit & wmo, pwet_or_benefit | wmo)


def _share(part: np.ndarray, whole: np.ndarray) -> float:
    """Share of ``whole`` that is also in ``part`` (0 when ``whole`` is empty)."""
    n = int(whole.sum())
    return float(part.sum()) / n if n else 0.0


def _spells_and_dynamics(pop, rows, year, ind) -> None:
    """The stock by elapsed spell and the observed counters the calibration checks."""
    c = year.counts
    spell = pop.spell_years[rows][pop.on_benefit[rows]]
    bands = np.searchsorted(np.asarray(STOCK_SPELL_EDGES), spell, side="right")
    for k, label in enumerate(STOCK_SPELL_LABELS):
        ind[f"benefit_stock_spell_{label}"] = float((bands == k).sum())
    for key in OBSERVED_COUNTS:
        ind[key] = c[key]
    ind["reintegration_coverage"] = (c["reintegration_served"] / c["benefit_stock_at_allocation"]
                                     if c["benefit_stock_at_allocation"] else 0.0)


def _staff(actors, ind) -> None:
    """Active workers and their mean caseload per role."""
    for role, team in actors.teams.items():
        name = role.name.lower()
        active = [w.caseload for w in team.workers if w.active]
        ind[f"active_{name}"] = float(len(active))
        ind[f"caseload_{name}"] = float(np.mean(active)) if active else 0.0


def _firm_indicators(firms, ind) -> None:
    """Places, occupation and revenue as the firms booked them this year."""
    places = sum(f.places for f in firms)
    occupied = sum(f.occupied for f in firms)
    ind["firm_places"] = float(places)
    ind["firm_occupied"] = float(occupied)
    ind["firm_utilisation"] = occupied / places if places else 0.0
    ind["firm_revenue"] = sum(f.revenue for f in firms)
    ind["firm_contract_income"] = sum(f.contract_income for f in firms)
    ind["firm_result"] = sum(f.result for f in firms)
    ind["firms_open"] = float(sum(f.open for f in firms))


def _professionals(pop, year, rows, p) -> tuple[float, float, float, float]:
    """Multi-problem households and the professionals, case workers and plans around each ('a traffic jam at the front door' [R12]).

    Under partitions every member has a case worker per law that knows them (the P-wet's for a benefit or a
    trajectory, the Wmo's for a provision), each with a plan of its own; the pooled desk gives the household one
    generalist and one plan, and a regisseur one plan for the coordinated household. Professionals add a
    provider per provision. Returns the households and the means per household of the three.
    """
    if len(rows) == 0:
        return 0.0, 0.0, 0.0, 0.0
    prov = pop.provisions[rows]
    handled = year.handled(pop.desk_draw[rows])
    severe = prob.count_severe(pop.sev[rows], tuple(range(1, N_DOMAINS)), p["problems.severe_threshold"])
    known = pop.desk[rows] != Desk.NONE
    _, inv = unique_inverse(pop.household[rows])
    n_hh = inv.max() + 1

    def any_in(mask):
        return np.bincount(inv, weights=mask.astype(float), minlength=n_hh) > 0

    def per_household(weights):
        return np.bincount(inv, weights=weights, minlength=n_hh)

    mp = (per_household(severe) >= p["problems.multi_problem_count"]) & any_in(known)
    if not mp.any():
        return 0.0, 0.0, 0.0, 0.0
    pwet_worker = ~handled & ((pop.desk[rows] & Desk.PWET) != 0) & (pop.on_benefit[rows] | ((prov & _TRAJ) != 0))
    wmo_worker = ~handled & ((prov & _WMO) != 0)
    desk = any_in(handled & known)
    regie = any_in(year.regie[rows])
    workers = per_household(pwet_worker.astype(float) + wmo_worker) + desk + regie
    providers = np.zeros(len(rows))
    for i in _PROVIDERS:
        providers += (prov & (1 << int(i))) != 0
    # One plan for what a desk or a regisseur holds for the household; a law's own plan for each member outside it.
    own = ~year.regie[rows]
    plans = per_household((pwet_worker & own).astype(float) + (wmo_worker & own)) + (desk | regie)
    professionals = workers + per_household(providers)
    return float(mp.sum()), float(professionals[mp].mean()), float(workers[mp].mean()), float(plans[mp].mean())


def _bands(pop, rows) -> dict[str, tuple[np.ndarray, tuple[str, ...]]]:
    age = pop.age[rows]
    age_band = np.zeros(len(rows), dtype=int)
    for k, (lo, _) in enumerate(AGE_BANDS):
        age_band[age >= lo] = k
    wage_band = np.searchsorted(np.asarray(WAGE_BAND_EDGES), pop.wage[rows], side="right")
    return {
        "age_band": (age_band, AGE_BAND_LABELS),
        "disability": (pop.disability[rows].astype(int), tuple(d.name.lower() for d in Disability)),
        "wage_band": (wage_band, WAGE_BAND_LABELS),
    }


def group_records(pop, year, p) -> list[tuple]:
    """(year, indicator, group_by, group, value) rows by age band, disability type and wage-value band.

    Counts are persons; ``spend`` is EUR booked on the group's residents this year (benefits and
    provisions; staff costs are not attributed to residents); ``step_k`` counts residents on step k.
    """
    # Residents who left during the year carry their part-year costs: include them, for spending only.
    rows = np.concatenate([pop.alive_rows(), year.leaving])
    alive = pop.alive[rows]
    status = pop.status(rows)
    prov = pop.provisions[rows]
    outflow = np.zeros(pop.n, dtype=bool)
    for r in year.outflow:
        outflow[r] = True
    outflow = outflow[rows]
    # The work taken this year, also when the job ended before the year did.
    employment = np.where(year.hired_kind[rows] >= 0, year.hired_kind[rows], pop.employment[rows])
    steps = pop.step[rows]
    values = {
        "residents": np.ones(len(rows), dtype=bool),
        "benefit_stock": pop.on_benefit[rows],
        "outflow_work": outflow,
        "outflow_regular_work": outflow & (employment == Status.REGULAR_WORK),
        "outflow_subsidised_work": outflow & (employment == Status.SUBSIDISED_WORK),
        "outflow_sheltered_work": outflow & (employment == Status.SHELTERED_WORK),
        "spend": year.resident_cost[rows],
        "firm_starts": year.firm_started[rows],
        "firm_dropouts_first_year": year.firm_dropped[rows],
        **{f"step_{s.value}": steps == s for s in Step},
        "in_trajectory": status == Status.TRAJECTORY,
        "in_day_activities": status == Status.DAY_ACTIVITIES,
        "wmo_clients": (prov & _WMO) != 0,
        "served": (prov & _SUPPORT) != 0,
    }
    keep_leavers = ("spend", "firm_starts", "firm_dropouts_first_year")
    values = {k: (v if k in keep_leavers else v & alive) for k, v in values.items()}
    number = year.index + 1
    recs = []
    for group_by, (codes, labels) in _bands(pop, rows).items():
        for name in GROUP_INDICATORS:
            sums = np.bincount(codes, weights=values[name].astype(float), minlength=len(labels))
            recs.extend((number, name, group_by, labels[k], float(sums[k])) for k in range(len(labels)))
    return recs
