"""Where and when was LEA-1234 seen: one plate search, as the API and the Plates page run it.

:func:`search_plates` checks nothing itself (the caller parsed a :class:`core.sightings.PlateQuery`),
asks the archive (:meth:`archive.sightings.SightingRepository.search`: the distinct plates of the
length band from SQL, rapidfuzz over them, then their sightings in the time window and camera),
adds each camera's name and location from the config and the crop URL, and writes the search to
the audit log (who, what, when, how many results). Operators and admins only (the callers check the role);
plates are never logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from config.settings import AppConfig
from core.sightings import PlateQuery


@dataclass(frozen=True, slots=True)
class SearchResult:
    """The sightings a search found.

    Attributes:
        query: The search.
        sightings: One dict per sighting (see :func:`sighting_dict`), in result order.
        crops_unavailable: Sightings whose crop is missing or unreadable (shown without one).
    """

    query: PlateQuery
    sightings: list[dict[str, Any]]
    crops_unavailable: int

    def as_json(self) -> dict[str, Any]:
        return {
            "query": self.query.as_dict(),
            "total": len(self.sightings),
            "crops_unavailable": self.crops_unavailable,
            "sightings": self.sightings,
        }

    def path(self) -> list[dict[str, Any]]:
        """The sightings in time order (oldest first): the vehicle's path on the map."""
        return sorted(self.sightings, key=lambda s: (s["ts_ms"], s["camera_id"]))


def iso_utc(ts_ms: int) -> str:
    """``2026-05-01T08:30:00Z`` (seconds)."""
    return datetime.fromtimestamp(ts_ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def search_plates(
    archive: Any, cfg: AppConfig, query: PlateQuery, username: str, role: str, source: str
) -> SearchResult:
    """Run one search and record it in the audit log.

    Args:
        archive: The ``archive.Archive``.
        cfg: Configuration (camera names and locations).
        query: The checked search.
        username: Who searched (audit log).
        role: Their role.
        source: ``api`` or ``page``.
    """
    cams = {c.id: c for c in cfg.cameras}
    out: list[dict[str, Any]] = []
    unavailable = 0
    for s in archive.sightings.search(query):
        cam = cams.get(s.camera_id)
        crop_ok = s.crop_sha256 is not None and archive.has_evidence(s.crop_sha256)
        unavailable += 0 if crop_ok else 1
        out.append(
            {
                "plate": s.plate,
                "distance": s.distance,
                "camera_id": s.camera_id,
                "camera_name": cam.name if cam is not None else s.camera_id,
                "location": list(cam.location) if cam is not None else None,
                "ts_ms": s.ts_ms,
                "time": iso_utc(s.ts_ms),
                "confidence": round(s.confidence, 3),
                "votes": s.votes,
                "track_id": s.track_id,
                "crop_url": f"/evidence/{s.crop_sha256}" if crop_ok else None,
            }
        )
    archive.sightings.audit(username, role, query.as_dict(), len(out), source)
    return SearchResult(query, out, unavailable)


__all__ = ["SearchResult", "iso_utc", "search_plates"]
