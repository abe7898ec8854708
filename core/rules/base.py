"""The rule protocol: per-frame context in, a :class:`Finding` per vehicle out.

Each rule is a small :class:`Rule` subclass that looks at one vehicle at a time; the
engine (:class:`core.rules.engine.RuleEngine`) turns findings into violations and
incidents and collects them per frame in a :class:`RuleOutput`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from core.geometry import Homography
from core.rules.vehicle import VehicleState
from core.signals import SignalBoard
from core.types import Direction, Incident, IncidentKind, Priority, Track, Violation

#: Incidents raised for violations of each kind (kinds not listed are tickets only).
INCIDENT_PRIORITY: dict[IncidentKind, Priority] = {
    IncidentKind.WRONG_WAY: Priority.HIGH,
    IncidentKind.STALLED: Priority.MEDIUM,
}


@dataclass(frozen=True, slots=True)
class Finding:
    """A rule's verdict on one vehicle.

    Attributes:
        kind: Violation/incident kind.
        details: Facts for the evidence record.
        speed_kmh: Speed at the moment, if relevant.
        limit_kmh: Limit, if relevant.
        ticket: Becomes a :class:`Violation` (e-ticket).
        priority: Also raise an :class:`Incident` with this priority (None = no incident).
        summary: One line for people.
    """

    kind: IncidentKind
    details: tuple[tuple[str, str], ...] = ()
    speed_kmh: float | None = None
    limit_kmh: float | None = None
    ticket: bool = True
    priority: Priority | None = None
    summary: str = ""


@dataclass(frozen=True, slots=True)
class RuleOutput:
    """What one frame produced."""

    violations: tuple[Violation, ...] = ()
    incidents: tuple[Incident, ...] = ()


@dataclass
class RuleContext:
    """Per-frame inputs shared by the rules."""

    ts_ms: int
    signals: SignalBoard
    homography: Homography | None
    crossings: dict[str, dict[int, Direction]] = field(default_factory=dict)


class Rule:
    """Base class: one rule of one camera."""

    rule_id: str = "rule"
    kind: IncidentKind = IncidentKind.OVERSPEED

    def prepare(self, tracks: Sequence[Track], ctx: RuleContext) -> None:
        """Called once per frame before :meth:`check` (e.g. to update line counters)."""

    def check(self, v: VehicleState, ctx: RuleContext) -> Finding | None:
        """Verdict on one vehicle seen in this frame (``v.active``) or held (``v.held``)."""
        raise NotImplementedError
