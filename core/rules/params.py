"""What each rule is told: plain frozen parameter types, filled from the config at the worker boundary.

Core never reads the pydantic config sections (:mod:`config.rules`); the worker converts
a camera's ``rules`` into a :class:`RuleSet` (:func:`ingest.enforce.build.rule_set`) and
the defaults live in the config alone, so these types have none for tunable values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from core.types import Point


@dataclass(frozen=True, slots=True)
class OverspeedParams:
    """Over-speed: the smoothed speed stays above limit + tolerance for ``min_duration_s``.

    Attributes:
        limit_kmh: The limit; None = the road segment's speed limit.
        tolerance_kmh: Enforcement margin above the limit.
        min_duration_s: How long the speed must stay above it.
    """

    limit_kmh: float | None
    tolerance_kmh: float
    min_duration_s: float


@dataclass(frozen=True, slots=True)
class FlowZoneParams:
    """A one-way area: legal travel inside ``polygon`` is from ``flow[0]`` to ``flow[1]`` (image points)."""

    id: str
    polygon: tuple[Point, ...]
    flow: tuple[Point, Point]


@dataclass(frozen=True, slots=True)
class WrongWayParams:
    """Wrong-way driving.

    Attributes:
        road_axis: The road's centre line in the image, near end first (None: zones only).
        zones: One-way areas with their own legal direction.
        min_distance_m: Distance driven against the flow before it counts.
        min_speed_kmh: Slower movement (jitter, manoeuvres) is ignored.
    """

    road_axis: tuple[Point, Point] | None
    zones: tuple[FlowZoneParams, ...]
    min_distance_m: float
    min_speed_kmh: float


@dataclass(frozen=True, slots=True)
class RedLightParams:
    """Crossing ``stop_line`` in ``direction`` while signal ``signal`` is red (or amber, when it counts)."""

    signal: str
    stop_line: tuple[Point, Point]
    direction: Literal["forward", "backward"]
    amber_is_violation: bool


@dataclass(frozen=True, slots=True)
class StoppingZoneParams:
    """A vehicle slower than ``stop_speed_kmh`` inside ``polygon`` for over ``max_stop_s``.

    Always a stalled-vehicle incident; with ``no_stopping`` a violation too.
    """

    id: str
    polygon: tuple[Point, ...]
    max_stop_s: float
    no_stopping: bool
    stop_speed_kmh: float


@dataclass(frozen=True, slots=True)
class RuleSet:
    """Everything one camera enforces (each part optional)."""

    overspeed: OverspeedParams | None = None
    wrong_way: WrongWayParams | None = None
    red_light: tuple[RedLightParams, ...] = ()
    stopping: tuple[StoppingZoneParams, ...] = ()


__all__ = [
    "FlowZoneParams",
    "OverspeedParams",
    "RedLightParams",
    "RuleSet",
    "StoppingZoneParams",
    "WrongWayParams",
]
