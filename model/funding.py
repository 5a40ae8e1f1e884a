"""Funding: regime -> pooled share in force -> who handles whom -> who pays, at what price.

``regime`` means funding only: how much of the participation and Wmo budgets is pooled in the
transformation desk in a year, and so which budget holder pays an instrument for whom.
"""

from __future__ import annotations

import numpy as np

from model.constants import (
    LAW_OF_INSTRUMENT,
    LUMP_SUM_INSTRUMENTS,
    N_INSTRUMENTS,
    Holder,
    Instrument,
)
from model.desks import DeskConfig
from model.parameters import PARAMETERS

REGIME_SHARE = {"compartmentalised": 0.0, "integrated": 1.0}
UNPRICED = (Instrument.BENEFIT, Instrument.CASE_MANAGEMENT)  # not a provision held by a resident


class Funding:
    """The funding regime of a run, switchable from a given year on."""

    def __init__(self, *, regime: str, pooled_share: float, from_year: int, prices: "Prices",
                 desks: dict[str, DeskConfig]):
        self.prices = prices
        self.desks = desks  # the desks of the allocation pipeline (model/desks.py): pwet, wmo, pooled
        self.regime = regime
        self.pooled_share = pooled_share
        self.from_year = from_year  # 1-based: year 1 is the first simulated year (the model's year index 0)
        self.desk_households = np.empty(0, dtype=np.int64)  # households the transformation desk serves (gradual)

    def serve(self, households: np.ndarray) -> None:
        """The households the transformation desk serves this year (chosen in ``phases/access.py``)."""
        self.desk_households = np.asarray(households, dtype=np.int64)

    def share_for_year(self, year: int) -> float:
        """Pooled share in force in year index ``year`` (0 = year 1): 0 before ``from_year``, then the regime's share."""
        if year + 1 < self.from_year:
            return 0.0
        return REGIME_SHARE.get(self.regime, self.pooled_share)

    def switch(self, regime: str, pooled_share: float | None, from_year: int) -> dict:
        """Change the regime from year ``from_year`` on (1-based); return the validated parameter values now in force."""
        changes = {"scenario.regime": regime, "scenario.from_year": from_year}
        if pooled_share is not None:
            changes["scenario.pooled_share"] = pooled_share
        clean = PARAMETERS.validate(changes, origin="set_regime")
        self.regime = clean["scenario.regime"]
        self.pooled_share = clean.get("scenario.pooled_share", self.pooled_share)
        self.from_year = from_year
        return clean

    @staticmethod
    def payer_of(instrument: Instrument, handled: bool) -> Holder:
        """Budget holder paying an instrument: the law's own holder, or the pooled desk for handled residents."""
        law = LAW_OF_INSTRUMENT[Instrument(instrument)]
        if law == Holder.PWET_INCOME or not bool(handled):
            return law
        return Holder.POOLED

    def desk_field(self, name: str, handled: np.ndarray, law_desk: str = "pwet") -> np.ndarray:
        """A desk configuration field per resident: the pooled desk's for handled residents, else the law-based desk's."""
        return np.where(handled, getattr(self.desks["pooled"], name), getattr(self.desks[law_desk], name))

    def payers(self, instrument: Instrument, handled: np.ndarray) -> np.ndarray:
        """``payer_of`` per resident."""
        return np.where(handled, self.payer_of(instrument, True), self.payer_of(instrument, False))


class Prices:
    """Yearly prices of the instruments (EUR) from the parameter set."""

    def __init__(self, p):
        price = np.zeros(N_INSTRUMENTS)  # the benefit follows the household's norm (entitlement.py), not a price
        price[Instrument.MEDIATION] = p["pwet.mediation_cost"]
        price[Instrument.JOB_COACHING] = p["work.job_coaching_cost"]
        price[Instrument.WAGE_SUBSIDY] = p["work.minimum_wage_cost"]  # times (1 - wage value) per resident
        price[Instrument.SHELTERED_WORK] = p["pwet.sheltered_cost"]
        # At a social firm the place is bought by contract (phases/opening.py); a participant adds guidance.
        firm_guidance = p["firm.guidance_hours"] * p["wmo.hourly_rate"]
        price[Instrument.SOCIAL_FIRM] = firm_guidance
        price[Instrument.TRAINING] = p["pwet.training_cost"]
        price[Instrument.DAY_ACTIVITIES_WORKLIKE] = firm_guidance
        price[Instrument.DAY_ACTIVITIES] = p["wmo.day_activities_cost"]
        price[Instrument.GUIDANCE] = p["wmo.guidance_hours"] * p["wmo.hourly_rate"]
        price[Instrument.HOUSEHOLD_HELP] = p["wmo.household_help_cost"]
        price[Instrument.CASE_MANAGEMENT] = p["staff.salary"]
        price[Instrument.VOLUNTEERING] = p["pwet.volunteering_cost"]  # coordination and training per volunteer
        self.price = price

    def __getitem__(self, instrument):
        return self.price[instrument]

    def yearly(self, instrument: Instrument, wage: np.ndarray) -> np.ndarray | float:
        """Price of a year of the instrument; the wage-cost subsidy is (1 - wage value) of the minimum-wage cost."""
        if instrument == Instrument.WAGE_SUBSIDY:
            return self.price[instrument] * (1.0 - wage)
        return self.price[instrument]

    def provision_cost(self, prov: np.ndarray, wage: np.ndarray) -> np.ndarray:
        """Yearly cost (EUR) of the provisions in ``prov`` (bit masks), per resident."""
        cost = np.zeros(len(prov))
        for i in Instrument:
            if i in UNPRICED:
                continue
            held = (prov & (1 << int(i))) != 0
            cost += held * self.yearly(i, wage)
        return cost

    @staticmethod
    def charged(instruments: np.ndarray, frac: np.ndarray) -> np.ndarray:
        """Share of the yearly price charged: all of it for a lump-sum trajectory, else the part of the year held."""
        return np.where(np.isin(instruments, LUMP_SUM_INSTRUMENTS), 1.0, frac)
