"""Plates: "where and when was LEA-1234 seen" for operators and admins.

A search box (plate, from, to, camera) runs :func:`dashboard.plate_search.search_plates` (exact
plate first, then plates one or two characters off; every search goes to the audit log that
admins see on the Users page), a results table with the plate crops, and a map (plotly on the
local roads) with the path of the sightings in time order. Bad input is shown beside the box
with the parameter and the reason; nothing is searched then.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, State, callback, dcc, html

from core.sightings import QueryError, parse_plate_query
from dashboard import auth
from dashboard.context import current
from dashboard.geo import RoadsFileError, load_roads, map_lines
from dashboard.layout import navbar, page_guard
from dashboard.plate_map import path_figure
from dashboard.plate_search import search_plates

dash.register_page(__name__, path="/plates", name="Plates", title="Safe City - plate search")
ROLES = auth.OPERATORS


def _roads() -> tuple[list[Any], list[Any]]:
    ctx = current()
    try:
        return map_lines(ctx.cfg, load_roads(ctx.roads_geojson))
    except RoadsFileError:
        return map_lines(ctx.cfg, [])


def _field(label: str, component: Any, width: str) -> html.Div:
    return html.Div(
        [html.Label(label, htmlFor=component.id, className="form-label small mb-0"), component], className=width
    )


def layout(**_query: str) -> html.Div:
    denied = page_guard(ROLES)
    if denied is not None:
        return denied
    cfg = current().cfg
    form = html.Div(
        [
            _field(
                "Plate",
                dcc.Input(
                    id="pl-plate",
                    className="form-control",
                    placeholder="LEA-1234",
                    maxLength=24,
                    autoComplete="off",
                ),
                "col-md-3",
            ),
            _field(
                "From (UTC)",
                dcc.Input(id="pl-from", className="form-control", placeholder="2026-05-01T08:00 or epoch ms"),
                "col-md-2",
            ),
            _field(
                "To (UTC)",
                dcc.Input(id="pl-to", className="form-control", placeholder="2026-05-01T20:00 or epoch ms"),
                "col-md-2",
            ),
            _field(
                "Camera",
                dcc.Dropdown(
                    id="pl-camera",
                    options=[{"label": c.name, "value": c.id} for c in cfg.cameras],
                    placeholder="all cameras",
                ),
                "col-md-3",
            ),
            html.Div(
                html.Button("Search", id="pl-search", n_clicks=0, className="btn btn-primary w-100"),
                className="col-md-2 d-flex align-items-end",
            ),
        ],
        className="row g-2 p-3 border-bottom",
    )
    segments, context = _roads()
    return html.Div(
        [
            navbar("/plates"),
            form,
            html.Div("", id="pl-error", className="alert alert-warning m-3 py-2", role="alert", hidden=True),
            html.Div(
                [
                    html.Div(
                        [
                            html.Div(
                                "Search for a plate: exact matches first, then one or two characters off.",
                                id="pl-summary",
                                className="small text-muted mb-2",
                                role="status",
                            ),
                            html.Table(id="pl-results", className="table table-sm small align-middle"),
                        ],
                        className="col-lg-7 p-3",
                    ),
                    html.Div(
                        dcc.Graph(
                            id="pl-map",
                            figure=path_figure(cfg, segments, context, []),
                            config={"displaylogo": False, "responsive": True},
                            style={"height": "60vh"},
                        ),
                        className="col-lg-5 p-3",
                    ),
                ],
                className="row g-0",
            ),
        ]
    )


def _table(sightings: list[dict[str, Any]]) -> list[Any]:
    head = html.Thead(
        html.Tr([html.Th(h) for h in ("Crop", "Plate", "Match", "Camera", "Time (UTC)", "Conf.", "Track")])
    )
    rows = []
    for i, s in enumerate(sightings):
        crop = (
            html.A(
                html.Img(
                    src=s["crop_url"],
                    className="pl-crop",
                    alt=f"plate crop {i + 1}",
                    style={"height": "36px", "maxWidth": "140px"},
                ),
                href=s["crop_url"],
                target="_blank",
            )
            if s["crop_url"]
            else html.Span("no crop", className="text-muted")
        )
        match = (
            html.Span("exact", className="badge text-bg-success")
            if s["distance"] == 0
            else html.Span(f"{s['distance']} off", className="badge text-bg-warning")
        )
        rows.append(
            html.Tr(
                [
                    html.Td(crop),
                    html.Td(s["plate"], className="font-monospace"),
                    html.Td(match),
                    html.Td(s["camera_name"]),
                    html.Td(s["time"]),
                    html.Td(f"{s['confidence']:.2f}"),
                    html.Td(str(s["track_id"])),
                ],
                id=f"pl-row-{i}",
                className="pl-row",
            )
        )
    return [head, html.Tbody(rows)]


@callback(
    Output("pl-results", "children"),
    Output("pl-map", "figure"),
    Output("pl-summary", "children"),
    Output("pl-error", "children"),
    Output("pl-error", "hidden"),
    Input("pl-search", "n_clicks"),
    Input("pl-plate", "n_submit"),
    State("pl-plate", "value"),
    State("pl-from", "value"),
    State("pl-to", "value"),
    State("pl-camera", "value"),
    prevent_initial_call=True,
)
def search(
    _n: int | None, _submit: int | None, plate: str | None, start: str | None, end: str | None, camera: str | None
) -> tuple[Any, ...]:
    login = auth.require(ROLES)
    ctx = current()
    try:
        query = parse_plate_query(
            {"plate": plate, "from": start, "to": end, "camera": camera}, [c.id for c in ctx.cfg.cameras]
        )
    except QueryError as e:
        return dash.no_update, dash.no_update, dash.no_update, f"Not searched: {e}", False
    if ctx.archive is None:
        return [], dash.no_update, "", "Not searched: the archive is unavailable", False
    result = search_plates(ctx.archive, ctx.cfg, query, login.username, login.role, "page")
    n = len(result.sightings)
    exact = sum(1 for s in result.sightings if s["distance"] == 0)
    summary = f"{n} sighting(s) of {query.plate} or near it: {exact} exact, {n - exact} one or two characters off."
    if result.crops_unavailable:
        summary += f" {result.crops_unavailable} without a readable crop."
    segments, context = _roads()
    return _table(result.sightings), path_figure(ctx.cfg, segments, context, result.path()), summary, "", True
