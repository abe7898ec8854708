"""Shared by the portal tests: a ticket with real JPEG evidence taken to ``notified``, the Flask app of the portal."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import cv2
import flask
import numpy as np
import redis
from werkzeug.serving import make_server

from archive import Archive
from bus.store import LiveStore
from bus.streams import EventBus
from config.settings import AppConfig
from core.tickets import issue
from core.types import IncidentKind, TicketState, Violation
from dashboard import context, portal
from services.fines import fine_schedule

BOX = (400.0, 260.0, 220.0, 160.0)


def scene_jpeg(seed: int = 0) -> bytes:
    """A 960x540 frame with text-like detail everywhere (so blurring is measurable)."""
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 255, (540, 960, 3), dtype=np.uint8)
    cv2.putText(img, "LEA-1234", (430, 400), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (255, 255, 255), 3)
    cv2.putText(img, "OTHER-99", (40, 80), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (255, 255, 255), 3)
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 95])
    assert ok
    return buf.tobytes()


def plate_jpeg() -> bytes:
    """A plate crop: the vehicle's own plate only."""
    img = np.full((60, 220, 3), 235, np.uint8)
    cv2.putText(img, "LEA-1234", (8, 42), cv2.FONT_HERSHEY_SIMPLEX, 1.1, (20, 20, 20), 3)
    ok, buf = cv2.imencode(".jpg", img)
    assert ok
    return buf.tobytes()


def make_ticket(
    arc: Archive, cfg: AppConfig, n: int, plate: str = "LEA1234", to: TicketState = TicketState.NOTIFIED
) -> str:
    """A ticket (3 frames + plate crop, the vehicle's box) taken through review to ``to``; its number."""
    frames = [arc.store_evidence(scene_jpeg(n * 10 + i)) for i in range(3)]
    crop = arc.store_evidence(plate_jpeg())
    cam = cfg.cameras[0]
    v = Violation(
        f"portal-test-{n}",
        IncidentKind.OVERSPEED,
        cam.id,
        cam.segment,
        n,
        1_700_000_000_000 + n,
        "car",
        plate,
        0.95,
        72.0,
        60.0,
        cam.location,
        (*frames, crop),
        (("evidence_roles", "frame,frame,frame,plate"), ("box", ",".join(f"{c:.0f}" for c in BOX))),
    )
    ticket = issue(v, fine_schedule(cfg.fines), arc.clock())
    assert arc.add_ticket(ticket, ["frame", "frame", "frame", "plate"])
    path = {
        TicketState.ISSUED: [],
        TicketState.UNDER_REVIEW: [TicketState.UNDER_REVIEW],
        TicketState.APPROVED: [TicketState.UNDER_REVIEW, TicketState.APPROVED],
        TicketState.NOTIFIED: [TicketState.UNDER_REVIEW, TicketState.APPROVED, TicketState.NOTIFIED],
        TicketState.OWNER_UNKNOWN: [TicketState.UNDER_REVIEW, TicketState.APPROVED, TicketState.OWNER_UNKNOWN],
        TicketState.VOID: [TicketState.UNDER_REVIEW, TicketState.VOID],
    }[to]
    for s in path:
        arc.transition(ticket.ticket_id, s, "op1", "test")
    return ticket.ticket_id


def portal_app(cfg: AppConfig, client: redis.Redis, tmp_path: Path) -> SimpleNamespace:
    """The portal's routes on a Flask app with a real Redis and SQLite archive.

    Auth is the dashboard's (tests/integration/dashboard/test_routes.py, tests/browser); here an
    ``X-Test-User`` header stands in for an operator's session.
    """
    app = flask.Flask("portal-test")
    arc = Archive(f"sqlite:///{tmp_path / 'a.db'}", tmp_path / "ev")
    ctx = context.DashboardContext(
        cfg=cfg,
        store=LiveStore(client),
        bus=EventBus(client),
        roads_geojson=tmp_path,
        db=None,  # type: ignore[arg-type]
        users=None,  # type: ignore[arg-type]
        frames=None,  # type: ignore[arg-type]
        archive=arc,
    )
    context.install(app, ctx)

    @app.before_request
    def _login() -> None:
        who = flask.request.headers.get("X-Test-User")
        flask.g.login = None
        if who:
            name, role = who.split(":")
            flask.g.login = SimpleNamespace(username=name, role=role)

    portal.install(app, cfg)
    return SimpleNamespace(app=app, client=app.test_client(), arc=arc, ctx=ctx, cfg=cfg, redis=client)


def state_of(arc: Archive, tid: str) -> str:
    d = arc.get_ticket(tid)
    assert d is not None
    return d.ticket.state.value


def history(arc: Archive, tid: str) -> list[tuple[str, str]]:
    d = arc.get_ticket(tid)
    assert d is not None
    return [(x.to_state.value, x.actor) for x in d.transitions]


def body_of(r: Any) -> dict[str, Any]:
    return r.get_json()


@contextmanager
def served(app: object) -> Iterator[str]:
    """The Flask app on a real HTTP server (a thread); its base URL."""
    srv = make_server("127.0.0.1", 0, app, threaded=True)  # type: ignore[arg-type]
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{srv.server_port}"
    finally:
        srv.shutdown()
