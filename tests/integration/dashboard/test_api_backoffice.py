"""Back-office API over HTTP (real SQLite archive): a ticket's notices and owner, the PDF download,
grouped reports as JSON and CSV, owner_unknown as a list filter, bad input."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from types import SimpleNamespace

import pytest

from archive import Archive
from config.notices import EmailConfig, NoticesConfig, SmsConfig
from config.settings import DEFAULT_CONFIG, load_config
from core.owners import OwnerRecord
from core.tickets import issue
from core.types import IncidentKind, TicketState, Violation
from dashboard import api_tickets
from services.fines import fine_schedule
from services.notices.service import NoticeService
from tests.integration.dashboard.apps import MakeApp

CFG = load_config(DEFAULT_CONFIG)
T0 = 1_777_624_200_000  # 2026-05-01T08:30:00Z
OP = {"X-Test-User": "op1:operator"}


def _ticket(arc: Archive, n: int, plate: str, kind: IncidentKind, ts: int) -> str:
    v = Violation(
        f"v{n}",
        kind,
        CFG.cameras[n % 2].id,
        "university-rd",
        n,
        ts,
        "car",
        plate,
        0.9,
        90.0,
        60.0,
        None,
        ("ab" * 32, "cd" * 32),
    )
    t = issue(v, fine_schedule(CFG.fines), ts)
    arc.add_ticket(t)
    arc.transition(t.ticket_id, TicketState.UNDER_REVIEW, "op1")
    arc.transition(t.ticket_id, TicketState.APPROVED, "op1")
    return t.ticket_id


@pytest.fixture
def env(make_app: MakeApp, tmp_path: Path) -> SimpleNamespace:
    a = make_app(CFG, api_tickets.bp)
    arc = a.arc
    arc.register.upsert([OwnerRecord("LEA1234", "Ali Khan", "*****-****567-1", "GT Road", "", "")])
    known = _ticket(arc, 1, "LEA1234", IncidentKind.OVERSPEED, T0)
    unknown = _ticket(arc, 2, "KHI9999", IncidentKind.WRONG_WAY, T0 + 86_400_000)
    cfg = CFG.model_copy(
        update={
            "notices": NoticesConfig(email=EmailConfig(mode="off"), sms=SmsConfig(mode="off"), folder=tmp_path / "n")
        }
    )
    NoticeService(cfg, arc, arc.register, "sql").tick()
    return SimpleNamespace(client=a.client, arc=arc, known=known, unknown=unknown)


def test_ticket_shows_owner_notices_and_pdf(env: SimpleNamespace) -> None:
    r = env.client.get(f"/api/v1/tickets/{env.known}", headers=OP)
    assert r.status_code == 200
    bo = r.get_json()["backoffice"]
    assert bo["owner"]["found"] and bo["owner"]["name"] == "Ali Khan" and bo["owner"]["cnic_masked"].startswith("*")
    assert bo["due_ts_ms"] is not None
    (pdf,) = bo["notices"]  # no e-mail or phone registered: the PDF letter only
    assert pdf["channel"] == "pdf" and pdf["state"] == "sent" and pdf["pdf_url"]
    got = env.client.get(pdf["pdf_url"], headers=OP)
    assert got.status_code == 200 and got.mimetype == "application/pdf" and got.data.startswith(b"%PDF")
    assert env.client.get(pdf["pdf_url"]).status_code == 401
    assert env.client.get(f"/api/v1/tickets/{env.known}/notices/999.pdf", headers=OP).status_code == 404
    r = env.client.get(f"/api/v1/tickets/{env.unknown}/notices", headers=OP)
    assert r.status_code == 200 and r.get_json()["owner"] == {
        "found": False,
        "looked_up_ms": r.get_json()["owner"]["looked_up_ms"],
    }
    assert env.client.get("/api/v1/tickets/ET-0000-0000-0000/notices", headers=OP).status_code == 404


def test_ticket_page_section_lists_the_notices(env: SimpleNamespace) -> None:
    from dashboard.ticket_backoffice import backoffice_section

    text = str(backoffice_section(env.arc, env.known))
    assert "Ali Khan" in text and "notice pdf: sent after 1 attempt(s)" in text and ".pdf" in text
    assert "owner unknown" in str(backoffice_section(env.arc, env.unknown))


def test_owner_unknown_is_a_list_filter(env: SimpleNamespace) -> None:
    r = env.client.get("/api/v1/tickets?state=owner_unknown", headers=OP)
    assert r.status_code == 200 and [t["ticket_id"] for t in r.get_json()["tickets"]] == [env.unknown]


def test_reports_by_state_kind_camera_day(env: SimpleNamespace) -> None:
    r = env.client.get("/api/v1/tickets/report?by=state", headers=OP)
    assert r.status_code == 200
    assert {g["key"]: g["tickets"] for g in r.get_json()["groups"]} == {"notified": 1, "owner_unknown": 1}
    r = env.client.get("/api/v1/tickets/report?by=kind&state=notified", headers=OP)
    assert r.get_json()["groups"] == [{"key": "overspeed", "tickets": 1, "fines_pkr": 2500, "original_fines_pkr": 2500}]
    r = env.client.get("/api/v1/tickets/report.csv?by=day", headers=OP)
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(r.get_data(as_text=True))))
    assert rows[0] == ["group", "key", "tickets", "fines_pkr", "original_fines_pkr"]
    assert [(x[1], x[2]) for x in rows[1:]] == [("2026-05-01", "1"), ("2026-05-02", "1")]
    r = env.client.get("/api/v1/tickets/report?by=camera", headers=OP)
    assert sorted(g["key"] for g in r.get_json()["groups"]) == sorted({CFG.cameras[1].id, CFG.cameras[0].id})
    assert env.client.get("/api/v1/tickets/report?by=colour", headers=OP).status_code == 400
    assert env.client.get("/api/v1/tickets/report?by=state&bogus=1", headers=OP).status_code == 400
    assert env.client.get("/api/v1/tickets/report?by=state").status_code == 401
