"""services.fines: the config's fine schedule becomes core.tickets.FineSchedule, tiers and all."""

from __future__ import annotations

from config.enforcement import FinesConfig, FineTier
from core.tickets import FineSchedule
from core.tickets import FineTier as CoreTier
from services.fines import fine_schedule


def test_every_amount_and_tier_is_carried_over() -> None:
    cfg = FinesConfig(
        overspeed_pkr=11,
        overspeed_tiers=(FineTier(over_kmh=30, amount_pkr=33), FineTier(over_kmh=10, amount_pkr=22)),
        wrong_way_pkr=44,
        red_light_pkr=55,
        no_stopping_pkr=66,
    )
    assert fine_schedule(cfg) == FineSchedule(11, (CoreTier(30, 33), CoreTier(10, 22)), 44, 55, 66)


def test_the_default_schedule() -> None:
    s = fine_schedule(FinesConfig())
    assert (s.overspeed_pkr, s.wrong_way_pkr, s.red_light_pkr, s.no_stopping_pkr) == (1500, 2000, 1000, 500)
    assert [(t.over_kmh, t.amount_pkr) for t in s.overspeed_tiers] == [(20, 2500), (40, 5000)]
