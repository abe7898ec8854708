"""Wrong-way driving: distance driven against the legal direction of travel.

The legal direction comes from a one-way zone's ``flow`` or from the road axis and the
side of the road traffic keeps to (left in Pakistan: left of the centre line moves away
from the camera).
"""

from __future__ import annotations

import math

import numpy as np

from core.geometry import Homography, point_in_polygon, side_of_line
from core.rules.base import INCIDENT_PRIORITY, Finding, Rule, RuleContext
from core.rules.params import FlowZoneParams, WrongWayParams
from core.rules.vehicle import VehicleState
from core.types import IncidentKind, Point

#: Wrong-way evidence: at least this many position steps, and at least this share of them
#: against the legal direction, over the stretch that makes up ``min_distance_m``. A real
#: wrong-way driver moves against the flow step after step; a motion blob whose edge jumps
#: when it merges with the vehicle behind moves against it in one step, and a jittering
#: blob in a crawling queue in about half of them.
WRONG_WAY_MIN_STEPS = 4
WRONG_WAY_MIN_SPAN_MS = 1000
WRONG_WAY_STEADY_SHARE = 0.75
#: ... and no step of that stretch may move against the flow faster than this many times
#: the stretch's mean speed (a blob edge jumping metres in one frame is not driving).
WRONG_WAY_MAX_STEP_RATIO = 3.0
#: A step shorter than this (metres) is standing still, not moving against the flow.
WRONG_WAY_STILL_M = 0.05


class WrongWayCheck(Rule):
    """Distance driven against the legal direction of travel.

    Three pieces of evidence must agree before a vehicle is a wrong-way driver: the
    distance its fitted velocity carried it against the flow (``min_distance_m``), its
    raw positions of the last half second moving against the flow, and a steady run of
    raw positions (:meth:`_steady_against`) that covers ``min_distance_m`` against the flow
    with most steps going that way, so that one jump of a merging motion blob is not enough.

    Args:
        cfg: The camera's wrong-way settings.
        homography: The camera's pixels -> metres mapping (required).
        traffic_side: ``"left"`` (vehicles left of the road axis move away from the camera) or ``"right"``.
    """

    kind = IncidentKind.WRONG_WAY

    def __init__(self, cfg: WrongWayParams, homography: Homography, traffic_side: str = "left") -> None:
        self.rule_id = "wrong_way"
        self.cfg = cfg
        self.h = homography
        self.traffic_side = traffic_side
        self.zones: list[tuple[FlowZoneParams, np.ndarray]] = [(z, self._ground_dir(*z.flow)) for z in cfg.zones]
        self.axis_dir = self._ground_dir(*cfg.road_axis) if cfg.road_axis is not None else None

    def _ground_dir(self, a: Point, b: Point) -> np.ndarray:
        g = self.h.to_ground([a, b])
        d = g[1] - g[0]
        n = float(np.hypot(*d))
        if not math.isfinite(n) or n < 1e-9:
            raise ValueError(f"wrong-way direction {a} -> {b} has no length on the ground")
        return d / n

    def legal_direction(self, point: Point) -> tuple[np.ndarray, str] | None:
        """Unit ground vector of legal travel at an image point, and where it comes from."""
        for z, d in self.zones:
            if point_in_polygon(point, z.polygon):
                return d, f"zone {z.id}"
        if self.axis_dir is None or self.cfg.road_axis is None:
            return None
        near, far = self.cfg.road_axis
        side = side_of_line(point, near, far)  # -1: left of near->far on screen
        if side == 0:
            return None
        away = (side < 0) == (self.traffic_side == "left")
        return (self.axis_dir if away else -self.axis_dir), ("away from camera" if away else "toward camera")

    def _recently_against(self, v: VehicleState, d: np.ndarray, span_ms: int = 500) -> bool:
        """The raw positions of the last ``span_ms`` also move against ``d`` (not only the fit)."""
        if len(v.trail) < 2:
            return False
        t1, p1 = v.trail[-1]
        older = [(t, p) for t, p in v.trail if t1 - t >= span_ms]
        if not older:
            return False
        t0, p0 = older[-1]
        along = ((p1[0] - p0[0]) * d[0] + (p1[1] - p0[1]) * d[1]) / ((t1 - t0) / 1000.0)
        return bool(along < -self.cfg.min_speed_kmh / 3.6)

    def _steady_against(self, v: VehicleState, d: np.ndarray) -> tuple[float, int, int] | None:
        """Net distance against ``d`` of the newest raw positions, and their steps (all, against).

        Walks back from the newest position until the positions make up ``min_distance_m`` of
        net travel against ``d`` over at least :data:`WRONG_WAY_MIN_STEPS` steps and
        :data:`WRONG_WAY_MIN_SPAN_MS`; None when the trail holds no such stretch, when fewer than
        :data:`WRONG_WAY_STEADY_SHARE` of its steps went against ``d``, or when one step went
        against ``d`` more than :data:`WRONG_WAY_MAX_STEP_RATIO` times faster than the stretch.
        """
        pts = list(v.trail)
        if len(pts) < 2:
            return None
        t_end = pts[-1][0]
        net = 0.0
        steps = against = 0
        fastest = 0.0  # m/s against d, fastest single step
        for (t0, p0), (t1, p1) in zip(reversed(pts[:-1]), reversed(pts[1:]), strict=True):
            step = (p1[0] - p0[0]) * d[0] + (p1[1] - p0[1]) * d[1]
            net -= step
            steps += 1
            against += step < -WRONG_WAY_STILL_M  # a step that hardly moves (a held box) is no evidence
            fastest = max(fastest, -step / max((t1 - t0) / 1000.0, 1e-3))
            if net >= self.cfg.min_distance_m and steps >= WRONG_WAY_MIN_STEPS and t_end - t0 >= WRONG_WAY_MIN_SPAN_MS:
                break
        else:
            return None
        if against < WRONG_WAY_STEADY_SHARE * steps:
            return None
        mean_mps = net / max((t_end - t0) / 1000.0, 1e-3)
        if fastest > WRONG_WAY_MAX_STEP_RATIO * mean_mps:
            return None
        return net, steps, against

    def check(self, v: VehicleState, ctx: RuleContext) -> Finding | None:
        if not v.active or not v.fresh or v.velocity is None or v.speed_kmh is None:
            return None  # only a velocity fitted with this frame's position is evidence
        legal = self.legal_direction(v.point)
        if legal is None:
            return None
        d, where = legal
        along = float(v.velocity[0] * d[0] + v.velocity[1] * d[1])  # m/s, + = legal
        dt = max(0.0, (ctx.ts_ms - (v.prev_ts_ms or ctx.ts_ms)) / 1000.0)
        st = v.scratch.setdefault(self.rule_id, {"against_m": 0.0})
        min_v = self.cfg.min_speed_kmh / 3.6
        if along < -min_v:
            st["against_m"] += -along * dt
        elif along > min_v:
            st["against_m"] = max(0.0, st["against_m"] - along * dt)
        if st["against_m"] < self.cfg.min_distance_m or not self._recently_against(v, d):
            return None
        steady = self._steady_against(v, d)
        if steady is None:
            return None
        net, steps, against = steady
        return Finding(
            kind=self.kind,
            speed_kmh=round(v.speed_kmh, 1),
            details=(
                ("against_m", f"{st['against_m']:.1f}"),
                ("legal_direction", where),
                ("observed_against_m", f"{net:.1f}"),
                ("steps_against", f"{against}/{steps}"),
            ),
            priority=INCIDENT_PRIORITY[self.kind],
            summary=f"Wrong-way driver ({where} is legal) at {v.speed_kmh:.0f} km/h",
        )
