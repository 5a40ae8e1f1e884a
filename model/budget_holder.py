"""BudgetHolder agent: one budget line, spending by instrument, overspend and attributed savings."""

from __future__ import annotations

import mesa
import numpy as np

from model.constants import N_INSTRUMENTS, Holder


class BudgetHolder(mesa.Agent):
    """P-wet income, P-wet participation, Wmo, or the pooled desk. Spends within its budget; overspend is recorded, never hidden."""

    def __init__(self, model: mesa.Model, *, holder: Holder):
        super().__init__(model)
        self.holder = holder
        self.budget = 0.0
        self.committed = 0.0
        self.spent = np.zeros(N_INSTRUMENTS)
        self.savings = {"benefit": 0.0, "care": 0.0}

    def open_year(self, budget: float) -> None:
        """Set this year's budget and clear the ledger."""
        self.budget = float(budget)
        self.committed = 0.0
        self.spent = np.zeros(N_INSTRUMENTS)
        self.savings = {"benefit": 0.0, "care": 0.0}

    @property
    def remaining(self) -> float:
        """Budget not yet committed this year (EUR)."""
        return self.budget - self.committed

    def commit(self, amount: float) -> None:
        """Reserve money for an allocation decision."""
        self.committed += float(amount)

    @property
    def total(self) -> float:
        """Booked spending this year (EUR)."""
        return float(self.spent.sum())

    @property
    def overspend(self) -> float:
        """Spending above the budget this year (EUR, 0 when within budget)."""
        return max(self.total - self.budget, 0.0)
