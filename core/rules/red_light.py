"""Red-light: crossing a stop line in the controlled direction while the signal shows red.

The signal phase comes from a schedule or a controller stream (:mod:`core.signals`).
"""

from __future__ import annotations

from collections.abc import Sequence

from core.counting import LineCounter
from core.rules.base import Finding, Rule, RuleContext
from core.rules.params import RedLightParams
from core.rules.vehicle import VehicleState
from core.types import Direction, IncidentKind, SignalPhase, Track


class RedLightCheck(Rule):
    """Crossing the stop line in the controlled direction on red (and amber when configured)."""

    kind = IncidentKind.RED_LIGHT

    def __init__(self, cfg: RedLightParams, index: int = 0, forget_after: int = 50) -> None:
        self.rule_id = f"red_light:{index}"
        self.cfg = cfg
        self.direction = Direction(cfg.direction)
        self.counter = LineCounter(self.rule_id, cfg.stop_line[0], cfg.stop_line[1], forget_after=forget_after)

    def prepare(self, tracks: Sequence[Track], ctx: RuleContext) -> None:
        ctx.crossings[self.rule_id] = {t.track_id: d for t, d in self.counter.update(tracks)}

    def check(self, v: VehicleState, ctx: RuleContext) -> Finding | None:
        if not v.active or ctx.crossings.get(self.rule_id, {}).get(v.track_id) != self.direction:
            return None
        info = ctx.signals.at(self.cfg.signal, ctx.ts_ms)
        if info is None:
            return None  # phase unknown: nothing can be proven
        bad = info.phase is SignalPhase.RED or (self.cfg.amber_is_violation and info.phase is SignalPhase.AMBER)
        if not bad:
            return None
        into = (ctx.ts_ms - info.since_ms) / 1000.0
        return Finding(
            kind=self.kind,
            speed_kmh=round(v.speed_kmh, 1) if v.speed_kmh is not None else None,
            details=(("signal", self.cfg.signal), ("phase", info.phase.value), ("phase_elapsed_s", f"{into:.1f}")),
            summary=f"Crossed the stop line {into:.1f} s into {info.phase.value}",
        )
