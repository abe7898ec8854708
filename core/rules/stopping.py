"""Stopping: a vehicle stopped in a zone longer than allowed.

A stalled-vehicle incident, and a violation too in a no-stopping zone.
"""

from __future__ import annotations

from core.geometry import point_in_polygon
from core.rules.base import INCIDENT_PRIORITY, Finding, Rule, RuleContext
from core.rules.params import StoppingZoneParams
from core.rules.vehicle import VehicleState
from core.types import IncidentKind


class StoppingCheck(Rule):
    """Stopped inside a zone for longer than ``max_stop_s``."""

    kind = IncidentKind.STALLED

    def __init__(self, zone: StoppingZoneParams) -> None:
        self.rule_id = f"stopping:{zone.id}"
        self.zone = zone

    def inside(self, v: VehicleState) -> bool:
        return point_in_polygon(v.point, self.zone.polygon)

    def is_stopped(self, v: VehicleState) -> bool:
        return v.held or (v.speed_kmh is not None and v.speed_kmh < self.zone.stop_speed_kmh)

    def check(self, v: VehicleState, ctx: RuleContext) -> Finding | None:
        st = v.scratch.setdefault(self.rule_id, {"since": None})
        if not (self.inside(v) and self.is_stopped(v)):
            if v.active and v.speed_kmh is not None and v.speed_kmh >= 2 * self.zone.stop_speed_kmh:
                st["since"] = None  # clearly moving again
            elif v.active and not self.inside(v):
                st["since"] = None
            return None
        if st["since"] is None:
            st["since"] = ctx.ts_ms
        stopped_s = (ctx.ts_ms - st["since"]) / 1000.0
        if stopped_s < self.zone.max_stop_s:
            return None
        return Finding(
            kind=self.kind,
            ticket=self.zone.no_stopping,
            priority=INCIDENT_PRIORITY[self.kind],
            details=(
                ("zone", self.zone.id),
                ("stopped_s", f"{stopped_s:.0f}"),
                ("no_stopping", str(self.zone.no_stopping).lower()),
            ),
            summary=f"Vehicle stopped {stopped_s:.0f} s in {'no-stopping ' if self.zone.no_stopping else ''}zone {self.zone.id}",
        )
