"""What the rule engine knows about one vehicle, possibly spanning several track ids."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from core.speed import Motion
from core.types import Box, Point, Track, box_bottom_center

#: Ground positions remembered per vehicle for direction checks (4 s at 10 analysed fps: enough
#: to hold ``min_distance_m`` of wrong-way travel at about 6 km/h and up).
TRAIL_LEN = 40


@dataclass
class VehicleState:
    """What the engine knows about one vehicle (possibly spanning several track ids).

    Attributes:
        key_track_id: Track id when first seen (part of its ids).
        first_ts_ms: Frame time when first seen (part of its ids).
        track_id: Current track id.
        label: Latest label.
        last_ts_ms: Last frame time it was seen (or held).
        box: Last box, pixels.
        ground: Last ground position, metres (None without calibration).
        velocity: Last fitted ground velocity, m/s.
        speed_kmh: Last plausible speed.
        fired: Kinds already reported for it.
        plate: Best plate reading so far.
        plate_confidence: Its confidence.
        scratch: Per-rule state.
        active: Seen in the current frame.
        held: Kept alive by the patch probe while stopped.
        restored: Came from a checkpoint (not yet re-linked).
        prev_ts_ms: Frame time of its previous update.
        fresh: This frame's position went into its speed fit (the velocity is current).
        anchor_ts_ms: Time of ``anchor``.
        anchor: Last ground position that went into the speed fit (what re-linking predicts from).
        trail: Recent such positions ``(ts_ms, ground)``, newest last.
    """

    key_track_id: int
    first_ts_ms: int
    track_id: int
    label: str
    last_ts_ms: int
    box: Box
    ground: Point | None = None
    velocity: tuple[float, float] | None = None
    speed_kmh: float | None = None
    fired: set[str] = field(default_factory=set)
    plate: str | None = None
    plate_confidence: float = 0.0
    scratch: dict[str, Any] = field(default_factory=dict)
    active: bool = False
    held: bool = False
    restored: bool = False
    prev_ts_ms: int = 0
    fresh: bool = False
    anchor_ts_ms: int = 0
    anchor: Point | None = None
    trail: deque[tuple[int, Point]] = field(default_factory=lambda: deque(maxlen=TRAIL_LEN))

    @property
    def point(self) -> Point:
        """Image bottom-centre of the last box."""
        return box_bottom_center(self.box)

    @property
    def key(self) -> str:
        return f"{self.key_track_id}@{self.first_ts_ms}"


def observe(v: VehicleState, tr: Track, m: Motion | None, ts_ms: int) -> None:
    """Update a vehicle with its track in this frame and the track's ground motion.

    Args:
        v: The vehicle (becomes :attr:`VehicleState.active`, no longer held).
        tr: Its track in this frame.
        m: The track's motion (ground position, velocity, speed), if known.
        ts_ms: Frame time.
    """
    v.active = True
    v.held = False
    v.label, v.box, v.last_ts_ms = tr.label, tr.box, ts_ms
    v.fresh = False
    if m is not None:
        v.ground = m.ground if m.ground is not None else v.ground
        if m.restarted:
            v.trail.clear()
        if m.used and m.ground is not None:
            v.anchor, v.anchor_ts_ms = m.ground, ts_ms
            v.trail.append((ts_ms, m.ground))
        if m.velocity is not None:
            v.velocity = m.velocity
            v.fresh = m.used
        elif m.restarted:
            v.velocity = None
        v.speed_kmh = m.speed_kmh
