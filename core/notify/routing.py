"""Which notification destinations get which warden alert: filters by zone, kind and severity.

A destination's :class:`AlertFilter` says which zones (road segment ids), which incident kinds
and what minimum severity (priority) it wants; an empty tuple means "all". :func:`route` returns
the destinations that want an alert, in configuration order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from core.types import IncidentKind, Priority, WardenAlert

#: Priority -> rank (higher is more severe).
SEVERITY: dict[Priority, int] = {Priority.LOW: 0, Priority.MEDIUM: 1, Priority.HIGH: 2, Priority.CRITICAL: 3}


@dataclass(frozen=True, slots=True)
class AlertFilter:
    """What one destination wants.

    Attributes:
        zones: Road segment ids; empty = every zone (and alerts without a zone).
        kinds: Incident kinds; empty = every kind.
        min_severity: Lowest priority sent.
        escalated_only: Only alerts escalated to the control room (nobody acknowledged in time,
            or no warden for the zone).
    """

    zones: tuple[str, ...] = ()
    kinds: tuple[IncidentKind, ...] = ()
    min_severity: Priority = Priority.LOW
    escalated_only: bool = False

    def matches(self, alert: WardenAlert) -> bool:
        """True when ``alert`` passes every filter."""
        if self.zones and alert.segment_id not in self.zones:
            return False
        if self.kinds and alert.kind not in self.kinds:
            return False
        if SEVERITY[alert.priority] < SEVERITY[self.min_severity]:
            return False
        return not (self.escalated_only and not alert.escalated)


@dataclass(frozen=True, slots=True)
class Route:
    """A destination's name and its filter (from the ``notify.destinations`` config)."""

    name: str
    filter: AlertFilter


def route(routes: Iterable[Route], alert: WardenAlert) -> list[str]:
    """Names of the destinations that want ``alert``, in the given order."""
    return [r.name for r in routes if r.filter.matches(alert)]


__all__ = ["SEVERITY", "AlertFilter", "Route", "route"]
