"""``/public``: road status by segment (map and list) and published traffic updates, for everyone.

No login. English and Urdu (right-to-left) toggle. Everything shown comes from
:mod:`dashboard.feeds`' public shapes - segment names, levels and aggregate figures, and
published updates - never a plate, a face, a camera frame or an incident. The page
listens on the public websocket channel and re-renders when segment levels or updates
are pushed.
"""

from __future__ import annotations

from typing import Any

import dash
import dash_leaflet as dl
from dash import ALL, Input, Output, callback, dcc, html
from dash.exceptions import PreventUpdate

from config.settings import AppConfig
from dashboard import components as C
from dashboard import updates as U
from dashboard.context import current
from dashboard.data import LEVEL_COLOURS, read_segments
from dashboard.feeds import segment_public, update_public
from dashboard.geo import RoadLine, RoadsFileError, bounds_of, load_roads, map_lines
from dashboard.layout import live_bridge, register_live_bridge

dash.register_page(__name__, path="/public", name="Road status", title="Safe City - road status")
PREFIX = "pub"
PUSHED = frozenset({"segments", "traffic_update", "traffic_update_removed"})
register_live_bridge(PREFIX)

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "Road status",
        "roads": "Roads",
        "updates": "Traffic updates",
        "none": "No traffic updates right now.",
        "vehicles": "vehicles",
        "speed": "km/h",
        "updated": "updated",
        "nodata": "no data",
        "free": "free flowing",
        "moderate": "moderate",
        "heavy": "heavy",
        "jammed": "jammed",
        "unknown": "unknown",
        "live": "live",
        "city_wide": "City-wide",
        "note": "Live road status from the city's traffic cameras. No personal data is published.",
    },
    "ur": {
        "title": "سڑکوں کی صورتحال",
        "roads": "سڑکیں",
        "updates": "ٹریفک اطلاعات",
        "none": "اس وقت کوئی ٹریفک اطلاع نہیں۔",
        "vehicles": "گاڑیاں",
        "speed": "کلومیٹر فی گھنٹہ",
        "updated": "تازہ ترین",
        "nodata": "معلومات دستیاب نہیں",
        "free": "رواں",
        "moderate": "معتدل",
        "heavy": "زیادہ رش",
        "jammed": "جام",
        "unknown": "نامعلوم",
        "live": "براہ راست",
        "city_wide": "پورا شہر",
        "note": "شہر کے ٹریفک کیمروں سے سڑکوں کی براہ راست صورتحال۔ کوئی ذاتی معلومات شائع نہیں کی جاتیں۔",
    },
}


def layout(**_query: str) -> html.Div:
    ctx = current()
    cfg = ctx.cfg
    try:
        segments, context = map_lines(cfg, load_roads(ctx.roads_geojson))
    except RoadsFileError:
        segments, context = map_lines(cfg, [])
    return html.Div(
        [
            _header(cfg),
            html.Div(
                [
                    html.H2("", id="pub-title", className="h4 mt-2"),
                    html.Div(
                        [
                            html.Div(_map(cfg, segments, context), className="col-lg-7 p-1"),
                            html.Div(
                                [
                                    html.H3("", id="pub-roads-title", className="h6"),
                                    html.Ul(id="pub-roads", className="list-group"),
                                ],
                                className="col-lg-5 p-1",
                            ),
                        ],
                        className="row g-0",
                    ),
                    html.H3("", id="pub-updates-title", className="h6 mt-3"),
                    html.Div(id="pub-updates"),
                    html.P("", id="pub-note", className="small text-muted mt-3"),
                ],
                className="container-fluid",
            ),
            *live_bridge("public", PREFIX, fallback_ms=10_000),
        ],
        id="pub-root",
        className="public-page",
        lang="en",
        dir="ltr",
    )


def _map(cfg: AppConfig, segments: list[RoadLine], context: list[RoadLine]) -> dl.Map:
    """The public map: optional tiles, context roads, and the segments coloured by level."""
    layers: list[Any] = []
    if cfg.dashboard.map.tile_url:
        layers.append(dl.TileLayer(url=cfg.dashboard.map.tile_url, attribution=cfg.dashboard.map.tile_attribution))
    layers += [
        dl.Polyline(positions=[list(p) for p in r.positions], pathOptions=C.ROAD_STYLE, className="road")
        for r in context
    ]
    layers += [
        dl.Polyline(
            id={"type": "pub-seg", "id": s.id},
            positions=[list(p) for p in s.positions],
            pathOptions=C.segment_style("unknown"),
            className=f"segment segment-{s.id}",
        )
        for s in segments
    ]
    return dl.Map(
        id="pub-map",
        bounds=bounds_of(segments),
        boundsOptions={"padding": [12, 12]},
        zoomSnap=0.25,
        trackViewport=False,
        children=layers,
        style={"height": "45vh", "width": "100%"},
        className="public-map",
    )


def _header(cfg: AppConfig) -> html.Div:
    """The city's name, the language toggle and the live-connection badge."""
    return html.Div(
        [
            html.H1(f"Safe City {cfg.city}", className="h5 mb-0 me-auto", id="pub-brand"),
            dcc.RadioItems(
                id="pub-lang",
                options=[{"label": "English", "value": "en"}, {"label": "اردو", "value": "ur"}],
                value="en",
                inline=True,
                persistence=True,
                persistence_type="local",
                className="lang-toggle",
                inputClassName="ms-2 me-1",
            ),
            html.Span("connecting", id="pub-live-state", className="badge text-bg-secondary live-state ms-2"),
        ],
        className="d-flex align-items-center bg-dark text-light px-3 py-2",
    )


def _roads(cfg_segments: list[dict[str, Any]], lang: str) -> list[Any]:
    t = TEXT[lang]
    items = []
    for s in cfg_segments:
        name = (s["name_ur"] or s["name"]) if lang == "ur" else s["name"]
        figures = (
            t["nodata"]
            if s["updated"] is None
            else " · ".join(
                x
                for x in (
                    f"{s['vehicles']:.0f} {t['vehicles']}" if s["vehicles"] is not None else "",
                    f"{s['mean_speed_kmh']:.0f} {t['speed']}" if s["mean_speed_kmh"] is not None else "",
                )
                if x
            )
        )
        items.append(
            html.Li(
                [
                    html.Div([html.Strong(name), html.Div(figures, className="small text-muted")]),
                    html.Span(
                        t.get(s["level"], s["level"]),
                        className=f"badge level-badge level-{s['level']}",
                        style={"backgroundColor": LEVEL_COLOURS.get(s["level"], LEVEL_COLOURS["unknown"])},
                    ),
                ],
                className="list-group-item d-flex justify-content-between align-items-center public-road",
                id=f"pub-road-{s['id']}",
            )
        )
    return items


def _updates(ups: list[dict[str, Any]], lang: str) -> list[Any]:
    t = TEXT[lang]
    if not ups:
        return [html.P(t["none"], className="text-muted", id="pub-no-updates")]
    out = []
    for u in ups:
        title = (u["title_ur"] or u["title"]) if lang == "ur" else u["title"]
        body = (u["body_ur"] or u["body"]) if lang == "ur" else u["body"]
        where = u["segment"] or t["city_wide"]
        out.append(
            html.Div(
                [
                    html.Strong(title),
                    html.Div(f"{where} · {(u['published_at'] or '')[11:16]} UTC", className="small text-muted"),
                    html.P(body, className="mb-0"),
                ],
                className="border rounded p-2 mb-2 public-update",
                id=f"pub-update-{u['id']}",
            )
        )
    return out


@callback(
    Output("pub-root", "dir"),
    Output("pub-root", "lang"),
    Output("pub-title", "children"),
    Output("pub-roads-title", "children"),
    Output("pub-updates-title", "children"),
    Output("pub-note", "children"),
    Output("pub-roads", "children"),
    Output("pub-updates", "children"),
    Output({"type": "pub-seg", "id": ALL}, "pathOptions"),
    Input("pub-lang", "value"),
    Input("pub-live", "data"),
    Input("pub-tick", "n_intervals"),
)
def render(lang: str | None, live: dict[str, Any] | None, _tick: int | None) -> tuple[Any, ...]:
    """Everything on the page, in the chosen language, from public data only."""
    if dash.ctx.triggered_id == "pub-live" and not {m.get("type") for m in (live or {}).get("messages", [])} & PUSHED:
        raise PreventUpdate
    lang = lang if lang in TEXT else "en"
    t = TEXT[lang]
    ctx = current()
    _ok, views = read_segments(ctx.cfg, ctx.store)
    segs = [segment_public(ctx.cfg, v) for v in views]
    try:
        ups = [update_public(ctx.cfg, u) for u in U.list_updates(ctx.db, published_only=True, limit=20)]
    except Exception:  # noqa: BLE001 - database down: show the roads anyway
        ups = []
    level = {s["id"]: s["level"] for s in segs}
    ids = [o["id"]["id"] for o in dash.ctx.outputs_list[-1]]
    return (
        "rtl" if lang == "ur" else "ltr",
        lang,
        t["title"],
        t["roads"],
        t["updates"],
        t["note"],
        _roads(segs, lang),
        _updates(ups, lang),
        [C.segment_style(level.get(i, "unknown")) for i in ids],
    )
