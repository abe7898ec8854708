"""System health: cameras (state, fps, skipped/corrupt frames, reconnects, frame age),
ingest workers (from the cameras' heartbeats), Redis, the websocket push server(s), the
notifier, stream sizes and dead letters, the SQL archive, and the notification deliveries
that failed (:mod:`dashboard.notify_panel`, with a retry button).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dash
from dash import Input, Output, callback, html
from dash.exceptions import PreventUpdate

from bus.keys import LIVE_STATS_PREFIX
from bus.notify import NotifyState
from core.clock import now_ms
from dashboard import auth, notify_panel
from dashboard.context import DashboardContext, current
from dashboard.data import STATE_COLOURS, CameraView, read_cameras
from dashboard.layout import live_badge, live_bridge, navbar, page_guard, register_live_bridge
from dashboard.metrics import EVENT_STREAMS

dash.register_page(__name__, path="/system", name="System", title="Safe City - system health")
ROLES = auth.OPERATORS
PREFIX = "sy"
register_live_bridge(PREFIX)


def _detector_cell(st: Any) -> str:
    """Share of analysed frames the detector ran on (the motion gate skips still ones) and its time per frame."""
    if st is None or not st.frames_analysed:
        return st.detector if st is not None and st.detector else "-"
    share = 100.0 * st.detector_runs / st.frames_analysed
    load = f"{share:.0f} %, {1000.0 * st.detector_seconds / st.frames_analysed:.1f} ms"
    return f"{st.detector}: {load}" if st.detector else load


def layout(**_query: str) -> html.Div:
    denied = page_guard(ROLES)
    if denied is not None:
        return denied
    return html.Div(
        [
            navbar("/system", [live_badge(PREFIX)]),
            html.Div(
                [
                    html.H6("Cameras", className="mt-2"),
                    html.Table(id="sy-cameras", className="table table-sm small"),
                    html.Div(
                        [
                            html.Div(
                                [html.H6("Workers"), html.Table(id="sy-workers", className="table table-sm small")],
                                className="col-lg-6",
                            ),
                            html.Div(
                                [html.H6("Services"), html.Table(id="sy-services", className="table table-sm small")],
                                className="col-lg-6",
                            ),
                        ],
                        className="row",
                    ),
                    html.H6("Streams"),
                    html.Table(id="sy-streams", className="table table-sm small"),
                    notify_panel.panel(),
                ],
                className="container-fluid",
            ),
            *live_bridge("ops", PREFIX, fallback_ms=3000),
        ]
    )


def _table(head: list[str], rows: list[list[Any]], row_ids: list[str] | None = None) -> list[Any]:
    return [
        html.Thead(html.Tr([html.Th(h) for h in head])),
        html.Tbody(
            [
                html.Tr([html.Td(c) for c in r], id=row_ids[i]) if row_ids else html.Tr([html.Td(c) for c in r])
                for i, r in enumerate(rows)
            ]
        ),
    ]


@callback(
    Output("sy-cameras", "children"),
    Output("sy-workers", "children"),
    Output("sy-services", "children"),
    Output("sy-streams", "children"),
    Input("sy-live", "data"),
    Input("sy-tick", "n_intervals"),
)
def refresh(live: dict[str, Any] | None, _tick: int | None) -> tuple[Any, ...]:
    if dash.ctx.triggered_id == "sy-live" and not any(
        m.get("type") == "cameras" for m in (live or {}).get("messages", [])
    ):
        raise PreventUpdate
    ctx = current()
    now = now_ms()
    ok, cams = read_cameras(ctx.cfg, ctx.store, now)
    statuses: dict[str, Any] = {}
    if ok:
        try:
            statuses = ctx.store.camera_statuses()
        except Exception:  # noqa: BLE001
            ok = False
    services, stream_rows = _services(ctx, ok)
    return (
        _camera_table(cams, statuses),
        _worker_table(statuses, now),
        _table(["Service", "State"], services),
        _table(["Stream", "Entries", "Dead letters"], stream_rows),
    )


def _camera_table(cams: Sequence[CameraView], statuses: dict[str, Any]) -> list[Any]:
    """One row per camera: its view and the counters of its heartbeat."""
    cam_rows = []
    for c in cams:
        st = statuses.get(c.id)
        badge = html.Span(c.state, className="badge", style={"backgroundColor": STATE_COLOURS.get(c.state, "#888")})
        cam_rows.append(
            [
                c.name,
                badge,
                st.worker_id if st else "-",
                f"{c.fps_in:.1f}",
                f"{c.fps_analysed:.1f}",
                st.frames_skipped if st else "-",
                st.frames_corrupt if st else "-",
                f"{st.reconnects} ({st.reconnects_1h}/h, {st.stalls} stalls)" if st else "-",
                _detector_cell(st),
                "-" if c.last_frame_age_s is None else f"{c.last_frame_age_s:.1f} s",
                "-" if c.heartbeat_age_s is None else f"{c.heartbeat_age_s:.1f} s",
                c.error or "",
            ]
        )
    return _table(
        [
            "Camera",
            "State",
            "Worker",
            "fps in",
            "fps analysed",
            "skipped",
            "corrupt",
            "reconnects (last hour, stalls)",
            "detector (ran on, ms per frame)",
            "last frame",
            "heartbeat",
            "error",
        ],
        cam_rows,
        [f"sy-cam-{c.id}" for c in cams],
    )


def _worker_table(statuses: dict[str, Any], now: int) -> list[Any]:
    """One row per ingest worker, from its cameras' heartbeats."""
    workers: dict[str, dict[str, Any]] = {}
    for st in statuses.values():
        w = workers.setdefault(st.worker_id or "?", {"cameras": [], "last": 0})
        w["cameras"].append(st.camera_id)
        w["last"] = max(w["last"], st.ts_ms)
    worker_rows = [
        [
            wid,
            ", ".join(sorted(w["cameras"])),
            f"{(now - w['last']) / 1000:.1f} s",
            html.Span(
                "alive" if now - w["last"] < 5000 else "silent",
                className="badge " + ("text-bg-success" if now - w["last"] < 5000 else "text-bg-danger"),
            ),
        ]
        for wid, w in sorted(workers.items())
    ]
    return _table(
        ["Worker", "Cameras", "Last heartbeat", "State"], worker_rows or [["no worker heartbeats", "", "", ""]]
    )


def _services(ctx: DashboardContext, ok: bool) -> tuple[list[list[Any]], list[list[Any]]]:
    """Rows of the services table (Redis, live push servers, archive) and of the streams table."""
    services: list[list[Any]] = []
    stream_rows: list[list[Any]] = []
    if ok:
        try:
            info = ctx.store.server_info()
            services.append(
                [
                    "Redis",
                    f"up, {info.get('redis_version', '?')}, {info.get('used_memory_human', '?')} used, "
                    f"{info.get('connected_clients', '?')} clients",
                ]
            )
            live_servers = ctx.store.json_values(LIVE_STATS_PREFIX)
            for st in live_servers:
                services.append(_live_push_row(st))
            if not live_servers:
                services.append(
                    ["Live push", html.Span("not running (pages fall back to polling)", className="text-danger")]
                )
            services.append(_notifier_row(NotifyState(ctx.store.client).status()))
            lens = ctx.bus.lengths(EVENT_STREAMS)
            stream_rows = [[s, n, dead] for s, (n, dead) in zip(EVENT_STREAMS, lens, strict=True)]
        except Exception as e:  # noqa: BLE001
            services.append(["Redis", html.Span(f"error: {e}", className="text-danger")])
    else:
        services.append(["Redis", html.Span("unreachable", className="text-danger")])
    services.append(
        [
            "Archive (SQL)",
            "connected" if ctx.archive is not None else html.Span("not installed", className="text-warning"),
        ]
    )
    return services, stream_rows


def _live_push_row(st: dict[str, Any]) -> list[Any]:
    """The services row of one websocket push server, from the stats it writes to Redis."""
    cl = st.get("clients", {})
    lat = st.get("latency", {})
    mean = (lat.get("sum", 0) / lat["count"] * 1000) if lat.get("count") else None
    return [
        f"Live push (pid {st.get('pid')})",
        f"{cl.get('ops', 0)} operator, {cl.get('warden', 0)} warden, {cl.get('public', 0)} public clients; "
        f"{st.get('sent', 0)} messages sent" + (f"; mean alert push {mean:.0f} ms" if mean is not None else ""),
    ]


def _notifier_row(st: dict[str, int]) -> list[Any]:
    """The services row of the notifier, from the counters it writes to Redis every 2 s."""
    if not st:
        return ["Notifier", html.Span("never started (alerts reach only open pages)", className="text-warning")]
    age = (now_ms() - st.get("ts_ms", 0)) / 1000
    text = (
        f"{st.get('destinations', 0)} destination(s); {st.get('alerts', 0)} alerts, {st.get('delivered', 0)} "
        f"delivered, {st.get('failed_attempts', 0)} failed attempts, {st.get('undelivered', 0)} undelivered"
    )
    if age > 10:
        return ["Notifier", html.Span(f"silent for {age:.0f} s; {text}", className="text-danger")]
    return ["Notifier", text]
