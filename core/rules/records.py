"""Findings as records: a :class:`~core.rules.base.Finding` on a vehicle -> Violation (e-ticket) / Incident."""

from __future__ import annotations

from core.rules.base import Finding
from core.rules.ids import incident_id_for, violation_id
from core.rules.vehicle import VehicleState
from core.types import Incident, IncidentKind, Violation

SUMMARY = {
    IncidentKind.OVERSPEED: "Over-speeding",
    IncidentKind.WRONG_WAY: "Wrong-way driver",
    IncidentKind.RED_LIGHT: "Red-light violation",
    IncidentKind.STALLED: "Stalled vehicle",
    IncidentKind.WATCHLIST: "Watch-listed plate seen",
}


def _details(v: VehicleState, f: Finding) -> tuple[tuple[str, str], ...]:
    return (*f.details, ("track_first_ts_ms", str(v.first_ts_ms)))


def finding_violation(
    v: VehicleState,
    f: Finding,
    ts_ms: int,
    camera_id: str,
    segment_id: str,
    location: tuple[float, float] | None,
) -> Violation | None:
    """The e-ticket a finding makes (None when the finding is not a ticket).

    Args:
        v: The vehicle.
        f: The rule's finding.
        ts_ms: Frame time.
        camera_id: Camera id.
        segment_id: Road segment of the camera.
        location: (lat, lon) of the camera.
    """
    if not f.ticket:
        return None
    return Violation(
        violation_id=violation_id(camera_id, v.key_track_id, v.first_ts_ms, f.kind),
        kind=f.kind,
        camera_id=camera_id,
        segment_id=segment_id,
        track_id=v.key_track_id,
        ts_ms=ts_ms,
        label=v.label,
        plate=v.plate,
        plate_confidence=v.plate_confidence,
        speed_kmh=f.speed_kmh,
        limit_kmh=f.limit_kmh,
        location=location,
        details=_details(v, f),
        box=v.box,
        track_first_ts_ms=v.first_ts_ms,
    )


def finding_incident(
    v: VehicleState,
    f: Finding,
    ts_ms: int,
    camera_id: str,
    segment_id: str,
    location: tuple[float, float] | None,
) -> Incident | None:
    """The incident a finding raises (None when it has no priority).

    Args:
        v: The vehicle.
        f: The rule's finding.
        ts_ms: Frame time.
        camera_id: Camera id.
        segment_id: Road segment of the camera.
        location: (lat, lon) of the camera.
    """
    if f.priority is None:
        return None
    return Incident(
        incident_id=incident_id_for(camera_id, v.key_track_id, v.first_ts_ms, f.kind),
        kind=f.kind,
        priority=f.priority,
        ts_ms=ts_ms,
        camera_id=camera_id,
        segment_id=segment_id,
        location=location,
        track_id=v.key_track_id,
        plate=v.plate,
        summary=f.summary or SUMMARY.get(f.kind, f.kind.value),
        details=_details(v, f),
    )
