"""Dash components of the control room, built from the view models of :mod:`dashboard.data`.

Pure functions (view model in, component tree out) so the page modules stay thin. Styling is
Bootstrap classes (served locally from ``dashboard/assets``) plus ``assets/safecity.css``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import dash_leaflet as dl
from dash import html

from config.settings import AppConfig
from dashboard.data import (
    LEVEL_COLOURS,
    STATE_COLOURS,
    CameraView,
    CountsView,
    EventView,
    SegmentView,
    clock_utc,
)
from dashboard.geo import RoadLine

#: Pattern-matching id types of the per-item map layers.
SEG_LINE = "seg-line"
SEG_TIP = "seg-tip"
CAM_MARKER = "cam-marker"
CAM_TIP = "cam-tip"

ROAD_STYLE: dict[str, Any] = {"color": "#9e9e9e", "weight": 3, "opacity": 0.8}
SEGMENT_WEIGHT = 7
CAMERA_RADIUS = 9


def segment_style(level: str) -> dict[str, Any]:
    """Leaflet path options of a segment line at a congestion level."""
    colour = LEVEL_COLOURS.get(level, LEVEL_COLOURS["unknown"])
    return {"color": colour, "weight": SEGMENT_WEIGHT, "opacity": 0.95, "lineCap": "round"}


def camera_style(state: str, selected: bool) -> dict[str, Any]:
    """Leaflet path options of a camera marker: fill by state, thick dark ring when selected."""
    fill = STATE_COLOURS.get(state, STATE_COLOURS["unknown"])
    return {
        "color": "#111111" if selected else "#ffffff",
        "weight": 4 if selected else 2,
        "fillColor": fill,
        "fillOpacity": 0.95,
    }


def _fmt(value: float | None, spec: str = ".1f", suffix: str = "") -> str:
    return "-" if value is None else f"{value:{spec}}{suffix}"


def segment_tip(seg: SegmentView) -> str:
    """Tooltip text of a segment."""
    if seg.updated_ms is None:
        return f"{seg.name}: no data"
    stale = " (stale)" if seg.stale else ""
    return f"{seg.name}: {seg.level}{stale}, {_fmt(seg.vehicles)} vehicles, occupancy {_fmt(_pct(seg.occupancy), '.0f', '%')}"


def camera_tip(cam: CameraView) -> str:
    """Tooltip text of a camera marker."""
    return f"{cam.name} ({cam.state})"


def _pct(x: float | None) -> float | None:
    return None if x is None else 100.0 * x


# --------------------------------------------------------------------------- map


def map_layers(
    cfg: AppConfig, segments: Sequence[RoadLine], context: Sequence[RoadLine], selected: str | None
) -> list[Any]:
    """Initial map layers: optional tiles, context roads, segments (grey until data), cameras."""
    layers: list[Any] = []
    mcfg = cfg.dashboard.map
    if mcfg.tile_url:
        layers.append(dl.TileLayer(url=mcfg.tile_url, attribution=mcfg.tile_attribution, id="tiles"))
    layers += [
        dl.Polyline(
            positions=[list(p) for p in road.positions],
            pathOptions=ROAD_STYLE,
            className=f"road road-{road.id}",
            children=dl.Tooltip(road.name),
        )
        for road in context
    ]
    layers += [
        dl.Polyline(
            id={"type": SEG_LINE, "id": seg.id},
            positions=[list(p) for p in seg.positions],
            pathOptions=segment_style("unknown"),
            className=f"segment segment-{seg.id}",
            children=dl.Tooltip(seg.name, id={"type": SEG_TIP, "id": seg.id}, sticky=True),
        )
        for seg in segments
    ]
    layers += [
        dl.CircleMarker(
            id={"type": CAM_MARKER, "id": cam.id},
            center=list(cam.location),
            radius=CAMERA_RADIUS,
            pathOptions=camera_style("unknown", cam.id == selected),
            className=f"camera-marker camera-{cam.id}",
            children=dl.Tooltip(cam.name, id={"type": CAM_TIP, "id": cam.id}),
        )
        for cam in cfg.cameras
    ]
    return layers


def legend() -> html.Div:
    """Colour key of the congestion levels and camera states."""
    items = [
        html.Span(
            [html.Span(className="swatch", style={"backgroundColor": colour}), level],
            className="me-3 text-nowrap",
        )
        for level, colour in LEVEL_COLOURS.items()
    ]
    cams = [
        html.Span(
            [html.Span(className="dot", style={"backgroundColor": STATE_COLOURS[s]}), f"camera {s}"],
            className="me-3 text-nowrap",
        )
        for s in ("online", "offline", "unknown")
    ]
    return html.Div(items + cams, className="legend small text-muted px-2 py-1")


# --------------------------------------------------------------------------- panels


def status_badge(redis_ok: bool, cameras: Sequence[CameraView]) -> tuple[str, str]:
    """``(text, className)`` of the header badge."""
    if not redis_ok:
        return "degraded: Redis unreachable", "badge text-bg-danger"
    enabled = [c for c in cameras if c.enabled]
    online = sum(c.online for c in enabled)
    cls = "badge text-bg-success" if online == len(enabled) and enabled else "badge text-bg-warning"
    return f"{online}/{len(enabled)} cameras online", cls


def segment_table(segments: Sequence[SegmentView]) -> list[Any]:
    """Rows of the segment table."""
    head = html.Thead(
        html.Tr(
            [
                html.Th("Road segment"),
                html.Th("Level"),
                html.Th("Vehicles"),
                html.Th("Occupancy"),
                html.Th("Speed"),
                html.Th("Updated (UTC)"),
            ]
        )
    )
    rows = []
    for s in segments:
        badge = html.Span(
            s.level + (" (stale)" if s.stale else ""),
            className="badge level-badge",
            style={"backgroundColor": s.colour},
        )
        rows.append(
            html.Tr(
                [
                    html.Td(s.name),
                    html.Td(badge),
                    html.Td(_fmt(s.vehicles)),
                    html.Td(_fmt(_pct(s.occupancy), ".0f", "%")),
                    html.Td(_fmt(s.mean_speed_kmh, ".0f", " km/h")),
                    html.Td(clock_utc(s.updated_ms) if s.updated_ms else "-"),
                ],
                id=f"segment-row-{s.id}",
                className=f"segment-row level-{s.level}",
            )
        )
    return [head, html.Tbody(rows)]


def camera_table(cameras: Sequence[CameraView], counts: Mapping[str, CountsView], selected: str | None) -> list[Any]:
    """Rows of the live-counts table: one per camera."""
    head = html.Thead(
        html.Tr(
            [
                html.Th("Camera"),
                html.Th("State"),
                html.Th("Crossings"),
                html.Th("In zones"),
                html.Th("Occupancy"),
                html.Th("Speed"),
                html.Th("fps in/analysed"),
            ]
        )
    )
    rows = []
    for cam in cameras:
        cv = counts.get(cam.id)
        crossings = (
            [html.Div(f"{d.line_id} {d.direction}: {d.count}", className="text-nowrap crossing") for d in cv.crossings]
            if cv is not None and cv.crossings
            else "-"
        )
        state = html.Span(cam.state, className="badge", style={"backgroundColor": STATE_COLOURS.get(cam.state, "#888")})
        rows.append(
            html.Tr(
                [
                    html.Td(cam.name),
                    html.Td(state),
                    html.Td(crossings),
                    html.Td(_fmt(cv.vehicles if cv else None), className="vehicles"),
                    html.Td(_fmt(_pct(cv.occupancy if cv else None), ".0f", "%"), className="occupancy"),
                    html.Td(_fmt(cv.mean_speed_kmh if cv else None, ".0f", " km/h")),
                    html.Td(f"{cam.fps_in:.1f} / {cam.fps_analysed:.1f}"),
                ],
                id=f"camera-row-{cam.id}",
                className="camera-row table-active" if cam.id == selected else "camera-row",
            )
        )
    return [head, html.Tbody(rows)]


def camera_caption(cam: CameraView | None, frame_ts_ms: int | None) -> list[Any]:
    """Text under the selected camera's frame."""
    if cam is None:
        return ["no camera selected"]
    parts: list[Any] = [html.Strong(cam.name), f" - {cam.state}"]
    if frame_ts_ms:
        parts.append(f" - frame {clock_utc(frame_ts_ms)} UTC")
    if cam.last_frame_age_s is not None:
        parts.append(f" ({cam.last_frame_age_s:.1f} s ago)")
    if cam.error and not cam.online:
        parts += [html.Br(), html.Span(cam.error, className="text-danger")]
    return parts


def event_items(events: Sequence[EventView]) -> list[Any]:
    """List items of the recent-events panel, newest first."""
    if not events:
        return [html.Li("no events yet", className="list-group-item text-muted")]
    cls = {"ok": "text-success", "warning": "text-danger", "info": ""}
    return [
        html.Li(
            [html.Span(clock_utc(e.ts_ms), className="text-muted me-2 font-monospace"), e.text],
            className=f"list-group-item py-1 event event-{e.kind} {cls.get(e.severity, '')}",
        )
        for e in events
    ]
