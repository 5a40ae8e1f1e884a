"""SocialFirm agent: places bought per funding stream, its lock-in decision, its occupation and revenue [SR]."""

from __future__ import annotations

import mesa
import numpy as np

from model.constants import Holder
from model.rules import outcomes as out


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
        self.occupied_by = {h: 0 for h in Holder}
        self.revenue = 0.0

    def free_places(self, stream: Holder | None, occupied: int, occupied_by_stream: int) -> int:
        """Places a funding stream may still fill: under partitions only those it bought; the pooled desk any [SR]."""
        free_total = self.places - occupied
        if stream == Holder.PWET_PARTICIPATION:
            return max(min(self.pwet_places - occupied_by_stream, free_total), 0)
        if stream == Holder.WMO:
            return max(min(self.wmo_places - occupied_by_stream, free_total), 0)
        return max(free_total, 0)

    def lock_in_chance(self, wage: np.ndarray, monitored: np.ndarray, monitoring_effect: float) -> np.ndarray:
        """Chance that the firm keeps a productive client past the planned end, given its lock-in tendency [SR]."""
        return out.lock_in_probability(wage, monitored, self.lock_in, monitoring_effect)

    @property
    def utilisation(self) -> float:
        """Occupied share of the places (0-1)."""
        return self.occupied / self.places if self.places else 0.0

    def book_year(self, occupied_by: dict, productivity_sum: float, revenue_per_place: float) -> None:
        """Store this year's occupation by paying stream and the revenue from client work."""
        self.occupied_by = dict(occupied_by)
        self.occupied = sum(occupied_by.values())
        self.revenue = productivity_sum * revenue_per_place
