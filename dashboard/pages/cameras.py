"""Camera wall: live annotated video of every camera (MJPEG) with its status.

Each tile is an ``<img>`` on ``/camera/<id>/stream.mjpg``: the worker encodes each frame
once, the server relays the same bytes to every viewer (:class:`dashboard.frames.FrameHub`).
The status line (online/offline, fps read/analysed, age of the last frame, worker) is
re-rendered whenever the websocket pushes camera heartbeats.

A browser opens at most six HTTP/1.1 connections to one server and each MJPEG stream
keeps one, so the wall shows :data:`PER_PAGE` cameras at a time (``?page=N``), leaving
connections for the page's own requests.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import ALL, Input, Output, callback, html
from dash.exceptions import PreventUpdate

from dashboard import auth
from dashboard.context import current
from dashboard.data import STATE_COLOURS, CameraView, read_cameras
from dashboard.layout import live_badge, live_bridge, navbar, page_guard, register_live_bridge

dash.register_page(__name__, path="/cameras", name="Cameras", title="Safe City - camera wall")
ROLES = auth.OPERATORS
PREFIX = "cw"
WALL_FPS = 5
PER_PAGE = 4
register_live_bridge(PREFIX)


def status_line(cam: CameraView) -> list[Any]:
    """State badge, fps and last-frame age of one camera."""
    badge = html.Span(
        cam.state, className="badge me-2 cam-state", style={"backgroundColor": STATE_COLOURS.get(cam.state, "#888")}
    )
    age = "-" if cam.last_frame_age_s is None else f"{cam.last_frame_age_s:.1f} s"
    parts: list[Any] = [
        badge,
        html.Span(f"{cam.fps_in:.1f} fps in / {cam.fps_analysed:.1f} analysed", className="me-2 cam-fps"),
        html.Span(f"last frame {age} ago", className="cam-age"),
    ]
    if cam.error and not cam.online:
        parts += [html.Br(), html.Span(cam.error, className="text-danger small")]
    return parts


def layout(page: str = "0", **_query: str) -> html.Div:
    denied = page_guard(ROLES)
    if denied is not None:
        return denied
    cfg = current().cfg
    pages = max(1, -(-len(cfg.cameras) // PER_PAGE))
    try:
        n = min(max(0, int(page)), pages - 1)
    except ValueError:
        n = 0
    pager: list[Any] = []
    if pages > 1:
        pager = [
            html.A(
                f"{i * PER_PAGE + 1}-{min(len(cfg.cameras), (i + 1) * PER_PAGE)}",
                href=f"/cameras?page={i}",
                className="btn btn-sm me-1 " + ("btn-secondary" if i == n else "btn-outline-secondary"),
            )
            for i in range(pages)
        ]
    tiles = []
    for cam in cfg.cameras[n * PER_PAGE : (n + 1) * PER_PAGE]:
        tiles.append(
            html.Div(
                html.Div(
                    [
                        html.Div(
                            [html.Strong(cam.name), html.Span(cam.id, className="text-muted small ms-2")],
                            className="card-header py-1",
                        ),
                        html.Div(
                            html.Img(
                                src=f"/camera/{cam.id}/stream.mjpg?fps={WALL_FPS}",
                                alt=f"live video of {cam.name}",
                                className="camera-wall-img",
                                id=f"cw-img-{cam.id}",
                            ),
                            className="frame-box",
                        ),
                        html.Div(id={"type": "cw-status", "id": cam.id}, className="card-footer py-1 small cam-status"),
                    ],
                    className="card camera-tile",
                    id=f"cw-tile-{cam.id}",
                ),
                className="col-12 col-md-6 col-xxl-4 p-1",
            )
        )
    return html.Div(
        [
            navbar("/cameras", [live_badge(PREFIX)]),
            html.Div(pager, className="px-2 pt-2") if pager else None,
            html.Div(tiles, className="row g-0 p-1", id="cw-wall"),
            *live_bridge("ops", PREFIX, fallback_ms=2000),
        ]
    )


@callback(
    Output({"type": "cw-status", "id": ALL}, "children"),
    Input("cw-live", "data"),
    Input("cw-tick", "n_intervals"),
)
def refresh(live: dict[str, Any] | None, _tick: int | None) -> list[list[Any]]:
    """Status lines of every tile (on pushed heartbeats, or the fallback tick)."""
    if dash.ctx.triggered_id == "cw-live" and not any(
        m.get("type") == "cameras" for m in (live or {}).get("messages", [])
    ):
        raise PreventUpdate
    ctx = current()
    ok, cams = read_cameras(ctx.cfg, ctx.store)
    by_id = {c.id: c for c in cams}
    ids = [o["id"]["id"] for o in dash.ctx.outputs_list]
    if not ok:
        return [[html.Span("Redis unreachable", className="text-danger")] for _ in ids]
    return [status_line(by_id[i]) if i in by_id else ["unknown camera"] for i in ids]
