"""Admins keep the plate watchlist: list, add (or change) and remove entries, and see who changed what.

Writes go through :class:`bus.watchlist.RedisWatchlist` (versioned; running workers
reload within their 2 s poll, no restart) under the admin's name, which the audit table
shows (the audit is in Redis: process logs never carry plates). The form checks each
field (:func:`dashboard.watchlist_form.parse_entry`) and shows the reason under it.
Component ids start with ``adm-`` so only admins can run these callbacks.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import ALL, Input, Output, State, callback, dcc, html
from dash.exceptions import PreventUpdate

from bus.redis_client import REDIS_ERRORS
from core.clock import now_ms
from dashboard import auth
from dashboard.api_watchlist import entry_json, store
from dashboard.data import iso_utc
from dashboard.layout import navbar, page_guard
from dashboard.watchlist_form import FIELDS, PRIORITIES, FieldErrors, parse_entry

dash.register_page(__name__, path="/admin/watchlist", name="Watchlist", title="Safe City - watchlist")
ROLES = auth.ADMINS
ERR_CLASS = "invalid-feedback d-block"


def _field(label: str, name: str, component: Any) -> html.Div:
    return html.Div(
        [
            html.Label(label, className="form-label small mb-0", htmlFor=f"adm-wl-{name}"),
            component,
            html.Div("", id=f"adm-wl-err-{name}", className=ERR_CLASS, role="alert"),
        ],
        className="mb-2",
    )


def layout(**_query: str) -> html.Div:
    denied = page_guard(ROLES)
    if denied is not None:
        return denied
    form = html.Div(
        [
            html.H6("Add or change an entry"),
            _field("Plate", "plate", dcc.Input(id="adm-wl-plate", className="form-control", maxLength=20)),
            _field("Reason", "reason", dcc.Input(id="adm-wl-reason", className="form-control", maxLength=200)),
            _field(
                "Priority",
                "priority",
                dcc.Dropdown(
                    id="adm-wl-priority",
                    options=[{"label": p, "value": p} for p in PRIORITIES],
                    value="high",
                    clearable=False,
                ),
            ),
            _field(
                "Expiry (empty: never; date = end of that day, UTC)",
                "expiry",
                dcc.Input(
                    id="adm-wl-expiry", className="form-control", placeholder="2026-12-31 or 2026-12-31T18:00:00Z"
                ),
            ),
            _field("Note", "note", dcc.Input(id="adm-wl-note", className="form-control", maxLength=500)),
            html.Button("Save entry", id="adm-wl-save", n_clicks=0, className="btn btn-primary"),
            html.Div("", id="adm-wl-result", className="small mt-2", role="status"),
            dcc.Store(id="adm-wl-changed", data=0),
            dcc.Interval(id="adm-wl-tick", interval=5000, n_intervals=0),
        ],
        className="col-lg-4 p-3",
    )
    return html.Div(
        [
            navbar("/admin/watchlist"),
            html.Div(
                [
                    form,
                    html.Div(
                        [
                            html.H6(
                                ["Watchlist ", html.Span("", id="adm-wl-count", className="badge text-bg-secondary")]
                            ),
                            html.Table(id="adm-wl-table", className="table table-sm small"),
                            html.H6("Changes (newest first)"),
                            html.Table(id="adm-wl-audit", className="table table-sm small"),
                        ],
                        className="col-lg-8 p-3",
                    ),
                ],
                className="row g-0",
            ),
        ]
    )


def _expiry_cell(row: dict[str, Any]) -> Any:
    if row["expires"] is None:
        return "never"
    if row["expired"]:
        return html.Span([row["expires"], " ", html.Span("expired", className="badge text-bg-secondary")])
    return row["expires"]


@callback(
    Output("adm-wl-table", "children"),
    Output("adm-wl-audit", "children"),
    Output("adm-wl-count", "children"),
    Input("adm-wl-changed", "data"),
    Input("adm-wl-tick", "n_intervals"),
)
def tables(_changed: Any, _tick: Any) -> tuple[list[Any], list[Any], str]:
    auth.require(ROLES)
    try:
        wl = store()
        records, audit = wl.records(), wl.audit(50)
    except REDIS_ERRORS:
        msg = [html.Tbody(html.Tr(html.Td("Watchlist unavailable: Redis unreachable", className="text-danger")))]
        return msg, [], "?"
    t = now_ms()
    head = html.Thead(html.Tr([html.Th(h) for h in ("Plate", "Reason", "Priority", "Expiry", "Note", "Updated", "")]))
    rows = []
    for rec in records:
        row = entry_json(rec, t)
        rows.append(
            html.Tr(
                [
                    html.Td(row["plate"], className="font-monospace"),
                    html.Td(row["reason"]),
                    html.Td(row["priority"]),
                    html.Td(_expiry_cell(row)),
                    html.Td(row["note"] or "-"),
                    html.Td(f"{iso_utc(row['updated_ms']) or '-'} {row['updated_by']}".strip()),
                    html.Td(
                        html.Button(
                            "Remove",
                            id={"type": "adm-wl-remove", "plate": row["plate"]},
                            n_clicks=0,
                            className="btn btn-sm btn-outline-danger",
                        )
                    ),
                ],
                id=f"adm-wl-row-{row['plate']}",
                className="text-muted" if row["expired"] else "",
            )
        )
    audit_rows = [
        html.Tr(
            [
                html.Td(iso_utc(a.ts_ms)),
                html.Td(a.actor or "-"),
                html.Td(a.action),
                html.Td(a.plate or "-", className="font-monospace"),
                html.Td(a.detail),
            ]
        )
        for a in audit
    ]
    audit_head = html.Thead(html.Tr([html.Th(h) for h in ("When (UTC)", "Who", "What", "Plate", "Detail")]))
    return [head, html.Tbody(rows)], [audit_head, html.Tbody(audit_rows)], str(len(records))


@callback(
    Output("adm-wl-result", "children"),
    *[Output(f"adm-wl-err-{f}", "children") for f in FIELDS],
    Output("adm-wl-changed", "data"),
    Input("adm-wl-save", "n_clicks"),
    Input({"type": "adm-wl-remove", "plate": ALL}, "n_clicks"),
    State("adm-wl-plate", "value"),
    State("adm-wl-reason", "value"),
    State("adm-wl-priority", "value"),
    State("adm-wl-expiry", "value"),
    State("adm-wl-note", "value"),
    State("adm-wl-changed", "data"),
    prevent_initial_call=True,
)
def change(
    _save: int | None,
    _removes: list[int | None],
    plate: str | None,
    reason: str | None,
    priority: str | None,
    expiry: str | None,
    note: str | None,
    changed: int | None,
) -> tuple[Any, ...]:
    login = auth.require(ROLES)
    trig = dash.ctx.triggered_id
    no_errors = [""] * len(FIELDS)
    bump = (changed or 0) + 1
    try:
        if isinstance(trig, dict):
            if not any(t.get("value") for t in dash.ctx.triggered):
                raise PreventUpdate  # the buttons were (re)drawn, not clicked
            target = str(trig.get("plate", ""))
            removed = store().remove(target, actor=login.username)
            return (f"Removed {target}." if removed else f"{target} was not listed."), *no_errors, bump
        if trig != "adm-wl-save":
            raise PreventUpdate
        try:
            entry = parse_entry(plate, reason, priority, expiry or None, note or "")
        except FieldErrors as e:
            return "Not saved: check the fields marked.", *[e.errors.get(f, "") for f in FIELDS], dash.no_update
        store().add(entry, actor=login.username)
    except REDIS_ERRORS:
        return "Not saved: the watchlist is unavailable (Redis unreachable).", *no_errors, dash.no_update
    return f"Saved {entry.plate} ({entry.priority.value}).", *no_errors, bump
