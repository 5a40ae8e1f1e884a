"""SocialFirm agent: trajectory places, funding streams, lock-in tendency, own revenue [SR]."""

from __future__ import annotations

import mesa

from model.constants import Holder


class SocialFirm(mesa.Agent):
    """A social firm (e.g. a village supermarket) offering places to P-wet and Wmo clients next to regular staff."""

    def __init__(self, model: mesa.Model, *, index: int, places: int, pwet_share: float, price: float,
                 lock_in: float):
        super().__init__(model)
        self.index = index
        self.places = places
        self.pwet_places = round(places * pwet_share)  # bought by the P-wet under partitions
        self.wmo_places = places - self.pwet_places
        self.price = price
        self.lock_in = lock_in
        self.occupied = 0
        self.occupied_by = {h: 0 for h in Holder}
        self.revenue = 0.0

    @property
    def utilisation(self) -> float:
        """Occupied share of the places (0-1)."""
        return self.occupied / self.places if self.places else 0.0

    def record_year(self, occupied_by: dict, productivity_sum: float, revenue_per_place: float) -> None:
        """Store this year's occupation by paying stream and the revenue from client work."""
        self.occupied_by = dict(occupied_by)
        self.occupied = sum(occupied_by.values())
        self.revenue = productivity_sum * revenue_per_place
