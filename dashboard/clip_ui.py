"""The clip of a ticket or incident as an HTML5 ``<video>`` with its hash, length and size (operator pages)."""

from __future__ import annotations

import logging
from typing import Any

from dash import html

log = logging.getLogger("dashboard.clips")


def clip_figure(archive: Any, owner_kind: str, owner_id: str, dom_id: str | None = None) -> html.Figure | None:
    """The clip player of a violation or incident, a "no clip" note, or None without an archive.

    The ``<video>`` loads ``/clip/<kind>/<id>``, which redirects to a short-lived link (:mod:`dashboard.media`).
    """
    if archive is None:
        return None
    try:
        c = archive.clips.clip_of(owner_kind, owner_id)
    except Exception as e:  # noqa: BLE001 - the stills still show
        log.warning("clip of %s %s: %s", owner_kind, owner_id, e)
        return html.Figure(html.Div("clip unavailable (archive error)", className="text-danger small"))
    if c is None:
        return html.Figure(
            html.Div("no video clip (clips off for this camera, or still being written)", className="text-muted small"),
            className="clip-item mb-2",
        )
    video_id: dict[str, Any] = {"id": dom_id} if dom_id else {}
    return html.Figure(
        [
            html.Video(
                src=f"/clip/{owner_kind}/{owner_id}",
                controls=True,
                muted=True,
                preload="metadata",
                className="clip-video",
                style={"maxWidth": "100%", "width": "480px"},
                **video_id,
            ),
            html.Figcaption(
                [
                    html.Strong("clip"),
                    f" {c.duration_s:.1f} s, {c.width}x{c.height}, {c.size / 1024:.0f} KiB",
                    html.Br(),
                    html.Code(c.sha256, className="evidence-hash small"),
                ],
                className="small",
            ),
        ],
        className="clip-item mb-2",
    )


__all__ = ["clip_figure"]
