"""Road geometry for the control-room map, from a local GeoJSON file (no tile server).

The file (``dashboard.map.roads_geojson``, by default ``config/peshawar_roads.geojson``) holds
LineString features with ``properties.id``, ``properties.name`` and ``properties.kind``:
``segment`` for a monitored road segment (its id is a ``segments[].id`` of the config) or
``road`` for a context line drawn in grey. A configured segment missing from the file is
drawn from its ``path`` in the config, so the map never loses a segment.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from config.settings import AppConfig

LatLon = tuple[float, float]


class RoadsFileError(ValueError):
    """The roads GeoJSON cannot be read or is not a FeatureCollection of LineStrings."""


@dataclass(frozen=True, slots=True)
class RoadLine:
    """One polyline to draw.

    Attributes:
        id: Segment id (for ``kind == "segment"``) or road id.
        name: Name shown in the tooltip.
        kind: ``segment`` or ``road``.
        positions: ``(lat, lon)`` points (Leaflet order).
    """

    id: str
    name: str
    kind: str
    positions: tuple[LatLon, ...]


def _lines_of(geometry: dict[str, Any]) -> list[list[LatLon]]:
    gtype = geometry.get("type")
    coords = geometry.get("coordinates")
    if gtype == "LineString":
        parts = [coords]
    elif gtype == "MultiLineString":
        parts = list(coords or [])
    else:
        raise RoadsFileError(f"geometry type {gtype!r} is not LineString/MultiLineString")
    out = []
    for part in parts:
        if not isinstance(part, list) or len(part) < 2:
            raise RoadsFileError("a line needs at least 2 points")
        out.append([(float(p[1]), float(p[0])) for p in part])  # GeoJSON is (lon, lat)
    return out


def load_roads(path: Path) -> list[RoadLine]:
    """Read the roads GeoJSON file.

    Raises:
        RoadsFileError: naming the file and the problem.
    """
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise RoadsFileError(f"{path}: roads GeoJSON not found") from e
    except (OSError, ValueError) as e:
        raise RoadsFileError(f"{path}: cannot read roads GeoJSON: {e}") from e
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise RoadsFileError(f"{path}: not a GeoJSON FeatureCollection")
    out: list[RoadLine] = []
    for i, feat in enumerate(doc.get("features") or []):
        props = feat.get("properties") or {}
        try:
            lines = _lines_of(feat.get("geometry") or {})
        except (RoadsFileError, TypeError, IndexError, ValueError) as e:
            raise RoadsFileError(f"{path}: features[{i}]: {e}") from e
        fid = str(props.get("id") or f"feature-{i}")
        for j, pts in enumerate(lines):
            out.append(
                RoadLine(
                    id=fid if len(lines) == 1 else f"{fid}#{j}",
                    name=str(props.get("name") or fid),
                    kind="segment" if props.get("kind") == "segment" else "road",
                    positions=tuple(pts),
                )
            )
    return out


def map_lines(cfg: AppConfig, roads: list[RoadLine]) -> tuple[list[RoadLine], list[RoadLine]]:
    """Split the file's lines into ``(segments, context roads)`` against the config.

    Returns:
        ``segments``: exactly one line per configured segment, in config order, with the
        config's name (geometry from the file when present, else from ``segments[].path``);
        ``context``: every other line (including ``segment`` features the config does not
        know), drawn as plain grey roads.
    """
    by_id = {r.id: r for r in roads if r.kind == "segment"}
    seg_ids = {s.id for s in cfg.segments}
    segments = []
    for seg in cfg.segments:
        line = by_id.get(seg.id)
        positions = line.positions if line is not None else tuple(seg.path)
        segments.append(RoadLine(seg.id, seg.name, "segment", positions))
    context = [r for r in roads if not (r.kind == "segment" and r.id in seg_ids)]
    return segments, context


def bounds_of(lines: Sequence[RoadLine], points: Sequence[LatLon] = ()) -> list[list[float]]:
    """``[[south, west], [north, east]]`` around some lines and points (Leaflet bounds)."""
    pts = [p for line in lines for p in line.positions] + list(points)
    if not pts:
        raise ValueError("bounds of nothing")
    lats = [p[0] for p in pts]
    lons = [p[1] for p in pts]
    return [[min(lats), min(lons)], [max(lats), max(lons)]]
