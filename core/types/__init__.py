"""Frozen dataclasses that cross stage boundaries.

camera -> Frame -> Detection -> Track -> events (LineCrossing, DensityReport,
SegmentDensity, CameraStatus) -> bus -> dashboard.

Pure data: no cv2, redis, dash or ultralytics here. Pixel boxes are
``(x, y, w, h)`` with ``x, y`` the top-left corner, in pixels of the frame.
Timestamps are UTC epoch milliseconds taken from the frame's capture time.

One module per idea, every name re-exported here (import them from ``core.types``):

* :mod:`core.types.frames`: labels, boxes, Frame, Detection, Track.
* :mod:`core.types.events`: crossings, densities, camera heartbeats, plate readings,
  signal phases, public traffic updates.
* :mod:`core.types.incidents`: incidents, warden alerts, operator actions on incidents.
* :mod:`core.types.tickets`: violations, e-tickets and their state changes.
* :mod:`core.types.clips`: video clips and recording segments in the blob store.
"""

from __future__ import annotations

from core.types.clips import ClipSaved, RecordingSegment
from core.types.events import (
    CameraState,
    CameraStatus,
    CongestionLevel,
    DensityReport,
    Direction,
    LineCrossing,
    PlateRead,
    SegmentDensity,
    SignalPhase,
    SignalState,
    TrafficUpdate,
    ZoneDensity,
)
from core.types.frames import (
    LABELS,
    NOT_VEHICLES,
    Box,
    Detection,
    Frame,
    Point,
    Track,
    box_bottom_center,
    box_center,
    nms_group,
)
from core.types.incidents import Incident, IncidentKind, IncidentUpdate, Priority, WardenAlert
from core.types.tickets import ETicket, TicketState, TicketTransition, TicketUpdate, Violation

__all__ = [
    "LABELS",
    "NOT_VEHICLES",
    "Box",
    "CameraState",
    "CameraStatus",
    "ClipSaved",
    "CongestionLevel",
    "DensityReport",
    "Detection",
    "Direction",
    "ETicket",
    "Frame",
    "Incident",
    "IncidentKind",
    "IncidentUpdate",
    "LineCrossing",
    "PlateRead",
    "Point",
    "Priority",
    "RecordingSegment",
    "SegmentDensity",
    "SignalPhase",
    "SignalState",
    "TicketState",
    "Track",
    "TicketTransition",
    "TicketUpdate",
    "TrafficUpdate",
    "Violation",
    "WardenAlert",
    "ZoneDensity",
    "box_bottom_center",
    "box_center",
    "nms_group",
]
