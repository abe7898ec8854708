"""The notices service's state changes reach the live feed (``ticket.updated`` on real Redis), and tickets
left in ``owner_unknown`` are looked up again (SQL register): at once when the register gains the plate,
and after ``notices.owner_recheck_s`` otherwise; every lookup audited."""

from __future__ import annotations

from pathlib import Path

import redis

from archive import Archive
from bus.redis_client import client_for_url
from bus.streams import EventBus
from core.notices import DAY_MS
from core.owners import OwnerRecord
from core.types import TicketState
from dashboard.feeds import OPS, event_message
from services.notices.register import build_register
from services.notices.service import NoticeService
from tests.integration.services.notice_servers import free_port, http_server, smtp_server
from tests.integration.services.notice_setup import BASE, OWNER, Clock, notices_config, sms_gateway, ticket_from_camera


def _updates(bus: EventBus, tid: str) -> list[tuple[str, str, str]]:
    """``(from, to, actor)`` of a ticket's ``ticket.updated`` entries, oldest first."""
    msgs = [m for m in reversed(bus.recent("ticket.updated", 200)) if m.obj.ticket_id == tid]
    return [(m.obj.from_state.value if m.obj.from_state else "", m.obj.to_state.value, m.obj.actor) for m in msgs]


def _audits(arc: Archive, tid: str) -> int:
    rows, _ = arc.sightings.audit_log(limit=1000)
    return sum(1 for a in rows if a.source == "owner" and a.query.get("ticket_id") == tid)


def test_notified_owner_unknown_and_overdue_are_announced(redis_client: redis.Redis, tmp_path: Path) -> None:
    clock = Clock()
    arc = Archive(f"sqlite:///{tmp_path / 'a.db'}", tmp_path / "evidence", clock=clock)
    arc.register.upsert([OWNER])
    bus = EventBus(redis_client)
    with smtp_server() as (port, _), http_server(sms_gateway([])) as (url, _):
        cfg = notices_config(tmp_path, port, url)
        reg, name = build_register(cfg.notices.owner_register, arc)
        svc = NoticeService(cfg, arc, reg, name, clock=clock, bus=bus)
        known = ticket_from_camera(redis_client, arc, 40, "LEA1234")
        unknown = ticket_from_camera(redis_client, arc, 41, "KHI4040")
        svc.tick()
        assert _updates(bus, known) == [("approved", "notified", "notices")]
        assert _updates(bus, unknown) == [("approved", "owner_unknown", "notices")]
        due = arc.due.get(known)
        assert due is not None
        clock.t = due + 1000
        svc.tick()
        assert _updates(bus, known)[-1] == ("notified", "overdue", "notices")
        assert svc.stats.announced == 3
        # the control room's live feed turns each into a ticket message
        (m,) = [m for m in bus.recent("ticket.updated", 10) if m.obj.to_state is TicketState.OVERDUE]
        ops = event_message("ticket.updated", m.obj, BASE)[OPS]
        assert ops is not None and ops["ticket"]["state"] == "overdue" and "2500 -> 3125" in ops["ticket"]["reason"]
        # Redis unreachable: the change is still archived, only the announcement is lost
        down = EventBus(client_for_url(f"redis://127.0.0.1:{free_port()}/0", socket_timeout=1.0, retries=0))
        svc2 = NoticeService(cfg, arc, reg, name, clock=clock, bus=down)
        third = ticket_from_camera(redis_client, arc, 42, "LEA1234")
        svc2.tick()
        d = arc.get_ticket(third)
        assert d is not None and d.ticket.state is TicketState.NOTIFIED and svc2.stats.announced == 0


def test_owner_unknown_is_looked_up_again(redis_client: redis.Redis, tmp_path: Path) -> None:
    clock = Clock()
    arc = Archive(f"sqlite:///{tmp_path / 'a.db'}", tmp_path / "evidence", clock=clock)
    bus = EventBus(redis_client)
    with smtp_server() as (port, box), http_server(sms_gateway([])) as (url, sms):
        cfg = notices_config(tmp_path, port, url, owner_recheck_s=DAY_MS / 1000)
        reg, name = build_register(cfg.notices.owner_register, arc)  # cached: "no such vehicle" is cached too
        svc = NoticeService(cfg, arc, reg, name, clock=clock, bus=bus)
        later = ticket_from_camera(redis_client, arc, 50, "PSH5050")
        never = ticket_from_camera(redis_client, arc, 51, "PSH5151")
        svc.tick()
        assert {arc.get_ticket(t).ticket.state for t in (later, never)} == {TicketState.OWNER_UNKNOWN}  # type: ignore[union-attr]
        clock.t += 60_000
        svc.tick()  # nothing changed: no new lookups
        assert svc.stats.rechecked == 0 and _audits(arc, later) == _audits(arc, never) == 1

        # the register gains the plate: the next pass finds the owner (past the cached "no such vehicle")
        clock.t += 1000
        arc.register.upsert([OwnerRecord("PSH5050", "Gul Bibi", phone="+923331112222", email="gul@example.pk")])
        clock.t += 1000
        svc.tick()
        d = arc.get_ticket(later)
        assert d is not None and d.ticket.state is TicketState.NOTIFIED
        assert d.transitions[-1].actor == "notices" and "later lookup" in d.transitions[-1].reason
        assert _audits(arc, later) == 2 and _audits(arc, never) == 1 and svc.stats.found_later == 1
        assert _updates(bus, later)[-1] == ("owner_unknown", "notified", "notices")
        found = arc.owners.get(later)
        assert found is not None and found[0] and found[1] is not None and found[1].name == "Gul Bibi"
        assert sorted((n.channel, n.state) for n in arc.notices.for_ticket(later)) == [
            ("email", "sent"),
            ("pdf", "sent"),
            ("sms", "sent"),
        ]
        assert [m["To"] for m in box.messages] == ["gul@example.pk"] and len(sms.requests) == 1

        # the other is looked up again once a day, and stays owner_unknown while nobody is registered
        clock.t += DAY_MS
        svc.tick()
        assert _audits(arc, never) == 2 and svc.stats.rechecked == 2
        d = arc.get_ticket(never)
        assert d is not None and d.ticket.state is TicketState.OWNER_UNKNOWN
        assert arc.owners.get(never) == (False, None, clock.t)
        svc.tick()
        assert _audits(arc, never) == 2  # renewed: not again before another day
