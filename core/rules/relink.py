"""Re-linking: which lost vehicle a new track continues (ByteTrack breaks up fast or occluded vehicles)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from core.rules.vehicle import VehicleState
from core.speed import Motion
from core.types import Track, box_bottom_center


@dataclass(frozen=True, slots=True)
class RelinkParams:
    """How a new track is matched to a vehicle whose track was lost.

    Attributes:
        window_s: A lost vehicle can be continued for this long.
        restored_window_s: ... and this long after a restart (checkpoint age included).
        lateral_m: Max sideways distance from the predicted ground position.
        along_m: Max distance along the direction of travel, plus ``along_frac`` of the predicted travel.
        along_frac: See ``along_m``.
        forget_s: Vehicles unseen this long are forgotten (unless held).
        hold_grace_s: A held vehicle whose patch no longer matches is dropped after this long.
    """

    window_s: float = 2.5
    restored_window_s: float = 15.0
    lateral_m: float = 2.0
    along_m: float = 3.0
    along_frac: float = 0.25
    forget_s: float = 20.0
    hold_grace_s: float = 2.0


def link_cost(v: VehicleState, tr: Track, m: Motion | None, ts_ms: int, params: RelinkParams) -> float | None:
    """How well a new track continues a vehicle whose track was lost (lower is better).

    With ground positions, the vehicle's last fitted position is carried forward by its
    velocity and the new track must appear within ``params.lateral_m`` sideways and
    ``params.along_m`` (plus ``params.along_frac`` of the predicted travel) along the
    direction of travel; without them, within one box size of the last image position.

    Args:
        v: The lost vehicle.
        tr: The new track.
        m: The new track's ground motion, if known.
        ts_ms: Frame time.
        params: Re-linking tuning.

    Returns:
        The distance from the prediction (metres, or pixels without ground positions),
        or None when the track cannot be this vehicle.
    """
    window = params.restored_window_s if v.restored else params.window_s
    if not 0 < (ts_ms - v.last_ts_ms) / 1000.0 <= window:
        return None
    base = v.anchor if v.anchor is not None else v.ground
    if base is not None and m is not None and m.ground is not None:
        dt = (ts_ms - (v.anchor_ts_ms if v.anchor is not None else v.last_ts_ms)) / 1000.0
        vx, vy = v.velocity or (0.0, 0.0)
        px, py = base[0] + vx * dt, base[1] + vy * dt
        ex, ey = m.ground[0] - px, m.ground[1] - py
        speed = math.hypot(vx, vy)
        if speed > 0.5:
            along = (ex * vx + ey * vy) / speed
            lateral = abs(ex * vy - ey * vx) / speed
        else:
            along = lateral = math.hypot(ex, ey)
        if lateral > params.lateral_m or abs(along) > params.along_m + params.along_frac * speed * dt:
            return None
        return math.hypot(along, lateral)
    # Image fallback: within one box size of the last position.
    p, q = v.point, box_bottom_center(tr.box)
    d = math.hypot(p[0] - q[0], p[1] - q[1])
    return d if d <= max(v.box[2], v.box[3], 10.0) else None
