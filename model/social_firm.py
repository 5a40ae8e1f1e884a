"""SocialFirm agent: places bought per funding stream, its lock-in decision, its occupation, revenue and result [SR].

The municipality buys places per stream for the year, paid whether filled or not, plus guidance per
participant (booked on the participant). One ledger per firm holds the places bought and filled per
stream; a stream fills only the places it bought (allocation, the page and the reporters read it). The firm's own result: place contracts plus sales from its
clients' and regular staff's work minus its running costs; a firm that loses money for
``firm.close_after_loss_years`` years in a row closes.
"""

from __future__ import annotations

import copy

import mesa
import numpy as np

from model.constants import Holder
from model.rules import outcomes as out

STATE = ("places", "pwet_places", "wmo_places", "occupied", "occupied_by", "bought", "revenue", "contract_income",
         "result", "loss_years", "open")


class SocialFirm(mesa.Agent):
    """A social firm (e.g. a village supermarket) offering places to P-wet and Wmo clients next to regular staff."""

    def __init__(self, model: mesa.Model, *, index: int, places: int, pwet_share: float, lock_in: float):
        super().__init__(model)
        self.index = index
        self.places = places
        self.pwet_places = round(places * pwet_share)  # bought by the P-wet under partitions
        self.wmo_places = places - self.pwet_places
        self.lock_in = lock_in
        self.occupied = 0
        self.occupied_by = {h: 0 for h in Holder}  # places filled per funding stream at the year's end
        self.bought = {h: 0 for h in Holder}  # places bought per funding stream this year
        self.revenue = 0.0  # sales from client work this year
        self.contract_income = 0.0  # places bought by the municipality this year
        self.result = 0.0
        self.sales = 0.0  # revenue from client work plus the regular staff's sales this year
        self.running_costs = 0.0  # regular staff and running costs this year
        self.benefit_saving = 0.0  # benefit not paid to those who left this firm's trajectories for work (EUR)
        self.care_saving = 0.0  # Wmo care no longer needed by those who left care holding this firm's place (EUR)
        self.loss_years = 0
        self.open = places > 0

    def buy(self, bought: dict, amount: float) -> None:
        """This year's places bought per funding stream (the ledger) and the income from them (EUR)."""
        self.bought = dict(bought)
        self.contract_income = float(amount)

    def state(self) -> dict:
        """A copy of this firm's year-to-year state (places, ledger, result, loss years), e.g. to start a run from."""
        return copy.deepcopy({name: getattr(self, name) for name in STATE})

    def restore(self, state: dict) -> None:
        """Take over a state from ``state``."""
        for name, value in copy.deepcopy(state).items():
            setattr(self, name, value)

    def free_places(self, stream: Holder, occupied_by_stream: int, occupied: int) -> int:
        """Places a funding stream may still fill: those it bought and has not filled (the ledger), within the firm [SR]."""
        return max(min(self.bought.get(stream, 0) - occupied_by_stream, self.places - occupied), 0)

    def free_any(self, occupied: int) -> int:
        """Places bought by any stream and not filled, within the firm: mixed target groups (practice.mixed_places) [M16]."""
        return max(min(sum(self.bought.values()), self.places) - occupied, 0)

    def lock_in_chance(self, wage: np.ndarray, monitored: np.ndarray, monitoring_effect: float) -> np.ndarray:
        """Chance that the firm keeps a productive client past the planned end, given its lock-in tendency [SR]."""
        return out.lock_in_probability(wage, monitored, self.lock_in, monitoring_effect)

    @property
    def utilisation(self) -> float:
        """Occupied share of the places (0-1)."""
        return self.occupied / self.places if self.places else 0.0

    def book_year(self, occupied_by: dict, productivity_sum: float, p) -> None:
        """Store this year's occupation by paying stream, revenue and result; close after too many loss years."""
        self.occupied_by = dict(occupied_by)
        self.occupied = sum(occupied_by.values())
        self.revenue = productivity_sum * p["firm.revenue_per_productive_place"]
        self.result = self.contract_income + self.revenue + p["firm.own_sales"] - p["firm.fixed_costs"]
        self.sales = self.revenue + p["firm.own_sales"]
        self.running_costs = p["firm.fixed_costs"]
        self.loss_years = self.loss_years + 1 if self.result < 0 else 0
        limit = p["firm.close_after_loss_years"]
        if self.open and limit and self.loss_years >= limit:
            self.close()

    def book_savings(self, benefit: float, care: float) -> None:
        """This year's savings to the municipality that this firm's (former) clients cause (EUR) [SR Resultaten point 5].

        ``benefit``: benefit not paid to residents who left this firm's trajectories for a job and are still in
        work; ``care``: Wmo care no longer needed by residents who held a place here when their care ended.
        """
        self.benefit_saving = float(benefit)
        self.care_saving = float(care)

    def close(self) -> None:
        """The firm stops: no places from now on (its clients' places end at the next review)."""
        self.open = False
        self.places = self.pwet_places = self.wmo_places = 0
