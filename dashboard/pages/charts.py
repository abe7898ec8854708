"""Charts: occupancy, vehicles in view and vehicles counted per road segment over the last hours (plotly).

Read from the streams by :func:`dashboard.series.read_series` (a few pipelined reads per
refresh, whatever the event rate); refreshed every minute and on demand.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, callback, dcc, html

from core.clock import now_ms
from dashboard import auth
from dashboard.context import current
from dashboard.layout import navbar, page_guard
from dashboard.series import figure_data, read_series

dash.register_page(__name__, path="/charts", name="Charts", title="Safe City - charts")
ROLES = auth.OPERATORS
#: Time window -> bucket width (seconds).
WINDOWS = {"1h": (3600, 60), "3h": (3 * 3600, 180), "6h": (6 * 3600, 300), "12h": (12 * 3600, 600)}
METRICS = (
    ("occupancy", "Road occupancy (%)", "occupancy %"),
    ("counted", "Vehicles counted per interval", "vehicles"),
    ("vehicles", "Vehicles in view (mean)", "vehicles"),
)


def layout(**_query: str) -> html.Div:
    denied = page_guard(ROLES)
    if denied is not None:
        return denied
    cfg = current().cfg
    controls = html.Div(
        [
            dcc.RadioItems(
                id="ch-window",
                options=[{"label": f" last {k}", "value": k} for k in WINDOWS],
                value="1h",
                inline=True,
                inputClassName="ms-2",
            ),
            dcc.Dropdown(
                id="ch-segments",
                options=[{"label": s.name, "value": s.id} for s in cfg.segments],
                multi=True,
                placeholder="all roads",
                style={"minWidth": "20rem"},
                className="ms-3",
            ),
        ],
        className="d-flex flex-wrap align-items-center p-2 border-bottom",
    )
    graphs = [
        html.Div(
            dcc.Graph(id=f"ch-{key}", config={"displaylogo": False, "responsive": True}, style={"height": "34vh"}),
            className="col-12 col-xl-6 p-1",
        )
        for key, _, _ in METRICS
    ]
    return html.Div(
        [
            navbar("/charts"),
            controls,
            html.Div(graphs, className="row g-0"),
            html.Div("", id="ch-note", className="small text-muted px-2"),
            dcc.Interval(id="ch-tick", interval=60_000, n_intervals=0),
        ]
    )


def _figure(traces: list[dict[str, Any]], title: str, ytitle: str) -> dict[str, Any]:
    return {
        "data": traces,
        "layout": {
            "title": {"text": title, "font": {"size": 14}},
            "margin": {"l": 50, "r": 10, "t": 40, "b": 40},
            "xaxis": {"type": "date", "title": "time (UTC)"},
            "yaxis": {"title": ytitle, "rangemode": "tozero"},
            "legend": {"orientation": "h", "y": -0.25},
            "uirevision": "keep",
        },
    }


@callback(
    [Output(f"ch-{key}", "figure") for key, _, _ in METRICS] + [Output("ch-note", "children")],
    Input("ch-tick", "n_intervals"),
    Input("ch-window", "value"),
    Input("ch-segments", "value"),
)
def charts(_tick: int | None, window: str | None, segments: list[str] | None) -> list[Any]:
    ctx = current()
    span_s, bucket_s = WINDOWS.get(window or "1h", WINDOWS["1h"])
    end = now_ms()
    try:
        series = read_series(ctx.cfg, ctx.store.client, end - span_s * 1000, end, bucket_s)
    except Exception as e:  # noqa: BLE001 - Redis down
        empty = [_figure([], title, y) for _, title, y in METRICS]
        return [*empty, f"Redis unreachable: {e}"]
    out = []
    for key, title, ytitle in METRICS:
        traces = figure_data(ctx.cfg, series, key)
        if segments:
            names = {s.name for s in ctx.cfg.segments if s.id in segments}
            traces = [t for t in traces if t["name"] in names]
        out.append(_figure(traces, title, ytitle))
    return [*out, f"{bucket_s // 60}-minute intervals; counts from the counting lines of each road's cameras."]
