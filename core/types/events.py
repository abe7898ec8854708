"""Events of the traffic stages: crossings, densities, camera heartbeats, plate readings, signals.

Each is published on its own stream (named in its docstring); timestamps are UTC
epoch milliseconds taken from the frame's capture time. Pure data (see :mod:`core.types`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from core.types.frames import Box


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
        plates_asked: Vehicle crops sent to the plate reader since the camera started.
        plates_read: Of those, reads that found a plate.
        plates_dropped: Crops not read because the plate reader was behind (its queue full).
        plates_failed: Crops the plate reader could not read (an error; counted, never fatal).
        clip_ring_bytes: Memory held by the camera's clip ring (compressed frames), bytes.
        clip_ring_frames: Frames in that ring.
        clips_written: Clips written to the blob store since the camera started.
        clips_failed: Clips that could not be written (no frames, encoder or store error).
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
    plates_asked: int = 0
    plates_read: int = 0
    plates_dropped: int = 0
    plates_failed: int = 0
    clip_ring_bytes: int = 0
    clip_ring_frames: int = 0
    clips_written: int = 0
    clips_failed: int = 0


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
        votes: Readings of the vehicle that agreed on this text (its vote).
        crop: Evidence id (SHA-256 hex) of the plate crop, or None when none was stored.
    """

    camera_id: str
    track_id: int
    ts_ms: int
    text: str
    confidence: float
    box: Box
    votes: int = 1
    crop: str | None = None


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
