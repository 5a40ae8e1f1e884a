"""The social firm's business case for the municipality, year by year, as [SR] computes it (Resultaten point 5).

What the municipality pays for its firms' places and guidance, against what the firms' (former) clients
save it: the benefit no longer paid to those who left a firm trajectory for work, the Wmo care no longer
needed by those who left care while holding a firm place, and, as a labelled assumption only, the Wmo care
older villagers need less with a shop in the village ([SR] point 1, ``firm.village_wmo_saving``), and the
regular day activities not bought because a work-like place at the firm is granted instead. The
firm's own lines (contracts, sales, running costs) are shown next to it. Every amount is one the model
already books: the contracts on the budget holders (``phases/opening.py``), the guidance per participant in
``year.cost_by_instrument`` (``phases/accounting.py``), the savings per resident as the accounting
attributes them (``accounting.firm_savings``). The case is gross, as in [SR]: it does not ask whether a
leaver would have found work without the firm.

Per year: net = savings - (contracts + guidance); the payback year (first year in which the cumulative net
is >= 0) is computed over the years by ``analysis/business_case.py``.
"""

from __future__ import annotations

from model.constants import Holder, Instrument

STREAMS = (Holder.PWET_PARTICIPATION, Holder.WMO, Holder.POOLED)  # the streams that buy firm places
GUIDED = (Instrument.SOCIAL_FIRM, Instrument.DAY_ACTIVITIES_WORKLIKE)  # a participant at a firm holds one of these

INDICATORS: dict[str, tuple[str, str]] = {
    **{f"firm_contracts_{h.name.lower()}": ("EUR", f"social-firm places bought by {h.name.lower()} this year "
                                                   "(paid filled or not)") for h in STREAMS},
    "firm_sales": ("EUR", "social firms' sales this year: revenue from client work plus the regular staff's sales "
                          "(firm_revenue + firm.own_sales per firm)"),
    "firm_running_costs": ("EUR", "social firms' regular staff and running costs this year (firm.fixed_costs per firm)"),
    "firm_places_taken": ("persons", "residents who took a social-firm place this year (a trajectory or work-like day "
                               "activities)"),
    "firm_place_years": ("place-years", "social-firm places held over the year (months held / 12, firm trajectories and "
                                        "work-like day activities; from the guidance charged per month held)"),
    "firm_utilisation_over_year": ("share", "social-firm place-years held / places: the use of the places over the "
                                            "year (firm_utilisation counts those held at year end, including late "
                                            "arrivals placed for a few months)"),
    "firm_guidance_cost": ("EUR", "guidance the municipality paid for participants at the social firms this year "
                                  "(firm trajectories and work-like day activities, per month held)"),
    "firm_case_benefit_saving": ("EUR", "benefit not paid this year to residents who left a social-firm trajectory "
                                        "for a job: counted every year while they stay in work and off benefit, for "
                                        "the months off benefit, at their own yearly benefit (their household's norm "
                                        "as the accounting prices it); a return to benefit or another route into work "
                                        "ends the count"),
    "firm_case_care_saving": ("EUR", "Wmo care no longer needed this year by residents who held a social-firm place "
                                     "when their Wmo support ended (a care exit): the yearly price of the Wmo "
                                     "provisions they held then, counted every year while they hold none"),
    "firm_case_day_activity_saving": ("EUR", "regular Wmo day activities not bought for the social firms' work-like "
                                             "day-activity clients this year: in the model a work-like place at a firm "
                                             "is granted instead of a regular day activity (allocation.allocate_support, "
                                             "phases/fill_places.py), counted at wmo.day_activities_cost for the months "
                                             "the work-like place is held"),
    "firm_case_village_saving": ("EUR", "assumption only (firm.village_wmo_saving per open firm; default 0): Wmo care "
                                        "older villagers need less with a shop in the village [SR] point 1; not in "
                                        "the simulation"),
    "firm_case_savings": ("EUR", "the municipality's savings from its social firms this year: benefit + Wmo care + "
                                 "regular day activities not bought + village channel"),
    "firm_case_cost": ("EUR", "what the municipality paid for its social firms this year: place contracts + guidance"),
    "firm_case_net": ("EUR", "the social firms' business case for the municipality this year: savings - (contracts "
                             "+ guidance)"),
}


def indicators(actors, year, p, ind: dict) -> None:
    """The business-case lines of this year (``INDICATORS``), from what the holders, the accounting and the firms booked."""
    firms = actors.firms
    for h in STREAMS:
        ind[f"firm_contracts_{h.name.lower()}"] = float(actors.holders[h].contract_spent.sum())
    ind["firm_sales"] = float(sum(f.sales for f in firms))
    ind["firm_running_costs"] = float(sum(f.running_costs for f in firms))
    ind["firm_places_taken"] = float(year.firm_started.sum())
    ind["firm_guidance_cost"] = float(sum(year.cost_by_instrument[i] for i in GUIDED)) if len(
        year.cost_by_instrument) else 0.0
    ind["firm_case_benefit_saving"] = float(sum(f.benefit_saving for f in firms))
    ind["firm_case_care_saving"] = float(sum(f.care_saving for f in firms))
    worklike_years, place_years = _years_held(year, p)
    ind["firm_place_years"] = place_years
    places = sum(f.places for f in firms)
    ind["firm_utilisation_over_year"] = place_years / places if places else 0.0
    ind["firm_case_day_activity_saving"] = worklike_years * p["wmo.day_activities_cost"]
    ind["firm_case_village_saving"] = p["firm.village_wmo_saving"] * sum(f.open for f in firms)
    savings = (ind["firm_case_benefit_saving"] + ind["firm_case_care_saving"] + ind["firm_case_day_activity_saving"]
               + ind["firm_case_village_saving"])
    cost = sum(ind[f"firm_contracts_{h.name.lower()}"] for h in STREAMS) + ind["firm_guidance_cost"]
    ind["firm_case_savings"] = savings
    ind["firm_case_cost"] = cost
    ind["firm_case_net"] = savings - cost


def _years_held(year, p) -> tuple[float, float]:
    """Years of work-like places and of all firm places held this year by the firms' participants.

    The accounting charges a participant's guidance per month held (``year.cost_by_instrument``); the years held
    are that charge over the yearly guidance price (0 when the firm gives no guidance hours).
    """
    price = p["firm.guidance_hours"] * p["wmo.hourly_rate"]
    if price <= 0 or not len(year.cost_by_instrument):
        return 0.0, 0.0
    worklike = float(year.cost_by_instrument[Instrument.DAY_ACTIVITIES_WORKLIKE]) / price
    return worklike, worklike + float(year.cost_by_instrument[Instrument.SOCIAL_FIRM]) / price
