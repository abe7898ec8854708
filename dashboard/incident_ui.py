"""Components for incidents and alerts: map markers with detail popups, feed cards, alert cards.

Pure functions of :mod:`dashboard.incidents` view models. Operator components show the
incident's details (plate included: operators review evidence); warden components show
the alert's one-line summary only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dash_leaflet as dl
from dash import html

from config.settings import AppConfig
from core.incidents import IncidentView
from dashboard.data import clock_utc
from dashboard.incidents import AlertView, kind_label

INC_MARKER = "op-inc-marker"
PRIORITY_COLOURS = {"critical": "#b71c1c", "high": "#e53935", "medium": "#fb8c00", "low": "#fdd835"}
STATE_BADGES = {
    "open": "text-bg-danger",
    "acknowledged": "text-bg-warning",
    "assigned": "text-bg-info",
    "escalated": "text-bg-dark",
    "closed": "text-bg-secondary",
}


def _segment_name(cfg: AppConfig, seg_id: str | None) -> str:
    if not seg_id:
        return "-"
    try:
        return cfg.segment(seg_id).name
    except KeyError:
        return seg_id


def _camera_name(cfg: AppConfig, cam_id: str | None) -> str:
    if not cam_id:
        return "-"
    try:
        return cfg.camera(cam_id).name
    except KeyError:
        return cam_id


def incident_location(cfg: AppConfig, v: IncidentView) -> tuple[float, float] | None:
    """Where to put an incident on the map: its own location, else its camera's."""
    if v.incident.location:
        return v.incident.location
    if v.incident.camera_id:
        try:
            return cfg.camera(v.incident.camera_id).location
        except KeyError:
            return None
    return None


def incident_details(cfg: AppConfig, v: IncidentView) -> list[Any]:
    """Detail lines of an incident (popup and feed)."""
    inc = v.incident
    rows: list[tuple[str, Any]] = [
        ("Kind", kind_label(v.kind)),
        ("Priority", v.priority),
        ("State", v.state + (f" ({v.assignee})" if v.assignee else "")),
        ("Time (UTC)", clock_utc(inc.ts_ms)),
        ("Road", _segment_name(cfg, inc.segment_id)),
        ("Camera", _camera_name(cfg, inc.camera_id)),
    ]
    if inc.plate:
        rows.append(("Plate", inc.plate))
    if inc.location:
        rows.append(("Location", f"{inc.location[0]:.5f}, {inc.location[1]:.5f}"))
    rows += [(k.replace("_", " "), val) for k, val in inc.details[:8]]
    return [
        html.Div([html.Strong(inc.summary or kind_label(v.kind), className="d-block mb-1")]),
        html.Table(
            html.Tbody(
                [html.Tr([html.Th(k, className="pe-2 fw-normal text-muted"), html.Td(str(val))]) for k, val in rows]
            ),
            className="small incident-details",
        ),
        html.A("open in incident feed", href=f"/incidents?focus={inc.incident_id}", className="small"),
    ]


def incident_markers(cfg: AppConfig, views: Sequence[IncidentView]) -> list[Any]:
    """Map markers of the incidents that are not closed (SOS reports drawn larger)."""
    out = []
    for v in views:
        if v.state == "closed":
            continue
        loc = incident_location(cfg, v)
        if loc is None:
            continue
        sos = v.kind == "sos"
        colour = PRIORITY_COLOURS.get(v.priority, "#e53935")
        out.append(
            dl.CircleMarker(
                id={"type": INC_MARKER, "id": v.id},
                center=list(loc),
                radius=13 if sos else 9,
                pathOptions={
                    "color": "#ffffff" if not sos else "#000000",
                    "weight": 3,
                    "fillColor": colour,
                    "fillOpacity": 0.9,
                },
                className=f"incident-marker incident-{v.kind} incident-state-{v.state}",
                children=[
                    dl.Tooltip(f"{kind_label(v.kind)}: {v.incident.summary or v.id}"),
                    dl.Popup(
                        html.Div(incident_details(cfg, v), className=f"incident-popup incident-popup-{v.id}"),
                        maxWidth=360,
                    ),
                ],
            )
        )
    return out


def incident_list_items(cfg: AppConfig, views: Sequence[IncidentView], limit: int = 8) -> list[Any]:
    """Compact list of open incidents for the live map's side panel."""
    open_ = [v for v in views if v.state != "closed"][:limit]
    if not open_:
        return [html.Li("no open incidents", className="list-group-item text-muted")]
    return [
        html.Li(
            [
                html.Span(clock_utc(v.incident.ts_ms), className="text-muted me-2 font-monospace"),
                html.Span(kind_label(v.kind), className=f"badge me-1 {STATE_BADGES.get(v.state, '')}"),
                v.incident.summary or _segment_name(cfg, v.incident.segment_id),
            ],
            className=f"list-group-item py-1 incident-item incident-item-{v.kind}",
            id=f"op-inc-item-{v.id}",
        )
        for v in open_
    ]


def alert_card(cfg: AppConfig, av: AlertView, acting: bool = True) -> html.Div:
    """A warden alert card: summary, road, time, state and an acknowledge button."""
    a = av.alert
    done = bool(av.acked_by) or av.closed
    state = "closed" if av.closed else (f"acknowledged by {av.acked_by}" if av.acked_by else "new")
    cls = "card mb-2 warden-alert " + ("border-secondary" if done else "border-danger border-2 alert-new")
    button: Any = None
    if acting and not done:
        button = html.Button(
            "Acknowledge",
            id={"type": "wd-ack", "id": a.alert_id},
            n_clicks=0,
            className="btn btn-danger btn-lg w-100 mt-2",
        )
    return html.Div(
        html.Div(
            [
                html.Div(
                    [
                        html.Span(kind_label(a.kind.value), className="badge text-bg-danger me-2"),
                        html.Span(a.priority.value, className="badge text-bg-light me-2"),
                        html.Span("escalated" if a.escalated else "", className="badge text-bg-dark"),
                    ]
                ),
                html.H5(a.summary or kind_label(a.kind.value), className="card-title mt-2 mb-1"),
                html.Div(_segment_name(cfg, a.segment_id), className="text-muted"),
                html.Div(f"{clock_utc(a.ts_ms)} UTC - {state}", className="small alert-state"),
                button,
            ],
            className="card-body p-3",
        ),
        className=cls,
        id=f"wd-alert-{a.alert_id}",
        title=_segment_name(cfg, a.segment_id),
    )
