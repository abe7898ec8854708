"""``/playback``: operators play a camera's continuous recording at a moment, on a timeline of its tickets and incidents.

Pick a camera and a time (UTC; empty = now) and a window around it; "Show" draws the timeline
(:mod:`dashboard.playback_ui`): the recorded segments as green bars, tickets (red) and incidents (orange) as
markers, listed again below. Clicking a marker, or "Play at this time", plays the segment that holds that
moment from the right second (:func:`core.playback.locate`); clicking a segment bar plays it from its start.
The ``<video>`` loads ``/recording/<camera>/<start ms>`` (a short-lived operator link, :mod:`dashboard.media`)
and a clientside callback seeks it (``currentTime``) once its metadata is in. Cameras record when
``recording.enabled`` (globally or per camera).
"""

from __future__ import annotations

import time
from typing import Any

import dash
from dash import ALL, Input, Output, State, callback, clientside_callback, dcc, html
from dash.exceptions import PreventUpdate

from core.clock import now_ms
from core.playback import Window, locate, parse_when
from dashboard import auth
from dashboard.context import current
from dashboard.data import clock_utc, iso_utc
from dashboard.layout import navbar, page_guard
from dashboard.playback_ui import timeline

dash.register_page(__name__, path="/playback", name="Playback", title="Safe City - recordings")
ROLES = auth.OPERATORS
#: Window choices: half-width in seconds -> label.
SPANS = {300: "± 5 min", 900: "± 15 min", 3600: "± 1 h", 6 * 3600: "± 6 h"}
#: Segments looked up around a moment to play it (longer than any segment).
LOOKUP_MS = 15 * 60 * 1000


def _cameras() -> tuple[list[dict[str, str]], str | None]:
    cfg = current().cfg
    opts, first = [], None
    for c in cfg.cameras:
        rec = cfg.recording_for(c).enabled
        opts.append({"label": f"{c.name}{'' if rec else ' (not recording)'}", "value": c.id})
        if rec and first is None:
            first = c.id
    return opts, first or (cfg.cameras[0].id if cfg.cameras else None)


def _field(label: str, component: Any, width: str) -> html.Div:
    return html.Div(
        [html.Label(label, htmlFor=component.id, className="form-label small mb-0"), component], className=width
    )


def layout(**_query: str) -> html.Div:
    denied = page_guard(ROLES)
    if denied is not None:
        return denied
    options, first = _cameras()
    form = html.Div(
        [
            _field("Camera", dcc.Dropdown(id="pb-camera", options=options, value=first, clearable=False), "col-md-4"),
            _field(
                "Time (UTC)",
                dcc.Input(
                    id="pb-at", className="form-control", placeholder="now, or 2026-05-01T08:30:00", debounce=True
                ),
                "col-md-3",
            ),
            _field(
                "Window",
                dcc.Dropdown(
                    id="pb-span",
                    options=[{"label": v, "value": k} for k, v in SPANS.items()],
                    value=900,
                    clearable=False,
                ),
                "col-md-2",
            ),
            html.Div(
                [
                    html.Button("Show", id="pb-show", n_clicks=0, className="btn btn-primary me-2"),
                    html.Button("Play at this time", id="pb-go", n_clicks=0, className="btn btn-outline-primary"),
                ],
                className="col-md-3 d-flex align-items-end",
            ),
        ],
        className="row g-2 p-3 border-bottom",
    )
    return html.Div(
        [
            navbar("/playback"),
            form,
            html.Div("", id="pb-error", className="alert alert-warning m-3 py-2", role="alert", hidden=True),
            html.Div(id="pb-timeline", className="p-3"),
            html.Div(
                [
                    html.Video(id="pb-video", controls=True, muted=True, preload="metadata", style={"width": "100%"}),
                    html.Div("Pick a marker, a segment or a time.", id="pb-status", className="small text-muted"),
                ],
                className="px-3 pb-3",
                style={"maxWidth": "960px"},
            ),
            dcc.Store(id="pb-seek"),
            html.Div(id="pb-seek-done", hidden=True),
        ]
    )


@callback(
    Output("pb-timeline", "children"),
    Output("pb-error", "children"),
    Output("pb-error", "hidden"),
    Input("pb-show", "n_clicks"),
    Input("pb-camera", "value"),
    Input("pb-span", "value"),
    State("pb-at", "value"),
)
def show(_n: int | None, camera: str | None, span: int | None, at: str | None) -> tuple[Any, str, bool]:
    """The camera's timeline around the chosen time."""
    auth.require(ROLES)
    ctx = current()
    if camera not in {c.id for c in ctx.cfg.cameras}:
        return dash.no_update, f"Unknown camera {camera!r}", False
    try:
        moment = parse_when(at, now_ms())
    except ValueError as e:
        return dash.no_update, f"Time: {e}", False
    if ctx.archive is None:
        return [], "The archive is unavailable: no recordings to show", False
    w = Window.around(moment, float(span or 900))
    segments = ctx.archive.clips.segments(camera, w.start_ms, w.end_ms)
    markers = ctx.archive.clips.markers(camera, w.start_ms, w.end_ms)
    return timeline(w, segments, markers), "", True


@callback(
    Output("pb-seek", "data"),
    Output("pb-status", "children"),
    Input("pb-go", "n_clicks"),
    Input({"type": "pb-mark", "ts": ALL, "id": ALL, "at": ALL}, "n_clicks"),
    Input({"type": "pb-seg", "ts": ALL}, "n_clicks"),
    State("pb-camera", "value"),
    State("pb-at", "value"),
    prevent_initial_call=True,
)
def seek(_go: int | None, _marks: list[int], _segs: list[int], camera: str | None, at: str | None) -> tuple[Any, Any]:
    """What to play for the clicked marker, segment or typed time: ``{src, offset, ...}`` for the clientside seek."""
    auth.require(ROLES)
    trig = dash.ctx.triggered_id
    if trig is None or not any(t.get("value") for t in dash.ctx.triggered):
        raise PreventUpdate  # a re-drawn timeline, not a click
    ctx = current()
    if ctx.archive is None or camera is None:
        return dash.no_update, "The archive is unavailable."
    if trig == "pb-go":
        try:
            moment = parse_when(at, now_ms())
        except ValueError as e:
            return dash.no_update, f"Time: {e}"
    else:
        moment = int(trig["ts"])
    segs = ctx.archive.clips.segments(camera, moment - LOOKUP_MS, moment + LOOKUP_MS)
    found = locate(segs, moment)
    if found is None:
        return dash.no_update, f"Nothing recorded at or after {iso_utc(moment)} (within 15 min)."
    seg = found.segment
    note = "" if found.exact else f" (nothing recorded at {clock_utc(moment)}: the next recording)"
    data = {
        "src": f"/recording/{camera}/{seg.ts_ms}",
        "offset": found.offset_s,
        "start_ms": seg.ts_ms,
        "nonce": time.time(),  # the same marker clicked twice seeks again
    }
    status = (
        f"Playing {camera} {clock_utc(seg.ts_ms)} - {clock_utc(seg.end_ts_ms)} UTC from {found.offset_s:.1f} s"
        f" ({clock_utc(moment)}){note}"
    )
    return data, status


clientside_callback(
    """
    function(seek) {
        const v = document.getElementById('pb-video');
        if (!seek || !v) { return ''; }
        const go = () => {
            v.currentTime = seek.offset;
            v.dataset.offset = String(seek.offset);
            v.play().catch(() => {});
        };
        if (v.dataset.src !== seek.src) {
            v.dataset.src = seek.src;
            v.addEventListener('loadedmetadata', go, {once: true});
            v.src = seek.src;
            v.load();
        } else if (v.readyState >= 1) {
            go();
        } else {
            v.addEventListener('loadedmetadata', go, {once: true});
        }
        return seek.src + '@' + seek.offset;
    }
    """,
    Output("pb-seek-done", "children"),
    Input("pb-seek", "data"),
)
