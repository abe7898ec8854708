"""Admins manage users (role, password, disabled) and wardens' zones, and read the plate-search audit log.

Edits are stored in SQL (``dash_users``) and override the config entry of the same
name; a changed user's sessions end. The zone roster (which warden answers for which
road) is shown per road; the warden pages and websocket filter by it, and the incidents
service routes alerts by it (it reads the same table).
"""

from __future__ import annotations

from typing import Any

import dash
from dash import ALL, Input, Output, State, callback, dcc, html
from dash.exceptions import PreventUpdate

from dashboard import auth
from dashboard.context import current
from dashboard.layout import navbar, page_guard
from dashboard.plate_search import iso_utc
from dashboard.users import ROLES as USER_ROLES
from dashboard.users import UserError

dash.register_page(__name__, path="/admin", name="Users", title="Safe City - users")
ROLES = auth.ADMINS
#: Plate-search audit entries shown (the API pages through all of them).
AUDIT_ROWS = 50


def layout(**_query: str) -> html.Div:
    denied = page_guard(ROLES)
    if denied is not None:
        return denied
    cfg = current().cfg
    form = html.Div(
        [
            html.H6("Add or change a user", id="adm-form-title"),
            html.Label("Username", className="form-label small mb-0"),
            dcc.Input(id="adm-username", className="form-control mb-2", maxLength=64),
            html.Label("Name", className="form-label small mb-0"),
            dcc.Input(id="adm-name", className="form-control mb-2", maxLength=128),
            html.Label("Role", className="form-label small mb-0"),
            dcc.Dropdown(
                id="adm-role",
                options=[{"label": r, "value": r} for r in USER_ROLES],
                value="warden",
                clearable=False,
                className="mb-2",
            ),
            html.Label("Zones (wardens)", className="form-label small mb-0"),
            dcc.Dropdown(
                id="adm-zones",
                options=[{"label": s.name, "value": s.id} for s in cfg.segments],
                multi=True,
                className="mb-2",
            ),
            html.Label("New password (empty: keep)", className="form-label small mb-0"),
            dcc.Input(id="adm-password", type="password", className="form-control mb-2", autoComplete="new-password"),
            dcc.Checklist(
                id="adm-disabled",
                options=[{"label": " disabled (cannot log in)", "value": "yes"}],
                value=[],
                className="mb-2",
            ),
            html.Button("Save user", id="adm-save", n_clicks=0, className="btn btn-primary"),
            html.Div("", id="adm-result", className="small mt-2", role="status"),
        ],
        className="col-lg-4 p-3",
    )
    return html.Div(
        [
            navbar("/admin"),
            html.Div(
                [
                    form,
                    html.Div(
                        [
                            html.H6("Users"),
                            html.Table(id="adm-users", className="table table-sm small"),
                            html.H6("Zones"),
                            html.Table(id="adm-roster", className="table table-sm small"),
                            html.H6("Search audit", id="adm-audit-title"),
                            html.Div(
                                "Every plate search: who, what, when and how many sightings it returned (newest first).",
                                className="small text-muted mb-1",
                            ),
                            html.Table(id="adm-audit", className="table table-sm small"),
                        ],
                        className="col-lg-8 p-3",
                    ),
                ],
                className="row g-0",
            ),
        ]
    )


@callback(Output("adm-users", "children"), Output("adm-roster", "children"), Input("adm-result", "children"))
def tables(_result: Any) -> tuple[list[Any], list[Any]]:
    ctx = current()
    users = ctx.users.all()
    names = {s.id: s.name for s in ctx.cfg.segments}
    head = html.Thead(html.Tr([html.Th(h) for h in ("User", "Name", "Role", "Zones", "State", "Stored in", "")]))
    rows = [
        html.Tr(
            [
                html.Td(u.username),
                html.Td(u.name),
                html.Td(u.role),
                html.Td(", ".join(names.get(z, z) for z in u.zones) or "-"),
                html.Td(html.Span("disabled", className="badge text-bg-secondary") if u.disabled else "enabled"),
                html.Td(u.source),
                html.Td(
                    html.Button(
                        "Edit",
                        id={"type": "adm-edit", "id": u.username},
                        n_clicks=0,
                        className="btn btn-sm btn-outline-primary",
                    )
                ),
            ],
            id=f"adm-user-{u.username}",
        )
        for u in users
    ]
    roster_rows = [
        html.Tr(
            [
                html.Td(s.name),
                html.Td(
                    ", ".join(ctx.users.wardens_for(s.id))
                    or html.Span("none: alerts go to the control room", className="text-danger")
                ),
            ],
            id=f"adm-zone-{s.id}",
        )
        for s in ctx.cfg.segments
    ]
    return [head, html.Tbody(rows)], [
        html.Thead(html.Tr([html.Th("Road"), html.Th("Wardens")])),
        html.Tbody(roster_rows),
    ]


@callback(Output("adm-audit", "children"), Input("adm-result", "children"))
def audit(_result: Any) -> list[Any]:
    """The plate-search audit log (latest :data:`AUDIT_ROWS` entries)."""
    auth.require(ROLES)
    arc = current().archive
    if arc is None:
        return [html.Tbody(html.Tr(html.Td("archive unavailable")))]
    rows, total = arc.sightings.audit_log(0, AUDIT_ROWS)
    head = html.Thead(html.Tr([html.Th(h) for h in ("Time (UTC)", "User", "Role", "Via", "Query", "Results")]))
    body = [
        html.Tr(
            [
                html.Td(iso_utc(r.ts_ms)),
                html.Td(r.username),
                html.Td(r.role),
                html.Td(r.source),
                html.Td(_query_text(r.query), className="font-monospace"),
                html.Td(str(r.results)),
            ],
            id=f"adm-audit-{i}",
        )
        for i, r in enumerate(rows)
    ]
    if total > len(rows):
        body.append(html.Tr(html.Td(f"... {total - len(rows)} older (GET /api/v1/admin/plate-searches)", colSpan=6)))
    return [head, html.Tbody(body)]


def _query_text(q: dict[str, Any]) -> str:
    parts = [f"plate={q.get('plate')}"]
    parts += [f"{k}={iso_utc(v) if k in ('from', 'to') else v}" for k in ("from", "to", "camera") if (v := q.get(k))]
    return " ".join(parts)


@callback(
    Output("adm-username", "value"),
    Output("adm-name", "value"),
    Output("adm-role", "value"),
    Output("adm-zones", "value"),
    Output("adm-disabled", "value"),
    Output("adm-form-title", "children"),
    Input({"type": "adm-edit", "id": ALL}, "n_clicks"),
    prevent_initial_call=True,
)
def edit(_clicks: list[int | None]) -> tuple[Any, ...]:
    trig = dash.ctx.triggered_id
    if not isinstance(trig, dict) or not any(t.get("value") for t in dash.ctx.triggered):
        raise PreventUpdate
    u = current().users.get(str(trig["id"]))
    if u is None:
        raise PreventUpdate
    return u.username, u.name, u.role, list(u.zones), ["yes"] if u.disabled else [], f"Change {u.username}"


@callback(
    Output("adm-result", "children"),
    Output("adm-password", "value"),
    Input("adm-save", "n_clicks"),
    State("adm-username", "value"),
    State("adm-name", "value"),
    State("adm-role", "value"),
    State("adm-zones", "value"),
    State("adm-password", "value"),
    State("adm-disabled", "value"),
    prevent_initial_call=True,
)
def save(
    _n: int | None,
    username: str | None,
    name: str | None,
    role: str | None,
    zones: list[str] | None,
    password: str | None,
    disabled: list[str] | None,
) -> tuple[str, str]:
    login = auth.require(ROLES)
    ctx = current()
    uname = (username or "").strip().lower()
    try:
        user = ctx.users.save(
            login.username, uname, role or "", name or "", zones or [], password or None, "yes" in (disabled or [])
        )
    except UserError as e:
        return f"Not saved: {e}", ""
    return f"Saved {user.username} ({user.role}{', disabled' if user.disabled else ''}); their sessions were ended.", ""
