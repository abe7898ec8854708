"""The back-office part of the ticket page: owner (CNIC masked), notices with PDF links, fine changes, reports."""

from __future__ import annotations

from typing import Any

from dash import html

from archive.ticket_reports import REPORT_GROUPS
from dashboard.api_backoffice import backoffice_detail
from dashboard.data import iso_utc


def report_links() -> html.Span:
    """Links to the grouped CSV reports (by state, offence, camera, day)."""
    return html.Span(
        ["Reports:"]
        + [
            html.A(by, href=f"/api/v1/tickets/report.csv?by={by}", className="ms-1", download=f"report-{by}.csv")
            for by in REPORT_GROUPS
        ],
        id="tk-reports",
        className="small ms-2",
    )


def backoffice_section(arc: Any, ticket_id: str) -> list[Any]:
    """Owner, due date, notices and fine changes of a ticket (empty when none)."""
    bo = backoffice_detail(arc, ticket_id)
    out: list[Any] = []
    o = bo["owner"]
    if o is not None:
        who = (
            f"{o['name']} ({o['cnic_masked']}), {o['address']}; {o['make']} {o['colour']} [{o['source']}]"
            if o["found"]
            else "not in the register (owner unknown)"
        )
        out.append(html.Div(["Owner: ", who], className="small", id="tk-owner"))
    if bo["due_ts_ms"]:
        out.append(html.Div(f"Due: {(iso_utc(bo['due_ts_ms']) or '')[:10]}", className="small"))
    if bo["notices"]:
        items: list[Any] = []
        for n in bo["notices"]:
            text = f"{n['template']} {n['channel']}: {n['state']} after {n['attempts']} attempt(s)"
            if n["sent_ms"]:
                text += f" at {(iso_utc(n['sent_ms']) or '')[11:19]}"
            if n["last_error"] and n["state"] != "sent":
                text += f" - {n['last_error'][:120]}"
            link: list[Any] = [" ", html.A("PDF", href=n["pdf_url"], target="_blank")] if n["pdf_url"] else []
            items.append(html.Li([text, *link], className="small notice-" + n["state"]))
        out += [html.H6("Notices", className="mt-2"), html.Ul(items, className="list-unstyled", id="tk-notices")]
    for c in bo["fine_changes"]:
        out.append(
            html.Div(
                f"Fine {c['from_pkr']} -> {c['to_pkr']} PKR by {c['actor']} ({c['rule']})",
                className="small text-warning",
            )
        )
    return out


__all__ = ["backoffice_section", "report_links"]
