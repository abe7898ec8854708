"""archive.Archive on SQLite and PostgreSQL: idempotent writes, lifecycle, lookup, CSV, evidence."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from archive import Archive, IncidentNotFound, InvalidAction, InvalidTransition, TicketFilter, TicketNotFound
from config.settings import FinesConfig
from core.tickets import issue
from core.types import Incident, IncidentKind, Priority, TicketState, Violation
from services.fines import fine_schedule
from tests.pgdb import throwaway_pg_database


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'archive.db'}"
    else:
        with throwaway_pg_database("safecity_archive") as url:
            yield url


class Clock:
    def __init__(self) -> None:
        self.t = 1_700_000_000_000

    def __call__(self) -> int:
        self.t += 1000
        return self.t


@pytest.fixture
def arc(db_url: str, tmp_path: Path) -> Iterator[Archive]:
    a = Archive(db_url, tmp_path / "evidence", clock=Clock())
    yield a
    a.close()


def _ticket(arc: Archive, n: int = 1, plate: str | None = "LEA1234", kind: str = "overspeed", frames: int = 3):
    evidence = tuple(arc.store_evidence(f"frame {n} {i}".encode()) for i in range(frames))
    v = Violation(
        violation_id=f"viol-{n}-{kind}",
        kind=IncidentKind(kind),
        camera_id="cam-1" if n % 2 else "cam-2",
        segment_id="seg-1",
        track_id=n,
        ts_ms=1_700_000_000_000 + n * 60_000,
        label="car",
        plate=plate,
        plate_confidence=0.9 if plate else 0.0,
        speed_kmh=85.0 if kind == "overspeed" else None,
        limit_kmh=60.0 if kind == "overspeed" else None,
        location=(34.0, 71.5),
        evidence=evidence,
    )
    return issue(v, fine_schedule(FinesConfig()), 1_700_000_000_000 + n)


def test_ticket_is_archived_once(arc: Archive) -> None:
    t = _ticket(arc)
    assert arc.add_ticket(t, ["frame", "frame", "frame"]) is True
    assert arc.add_ticket(t, ["frame", "frame", "frame"]) is False
    assert arc.count_tickets() == 1
    d = arc.get_ticket(t.ticket_id)
    assert d is not None and d.ticket == t
    assert [e.sha256 for e in d.evidence] == list(t.evidence) and all(e.present for e in d.evidence)
    assert all(arc.verify_evidence(sha) for sha in t.evidence)


def test_evidence_is_content_addressed_and_verified(arc: Archive) -> None:
    data = b"\xff\xd8 jpeg bytes"
    sha = arc.store_evidence(data)
    assert sha == hashlib.sha256(data).hexdigest() and arc.store_evidence(data) == sha
    p = arc.evidence_path(sha)
    assert p is not None and p.read_bytes() == data
    p.write_bytes(b"tampered")
    assert not arc.verify_evidence(sha)
    assert arc.evidence_path("../../etc/passwd") is None and arc.evidence_path("0" * 64) is None


def test_lifecycle_and_history(arc: Archive) -> None:
    t = _ticket(arc)
    arc.add_ticket(t)
    arc.transition(t.ticket_id, TicketState.UNDER_REVIEW, "op1", "checking")
    d = arc.transition(t.ticket_id, "approved", "op1", "clear evidence")
    assert d.ticket.state is TicketState.APPROVED
    assert [(x.from_state, x.to_state, x.actor) for x in d.transitions] == [
        (None, TicketState.ISSUED, "system"),
        (TicketState.ISSUED, TicketState.UNDER_REVIEW, "op1"),
        (TicketState.UNDER_REVIEW, TicketState.APPROVED, "op1"),
    ]
    assert d.transitions[1].ts_ms < d.transitions[2].ts_ms
    with pytest.raises(InvalidTransition):
        arc.transition(t.ticket_id, "issued", "op1")
    with pytest.raises(InvalidTransition, match="unknown state"):
        arc.transition(t.ticket_id, "bogus", "op1")
    with pytest.raises(TicketNotFound):
        arc.transition("ET-0000-0000-0000", "void", "op1")


def test_no_plate_goes_to_review_and_needs_a_plate(arc: Archive) -> None:
    t = _ticket(arc, plate=None)
    arc.add_ticket(t)
    rows, total = arc.review_queue()
    assert total == 1 and rows[0].state == "under_review" and rows[0].plate is None
    with pytest.raises(InvalidTransition, match="plate"):
        arc.transition(t.ticket_id, "approved", "op1")
    d = arc.transition(t.ticket_id, "approved", "op1", "read by operator", plate="lea-77")
    assert d.ticket.plate == "LEA77"


def test_list_filters_sort_and_paging(arc: Archive) -> None:
    for n in range(1, 8):
        arc.add_ticket(_ticket(arc, n, kind="overspeed" if n % 3 else "red_light"))
    rows, total = arc.list_tickets(TicketFilter(), "-ts", 0, 3)
    assert total == 7 and len(rows) == 3 and rows[0].ts_ms > rows[1].ts_ms
    rows, total = arc.list_tickets(TicketFilter(kinds=(IncidentKind.RED_LIGHT,)))
    assert total == 2 and {r.kind for r in rows} == {"red_light"}
    rows, total = arc.list_tickets(TicketFilter(camera_id="cam-2"), "ts")
    assert total == 3
    rows, total = arc.list_tickets(TicketFilter(), "ts", 5, 3)  # the last page: what is left, the same total
    assert total == 7 and len(rows) == 2 and rows[0].ts_ms < rows[1].ts_ms
    assert arc.list_tickets(TicketFilter(), "ts", 9, 3) == ([], 7)
    with pytest.raises(ValueError, match="sort"):
        arc.list_tickets(sort="nope")
    with pytest.raises(ValueError, match="offset and limit"):
        arc.list_tickets(offset=-1)


def test_csv_export(arc: Archive) -> None:
    arc.add_ticket(_ticket(arc, 1))
    arc.add_ticket(_ticket(arc, 2, plate="=cmd|' /C calc'!A0"))
    text = "".join(arc.export_csv(batch=1))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 2 and rows[0]["fine_pkr"] == "2500" and rows[0]["time_utc"].endswith("Z")
    assert len(rows[0]["evidence_sha256"].split()) == 3
    assert rows[1]["plate"] == "CMDCCALCA0"  # normalised on issue: no formula can reach a spreadsheet


def test_incidents_and_actions(arc: Archive) -> None:
    inc = Incident(
        "inc-1",
        IncidentKind.WRONG_WAY,
        Priority.HIGH,
        5,
        camera_id="cam-1",
        segment_id="seg-1",
        location=(34.0, 71.5),
        summary="wrong way",
    )
    assert arc.add_incident(inc) and not arc.add_incident(inc)
    rows, total = arc.list_incidents(states=["open"])
    assert total == 1 and rows[0].incident.summary == "wrong way" and rows[0].incident == inc
    arc.incident_action("inc-1", "ack", "warden1")
    v = arc.incident_action("inc-1", "assign", "op1", "go", assignee="warden2")
    assert v.state == "assigned" and v.assignee == "warden2"
    v = arc.incident_action("inc-1", "close", "warden2", "cleared")
    assert v.state == "closed" and [h.action for h in v.history] == ["ack", "assign", "close"]
    with pytest.raises(InvalidAction):
        arc.incident_action("inc-1", "ack", "op1")
    with pytest.raises(InvalidAction, match="assignee"):
        arc.incident_action("inc-1", "assign", "op1")
    with pytest.raises(InvalidAction, match="unknown"):
        arc.incident_action("inc-1", "explode", "op1")
    with pytest.raises(IncidentNotFound):
        arc.incident_action("nope", "ack", "op1")


def test_survives_reopening(db_url: str, tmp_path: Path) -> None:
    a = Archive(db_url, tmp_path / "ev", clock=Clock())
    t = _ticket(a)
    a.add_ticket(t)
    a.close()
    b = Archive(db_url, tmp_path / "ev")
    d = b.get_ticket(t.ticket_id)
    assert d is not None and d.ticket.evidence == t.evidence and all(b.verify_evidence(s) for s in t.evidence)
    b.close()
