"""Video evidence events: a clip written for a violation or incident, a recording segment written.

Pure data (see :mod:`core.types`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ClipSaved:
    """A clip of a violation or incident is in the blob store (stream ``clip.saved``).

    Attributes:
        owner_kind: ``violation`` or ``incident``.
        owner_id: The violation or incident id.
        camera_id: Camera.
        ts_ms: The moment of the violation/incident.
        start_ts_ms: Capture time of the clip's first frame.
        end_ts_ms: Capture time of its last frame.
        key: Storage key (``clips/<camera>/<day>/<kind>-<id>.mp4``).
        sha256: SHA-256 hex of the MP4 file.
        size: Bytes.
        duration_s: Playing time.
        frames: Frames in the clip.
        width: Pixels.
        height: Pixels.
        mime: ``video/mp4``.
    """

    owner_kind: str
    owner_id: str
    camera_id: str
    ts_ms: int
    start_ts_ms: int
    end_ts_ms: int
    key: str
    sha256: str
    size: int
    duration_s: float
    frames: int
    width: int
    height: int
    mime: str = "video/mp4"


@dataclass(frozen=True, slots=True)
class RecordingSegment:
    """One continuous-recording segment is in the blob store (stream ``recording.segment``).

    Attributes:
        camera_id: Camera.
        ts_ms: Capture time of its first frame (the segment's start).
        end_ts_ms: Capture time of its last frame.
        key: Storage key (``recordings/<camera>/<day>/<start ms>.mp4``).
        sha256: SHA-256 hex of the file.
        size: Bytes.
        duration_s: Playing time.
        frames: Frames.
    """

    camera_id: str
    ts_ms: int
    end_ts_ms: int
    key: str
    sha256: str
    size: int
    duration_s: float
    frames: int


__all__ = ["ClipSaved", "RecordingSegment"]
