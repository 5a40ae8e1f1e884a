"""BudgetHolder agent: one budget line, its rule for whom to fund, spending by instrument, savings."""

from __future__ import annotations

import mesa
import numpy as np

from model.constants import N_INSTRUMENTS, Holder, Instrument
from model.rules import allocation as alloc


class BudgetHolder(mesa.Agent):
    """P-wet income, P-wet participation, Wmo, or the pooled desk. Spends within its budget; overspend is recorded, never hidden."""

    def __init__(self, model: mesa.Model, *, holder: Holder):
        super().__init__(model)
        self.holder = holder
        self.budget = 0.0
        self.committed = 0.0
        self.spent = np.zeros(N_INSTRUMENTS)
        self.savings = {"benefit": 0.0, "care": 0.0}
        self.grant = 0.0  # the yearly grant behind this budget (EUR), fixed when the run starts
        self.compensation = 0.0  # safety-net compensation received this year (EUR)

    def set_grant(self, amount: float) -> None:
        """Fix the yearly grant behind this budget (the state's grant does not follow the own spending)."""
        self.grant = float(amount)

    def open_year(self, budget: float, staff_cost: float = 0.0) -> None:
        """Set this year's budget (plus the staff it pays) and clear the ledger; staff costs are booked at once."""
        self.budget = float(budget + staff_cost)
        self.committed = float(staff_cost)
        self.spent = np.zeros(N_INSTRUMENTS)
        self.spent[Instrument.CASE_MANAGEMENT] = staff_cost
        self.savings = {"benefit": 0.0, "care": 0.0}
        self.compensation = 0.0

    def book_contract(self, instrument: Instrument, amount: float) -> None:
        """Book a contract paid whether used or not (social-firm places bought for the year)."""
        self.commit(amount)
        self.spent[instrument] += amount

    def receive_compensation(self, amount: float) -> None:
        """Safety-net compensation from the state for this year (EUR)."""
        self.compensation += float(amount)

    @property
    def own_result(self) -> float:
        """Budget plus compensation minus spending this year (EUR; negative = a deficit for the municipality)."""
        return self.budget + self.compensation - self.total

    @property
    def remaining(self) -> float:
        """Budget not yet committed this year (EUR)."""
        return self.budget - self.committed

    def select(self, priority: np.ndarray, cost: np.ndarray, room: int, entitled: bool = False) -> np.ndarray:
        """Whom to fund: candidates in priority order while the money left and the caseload room last.

        For an entitlement (Wmo custom support after assessment) money does not limit who is served:
        only the room to assess does; spending above the budget is recorded as overspend.
        """
        return alloc.select_within_limits(priority, cost, np.inf if entitled else self.remaining, room)

    def commit(self, amount: float) -> None:
        """Reserve money for an allocation decision."""
        self.committed += float(amount)

    def book(self, spent_by_instrument: np.ndarray) -> None:
        """Add booked spending per instrument (EUR)."""
        self.spent += spent_by_instrument

    def attribute_saving(self, kind: str, amount: float) -> None:
        """Add a saving this budget gains (``benefit`` or ``care``, EUR)."""
        self.savings[kind] += float(amount)

    @property
    def total(self) -> float:
        """Booked spending this year (EUR)."""
        return float(self.spent.sum())

    @property
    def overspend(self) -> float:
        """Spending above the budget this year (EUR, 0 when within budget)."""
        return max(self.total - self.budget, 0.0)
