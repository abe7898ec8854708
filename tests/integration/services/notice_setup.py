"""Shared by the notices tests (tests/integration/services, tests/integration/dashboard/test_portal_done.py):
the demo config with the notices on a local SMTP server and SMS gateway, an approved ticket that came from a
violation through real Redis and the ticketing service, a registered owner, a settable clock."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import redis

from archive import Archive
from bus.evidence import EvidenceStore
from bus.streams import EventBus
from config.notices import EmailConfig, NoticesConfig, SmsConfig
from config.settings import DEFAULT_CONFIG, AppConfig, load_config
from core.owners import OwnerRecord
from core.tickets import ticket_id_for
from core.types import IncidentKind, TicketState, Violation
from services import ticketing as ticketing_svc

BASE = load_config(DEFAULT_CONFIG)
T0 = 1_700_000_000_000


class Clock:
    """A clock the test sets (``clock.t``); starts a minute after ``T0``."""

    def __init__(self) -> None:
        self.t = T0 + 60_000

    def __call__(self) -> int:
        return self.t


def notices_config(tmp: Path, smtp_port: int, sms_url: str, **kw: Any) -> AppConfig:
    """The demo config, its notices sent by SMTP to ``smtp_port`` and by HTTP to ``sms_url``; ``kw``: more notices keys."""
    n = NoticesConfig(
        email=EmailConfig(mode="smtp", host="127.0.0.1", port=smtp_port, sender="challan@kp-police.example"),
        sms=SmsConfig(mode="http", url=sms_url + "/sms", token="gw-token"),
        folder=tmp / "notices",
        portal_url="https://portal.example.pk/t",
        retry_base_s=10,
        retry_max_s=100,
        **kw,
    )
    return BASE.model_copy(update={"notices": n})


def _jpeg() -> bytes:
    img = np.full((120, 200, 3), 90, np.uint8)
    cv2.rectangle(img, (40, 30), (160, 90), (0, 0, 200), -1)
    return bytes(cv2.imencode(".jpg", img)[1])


def _violation(ev: EvidenceStore, n: int, plate: str) -> Violation:
    shas = tuple(ev.put(_jpeg() + bytes([n, i])) for i in range(3))
    return Violation(
        f"viol-n{n}",
        IncidentKind.OVERSPEED,
        "cam-univ-tehkal",
        "university-rd",
        n,
        T0 + n,
        "car",
        plate,
        0.92,
        95.0,
        60.0,
        (34.0, 71.5),
        shas,
        (("evidence_roles", "frame,frame,frame"),),
    )


def ticket_from_camera(redis_client: redis.Redis, arc: Archive, n: int, plate: str) -> str:
    """A violation through real Redis to an archived ticket, approved by an operator."""
    bus, ev = EventBus(redis_client), EvidenceStore(redis_client)
    svc = ticketing_svc.TicketingService(BASE, bus, ev, arc)
    bus.publish(_violation(ev, n, plate))
    bus.ensure_group("violation.detected", "ticketing", start="0")
    msgs = bus.read_group("ticketing", "t1", ["violation.detected"], count=10, block_ms=100)
    svc.handle(msgs)
    tid = ticket_id_for(f"viol-n{n}")
    assert arc.get_ticket(tid) is not None
    arc.transition(tid, TicketState.UNDER_REVIEW, "op1", "checking")
    arc.transition(tid, TicketState.APPROVED, "op1", "clear overspeed")
    return tid


def sms_gateway(log_fail: list[int]) -> Any:
    """An SMS gateway handler (for ``http_server``): answers 503 while ``log_fail[0]`` > 0 (counting down), then 200."""

    def handle(method: str, path: str, body: Any) -> tuple[int, Any, float]:
        if log_fail and log_fail[0] > 0:
            log_fail[0] -= 1
            return 503, {"error": "busy"}, 0
        return 200, {"id": f"gw-{body['id']}"}, 0

    return handle


OWNER = OwnerRecord(
    "LEA1234",
    "Ali Khan",
    "*****-****567-1",
    "House 5, GT Road, Peshawar",
    "+923001234567",
    "ali@example.pk",
    "Suzuki Alto",
    "silver",
)
