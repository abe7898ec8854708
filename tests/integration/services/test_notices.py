"""Issue 15's done line and the outbox's promises, on real Redis, SQLite, an SMTP server (aiosmtpd) and an
HTTP SMS gateway: violation -> ticket -> approve -> owner lookup -> e-mail + SMS + PDF -> paid -> receipt;
retries with backoff, dead-letter, nothing sent twice, owner unknown, overdue surcharge."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import redis
from pypdf import PdfReader

from archive import Archive, TicketFilter
from core.notices import DAY_MS
from core.owners import OwnerRecord
from core.types import TicketState
from services.notices.register import build_register
from services.notices.service import NoticeService
from tests.integration.services.notice_servers import http_server, smtp_server
from tests.integration.services.notice_setup import BASE, OWNER, Clock, notices_config, sms_gateway, ticket_from_camera


def test_violation_to_notices_to_paid_receipt(redis_client: redis.Redis, tmp_path: Path) -> None:
    clock = Clock()
    arc = Archive(f"sqlite:///{tmp_path / 'a.db'}", tmp_path / "evidence", clock=clock)
    arc.register.upsert([OWNER])
    with smtp_server() as (port, box), http_server(sms_gateway([])) as (url, sms):
        cfg = notices_config(tmp_path, port, url)
        reg, name = build_register(cfg.notices.owner_register, arc)
        svc = NoticeService(cfg, arc, reg, name, clock=clock)
        tid = ticket_from_camera(redis_client, arc, 1, "LEA1234")
        svc.tick()
        d = arc.get_ticket(tid)
        assert d is not None and d.ticket.state is TicketState.NOTIFIED
        assert d.transitions[-1].actor == "notices" and "owner found" in d.transitions[-1].reason
        # e-mail with the PDF attached, one SMS, one archived PDF
        assert len(box.messages) == 1
        msg = box.messages[0]
        assert msg["To"] == "ali@example.pk" and tid in msg["Subject"]
        assert msg["Message-ID"].startswith("<notice-") and tid.lower() in msg["Message-ID"]
        body = msg.get_body(("plain",)).get_content()
        assert "PKR 2500" in body and "Dear Ali Khan" in body and "جرمانہ" in body
        att = next(msg.iter_attachments())
        assert att.get_content_type() == "application/pdf"
        assert len(sms.requests) == 1
        _, path, headers, payload = sms.requests[0]
        assert path == "/sms" and headers["Authorization"] == "Bearer gw-token"
        assert (
            payload["to"] == "+923001234567" and tid in payload["text"] and headers["Idempotency-Key"] == payload["id"]
        )
        notices = arc.notices.for_ticket(tid)
        assert sorted((n.channel, n.template, n.state) for n in notices) == [
            ("email", "notice", "sent"),
            ("pdf", "notice", "sent"),
            ("sms", "notice", "sent"),
        ]
        pdf_sha = next(n.result for n in notices if n.channel == "pdf")
        pdf_path = arc.evidence_path(pdf_sha)
        assert pdf_path is not None
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf_path.read_bytes())).pages)
        due = arc.due.get(tid)
        assert due == d.transitions[-1].ts_ms + BASE.fines.due_days * DAY_MS
        for want in (tid, "Over-speeding", "PKR 2500", "University", "Due date"):
            assert want in text, want
        assert "ﺟﺮﻣﺎﻧﮧ" in text  # Urdu "fine", shaped (presentation forms)
        reader = PdfReader(io.BytesIO(pdf_path.read_bytes()))
        assert "/Image" in str(reader.pages[0]["/Resources"]) or reader.pages[0].images  # the evidence photo
        # the lookup is audited
        audit, _ = arc.sightings.audit_log()
        assert any(a.source == "owner" and a.query["ticket_id"] == tid and a.results == 1 for a in audit)
        # paid (H2's payment callback calls this same transition): a receipt goes out
        arc.transition(tid, TicketState.PAID, "payment-gateway", "paid PKR 2500, ref PG-1")
        svc.tick()
        receipts = [n for n in arc.notices.for_ticket(tid) if n.template == "receipt"]
        assert sorted(n.channel for n in receipts) == ["email", "pdf", "sms"] and all(
            n.state == "sent" for n in receipts
        )
        assert len(box.messages) == 2 and "Payment received" in box.messages[1]["Subject"]
        assert len(sms.requests) == 2
        svc.tick()
        assert len(box.messages) == 2 and len(sms.requests) == 2  # nothing sent twice


def test_retries_backoff_dead_letter_and_one_send_per_notice(redis_client: redis.Redis, tmp_path: Path) -> None:
    clock = Clock()
    arc = Archive(f"sqlite:///{tmp_path / 'a.db'}", tmp_path / "evidence", clock=clock)
    arc.register.upsert([OWNER, OwnerRecord("LEB777", "Sana Gul", phone="+923009999999")])
    fail = [2]  # the gateway is busy twice, then answers
    with smtp_server() as (port, box), http_server(sms_gateway(fail)) as (url, sms):
        cfg = notices_config(tmp_path, port, url, max_attempts=3)
        reg, name = build_register(cfg.notices.owner_register, arc)
        svc = NoticeService(cfg, arc, reg, name, clock=clock)
        tid = ticket_from_camera(redis_client, arc, 2, "LEA1234")
        svc.tick()
        (s1,) = [n for n in arc.notices.for_ticket(tid) if n.channel == "sms"]
        assert s1.state == "pending" and s1.attempts == 1 and "503" in s1.last_error
        assert s1.next_attempt_ms == clock.t + 10_000  # retry_base_s
        svc.tick()
        assert len(sms.requests) == 1  # not due yet
        clock.t += 10_000
        svc.tick()
        (s2,) = [n for n in arc.notices.for_ticket(tid) if n.channel == "sms"]
        assert s2.attempts == 2 and s2.next_attempt_ms == clock.t + 20_000  # doubled
        clock.t += 20_000
        svc.tick()
        (s3,) = [n for n in arc.notices.for_ticket(tid) if n.channel == "sms"]
        assert s3.state == "sent" and s3.attempts == 3 and s3.result == f"gw-notice-{s3.notice_id}"
        # a permanent refusal (bad number) is dead-lettered at once; a dead channel does not stop the others
        fail[0] = 0
    with smtp_server() as (port, box2), http_server(lambda m, p, b: (400, {"error": "bad number"}, 0)) as (url, _):
        cfg = notices_config(tmp_path, port, url, max_attempts=3)
        svc = NoticeService(cfg, arc, build_register(cfg.notices.owner_register, arc)[0], "sql", clock=clock)
        tid2 = ticket_from_camera(redis_client, arc, 3, "LEB777")
        svc.tick()
        (dead,) = [n for n in arc.notices.for_ticket(tid2) if n.channel == "sms"]
        assert dead.state == "dead" and "400" in dead.last_error and svc.stats.dead == 1
        assert [n.state for n in arc.notices.for_ticket(tid2) if n.channel == "pdf"] == ["sent"]
    # two services draining the same outbox: every e-mail goes out once
    with smtp_server() as (port, box3), http_server(sms_gateway([])) as (url, sms3):
        cfg = notices_config(tmp_path, port, url)
        tids = [ticket_from_camera(redis_client, arc, 10 + i, "LEA1234") for i in range(4)]
        svcs = [
            NoticeService(cfg, arc, build_register(cfg.notices.owner_register, arc)[0], "sql", clock=clock)
            for _ in range(2)
        ]
        svcs[0].resolve_owners()
        barrier = threading.Barrier(2)

        def drain(s: NoticeService) -> None:
            barrier.wait()
            s.drain()

        threads = [threading.Thread(target=drain, args=(s,)) for s in svcs]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        ids = sorted(m["Message-ID"] for m in box3.messages)
        assert len(ids) == 4 and len(set(ids)) == 4
        assert len(sms3.requests) == 4
        assert all(n.state == "sent" for t in tids for n in arc.notices.for_ticket(t))


def test_owner_unknown_and_overdue_surcharge(redis_client: redis.Redis, tmp_path: Path) -> None:
    clock = Clock()
    arc = Archive(f"sqlite:///{tmp_path / 'a.db'}", tmp_path / "evidence", clock=clock)
    arc.register.upsert([OWNER])
    with smtp_server() as (port, box), http_server(sms_gateway([])) as (url, _):
        cfg = notices_config(tmp_path, port, url)
        svc = NoticeService(cfg, arc, build_register(cfg.notices.owner_register, arc)[0], "sql", clock=clock)
        unknown = ticket_from_camera(redis_client, arc, 20, "KHI9999")
        known = ticket_from_camera(redis_client, arc, 21, "LEA1234")
        svc.tick()
        rows, total = arc.list_tickets(TicketFilter(states=(TicketState.OWNER_UNKNOWN,)))
        assert total == 1 and rows[0].ticket_id == unknown
        assert arc.notices.for_ticket(unknown) == []  # nobody to tell
        assert arc.owners.get(unknown) == (False, None, clock.t)
        d = arc.get_ticket(known)
        assert d is not None and d.ticket.fine_pkr == 2500
        due = arc.due.get(known)
        assert due is not None
        clock.t = due + 1000  # one second past due: +25 %
        svc.tick()
        d = arc.get_ticket(known)
        assert d is not None and d.ticket.state is TicketState.OVERDUE and d.ticket.fine_pkr == 3125
        assert "2500 -> 3125" in d.transitions[-1].reason
        od = [n for n in arc.notices.for_ticket(known) if n.template == "overdue"]
        assert sorted(n.channel for n in od) == ["email", "pdf", "sms"] and all(n.state == "sent" for n in od)
        assert (
            "Overdue" in box.messages[-1]["Subject"]
            and "PKR 3125" in box.messages[-1].get_body(("plain",)).get_content()
        )
        clock.t = due + 30 * DAY_MS  # 30 days past due: +50 % of the original
        svc.tick()
        d = arc.get_ticket(known)
        assert d is not None and d.ticket.fine_pkr == 3750 and d.ticket.state is TicketState.OVERDUE
        with arc.session() as s:
            from archive.models import TicketRecord

            assert s.get(TicketRecord, known).original_fine_pkr == 2500
        arc.transition(known, TicketState.PAID, "counter", "paid PKR 3750")
        svc.tick()
        assert [n.state for n in arc.notices.for_ticket(known) if n.template == "receipt"] == ["sent"] * 3
