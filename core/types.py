"""Frozen dataclasses that cross stage boundaries.

camera -> Frame -> Detection -> Track -> events (LineCrossing, DensityReport,
SegmentDensity, CameraStatus) -> bus -> dashboard.

Pure data: no cv2, redis, dash or ultralytics here. Pixel boxes are
``(x, y, w, h)`` with ``x, y`` the top-left corner, in pixels of the frame.
Timestamps are UTC epoch milliseconds taken from the frame's capture time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy is allowed in core, but keep import cost off pure users
    import numpy as np

#: The project's vehicle/road-user labels. Every detector maps its classes into these.
LABELS: tuple[str, ...] = ("car", "bus", "truck", "van", "motorcycle", "bicycle", "rickshaw", "person")

#: Labels that are not vehicles. One-box-per-vehicle suppression (NMS across classes) works
#: within vehicles and within these separately: a rider on a motorcycle or a bicycle is two
#: objects, a person and a vehicle, whose boxes overlap.
NOT_VEHICLES: frozenset[str] = frozenset({"person"})


def nms_group(label: str) -> int:
    """Suppression group of a label for NMS across classes: 0 for vehicles, 1 for people."""
    return 1 if label in NOT_VEHICLES else 0


Box = tuple[float, float, float, float]
"""Axis-aligned pixel box ``(x, y, w, h)``; ``x, y`` is the top-left corner."""

Point = tuple[float, float]


def box_center(box: Box) -> Point:
    """Centre of a box."""
    x, y, w, h = box
    return (x + w / 2.0, y + h / 2.0)


def box_bottom_center(box: Box) -> Point:
    """Middle of the bottom edge: where a vehicle touches the road."""
    x, y, w, h = box
    return (x + w / 2.0, y + h)


@dataclass(frozen=True, slots=True)
class Frame:
    """One decoded image from a camera.

    Attributes:
        camera_id: Stable camera id from the config.
        index: 0-based index of the frame in the order the source produced it.
        ts_ms: Capture time, UTC epoch milliseconds (from the source, not the handler).
        image: BGR uint8 array of shape (H, W, 3).
    """

    camera_id: str
    index: int
    ts_ms: int
    image: np.ndarray = field(repr=False, compare=False)

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def height(self) -> int:
        return int(self.image.shape[0])


@dataclass(frozen=True, slots=True)
class Detection:
    """One object found in one frame."""

    label: str
    confidence: float
    box: Box


@dataclass(frozen=True, slots=True)
class Track:
    """A detection with an identity that persists across frames."""

    track_id: int
    label: str
    confidence: float
    box: Box


class Direction(str, Enum):
    """Crossing direction of a counting line.

    ``forward`` means crossing from the left side to the right side of the line
    when looking from its point ``a`` to its point ``b``; ``backward`` the reverse.
    Each line names its directions in config (e.g. forward = "northbound").
    """

    FORWARD = "forward"
    BACKWARD = "backward"


@dataclass(frozen=True, slots=True)
class LineCrossing:
    """A track crossed a counting line (stream ``traffic.crossing``)."""

    camera_id: str
    line_id: str
    track_id: int
    label: str
    direction: Direction
    ts_ms: int


@dataclass(frozen=True, slots=True)
class ZoneDensity:
    """Occupancy of one image zone at one moment."""

    zone_id: str
    vehicles: int
    occupancy: float
    """Fraction (0-1) of the zone area covered by vehicle boxes."""


@dataclass(frozen=True, slots=True)
class DensityReport:
    """Per-camera density, published about once a second (stream ``traffic.density``).

    Attributes:
        camera_id: Camera id.
        segment_id: Road segment the camera watches.
        ts_ms: Frame time of the measurement.
        vehicles: Vehicles currently in the camera's zones (mean over the window).
        occupancy: Mean zone occupancy over the window, 0-1.
        zones: Latest per-zone figures.
        counts: Cumulative crossings since the worker started, ``"<line>:<direction>" -> n``.
        by_label: Cumulative crossings per label, ``label -> n``.
        mean_speed_kmh: Mean speed of tracked vehicles, or None where unknown.
    """

    camera_id: str
    segment_id: str
    ts_ms: int
    vehicles: float
    occupancy: float
    zones: tuple[ZoneDensity, ...] = ()
    counts: tuple[tuple[str, int], ...] = ()
    by_label: tuple[tuple[str, int], ...] = ()
    mean_speed_kmh: float | None = None


class CongestionLevel(str, Enum):
    FREE = "free"
    MODERATE = "moderate"
    HEAVY = "heavy"
    JAMMED = "jammed"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class SegmentDensity:
    """Per road segment state, aggregated over its cameras (stream ``traffic.segment``)."""

    segment_id: str
    ts_ms: int
    vehicles: float
    occupancy: float
    level: CongestionLevel
    cameras: tuple[str, ...] = ()
    mean_speed_kmh: float | None = None


class CameraState(str, Enum):
    STARTING = "starting"
    ONLINE = "online"
    OFFLINE = "offline"
    ENDED = "ended"


@dataclass(frozen=True, slots=True)
class CameraStatus:
    """Heartbeat of one camera (stream ``camera.status`` and live key).

    Attributes:
        camera_id: Camera id.
        state: online/offline/...
        ts_ms: Wall-clock time of the heartbeat.
        worker_id: Worker that owns the camera.
        fps_in: Frames per second read from the source.
        fps_analysed: Frames per second run through the vision pipeline.
        frames_in: Total frames read.
        frames_analysed: Total frames analysed.
        frames_skipped: Frames read but not analysed (sampling, back-pressure).
        frames_corrupt: Frames that failed to decode or were malformed.
        reconnects: Times the source was reopened.
        last_frame_ts_ms: Capture time of the newest frame, or 0.
        error: Last error message, empty when healthy.
        stalls: Times the stall watchdog found the stream silent and reopened it.
        reconnects_1h: Reconnects during the last hour (connection quality).
        spool_backlog: Events of the camera's worker waiting in its local spool for Redis.
        detector_runs: Analysed frames on which the detector ran (a motion gate skips still ones).
        detector_seconds: Time spent detecting (motion gate included), seconds, since the camera started.
        detector: What the camera detects with, e.g. ``yolo openvino/int8 x1 shared + motion gate`` or ``motion``.
    """

    camera_id: str
    state: CameraState
    ts_ms: int
    worker_id: str = ""
    fps_in: float = 0.0
    fps_analysed: float = 0.0
    frames_in: int = 0
    frames_analysed: int = 0
    frames_skipped: int = 0
    frames_corrupt: int = 0
    reconnects: int = 0
    last_frame_ts_ms: int = 0
    error: str = ""
    stalls: int = 0
    reconnects_1h: int = 0
    spool_backlog: int = 0
    detector_runs: int = 0
    detector_seconds: float = 0.0
    detector: str = ""


@dataclass(frozen=True, slots=True)
class PlateRead:
    """A (per-track voted) number-plate reading (stream ``plate.read``; never public).

    Attributes:
        camera_id: Camera id.
        track_id: Track the plate belongs to (-1 for a still image).
        ts_ms: Frame time of the best reading.
        text: Normalised plate text: uppercase letters and digits only.
        confidence: 0-1.
        box: Plate box in frame pixels.
        votes: Frames that agreed on this text.
    """

    camera_id: str
    track_id: int
    ts_ms: int
    text: str
    confidence: float
    box: Box
    votes: int = 1


class IncidentKind(str, Enum):
    CONGESTION = "congestion"
    OVERSPEED = "overspeed"
    WRONG_WAY = "wrong_way"
    RED_LIGHT = "red_light"
    STALLED = "stalled"
    WATCHLIST = "watchlist"
    SOS = "sos"


class Priority(str, Enum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


@dataclass(frozen=True, slots=True)
class Incident:
    """Something an operator or warden must see (stream ``incident.raised``).

    Attributes:
        incident_id: Idempotent id (same cause -> same id, so replays never duplicate).
        kind: What happened.
        priority: How urgent.
        ts_ms: Frame time (or report time for SOS).
        camera_id: Camera that saw it, if any.
        segment_id: Road segment, if known.
        location: (lat, lon), if known.
        track_id: Track involved, if any.
        plate: Plate text, if any (personal data: never in public feeds or info logs).
        summary: One line for people.
        evidence: Ids (SHA-256 hex) of stored evidence files.
        details: Extra key/value facts (e.g. ``("speed_kmh", "92.5")``).
    """

    incident_id: str
    kind: IncidentKind
    priority: Priority
    ts_ms: int
    camera_id: str | None = None
    segment_id: str | None = None
    location: tuple[float, float] | None = None
    track_id: int | None = None
    plate: str | None = None
    summary: str = ""
    evidence: tuple[str, ...] = ()
    details: tuple[tuple[str, str], ...] = ()


# --------------------------------------------------------------------------- incidents, violations, e-tickets


@dataclass(frozen=True, slots=True)
class Violation:
    """A traffic rule broken by one tracked vehicle (stream ``violation.detected``).

    Attributes:
        violation_id: Idempotent id: hash of camera, track id, the track's first frame
            time and the kind, so a replayed or re-detected violation gets the same id.
        kind: ``overspeed``, ``wrong_way``, ``red_light`` or ``stalled`` (no-stopping zone).
        camera_id: Camera that saw it.
        segment_id: Road segment of the camera.
        track_id: Track id (of the track's first appearance; see ``track_first_ts_ms``).
        ts_ms: Frame time of the moment of the violation.
        label: Vehicle class.
        plate: Best plate reading of the vehicle, or None (the ticket then goes to manual review).
        plate_confidence: 0-1 (0 without a plate).
        speed_kmh: Measured speed at the moment, if known.
        limit_kmh: Speed limit that applied, if any.
        location: (lat, lon) of the camera.
        evidence: SHA-256 hex ids of the evidence files: 2-3 frames around the moment, then
            the plate crop when there is one.
        details: Extra facts as ``(key, value)`` strings (zone, signal phase, ...).
        box: Pixel box of the vehicle at the moment.
        track_first_ts_ms: Frame time when the vehicle's track was first seen.
    """

    violation_id: str
    kind: IncidentKind
    camera_id: str
    segment_id: str
    track_id: int
    ts_ms: int
    label: str
    plate: str | None = None
    plate_confidence: float = 0.0
    speed_kmh: float | None = None
    limit_kmh: float | None = None
    location: tuple[float, float] | None = None
    evidence: tuple[str, ...] = ()
    details: tuple[tuple[str, str], ...] = ()
    box: Box = (0.0, 0.0, 0.0, 0.0)
    track_first_ts_ms: int = 0


class TicketState(str, Enum):
    """Life of an e-ticket: issued -> under_review -> approved | void; approved -> paid."""

    ISSUED = "issued"
    UNDER_REVIEW = "under_review"
    APPROVED = "approved"
    VOID = "void"
    PAID = "paid"


@dataclass(frozen=True, slots=True)
class TicketTransition:
    """One recorded change of a ticket's state: who did it, when, and why."""

    from_state: TicketState | None
    to_state: TicketState
    actor: str
    ts_ms: int
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ETicket:
    """An e-ticket (e-challan) for one violation (streams ``ticket.issued`` / ``ticket.updated``).

    Attributes:
        ticket_id: Ticket number people type (``ET-XXXX-XXXX-XXXX``), derived from the
            violation id, so the same violation always gets the same number.
        violation_id: The violation it is for (one ticket per violation).
        kind: Violation kind.
        state: Current state.
        camera_id: Camera.
        segment_id: Road segment.
        ts_ms: Time of the violation.
        issued_ts_ms: When the ticket was created.
        label: Vehicle class.
        plate: Plate text, or None (manual review).
        plate_confidence: 0-1.
        fine_pkr: Fine in Pakistani rupees.
        speed_kmh: Measured speed, if relevant.
        limit_kmh: Limit, if relevant.
        location: (lat, lon).
        evidence: SHA-256 ids of the evidence files.
        transitions: Every state change so far, oldest first.
        details: Extra facts.
        track_id: Track id of the vehicle.
    """

    ticket_id: str
    violation_id: str
    kind: IncidentKind
    state: TicketState
    camera_id: str
    segment_id: str
    ts_ms: int
    issued_ts_ms: int
    label: str
    plate: str | None
    plate_confidence: float
    fine_pkr: int
    speed_kmh: float | None = None
    limit_kmh: float | None = None
    location: tuple[float, float] | None = None
    evidence: tuple[str, ...] = ()
    transitions: tuple[TicketTransition, ...] = ()
    details: tuple[tuple[str, str], ...] = ()
    track_id: int = -1


@dataclass(frozen=True, slots=True)
class WardenAlert:
    """An incident pushed to the wardens of its segment (stream ``alert.warden``).

    Attributes:
        alert_id: Idempotent id (incident id + escalation flag).
        incident_id: Incident it is about.
        segment_id: Segment (the wardens' zone), if known.
        wardens: Usernames it went to (empty when the segment has none: control room only).
        ts_ms: When it was raised (or escalated).
        escalated: True when nobody acknowledged in time and it went to the control room.
        kind: Incident kind.
        priority: Incident priority.
        summary: One line for people.
        deadline_ms: Escalation time if not acknowledged.
        acked_by: Username that acknowledged, or "".
        acked_ts_ms: When, or 0.
    """

    alert_id: str
    incident_id: str
    segment_id: str | None
    wardens: tuple[str, ...]
    ts_ms: int
    escalated: bool = False
    kind: IncidentKind = IncidentKind.CONGESTION
    priority: Priority = Priority.MEDIUM
    summary: str = ""
    deadline_ms: int = 0
    acked_by: str = ""
    acked_ts_ms: int = 0


@dataclass(frozen=True, slots=True)
class IncidentUpdate:
    """An operator/warden action on an incident (stream ``incident.updated``).

    Attributes:
        incident_id: Incident.
        action: ``ack``, ``assign``, ``close`` or ``escalate``.
        actor: Username (or ``system``).
        ts_ms: When.
        note: Free text.
        assignee: For ``assign``.
        state: Incident state after the action (``open``, ``acknowledged``, ``assigned``,
            ``escalated``, ``closed``).
    """

    incident_id: str
    action: str
    actor: str
    ts_ms: int
    note: str = ""
    assignee: str | None = None
    state: str = "open"


class SignalPhase(str, Enum):
    RED = "red"
    AMBER = "amber"
    GREEN = "green"


@dataclass(frozen=True, slots=True)
class SignalState:
    """Phase of a traffic signal from a controller integration (stream ``signal.state``).

    Attributes:
        signal_id: Signal (junction approach) id from the config.
        phase: Phase from ``ts_ms`` on.
        ts_ms: When the phase began (controller clock, UTC ms).
    """

    signal_id: str
    phase: SignalPhase
    ts_ms: int


@dataclass(frozen=True, slots=True)
class TrafficUpdate:
    """A public traffic update written by an operator (stream ``traffic.update``)."""

    update_id: str
    title: str
    body: str
    ts_ms: int
    author: str
    body_ur: str = ""
    segment_id: str | None = None
    published: bool = False
    title_ur: str = ""


@dataclass(frozen=True, slots=True)
class TicketUpdate:
    """A ticket changed state (stream ``ticket.updated``)."""

    ticket_id: str
    from_state: TicketState | None
    to_state: TicketState
    actor: str
    ts_ms: int
    reason: str = ""
    camera_id: str = ""
