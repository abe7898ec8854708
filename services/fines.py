"""The config's ``fines`` section as :mod:`core.tickets`'s plain :class:`~core.tickets.FineSchedule`.

Core never reads the pydantic config; whoever issues tickets (the ticketing service, tests
that make tickets) converts the section here.
"""

from __future__ import annotations

from config.enforcement import FinesConfig
from core.tickets import FineSchedule, FineTier


def fine_schedule(fines: FinesConfig) -> FineSchedule:
    """The fine schedule of a ``fines`` config section."""
    return FineSchedule(
        overspeed_pkr=fines.overspeed_pkr,
        overspeed_tiers=tuple(FineTier(t.over_kmh, t.amount_pkr) for t in fines.overspeed_tiers),
        wrong_way_pkr=fines.wrong_way_pkr,
        red_light_pkr=fines.red_light_pkr,
        no_stopping_pkr=fines.no_stopping_pkr,
    )


__all__ = ["fine_schedule"]
