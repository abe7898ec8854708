"""Incident feed: every incident (SOS included) pushed live, with filters and actions.

Operators acknowledge, assign (to a warden or operator) and close incidents; each action
goes through :func:`dashboard.incidents.act`, as the REST API's: recorded (archive, when
installed), the incident's warden alert acknowledged, and announced on ``incident.updated``,
so every open control room and the warden's phone update at once. Filters (kind, state, road,
time window) live in the browser.
"""

from __future__ import annotations

import logging
from typing import Any

import dash
from dash import ALL, Input, Output, State, callback, dcc, html
from dash.exceptions import PreventUpdate

from core.clock import now_ms
from core.incidents import NOTE_MAX_CHARS, STATES, IncidentView
from core.types import IncidentKind
from dashboard import auth
from dashboard import incident_ui as IU
from dashboard.clip_ui import clip_figure
from dashboard.context import current
from dashboard.incidents import ActionError, IncidentFilter, act, kind_label, read_incidents
from dashboard.layout import live_badge, live_bridge, navbar, page_guard, register_live_bridge

dash.register_page(__name__, path="/incidents", name="Incidents", title="Safe City - incidents")
ROLES = auth.OPERATORS
PREFIX = "if"
log = logging.getLogger("dashboard.incidents")
WINDOWS = {"1h": 3600, "6h": 6 * 3600, "24h": 86400, "all": None}
FEED_MESSAGES = frozenset({"incident", "incident_update", "alert"})
register_live_bridge(PREFIX)


def _clip_part(iid: str, focus: str | None, with_clip: set[str]) -> list[Any]:
    """The incident's clip: the player on the focused card, a link on the others (when there is one)."""
    if iid not in with_clip:
        return []
    if iid == focus:
        fig = clip_figure(current().archive, "incident", iid, f"if-clip-{iid}")
        return [fig] if fig is not None else []
    return [html.A("video clip", href=f"/clip/incident/{iid}", target="_blank", className="small if-clip-link")]


def _actions(v: IncidentView, assignees: list[dict[str, str]]) -> list[Any]:
    """Acknowledge, assign (with a note) and close buttons of an incident that is not closed."""
    iid = v.id
    if v.state == "closed":
        return []
    return [
        html.Div(
            [
                html.Button(
                    "Acknowledge",
                    id={"type": "if-act", "id": iid, "action": "ack"},
                    n_clicks=0,
                    className="btn btn-sm btn-warning me-1",
                    disabled=v.state != "open" and v.state != "escalated",
                ),
                dcc.Dropdown(
                    id={"type": "if-assignee", "id": iid},
                    options=assignees,
                    placeholder="assign to...",
                    persistence=True,
                    persistence_type="memory",
                    className="d-inline-block me-1 assignee",
                    style={"width": "12rem", "verticalAlign": "middle"},
                ),
                html.Button(
                    "Assign",
                    id={"type": "if-act", "id": iid, "action": "assign"},
                    n_clicks=0,
                    className="btn btn-sm btn-info me-1",
                ),
                dcc.Input(
                    id={"type": "if-note", "id": iid},
                    placeholder="note (optional)",
                    maxLength=NOTE_MAX_CHARS,
                    persistence=True,
                    persistence_type="memory",
                    className="form-control form-control-sm d-inline-block me-1",
                    style={"width": "14rem"},
                ),
                html.Button(
                    "Close",
                    id={"type": "if-act", "id": iid, "action": "close"},
                    n_clicks=0,
                    className="btn btn-sm btn-outline-secondary",
                ),
            ],
            className="mt-2 d-flex flex-wrap align-items-center gap-1",
        )
    ]


def _card(
    v: IncidentView, assignees: list[dict[str, str]], focus: str | None, with_clip: set[str] | None = None
) -> html.Div:
    cfg = current().cfg
    iid = v.id
    closed = v.state == "closed"
    actions = _actions(v, assignees)
    history = [
        html.Li(
            f"{h.actor} {h.action}" + (f" -> {h.assignee}" if h.assignee else "") + (f": {h.note}" if h.note else ""),
            className="small text-muted",
        )
        for h in v.history[-5:]
    ]
    border = "border-danger" if v.kind == "sos" and not closed else ("border-primary border-2" if iid == focus else "")
    return html.Div(
        html.Div(
            [
                html.Div(
                    [
                        html.Span(
                            kind_label(v.kind),
                            className="badge text-bg-danger me-1" if v.kind == "sos" else "badge text-bg-primary me-1",
                        ),
                        html.Span(v.priority, className="badge text-bg-light me-1"),
                        html.Span(v.state, className=f"badge me-1 incident-state {IU.STATE_BADGES.get(v.state, '')}"),
                    ]
                ),
                html.Div(IU.incident_details(cfg, v)[:2], className="mt-1"),
                html.Ul(history, className="list-unstyled mb-0 mt-1"),
                *_clip_part(iid, focus, with_clip or set()),
                *actions,
            ],
            className="card-body p-2",
        ),
        className=f"card mb-2 incident-card incident-card-{v.kind} {border}",
        id=f"if-card-{iid}",
    )


def layout(focus: str | None = None, **_query: str) -> html.Div:
    denied = page_guard(ROLES)
    if denied is not None:
        return denied
    cfg = current().cfg
    kinds = [{"label": kind_label(k.value), "value": k.value} for k in IncidentKind]
    filters = html.Div(
        [
            dcc.Dropdown(
                id="if-kinds",
                options=kinds,
                multi=True,
                placeholder="all kinds",
                className="me-2",
                style={"minWidth": "14rem"},
            ),
            dcc.Dropdown(
                id="if-states",
                options=[{"label": s, "value": s} for s in STATES],
                multi=True,
                value=["open", "acknowledged", "assigned", "escalated"],
                placeholder="all states",
                className="me-2",
                style={"minWidth": "18rem"},
            ),
            dcc.Dropdown(
                id="if-segment",
                options=[{"label": s.name, "value": s.id} for s in cfg.segments],
                placeholder="all roads",
                className="me-2",
                style={"minWidth": "14rem"},
            ),
            dcc.RadioItems(
                id="if-window",
                options=[{"label": f" last {k}" if k != "all" else " all", "value": k} for k in WINDOWS],
                value="24h",
                inline=True,
                inputClassName="ms-2",
            ),
        ],
        className="d-flex flex-wrap align-items-center gap-1 p-2 border-bottom",
    )
    return html.Div(
        [
            navbar("/incidents", [live_badge(PREFIX)]),
            filters,
            html.Div("", id="if-result", className="px-2 small", role="status"),
            html.Div(id="if-feed", className="p-2 incident-feed"),
            dcc.Store(id="if-focus", data=focus),
            *live_bridge("ops", PREFIX),
        ]
    )


def _assignees() -> list[dict[str, str]]:
    users = current().users
    try:
        return [
            {"label": f"{u.display} ({u.role})", "value": u.username}
            for u in users.all()
            if not u.disabled and u.role in ("warden", "operator")
        ]
    except Exception:  # noqa: BLE001 - database down: no choices
        return []


@callback(
    Output("if-feed", "children"),
    Input("if-live", "data"),
    Input("if-tick", "n_intervals"),
    Input("if-kinds", "value"),
    Input("if-states", "value"),
    Input("if-segment", "value"),
    Input("if-window", "value"),
    Input("if-result", "children"),
    State("if-focus", "data"),
)
def feed(
    live: dict[str, Any] | None,
    _tick: int | None,
    kinds: list[str] | None,
    states: list[str] | None,
    segment: str | None,
    window: str | None,
    _result: Any,
    focus: str | None,
) -> list[Any]:
    """The filtered feed, newest first (re-read on pushed incidents, updates and alerts)."""
    if (
        dash.ctx.triggered_id == "if-live"
        and not {m.get("type") for m in (live or {}).get("messages", [])} & FEED_MESSAGES
    ):
        raise PreventUpdate
    ctx = current()
    secs = WINDOWS.get(window or "24h")
    flt = IncidentFilter(
        tuple(kinds or ()), tuple(states or ()), segment or None, None if secs is None else now_ms() - secs * 1000
    )
    try:
        views = read_incidents(ctx.bus, flt, limit=100)
    except Exception:  # noqa: BLE001
        return [html.Div("Redis unreachable: incidents unavailable", className="alert alert-danger")]
    if not views:
        return [html.Div("no incidents match", className="text-muted p-2", id="if-empty")]
    assignees = _assignees()
    with_clip: set[str] = set()
    if ctx.archive is not None:
        try:
            with_clip = ctx.archive.clips.owners_with_clips("incident", [v.id for v in views])
        except Exception:  # noqa: BLE001 - the feed shows without clip links
            log.warning("incident clips unavailable", exc_info=True)
    return [_card(v, assignees, focus, with_clip) for v in views]


@callback(
    Output("if-result", "children"),
    Input({"type": "if-act", "id": ALL, "action": ALL}, "n_clicks"),
    State({"type": "if-assignee", "id": ALL}, "value"),
    State({"type": "if-assignee", "id": ALL}, "id"),
    State({"type": "if-note", "id": ALL}, "value"),
    State({"type": "if-note", "id": ALL}, "id"),
    prevent_initial_call=True,
)
def do_action(
    clicks: list[int | None],
    assignee_values: list[str | None],
    assignee_ids: list[dict[str, str]],
    note_values: list[str | None],
    note_ids: list[dict[str, str]],
) -> str:
    """Apply the clicked action and say what happened."""
    trig = dash.ctx.triggered_id
    if not isinstance(trig, dict) or not any(t.get("value") for t in dash.ctx.triggered):
        raise PreventUpdate
    login = auth.require(ROLES)
    iid, action = str(trig["id"]), str(trig["action"])
    assignee = dict(zip([i["id"] for i in assignee_ids], assignee_values, strict=False)).get(iid)
    note = dict(zip([i["id"] for i in note_ids], note_values, strict=False)).get(iid) or ""
    ctx = current()
    try:
        act(ctx.bus, ctx.archive, ctx.alerts, iid, action, login.username, note, assignee)
    except ActionError as e:
        return f"Not done: {e}"
    except Exception as e:  # noqa: BLE001 - Redis/SQL down
        return f"Not done: {type(e).__name__}: {e}"
    return f"{action} {iid}: done" + (f" (assigned to {assignee})" if action == "assign" else "")
