"""The playback page's timeline: a camera's recording segments as bars and its tickets/incidents as markers.

Plain HTML (absolutely placed buttons on a bar spanning the window), so each segment and marker is a
clickable element with its own pattern-matching id: ``{"type": "pb-seg", "ts": <segment start ms>}`` and
``{"type": "pb-mark", "ts": <moment ms>, "id": <ticket/incident id>, "at": "bar"|"list"}``. Below the bar the
markers are listed again, with their time and label, for keyboard and screen-reader users.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dash import html

from core.playback import Window
from core.types import RecordingSegment
from dashboard.data import clock_utc

MARK_COLOURS = {"ticket": "#dc3545", "incident": "#fd7e14"}


def _seg_bar(w: Window, seg: RecordingSegment) -> html.Button:
    left = w.pct(seg.ts_ms)
    width = max(0.4, w.pct(seg.ts_ms + int(seg.duration_s * 1000)) - left)
    return html.Button(
        "",
        id={"type": "pb-seg", "ts": seg.ts_ms},
        n_clicks=0,
        title=f"recording {clock_utc(seg.ts_ms)} - {clock_utc(seg.end_ts_ms)} UTC ({seg.duration_s:.0f} s)",
        className="pb-seg border-0 p-0",
        style={
            "position": "absolute",
            "left": f"{left}%",
            "width": f"{width}%",
            "top": "22px",
            "height": "16px",
            "background": "#198754",
            "opacity": 0.75,
        },
    )


def _mark(w: Window, m: Any) -> html.Button:
    return html.Button(
        "",
        id={"type": "pb-mark", "ts": m.ts_ms, "id": m.id, "at": "bar"},
        n_clicks=0,
        title=f"{m.kind} {m.what} {clock_utc(m.ts_ms)} UTC: {m.label}",
        className=f"pb-mark pb-mark-{m.kind} border-0 p-0",
        style={
            "position": "absolute",
            "left": f"calc({w.pct(m.ts_ms)}% - 5px)",
            "top": "6px" if m.kind == "ticket" else "40px",
            "width": "10px",
            "height": "14px",
            "background": MARK_COLOURS.get(m.kind, "#6c757d"),
            "borderRadius": "2px",
        },
    )


def timeline(w: Window, segments: Sequence[RecordingSegment], markers: Sequence[Any]) -> list[Any]:
    """The bar (segments, markers, time ticks) and the list of markers of one camera in ``w``.

    Args:
        w: The window shown.
        segments: The camera's segments overlapping it.
        markers: Its :class:`archive.timeline.TimelineMarker` s in it.
    """
    ticks = [
        html.Span(
            clock_utc(w.start_ms + (w.end_ms - w.start_ms) * i // 4),
            className="small text-muted",
            style={"position": "absolute", "left": f"{25 * i}%", "top": "58px", "transform": "translateX(-50%)"},
        )
        for i in range(5)
    ]
    bar = html.Div(
        [*(_seg_bar(w, s) for s in segments), *(_mark(w, m) for m in markers), *ticks],
        id="pb-bar",
        style={
            "position": "relative",
            "height": "80px",
            "margin": "0 24px",
            "borderBottom": "1px solid #adb5bd",
            "background": "repeating-linear-gradient(90deg, #f8f9fa 0 24.9%, #dee2e6 24.9% 25%)",
        },
    )
    summary = html.Div(
        f"{len(segments)} recording segment(s), {sum(m.kind == 'ticket' for m in markers)} ticket(s), "
        f"{sum(m.kind == 'incident' for m in markers)} incident(s) "
        f"between {clock_utc(w.start_ms)} and {clock_utc(w.end_ms)} UTC",
        id="pb-summary",
        className="small text-muted mt-3 mb-1",
        role="status",
    )
    rows = [
        html.Li(
            html.Button(
                [
                    html.Span(clock_utc(m.ts_ms), className="font-monospace me-2"),
                    html.Span(m.kind, className="badge me-2", style={"background": MARK_COLOURS.get(m.kind)}),
                    html.Strong(m.what, className="me-2"),
                    html.Span(m.label),
                ],
                id={"type": "pb-mark", "ts": m.ts_ms, "id": m.id, "at": "list"},
                n_clicks=0,
                className="btn btn-link btn-sm text-start p-0 pb-mark-row",
            ),
            className="list-group-item py-1",
        )
        for m in markers
    ]
    empty = [] if markers else [html.Li("No ticket or incident in this window.", className="list-group-item small")]
    return [bar, summary, html.Ul(rows + empty, id="pb-marks", className="list-group list-group-flush small")]


__all__ = ["MARK_COLOURS", "timeline"]
