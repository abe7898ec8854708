"""Parts of a ticket's detail shared by the operators' pages (tickets, appeals): its evidence and its history.

Operators only: the images are the unblurred evidence (``/evidence/<sha256>``, behind the login);
the citizen portal shows redacted copies inline instead (:mod:`dashboard.portal.blur`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from dash import html

from dashboard.data import iso_utc


def evidence_figures(files: Iterable[Any]) -> list[Any]:
    """One figure per evidence file: the image (or "file missing"), its role and SHA-256."""
    evidence = []
    for e in files:
        img = (
            html.Img(
                src=f"/evidence/{e.sha256}",
                alt=f"{e.role} evidence",
                className="evidence-img" + (" plate-crop" if "plate" in e.role else ""),
            )
            if e.present
            else html.Div("file missing", className="text-danger small")
        )
        evidence.append(
            html.Figure(
                [
                    img,
                    html.Figcaption(
                        [html.Strong(e.role), html.Br(), html.Code(e.sha256, className="evidence-hash small")],
                        className="small",
                    ),
                ],
                className="evidence-item me-2 mb-2",
            )
        )
    return evidence


def history_items(transitions: Iterable[Any]) -> list[Any]:
    """One line per recorded state change of the ticket."""
    return [
        html.Li(
            f"{(iso_utc(x.ts_ms) or '')[11:19]} {x.actor}: {x.from_state.value if x.from_state else '-'} -> {x.to_state.value}"
            + (f" ({x.reason})" if x.reason else ""),
            className="small",
        )
        for x in transitions
    ]


__all__ = ["evidence_figures", "history_items"]
