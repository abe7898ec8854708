"""Deterministic ids of violations and incidents (replays of a video give the same ids)."""

from __future__ import annotations

import hashlib

from core.types import IncidentKind


def stable_id(*parts: object) -> str:
    """SHA-1 hex of the parts joined with a separator (deterministic ids)."""
    return hashlib.sha1("\x1f".join(str(p) for p in parts).encode("utf-8")).hexdigest()


def violation_id(camera_id: str, track_id: int, first_ts_ms: int, kind: IncidentKind | str) -> str:
    """Idempotent violation id: camera + the vehicle's first track id + its first frame time + kind."""
    return stable_id("violation", camera_id, track_id, first_ts_ms, IncidentKind(kind).value)


def incident_id_for(camera_id: str, track_id: int, first_ts_ms: int, kind: IncidentKind | str) -> str:
    """Idempotent incident id of a vehicle incident (same inputs as :func:`violation_id`)."""
    return stable_id("incident", camera_id, track_id, first_ts_ms, IncidentKind(kind).value)
