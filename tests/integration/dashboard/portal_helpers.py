"""Shared by the portal tests: a ticket with real JPEG evidence taken to ``notified``, its state and history.

The portal's Flask app is ``make_app(cfg, with_portal=True)`` (:mod:`tests.integration.dashboard.apps`)."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from archive import Archive
from config.settings import AppConfig
from core.tickets import issue
from core.types import IncidentKind, TicketState, Violation
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
