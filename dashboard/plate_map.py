"""The Plates page's map: local roads, cameras and a plate's path through them in time order (plotly).

No tile server: the roads come from the same local GeoJSON as the live map
(:func:`dashboard.geo.load_roads`), drawn as lines on a lon/lat plane whose aspect keeps
metres square at the city's latitude.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go

from config.settings import AppConfig
from dashboard.geo import RoadLine

ROAD_COLOUR = "#b8b8b8"
SEGMENT_COLOUR = "#6c757d"
CAMERA_COLOUR = "#0d6efd"
PATH_COLOUR = "#dc3545"


def _polylines(lines: Sequence[RoadLine]) -> tuple[list[float | None], list[float | None]]:
    """All lines as one trace's x/y (lon/lat), broken by None between lines."""
    xs: list[float | None] = []
    ys: list[float | None] = []
    for line in lines:
        for lat, lon in line.positions:
            xs.append(lon)
            ys.append(lat)
        xs.append(None)
        ys.append(None)
    return xs, ys


def path_figure(
    cfg: AppConfig, segments: Sequence[RoadLine], context: Sequence[RoadLine], path: Sequence[dict[str, Any]]
) -> go.Figure:
    """Roads, cameras and the path of sightings (oldest first, numbered).

    Args:
        cfg: Configuration (cameras).
        segments: Monitored segments (:func:`dashboard.geo.map_lines`).
        context: Other roads.
        path: Sightings in time order, each with ``location`` ``[lat, lon]`` (or None),
            ``camera_name``, ``time`` and ``plate``.
    """
    fig = go.Figure()
    x, y = _polylines(context)
    fig.add_trace(
        go.Scatter(x=x, y=y, mode="lines", line={"color": ROAD_COLOUR, "width": 1}, name="roads", hoverinfo="skip")
    )
    x, y = _polylines(segments)
    fig.add_trace(
        go.Scatter(
            x=x, y=y, mode="lines", line={"color": SEGMENT_COLOUR, "width": 3}, name="monitored roads", hoverinfo="skip"
        )
    )
    cams = cfg.cameras
    fig.add_trace(
        go.Scatter(
            x=[c.location[1] for c in cams],
            y=[c.location[0] for c in cams],
            mode="markers",
            marker={"color": CAMERA_COLOUR, "size": 9, "symbol": "square"},
            text=[c.name for c in cams],
            hovertemplate="%{text}<extra>camera</extra>",
            name="cameras",
        )
    )
    located = [s for s in path if s.get("location")]
    fig.add_trace(
        go.Scatter(
            x=[s["location"][1] for s in located],
            y=[s["location"][0] for s in located],
            mode="lines+markers+text",
            line={"color": PATH_COLOUR, "width": 2},
            marker={"color": PATH_COLOUR, "size": 12},
            text=[str(i + 1) for i in range(len(located))],
            textposition="top right",
            customdata=[[s["plate"], s["camera_name"], s["time"]] for s in located],
            hovertemplate="%{text}. %{customdata[0]} at %{customdata[1]}<br>%{customdata[2]}<extra>sighting</extra>",
            name="path",
        )
    )
    lats = [p[0] for line in (*segments, *context) for p in line.positions] + [c.location[0] for c in cams]
    mid_lat = (min(lats) + max(lats)) / 2 if lats else 0.0
    fig.update_layout(
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        showlegend=True,
        legend={"orientation": "h", "y": 0, "x": 0, "bgcolor": "rgba(255,255,255,0.7)"},
        plot_bgcolor="#f4f4f0",
        uirevision="plates-map",
        xaxis={"visible": False},
        yaxis={"visible": False, "scaleanchor": "x", "scaleratio": 1 / max(0.1, math.cos(math.radians(mid_lat)))},
    )
    return fig


__all__ = ["path_figure"]
