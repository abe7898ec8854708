"""Ticketing and incidents services on a real Redis and SQLite: idempotency, evidence, alerts, escalation."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import redis

from archive import Archive
from bus.alerts import AlertStore
from bus.evidence import EvidenceStore
from bus.keys import WARDEN_CHANNEL_PREFIX
from bus.streams import EventBus, subscribe
from config.settings import DEFAULT_CONFIG, load_config
from core.types import Incident, IncidentKind, Priority, TicketState, Violation
from services import incidents as incidents_svc
from services import ticketing as ticketing_svc

CFG = load_config(DEFAULT_CONFIG)


def _violation(bus_ev: EvidenceStore, n: int, plate: str | None = "LEA1234", frames: int = 3) -> Violation:
    ev = tuple(bus_ev.put(f"\xff\xd8 frame {n}-{i}".encode()) for i in range(frames))
    return Violation(
        f"viol-{n}",
        IncidentKind.OVERSPEED,
        "cam-univ-tehkal",
        "university-rd",
        n,
        1_700_000_000_000 + n,
        "car",
        plate,
        0.9 if plate else 0.0,
        92.0,
        60.0,
        (34.0, 71.5),
        ev,
        (("evidence_roles", ",".join(["frame"] * frames)),),
    )


def _drain(bus: EventBus, group: str, handle) -> int:
    bus.ensure_group("violation.detected" if group == "ticketing" else "incident.raised", group, start="0")
    n = 0
    while True:
        msgs = bus.read_group(
            group, "t1", ["violation.detected" if group == "ticketing" else "incident.raised"], count=100, block_ms=50
        )
        if not msgs:
            return n
        handle(msgs)
        n += len(msgs)


def test_violations_become_tickets_once(redis_client: redis.Redis, tmp_path: Path) -> None:
    bus = EventBus(redis_client)
    ev = EvidenceStore(redis_client)
    arc = Archive(f"sqlite:///{tmp_path / 'a.db'}", tmp_path / "evidence")
    svc = ticketing_svc.TicketingService(CFG, bus, ev, arc)
    v1, v2 = _violation(ev, 1), _violation(ev, 2, plate=None)
    bus.publish_many([v1, v2, v1])  # a replay of v1
    _drain(bus, "ticketing", svc.handle)
    bus.publish(v1)  # and another one later (a worker restart re-sending it)
    _drain(bus, "ticketing", svc.handle)
    assert arc.count_tickets() == 2 and svc.issued == 2 and svc.duplicates == 2
    issued = [m.envelope.obj for m in bus.recent("ticket.issued")]
    assert sorted(t.violation_id for t in issued) == ["viol-1", "viol-2"]
    t2 = next(t for t in issued if t.violation_id == "viol-2")
    assert t2.state is TicketState.UNDER_REVIEW and t2.plate is None  # no plate: manual review, not dropped
    for t in issued:
        d = arc.get_ticket(t.ticket_id)
        assert d is not None and len(d.evidence) == 3
        for e in d.evidence:
            p = arc.evidence_path(e.sha256)
            assert p is not None and hashlib.sha256(p.read_bytes()).hexdigest() == e.sha256
    pending = redis_client.xpending("violation.detected", "ticketing")
    assert pending["pending"] == 0


def test_expired_evidence_still_tickets_for_review(redis_client: redis.Redis, tmp_path: Path) -> None:
    bus = EventBus(redis_client)
    ev = EvidenceStore(redis_client)
    arc = Archive(f"sqlite:///{tmp_path / 'a.db'}", tmp_path / "evidence")
    v = _violation(ev, 3)
    ev.delete(v.evidence[0])
    bus.publish(v)
    _drain(bus, "ticketing", ticketing_svc.TicketingService(CFG, bus, ev, arc).handle)
    (row,), _ = arc.list_tickets()
    d = arc.get_ticket(row.ticket_id)
    assert d is not None and d.ticket.state is TicketState.UNDER_REVIEW
    assert [e.present for e in d.evidence] == [False, True, True]
    assert "evidence" in d.transitions[-1].reason


class Clock:
    def __init__(self) -> None:
        self.t = 1_700_000_000_000

    def __call__(self) -> int:
        return self.t


def test_incidents_alert_wardens_and_escalate(redis_client: redis.Redis, tmp_path: Path) -> None:
    bus = EventBus(redis_client)
    arc = Archive(f"sqlite:///{tmp_path / 'a.db'}", tmp_path / "evidence")
    clock = Clock()
    store = AlertStore(redis_client, CFG.alerts.control_room)
    svc = incidents_svc.IncidentService(CFG, bus, arc, store, clock=clock)
    jam = Incident(
        "jam-1", IncidentKind.CONGESTION, Priority.MEDIUM, clock.t, segment_id="university-rd", summary="jammed"
    )
    wrong = Incident("ww-1", IncidentKind.WRONG_WAY, Priority.HIGH, clock.t, segment_id="gt-rd", summary="wrong way")
    nobody = Incident("x-1", IncidentKind.STALLED, Priority.MEDIUM, clock.t, segment_id=None, summary="somewhere")
    wardens = incidents_svc.configured_roster(CFG)
    assert any("university-rd" in segs for _, segs in wardens), "demo config assigns a warden to University Road"
    with subscribe(redis_client, patterns=["alerts:*"]) as sub:
        bus.publish_many([jam, wrong, nobody, jam])
        _drain(bus, "incidents", svc.handle)
        got = [sub.get(timeout=1.0) for _ in range(4)]
    channels = sorted(n.channel for n in got if n is not None)
    assert any(c.startswith(WARDEN_CHANNEL_PREFIX) for c in channels) and "alerts:control-room" in channels
    assert arc.count_incidents() == 3 and svc.alerted == 3
    alerts = store.all()
    a_jam = next(a for a in alerts.values() if a.incident_id == "jam-1")
    a_ww = next(a for a in alerts.values() if a.incident_id == "ww-1")
    assert a_jam.wardens and not a_jam.escalated
    assert next(a for a in alerts.values() if a.incident_id == "x-1").escalated  # no warden: control room at once
    store.ack(a_jam.alert_id, a_jam.wardens[0], clock.t + 10_000)
    clock.t += int(CFG.alerts.escalate_after_s * 1000) + 1
    svc.tick()
    assert svc.escalated == 1
    assert store.get(a_ww.alert_id).escalated and not store.get(a_jam.alert_id).escalated
    assert arc.get_incident("ww-1").state == "escalated"
    assert arc.get_alert(a_jam.alert_id)["acked_by"] == a_jam.wardens[0]
    escalations = [m.envelope.obj for m in bus.recent("alert.warden") if m.envelope.obj.escalated]
    assert {a.incident_id for a in escalations} == {"ww-1", "x-1"}
    svc.tick()
    assert svc.escalated == 1  # once


def test_alerts_follow_the_admins_warden_edits(redis_client: redis.Redis, tmp_path: Path) -> None:
    """A warden disabled by an admin gets no alerts even though the config's `wardens:` names them,
    and the service routes to exactly the wardens the admin page lists for the segment."""
    from archive.dashboard_db import DashboardDB
    from dashboard.users import UserDirectory

    url = f"sqlite:///{tmp_path / 'a.db'}"
    users = UserDirectory(CFG, DashboardDB(url))
    users.save("admin", "warden1", "warden", "Warden Saeed", ["university-rd", "saddar-rd"], disabled=True)
    users.save("admin", "warden2", "warden", "Warden Gul", ["gt-rd", "university-rd"])
    bus = EventBus(redis_client)
    arc = Archive(url, tmp_path / "evidence")
    store = AlertStore(redis_client, CFG.alerts.control_room)
    svc = incidents_svc.IncidentService(CFG, bus, arc, store, incidents_svc.dashboard_roster(CFG, url), clock=Clock())
    jam = Incident("jam-2", IncidentKind.CONGESTION, Priority.MEDIUM, 1, segment_id="university-rd", summary="jam")
    saddar = Incident("jam-3", IncidentKind.CONGESTION, Priority.MEDIUM, 1, segment_id="saddar-rd", summary="jam")
    bus.publish_many([jam, saddar])
    _drain(bus, "incidents", svc.handle)
    by_incident = {a.incident_id: a for a in store.all().values()}
    assert by_incident["jam-2"].wardens == ("warden2",) == tuple(users.wardens_for("university-rd"))
    assert by_incident["jam-3"].wardens == () and by_incident["jam-3"].escalated  # only warden1 had it
    assert users.wardens_for("saddar-rd") == []
    arc.close()


@pytest.mark.parametrize("restart", ["redis"])
def test_tickets_survive_redis_restart(tmp_path: Path, restart: str) -> None:
    from bus.embedded import start_embedded_redis

    server = start_embedded_redis(tmp_path / "redis")
    client = redis.Redis.from_url(server.url)
    bus, ev = EventBus(client), EvidenceStore(client)
    arc_url = f"sqlite:///{tmp_path / 'a.db'}"
    arc = Archive(arc_url, tmp_path / "evidence")
    bus.publish(_violation(ev, 7))
    _drain(bus, "ticketing", ticketing_svc.TicketingService(CFG, bus, ev, arc).handle)
    arc.close()
    client.flushall()  # even if Redis loses everything ...
    client.close()
    server.stop()
    server = start_embedded_redis(tmp_path / "redis")
    try:
        arc2 = Archive(arc_url, tmp_path / "evidence")  # ... and every process restarts
        (row,), total = arc2.list_tickets()
        d = arc2.get_ticket(row.ticket_id)
        assert total == 1 and d is not None and all(arc2.verify_evidence(e.sha256) for e in d.evidence)
    finally:
        server.stop()
