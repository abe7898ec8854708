"""Over-speed: smoothed speed above the limit plus a tolerance, sustained for a while."""

from __future__ import annotations

import numpy as np

from core.rules.base import Finding, Rule, RuleContext
from core.rules.vehicle import VehicleState
from core.types import IncidentKind


class OverspeedCheck(Rule):
    """Smoothed speed above ``limit + tolerance`` for at least ``min_duration_s``."""

    kind = IncidentKind.OVERSPEED

    def __init__(self, limit_kmh: float, tolerance_kmh: float = 5.0, min_duration_s: float = 0.5) -> None:
        self.rule_id = "overspeed"
        self.limit_kmh = float(limit_kmh)
        self.threshold_kmh = float(limit_kmh + tolerance_kmh)
        self.min_duration_ms = int(min_duration_s * 1000)

    def check(self, v: VehicleState, ctx: RuleContext) -> Finding | None:
        if not v.active or v.speed_kmh is None:
            return None  # unknown speed: keep the state, decide on known speeds only
        st = v.scratch.setdefault(self.rule_id, {"since": None, "speeds": []})
        if v.speed_kmh <= self.threshold_kmh:
            st["since"], st["speeds"] = None, []
            return None
        if st["since"] is None:
            st["since"] = ctx.ts_ms
        st["speeds"].append(v.speed_kmh)
        if ctx.ts_ms - st["since"] < self.min_duration_ms:
            return None
        speed = float(np.median(st["speeds"]))
        return Finding(
            kind=self.kind,
            speed_kmh=round(speed, 1),
            limit_kmh=self.limit_kmh,
            details=(
                ("over_limit_kmh", f"{speed - self.limit_kmh:.1f}"),
                ("sustained_s", f"{(ctx.ts_ms - st['since']) / 1000:.1f}"),
                ("samples", str(len(st["speeds"]))),
            ),
            summary=f"{speed:.0f} km/h in a {self.limit_kmh:.0f} km/h zone",
        )
