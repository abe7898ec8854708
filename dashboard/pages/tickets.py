"""E-tickets: AG Grid over the SQL archive (server-side paging, sorting and filtering),
evidence viewer (frames, plate crop, SHA-256 of each file), review actions and CSV export.

The grid uses AG Grid's infinite row model: every block of rows is one
``archive.list_tickets(filter, sort, offset, limit)`` call made by the
``getRowsRequest`` callback, so the browser never holds more than the rows in view.
Column filters map to :class:`archive.TicketFilter` (state/kind may list several values
separated by commas; plate is an exact match after normalising; the time column takes a
date range). Selecting a row opens the ticket: its evidence images come from
``/evidence/<sha256>`` and their hashes are shown. Review: start review, approve, or void
with a reason (required); every step is recorded in the ticket's history and announced
on ``ticket.updated``. "Export CSV" downloads the rows matching the current filters.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import dash
import dash_ag_grid as dag
from dash import Input, Output, State, callback, dcc, html
from dash.exceptions import PreventUpdate

from bus.ticket_updates import announce_last
from core.types import TicketState
from dashboard import auth
from dashboard.clip_ui import clip_figure
from dashboard.context import current
from dashboard.data import iso_utc
from dashboard.layout import live_badge, live_bridge, navbar, page_guard, register_live_bridge
from dashboard.ticket_backoffice import backoffice_section, report_links
from dashboard.ticket_parts import evidence_figures, history_items
from dashboard.tickets_grid import BLOCK, COLUMNS, FilterError, export_params, grid_row, ticket_filter, ticket_sort

dash.register_page(__name__, path="/tickets", name="E-tickets", title="Safe City - e-tickets")
ROLES = auth.OPERATORS
PREFIX = "tk"
#: Ticket details that are bookkeeping, not facts for the reviewer.
HIDDEN_DETAILS = frozenset({"evidence_roles"})
register_live_bridge(PREFIX)


def _toolbar() -> html.Div:
    """Queue / all / owner-unknown views, CSV export and reports, the row count and the new-ticket badge."""
    return html.Div(
        [
            html.Button(
                "Review queue",
                id="tk-queue",
                n_clicks=0,
                className="btn btn-sm btn-outline-primary me-1",
            ),
            html.Button(
                "All tickets",
                id="tk-all",
                n_clicks=0,
                className="btn btn-sm btn-outline-secondary me-1",
            ),
            html.Button(
                "Owner unknown",
                id="tk-unknown",
                n_clicks=0,
                className="btn btn-sm btn-outline-warning me-2",
            ),
            html.A(
                "Export CSV",
                id="tk-export",
                href="/api/v1/tickets/export.csv",
                className="btn btn-sm btn-outline-success",
                download="tickets.csv",
            ),
            report_links(),
            html.Span("", id="tk-count", className="small text-muted ms-2"),
            html.Span("", id="tk-new", className="badge text-bg-info ms-2"),
        ],
        className="mb-1 d-flex align-items-center flex-wrap",
    )


def _grid() -> dag.AgGrid:
    """The ticket list: an infinite-row AG Grid paged from the archive."""
    return dag.AgGrid(
        id="tk-grid",
        columnDefs=COLUMNS,
        rowModelType="infinite",
        dashGridOptions={
            "rowSelection": {"mode": "singleRow", "checkboxes": False, "enableClickSelection": True},
            "cacheBlockSize": BLOCK,
            "maxBlocksInCache": 20,
            "pagination": True,
            "paginationPageSize": 25,
            "paginationPageSizeSelector": [25, 50, 100],
            "animateRows": False,
        },
        getRowId="params.data.ticket_id",
        defaultColDef={"resizable": True, "floatingFilter": True, "suppressHeaderMenuButton": True},
        style={"height": "62vh", "width": "100%"},
        className="ag-theme-quartz",
    )


def layout(**_query: str) -> html.Div:
    denied = page_guard(ROLES)
    if denied is not None:
        return denied
    if current().archive is None:
        return html.Div(
            [navbar("/tickets"), html.Div("The ticket archive is not installed.", className="alert alert-warning m-3")]
        )
    return html.Div(
        [
            navbar("/tickets", [live_badge(PREFIX)]),
            html.Div(
                [
                    html.Div(
                        [
                            _toolbar(),
                            _grid(),
                            html.Div("", id="tk-grid-error", className="small text-danger"),
                        ],
                        className="col-xl-7 p-2",
                    ),
                    html.Div(
                        html.Div("Select a ticket to review its evidence.", className="text-muted"),
                        id="tk-detail",
                        className="col-xl-5 p-2",
                    ),
                ],
                className="row g-0",
            ),
            dcc.Store(id="tk-selected"),
            *live_bridge("ops", PREFIX, fallback_ms=60_000),
        ]
    )


@callback(
    Output("tk-grid", "getRowsResponse"),
    Output("tk-count", "children"),
    Output("tk-grid-error", "children"),
    Output("tk-export", "href"),
    Input("tk-grid", "getRowsRequest"),
)
def rows(request: dict[str, Any] | None) -> tuple[Any, str, str, str]:
    """One block of rows from the archive (server-side filter, sort, offset/limit)."""
    if not request:
        raise PreventUpdate
    ctx = current()
    start = int(request.get("startRow") or 0)
    end = int(request.get("endRow") or start + BLOCK)
    fm = request.get("filterModel") or {}
    try:
        flt = ticket_filter(fm)
        sort = ticket_sort(request.get("sortModel"))
        found, total = ctx.archive.list_tickets(flt, sort, start, max(1, min(500, end - start)))
    except FilterError as e:
        return {"rowData": [], "rowCount": 0}, "", str(e), "/api/v1/tickets/export.csv"
    except Exception as e:  # noqa: BLE001 - database down
        return {"rowData": [], "rowCount": 0}, "", f"archive unavailable: {e}", "/api/v1/tickets/export.csv"
    export = "/api/v1/tickets/export.csv"
    params = export_params(flt)
    if params:
        export += "?" + urlencode(params)
    return {"rowData": [grid_row(r) for r in found], "rowCount": total}, f"{total} tickets", "", export


@callback(
    Output("tk-grid", "filterModel"),
    Input("tk-queue", "n_clicks"),
    Input("tk-all", "n_clicks"),
    Input("tk-unknown", "n_clicks"),
    prevent_initial_call=True,
)
def quick_filters(_q: int | None, _a: int | None, _u: int | None) -> dict[str, Any]:
    if dash.ctx.triggered_id == "tk-queue":
        return {"state": {"filterType": "text", "type": "equals", "filter": "issued,under_review"}}
    if dash.ctx.triggered_id == "tk-unknown":
        return {"state": {"filterType": "text", "type": "equals", "filter": "owner_unknown"}}
    return {}


@callback(Output("tk-new", "children"), Input("tk-live", "data"), prevent_initial_call=True)
def new_tickets(live: dict[str, Any] | None) -> str:
    n = sum(
        1 for m in (live or {}).get("messages", []) if m.get("type") == "ticket" and "fine_pkr" in m.get("ticket", {})
    )
    if not n:
        raise PreventUpdate
    return f"{n} new - refresh the grid (sort or filter) to see them"


@callback(Output("tk-selected", "data"), Input("tk-grid", "selectedRows"), prevent_initial_call=True)
def select(selected: list[dict[str, Any]] | None) -> str | None:
    if not selected:
        raise PreventUpdate
    return str(selected[0]["ticket_id"])


def _detail(ticket_id: str | None, note: str = "") -> list[Any]:
    if not ticket_id:
        return [html.Div("Select a ticket to review its evidence.", className="text-muted")]
    ctx = current()
    d = ctx.archive.get_ticket(ticket_id)
    if d is None:
        return [html.Div(f"No ticket {ticket_id}.", className="text-danger")]
    t = d.ticket
    return [
        html.H5(t.ticket_id, id="tk-detail-id"),
        html.Table(
            html.Tbody(
                [html.Tr([html.Th(k, className="pe-2 fw-normal text-muted"), html.Td(str(v))]) for k, v in _facts(t)]
            ),
            className="small mb-2",
        ),
        html.Div(evidence_figures(d.evidence), className="d-flex flex-wrap evidence", id="tk-evidence"),
        html.Div(clip_figure(ctx.archive, "violation", t.violation_id, "tk-clip-video"), id="tk-clip"),
        html.H6("History", className="mt-2"),
        html.Ul(history_items(d.transitions), className="list-unstyled"),
        *backoffice_section(ctx.archive, t.ticket_id),
        _review_actions(t.state),
        html.Div(note, id="tk-result", className="small mt-1", role="status"),
    ]


def _facts(t: Any) -> list[tuple[str, Any]]:
    """``(label, value)`` rows of a ticket's facts, its bookkeeping details left out."""
    return [
        ("Violation", t.kind.value),
        ("State", t.state.value),
        ("Time (UTC)", (iso_utc(t.ts_ms) or "").replace("T", " ")),
        ("Camera", t.camera_id),
        ("Road", t.segment_id),
        ("Vehicle", t.label),
        ("Plate", f"{t.plate} ({t.plate_confidence:.0%})" if t.plate else "not read - manual review"),
        (
            "Speed",
            "-"
            if t.speed_kmh is None
            else f"{t.speed_kmh:.1f} km/h" + (f" (limit {t.limit_kmh:.0f})" if t.limit_kmh else ""),
        ),
        ("Fine", f"PKR {t.fine_pkr:,}"),
    ] + [(k.replace("_", " "), v) for k, v in t.details[:8] if k not in HIDDEN_DETAILS]


def _review_actions(state: TicketState) -> html.Div:
    """The reason box and review buttons the ticket's state allows, or why there are none."""
    buttons: list[Any] = []
    if state in (TicketState.ISSUED, TicketState.UNDER_REVIEW):
        if state == TicketState.ISSUED:
            buttons.append(
                html.Button("Start review", id="tk-review", n_clicks=0, className="btn btn-sm btn-outline-primary me-1")
            )
        buttons += [
            html.Button("Approve", id="tk-approve", n_clicks=0, className="btn btn-sm btn-success me-1"),
            html.Button("Void", id="tk-void", n_clicks=0, className="btn btn-sm btn-danger"),
        ]
    return html.Div(
        [
            dcc.Textarea(
                id="tk-reason",
                placeholder="reason (required to void)",
                className="form-control form-control-sm mb-1",
                maxLength=1000,
                style={"height": "3.5rem"},
            ),
            html.Div(buttons),
        ]
        if buttons
        else [html.Div(f"No review action: the ticket is {state.value}.", className="small text-muted")],
        className="mt-2",
    )


@callback(Output("tk-detail", "children"), Input("tk-selected", "data"))
def show(ticket_id: str | None) -> list[Any]:
    return _detail(ticket_id)


@callback(
    Output("tk-detail", "children", allow_duplicate=True),
    Input("tk-review", "n_clicks"),
    Input("tk-approve", "n_clicks"),
    Input("tk-void", "n_clicks"),
    State("tk-reason", "value"),
    State("tk-selected", "data"),
    prevent_initial_call=True,
)
def review(_r: int | None, _a: int | None, _v: int | None, reason: str | None, ticket_id: str | None) -> list[Any]:
    """Start review / approve / void the selected ticket (void needs a reason)."""
    trig = dash.ctx.triggered_id
    if not ticket_id or not any(t.get("value") for t in dash.ctx.triggered):
        raise PreventUpdate
    login = auth.require(ROLES)
    reason = (reason or "").strip()
    ctx = current()
    if trig == "tk-void" and not reason:
        return _detail(ticket_id, "Not voided: say why (reason).")
    d = ctx.archive.get_ticket(ticket_id)
    if d is None:
        raise PreventUpdate
    steps: list[TicketState] = []
    if trig == "tk-review":
        steps = [TicketState.UNDER_REVIEW]
    elif trig == "tk-approve":
        steps = ([TicketState.UNDER_REVIEW] if d.ticket.state == TicketState.ISSUED else []) + [TicketState.APPROVED]
    elif trig == "tk-void":
        steps = [TicketState.VOID]
    try:
        for to in steps:
            d = ctx.archive.transition(ticket_id, to, login.username, reason)
            announce_last(ctx.bus, d.ticket, d.transitions)
    except Exception as e:  # noqa: BLE001 - InvalidTransition (changed meanwhile) or database down
        return _detail(ticket_id, f"Not done: {e}")
    return _detail(ticket_id, f"Done: {d.ticket.state.value}. The list shows it after its next refresh.")
