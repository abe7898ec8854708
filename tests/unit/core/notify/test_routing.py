"""Which destination gets which alert: zone, kind, severity and escalation filters."""

from __future__ import annotations

import pytest

from core.notify.routing import SEVERITY, AlertFilter, Route, route
from core.types import IncidentKind, Priority, WardenAlert


def alert(
    zone: str | None = "university-rd",
    kind: IncidentKind = IncidentKind.CONGESTION,
    priority: Priority = Priority.MEDIUM,
    escalated: bool = False,
) -> WardenAlert:
    return WardenAlert("a1", "i1", zone, ("warden1",), 1_700_000_000_000, escalated, kind, priority, "jam")


@pytest.mark.parametrize(
    ("flt", "al", "wanted"),
    [
        (AlertFilter(), alert(), True),
        (AlertFilter(), alert(zone=None), True),
        (AlertFilter(zones=("university-rd",)), alert(), True),
        (AlertFilter(zones=("gt-rd",)), alert(), False),
        (AlertFilter(zones=("gt-rd",)), alert(zone=None), False),
        (AlertFilter(kinds=(IncidentKind.SOS,)), alert(), False),
        (AlertFilter(kinds=(IncidentKind.SOS, IncidentKind.CONGESTION)), alert(), True),
        (AlertFilter(min_severity=Priority.HIGH), alert(priority=Priority.MEDIUM), False),
        (AlertFilter(min_severity=Priority.HIGH), alert(priority=Priority.HIGH), True),
        (AlertFilter(min_severity=Priority.HIGH), alert(priority=Priority.CRITICAL), True),
        (AlertFilter(min_severity=Priority.CRITICAL), alert(priority=Priority.HIGH), False),
        (AlertFilter(escalated_only=True), alert(), False),
        (AlertFilter(escalated_only=True), alert(escalated=True), True),
        (
            AlertFilter(zones=("university-rd",), kinds=(IncidentKind.CONGESTION,), min_severity=Priority.MEDIUM),
            alert(),
            True,
        ),
        (AlertFilter(zones=("university-rd",), kinds=(IncidentKind.STALLED,)), alert(), False),
    ],
)
def test_filter_matches(flt: AlertFilter, al: WardenAlert, wanted: bool) -> None:
    assert flt.matches(al) is wanted


def test_route_keeps_config_order_and_drops_unwanted() -> None:
    routes = [
        Route("sos-only", AlertFilter(kinds=(IncidentKind.SOS,))),
        Route("all", AlertFilter()),
        Route("uni", AlertFilter(zones=("university-rd",))),
        Route("gt", AlertFilter(zones=("gt-rd",))),
    ]
    assert route(routes, alert()) == ["all", "uni"]
    assert route(routes, alert(zone="gt-rd", kind=IncidentKind.SOS)) == ["sos-only", "all", "gt"]
    assert route([], alert()) == []


def test_severity_ranks_every_priority_in_order() -> None:
    assert sorted(SEVERITY, key=SEVERITY.__getitem__) == [
        Priority.LOW,
        Priority.MEDIUM,
        Priority.HIGH,
        Priority.CRITICAL,
    ]
    assert set(SEVERITY) == set(Priority)
