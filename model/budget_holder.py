"""BudgetHolder agent: one budget line, its rule for whom to fund, spending by instrument, savings.

One municipal budget rule for every holder and every arm: rights (the benefit, Wmo support after an
assessment) are always paid and never take money from the year's discretionary instruments; those
(re-integration trajectories, sheltered work, firm places bought by contract) are bought within the
holder's discretionary budget. An overrun is reported as overspend, covered as the scenario's
``budget.overrun_rule`` says (``phases/opening.py``).
"""

from __future__ import annotations

import mesa
import numpy as np

from model.constants import DISCRETIONARY_INSTRUMENTS, N_INSTRUMENTS, Holder, Instrument
from model.rules import allocation as alloc

_DISCRETIONARY = np.zeros(N_INSTRUMENTS, dtype=bool)
_DISCRETIONARY[list(DISCRETIONARY_INSTRUMENTS)] = True


class BudgetHolder(mesa.Agent):
    """P-wet income, P-wet participation, Wmo, or the pooled desk. Spends within its budget; overspend is recorded, never hidden."""

    def __init__(self, model: mesa.Model, *, holder: Holder):
        super().__init__(model)
        self.holder = holder
        self.full_grant = 0.0  # the yearly grant behind this line (EUR), fixed when the run starts
        self.subsidy_grant = 0.0  # the BUIG's wage-subsidy part at the start (EUR; income line only)
        self.ceiling = None  # budget.overrun_rule cap-social-domain: the social-domain lines' one ceiling
        self.grant = 0.0  # this year's share of grants in force on this holder (EUR)
        self.staff_budget = 0.0  # the staff it pays this year, budgeted on top of the grant (EUR)
        self.budget = 0.0  # grant share + staff budget (EUR)
        self.discretionary_budget = 0.0  # money for discretionary instruments this year (EUR)
        self.committed = 0.0  # everything reserved this year: staff, contracts, rights, discretionary (EUR)
        self.discretionary_committed = 0.0
        self.contract_spent = np.zeros(N_INSTRUMENTS)  # firm places bought by contract this year (EUR, discretionary)
        self.spent = np.zeros(N_INSTRUMENTS)
        self.savings = {"benefit": 0.0, "care": 0.0}
        self.compensation = 0.0  # safety-net compensation received this year (EUR)

    def set_grant(self, amount: float, subsidy: float = 0.0) -> None:
        """Fix the yearly grant behind this line (the state's grant does not follow the own spending).

        ``subsidy``: the BUIG's wage-subsidy part at the start (``grant.subsidy_financing`` says how it moves).
        """
        self.full_grant = float(amount)
        self.subsidy_grant = float(subsidy)

    def open_year(self, grant: float, discretionary: float, staff_cost: float = 0.0, ceiling=None) -> None:
        """This year's grant share, discretionary budget and staff; clear the ledger; staff costs are booked at once.

        ``ceiling``: under ``budget.overrun_rule`` cap-social-domain, the one ceiling this line shares.
        """
        self.ceiling = ceiling
        self.grant = float(grant)
        self.staff_budget = float(staff_cost)
        self.budget = self.grant + self.staff_budget
        self.discretionary_budget = float(discretionary)
        self.committed = float(staff_cost)
        self.discretionary_committed = 0.0
        self.contract_spent = np.zeros(N_INSTRUMENTS)
        self.spent = np.zeros(N_INSTRUMENTS)
        self.spent[Instrument.CASE_MANAGEMENT] = staff_cost
        self.savings = {"benefit": 0.0, "care": 0.0}
        self.compensation = 0.0

    def rebudget(self, grant: float, discretionary: float) -> None:
        """Set this year's grant share and discretionary budget again (the transformation desk's money follows its clients)."""
        self.grant = float(grant)
        self.budget = self.grant + self.staff_budget
        self.discretionary_budget = float(discretionary)

    def book_contract(self, instrument: Instrument, amount: float) -> None:
        """Book a contract paid whether used or not (social-firm places bought for the year): discretionary."""
        self.commit(amount, discretionary=True)
        self.contract_spent[instrument] += amount
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
        """Discretionary budget not yet committed this year (EUR); under one ceiling also within what the lines have left."""
        left = self.discretionary_budget - self.discretionary_committed
        return min(left, self.ceiling.left) if self.ceiling is not None else left

    def select(self, priority: np.ndarray, cost: np.ndarray, room: int, entitled: bool = False) -> np.ndarray:
        """Whom to fund: candidates in priority order while the money left and the caseload room last.

        For a right (Wmo support after assessment) money does not limit who is served: only the room
        to assess does; its cost is recorded and any overrun is overspend. A discretionary instrument
        is bought while the discretionary budget lasts, at the price that is then bought.
        """
        return alloc.select_within_limits(priority, cost, np.inf if entitled else self.remaining, room)

    def commit(self, amount: float, discretionary: bool = False) -> None:
        """Reserve money for an allocation decision (a right, or a discretionary instrument)."""
        self.committed += float(amount)
        if discretionary:
            self.discretionary_committed += float(amount)

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
    def discretionary_spent(self) -> float:
        """Booked spending on discretionary instruments this year, firm-place contracts included (EUR)."""
        return float(self.spent[_DISCRETIONARY].sum() + self.contract_spent[~_DISCRETIONARY].sum())

    @property
    def overspend(self) -> float:
        """Spending above the budget this year (EUR, 0 when within budget)."""
        return max(self.total - self.budget, 0.0)
