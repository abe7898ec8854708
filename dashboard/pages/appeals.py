"""``/appeals``: the operators' review queue of citizens' appeals (reason, photo, the evidence) and the decision.

Pending appeals oldest first; selecting one shows the citizen's reason and photo beside the
ticket's evidence (unredacted: operators only) and its history. "Uphold" keeps the fine
(ticket ``upheld``), "Cancel ticket" cancels it (``cancelled``); both take a note, go through
:func:`dashboard.portal.flows.decide_appeal` (the API's function too) and the citizen sees the
outcome on the portal.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import ALL, Input, Output, State, callback, dcc, html
from dash.exceptions import PreventUpdate

from dashboard import auth
from dashboard.context import current
from dashboard.data import iso_utc
from dashboard.layout import navbar, page_guard
from dashboard.portal import flows
from dashboard.ticket_parts import evidence_figures, history_items

dash.register_page(__name__, path="/appeals", name="Appeals", title="Safe City - appeals")
ROLES = auth.OPERATORS


def layout(**_query: str) -> html.Div:
    denied = page_guard(ROLES)
    if denied is not None:
        return denied
    return html.Div(
        [
            navbar("/appeals"),
            html.Div(
                [
                    html.Div(
                        [
                            html.H5("Appeals to review", className="mt-1"),
                            html.Button(
                                "Refresh",
                                id="ap-refresh",
                                n_clicks=0,
                                className="btn btn-sm btn-outline-secondary mb-2",
                            ),
                            html.Div(id="ap-list"),
                        ],
                        className="col-lg-5 p-2",
                    ),
                    html.Div(
                        html.Div("Select an appeal.", className="text-muted"), id="ap-detail", className="col-lg-7 p-2"
                    ),
                ],
                className="row g-0",
            ),
            dcc.Store(id="ap-selected"),
        ]
    )


@callback(Output("ap-list", "children"), Input("ap-refresh", "n_clicks"), Input("ap-detail", "children"))
def pending(_n: int | None, _detail: Any) -> list[Any]:
    """The pending appeals, oldest first."""
    arc = current().archive
    if arc is None:
        return [html.Div("The ticket archive is not installed.", className="alert alert-warning")]
    rows, total = arc.appeals.list("pending", 0, 100)
    if not rows:
        return [html.P("No appeal waiting.", className="text-muted", id="ap-empty")]
    items = [
        html.Button(
            [
                html.Strong(a.ticket_id),
                html.Span(f" {(iso_utc(a.created_ts_ms) or '')[:16].replace('T', ' ')}", className="small text-muted"),
                html.Div(a.reason[:80], className="small text-truncate"),
            ],
            id={"type": "ap-item", "id": a.appeal_id},
            n_clicks=0,
            className="list-group-item list-group-item-action text-start ap-item",
        )
        for a in rows
    ]
    return [
        html.Div(f"{total} pending", className="small text-muted mb-1", id="ap-count"),
        html.Div(items, className="list-group"),
    ]


@callback(Output("ap-selected", "data"), Input({"type": "ap-item", "id": ALL}, "n_clicks"), prevent_initial_call=True)
def select(clicks: list[int | None]) -> str:
    trig = dash.ctx.triggered_id
    if not isinstance(trig, dict) or not any(clicks):
        raise PreventUpdate
    return str(trig["id"])


def _detail(appeal_id: str | None, note: str = "") -> list[Any]:
    if not appeal_id:
        return [html.Div("Select an appeal.", className="text-muted")]
    arc = current().archive
    a = arc.appeals.get(appeal_id)
    if a is None:
        return [html.Div(f"No appeal {appeal_id}.", className="text-danger")]
    d = arc.get_ticket(a.ticket_id)
    photo = (
        html.Img(
            src=f"/api/v1/appeals/{a.appeal_id}/photo", alt="citizen's photo", className="evidence-img", id="ap-photo"
        )
        if a.photo_sha256
        else html.Div("no photo", className="small text-muted")
    )
    parts: list[Any] = [
        html.H5(
            [a.ticket_id, html.Span(f" {a.state}", className="badge text-bg-secondary ms-2", id="ap-state")],
            id="ap-detail-id",
        ),
        html.H6("Citizen's reason"),
        html.P(a.reason, className="border rounded p-2", id="ap-reason"),
        photo,
    ]
    if d is not None:
        t = d.ticket
        parts += [
            html.H6("Ticket", className="mt-2"),
            html.P(
                f"{t.kind.value} · {t.state.value} · PKR {t.fine_pkr:,} · {t.plate or '-'} · {t.camera_id}",
                className="small",
                id="ap-ticket",
            ),
            html.Div(evidence_figures(d.evidence), className="d-flex flex-wrap evidence"),
            html.Ul(history_items(d.transitions), className="list-unstyled"),
        ]
    if a.state == "pending":
        parts += [
            dcc.Textarea(
                id="ap-note", placeholder="note (why)", className="form-control form-control-sm mb-1", maxLength=1000
            ),
            html.Button("Uphold (fine stands)", id="ap-uphold", n_clicks=0, className="btn btn-sm btn-warning me-1"),
            html.Button("Cancel ticket", id="ap-cancel", n_clicks=0, className="btn btn-sm btn-success"),
        ]
    else:
        parts.append(
            html.Div(f"Decided: {a.state} by {a.decided_by} ({a.decision_note})", className="small text-muted")
        )
    parts.append(html.Div(note, id="ap-result", className="small mt-1", role="status"))
    return parts


@callback(Output("ap-detail", "children"), Input("ap-selected", "data"))
def show(appeal_id: str | None) -> list[Any]:
    return _detail(appeal_id)


@callback(
    Output("ap-detail", "children", allow_duplicate=True),
    Input("ap-uphold", "n_clicks"),
    Input("ap-cancel", "n_clicks"),
    State("ap-note", "value"),
    State("ap-selected", "data"),
    prevent_initial_call=True,
)
def decide(_u: int | None, _c: int | None, note: str | None, appeal_id: str | None) -> list[Any]:
    """Uphold or cancel: the ticket's next state, recorded with the operator and the note."""
    if not appeal_id or not any(t.get("value") for t in dash.ctx.triggered):
        raise PreventUpdate
    login = auth.require(ROLES)
    decision = "upheld" if dash.ctx.triggered_id == "ap-uphold" else "cancelled"
    try:
        flows.decide_appeal(current(), appeal_id, decision, login.username, note or "")
    except flows.PortalError as e:
        return _detail(appeal_id, f"Not done: {e}")
    return _detail(appeal_id, f"Done: {decision}.")
