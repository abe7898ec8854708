"""Operators' live map: congestion, cameras, incidents and SOS reports, live counts, latest frame.

Layout plus thin callbacks: a refresh on ``dcc.Interval`` (``dashboard.refresh_ms``)
that reads one :class:`dashboard.data.Snapshot` and renders it; the incident layer,
re-read whenever the websocket pushes an incident, an update or an alert (so a new SOS
appears within a second), with a popup of details per marker; and the camera selection
by clicking a map marker. No module-level mutable state: the selected camera lives in the
browser (the ``camera-select`` value).
"""

from __future__ import annotations

from typing import Any

import dash
import dash_leaflet as dl
from dash import ALL, Input, Output, State, callback, dcc, html
from dash.exceptions import PreventUpdate

from config.settings import AppConfig
from dashboard import auth
from dashboard import components as C
from dashboard import incident_ui as IU
from dashboard.context import current
from dashboard.data import clock_utc, read_snapshot
from dashboard.geo import RoadLine, RoadsFileError, bounds_of, load_roads, map_lines
from dashboard.incidents import IncidentFilter, read_incidents
from dashboard.layout import live_badge, live_bridge, navbar, page_guard, register_live_bridge

dash.register_page(__name__, path="/", name="Control room", title="Safe City - control room")
ROLES = auth.OPERATORS
PREFIX = "op"
#: Pushed message types that change the incident layer.
INCIDENT_MESSAGES = frozenset({"incident", "incident_update", "alert"})
register_live_bridge(PREFIX)


def _default_camera() -> str | None:
    cams = current().cfg.cameras
    ids = [c.id for c in cams if c.enabled] or [c.id for c in cams]
    return ids[0] if ids else None


def layout(**_query: str) -> html.Div:
    """The page, built per request from the configuration."""
    denied = page_guard(ROLES)
    if denied is not None:
        return denied
    ctx = current()
    cfg = ctx.cfg
    selected = _default_camera()
    try:
        segments, context = map_lines(cfg, load_roads(ctx.roads_geojson))
        roads_note = ""
    except RoadsFileError as e:  # draw the configured segments anyway, and say why roads are missing
        segments, context = map_lines(cfg, [])
        roads_note = str(e)
    return html.Div(
        [
            _header(),
            html.Div("", id="banner", className="alert alert-danger rounded-0 mb-0 py-2", hidden=True, role="alert"),
            html.Div(
                [_left_column(_map(cfg, segments, context, selected), roads_note), _right_column(cfg, selected)],
                className="row g-0",
            ),
            dcc.Interval(id="refresh", interval=cfg.dashboard.refresh_ms, n_intervals=0),
            *live_bridge("ops", PREFIX),
            dcc.Store(id="op-inc-sig"),
        ],
        className="control-room",
    )


def _header() -> html.Nav:
    """The navigation bar with the Redis status, live-push badge and clock."""
    return navbar(
        "/",
        [
            html.Span("connecting...", id="status-badge", className="badge text-bg-secondary me-2"),
            live_badge(PREFIX),
            html.Span("", id="clock", className="text-light font-monospace small mx-2"),
        ],
    )


def _map(cfg: AppConfig, segments: list[RoadLine], context: list[RoadLine], selected: str | None) -> dl.Map:
    """The live map: roads, segments, cameras and the incident layer."""
    return dl.Map(
        id="map",
        # The view fits the monitored segments and cameras, whatever the city; react-leaflet ignores
        # bounds when center+zoom are given, so dashboard.map.center/zoom are not passed.
        bounds=bounds_of(segments, [c.location for c in cfg.cameras]),
        boundsOptions={"padding": [12, 12]},
        zoomSnap=0.25,
        trackViewport=False,  # nothing reads the viewport; tracking it without `center` throws in dash-leaflet 1.1
        children=[*C.map_layers(cfg, segments, context, selected), dl.LayerGroup(id="op-incidents", children=[])],
        className="control-map",
        style={"height": "62vh", "width": "100%"},
        preferCanvas=False,
    )


def _camera_panel(cfg: AppConfig, selected: str | None) -> html.Div:
    """Camera picker, latest frame, caption and MJPEG link."""
    return html.Div(
        [
            html.Div(
                [
                    html.Label("Camera", htmlFor="camera-select", className="form-label small mb-1"),
                    dcc.Dropdown(
                        id="camera-select",
                        options=[{"label": c.name, "value": c.id} for c in cfg.cameras],
                        value=selected,
                        clearable=False,
                        persistence=True,
                        persistence_type="session",
                    ),
                ],
                className="mb-2",
            ),
            html.Div(
                [
                    html.Img(id="camera-frame", alt="latest annotated frame", className="camera-frame", hidden=True),
                    html.Div("no frame yet", id="camera-frame-empty", className="camera-frame-empty"),
                ],
                className="frame-box",
            ),
            html.Div(id="camera-caption", className="small mt-1"),
            html.A("open live MJPEG stream", id="camera-stream-link", href="#", target="_blank", className="small"),
        ],
        className="card card-body p-2",
    )


def _left_column(the_map: dl.Map, roads_note: str) -> html.Div:
    """Map, legend, a note when the roads file is missing, and the live counts table."""
    return html.Div(
        [
            the_map,
            C.legend(),
            html.Div(roads_note, className="small text-danger px-2"),
            html.H6("Live counts", className="mt-2 mb-1 px-1"),
            html.Table(id="camera-table", className="table table-sm table-hover mb-0 small"),
        ],
        className="col-lg-7 p-1",
    )


def _right_column(cfg: AppConfig, selected: str | None) -> html.Div:
    """Camera panel, open incidents, road segments and recent events."""
    return html.Div(
        [
            _camera_panel(cfg, selected),
            html.H6(
                ["Open incidents ", html.Span("", id="op-inc-count", className="badge text-bg-danger")],
                className="mt-2 mb-1",
            ),
            html.Ul(id="op-inc-list", className="list-group list-group-flush small incidents"),
            html.H6("Road segments", className="mt-2 mb-1"),
            html.Table(id="segment-table", className="table table-sm mb-0 small"),
            html.H6("Recent events", className="mt-2 mb-1"),
            html.Ul(id="events", className="list-group list-group-flush small events"),
        ],
        className="col-lg-5 p-1",
    )


@callback(
    Output("op-incidents", "children"),
    Output("op-inc-list", "children"),
    Output("op-inc-count", "children"),
    Output("op-inc-sig", "data"),
    Input("op-live", "data"),
    Input("op-tick", "n_intervals"),
    State("op-inc-sig", "data"),
)
def incident_layer(live: dict[str, Any] | None, _tick: int | None, sig: str | None) -> tuple[Any, ...]:
    """Markers and list of the open incidents; re-read when an incident, update or alert is pushed.

    Left alone when nothing changed, so an open detail popup stays open.
    """
    if dash.ctx.triggered_id == "op-live":
        kinds = {m.get("type") for m in (live or {}).get("messages", [])}
        if not kinds & INCIDENT_MESSAGES:
            raise PreventUpdate
    ctx = current()
    try:
        views = read_incidents(
            ctx.bus, IncidentFilter(states=("open", "acknowledged", "assigned", "escalated")), limit=200
        )
    except Exception:  # noqa: BLE001 - Redis down: the banner says so; keep the layer as it is
        raise PreventUpdate from None
    new_sig = "|".join(f"{v.id}:{v.state}:{v.assignee}" for v in views)
    if new_sig == sig:
        raise PreventUpdate
    n = len(views)
    return IU.incident_markers(ctx.cfg, views), IU.incident_list_items(ctx.cfg, views), str(n) if n else "", new_sig


@callback(
    Output("camera-select", "value"),
    Input({"type": C.CAM_MARKER, "id": ALL}, "n_clicks"),
    prevent_initial_call=True,
)
def select_from_map(_clicks: list[int | None]) -> str:
    """Clicking a camera marker selects that camera."""
    trig = dash.ctx.triggered_id
    if not isinstance(trig, dict) or not any(t.get("value") for t in dash.ctx.triggered):
        raise PreventUpdate
    return str(trig["id"])


def _ids(key: str) -> list[str]:
    """Item ids of a pattern-matching ALL output, in the order Dash expects values."""
    return [o["id"]["id"] for o in dash.ctx.outputs_grouping[key]]


@callback(
    output={
        "banner": Output("banner", "children"),
        "banner_hidden": Output("banner", "hidden"),
        "badge": Output("status-badge", "children"),
        "badge_cls": Output("status-badge", "className"),
        "clock": Output("clock", "children"),
        "seg_style": Output({"type": C.SEG_LINE, "id": ALL}, "pathOptions"),
        "seg_tip": Output({"type": C.SEG_TIP, "id": ALL}, "children"),
        "cam_style": Output({"type": C.CAM_MARKER, "id": ALL}, "pathOptions"),
        "cam_tip": Output({"type": C.CAM_TIP, "id": ALL}, "children"),
        "frame_src": Output("camera-frame", "src"),
        "frame_hidden": Output("camera-frame", "hidden"),
        "empty_text": Output("camera-frame-empty", "children"),
        "empty_hidden": Output("camera-frame-empty", "hidden"),
        "caption": Output("camera-caption", "children"),
        "stream_href": Output("camera-stream-link", "href"),
        "camera_table": Output("camera-table", "children"),
        "segment_table": Output("segment-table", "children"),
        "events": Output("events", "children"),
    },
    inputs={"_n": Input("refresh", "n_intervals"), "selected": Input("camera-select", "value")},
)
def refresh(_n: int | None, selected: str | None) -> dict[str, Any]:
    """Read the live state once and render every live part of the page."""
    ctx = current()
    snap = read_snapshot(ctx.cfg, ctx.store, ctx.bus, selected_camera=selected)
    segs = {s.id: s for s in snap.segments}
    cams = {c.id: c for c in snap.cameras}
    badge, badge_cls = C.status_badge(snap.redis_ok, snap.cameras)
    frame_ts = snap.frame_ts_ms.get(selected) if selected else None
    cam = cams.get(selected) if selected else None
    if frame_ts is not None and selected:
        src = dash.get_relative_path(f"/camera/{selected}/latest.jpg") + f"?t={frame_ts}"
        empty = ""
    else:
        src = None
        empty = "Redis unreachable" if not snap.redis_ok else "no frame yet"
    return {
        "banner": f"degraded: Redis unreachable ({snap.error})" if not snap.redis_ok else "",
        "banner_hidden": snap.redis_ok,
        "badge": badge,
        "badge_cls": badge_cls + " me-3",
        "clock": f"updated {clock_utc(snap.generated_ms)} UTC",
        "seg_style": [C.segment_style(segs[i].level) for i in _ids("seg_style")],
        "seg_tip": [C.segment_tip(segs[i]) for i in _ids("seg_tip")],
        "cam_style": [C.camera_style(cams[i].state, i == selected) for i in _ids("cam_style")],
        "cam_tip": [C.camera_tip(cams[i]) for i in _ids("cam_tip")],
        "frame_src": src,
        "frame_hidden": src is None,
        "empty_text": empty,
        "empty_hidden": src is not None,
        "caption": C.camera_caption(cam, frame_ts),
        "stream_href": dash.get_relative_path(f"/camera/{selected}/stream.mjpg") if selected else "#",
        "camera_table": C.camera_table(snap.cameras, snap.counts, selected),
        "segment_table": C.segment_table(snap.segments),
        "events": C.event_items(snap.events),
    }
