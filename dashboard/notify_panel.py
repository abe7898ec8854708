"""The "Deliveries" panel of the system page: alerts the notifier could not deliver, with the
reason and a retry button, and the count of deliveries per state.

Data from the archive's ``notify_deliveries`` (:class:`archive.notify.NotifyRepository`);
a retry puts the delivery back in the notifier's queue (it is tried within ``notify.poll_s``).
"""

from __future__ import annotations

from typing import Any

import dash
from dash import ALL, Input, Output, State, callback, html
from dash.exceptions import PreventUpdate

from core.clock import now_ms
from core.notify.delivery import DeliveryState
from dashboard import auth
from dashboard.context import DashboardContext, current
from dashboard.data import iso_utc

SHOWN = (DeliveryState.UNDELIVERED, DeliveryState.RETRYING)


def panel() -> html.Div:
    """The panel's static part (filled by :func:`refresh`)."""
    return html.Div(
        [
            html.H6(["Deliveries ", html.Span(id="ntf-counts", className="small text-muted")]),
            html.Div("", id="ntf-result", className="small", role="status"),
            html.Table(id="ntf-table", className="table table-sm small"),
        ],
        id="ntf-panel",
    )


def _counts_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{counts.get(s.value, 0)} {s.value}" for s in DeliveryState)


def rows(ctx: DashboardContext) -> tuple[str, list[Any]]:
    """``(counts text, table children)`` of undelivered and retrying deliveries."""
    if ctx.archive is None:
        return "archive not installed", []
    repo = ctx.archive.notify
    counts = repo.counts()
    items = repo.deliveries(SHOWN, limit=50)
    head = html.Thead(
        html.Tr([html.Th(h) for h in ("Alert", "Destination", "State", "Attempts", "Reason", "Since", "")])
    )
    if not items:
        return _counts_text(counts), [head, html.Tbody(html.Tr(html.Td("every alert delivered", colSpan=7)))]
    body = []
    for d in items:
        badge = "text-bg-danger" if d.state is DeliveryState.UNDELIVERED else "text-bg-warning"
        button: Any = ""
        if d.state is DeliveryState.UNDELIVERED:
            button = html.Button(
                "Retry",
                id={"type": "ntf-retry", "id": d.delivery_id},
                n_clicks=0,
                className="btn btn-sm btn-outline-primary",
            )
        body.append(
            html.Tr(
                [
                    html.Td(d.incident_id[:12], title=d.alert_id),
                    html.Td(f"{d.destination} ({d.kind})"),
                    html.Td(html.Span(d.state.value, className="badge " + badge)),
                    html.Td(d.attempts),
                    html.Td(d.last_error),
                    html.Td(iso_utc(d.created_ms) or ""),
                    html.Td(button),
                ],
                id=f"ntf-row-{d.delivery_id}",
            )
        )
    return _counts_text(counts), [head, html.Tbody(body)]


@callback(
    Output("ntf-counts", "children"),
    Output("ntf-table", "children"),
    Input("sy-tick", "n_intervals"),
    Input("ntf-result", "children"),
)
def refresh(_tick: int | None, _result: Any) -> tuple[str, list[Any]]:
    auth.require(auth.OPERATORS)
    try:
        return rows(current())
    except Exception as e:  # noqa: BLE001 - database down
        return f"unavailable: {type(e).__name__}", []


@callback(
    Output("ntf-result", "children"),
    Input({"type": "ntf-retry", "id": ALL}, "n_clicks"),
    State({"type": "ntf-retry", "id": ALL}, "id"),
    prevent_initial_call=True,
)
def retry(_clicks: list[int | None], _ids: list[dict[str, str]]) -> str:
    trig = dash.ctx.triggered_id
    if not isinstance(trig, dict) or not any(t.get("value") for t in dash.ctx.triggered):
        raise PreventUpdate
    login = auth.require(auth.OPERATORS)
    ctx = current()
    if ctx.archive is None:
        return "Not retried: archive not installed."
    d = ctx.archive.notify.retry(str(trig["id"]), now_ms())
    if d is None:
        return "Not retried: no such delivery."
    if d.state is not DeliveryState.PENDING:
        return f"Not retried: it is {d.state.value}."
    return f"Retry queued by {login.username}: {d.destination} for incident {d.incident_id[:12]}."


__all__ = ["panel", "refresh", "retry", "rows"]
