"""Incidents service: ``incident.raised`` -> SQL archive + warden alerts + escalation timer.

``python -m services.incidents`` reads ``incident.raised`` in the consumer group
``incidents``. Each incident is archived (idempotently, by its id) and routed to the
wardens of its road segment: a :class:`core.types.WardenAlert` is published on
``alert.warden``, kept in Redis (``alerts:open``, shared with the dashboard's
acknowledge endpoint) and in SQL, and pushed on the wardens' live channels
(``alerts:warden:<username>``). An alert nobody acknowledges within
``alerts.escalate_after_s`` escalates to the control room (channel
``alerts:<control_room>``, ``alert.warden`` with ``escalated: true``, an
``incident.updated`` event and the incident's state in SQL). Segments without a warden
go to the control room at once.

Wardens and their segments come from the config (``wardens:`` and warden ``users:``
with ``zones``) and from an admin's run-time edits in the dashboard's user table.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
import threading
from collections.abc import Callable, Mapping, Sequence

from archive import Archive, InvalidAction
from archive.dashboard_db import DashboardDB
from archive.users import UserStore
from bus.alerts import AlertStore
from bus.schema import stream_of
from bus.streams import EventBus, Message
from config.settings import AppConfig
from core.alerts import AlertDesk, Roster
from core.clock import now_ms
from core.types import Incident, IncidentUpdate
from services.common import consume, consumer_name, service_archive, service_main

log = logging.getLogger("services.incidents")

GROUP = "incidents"
STREAM = stream_of(Incident)


def configured_roster(cfg: AppConfig) -> list[tuple[str, tuple[str, ...]]]:
    """Warden -> segments from the config (``wardens:``, then warden users' ``zones``)."""
    out: dict[str, tuple[str, ...]] = {w.username: tuple(w.segments) for w in cfg.wardens}
    for u in cfg.users:
        if u.role == "warden" and u.zones:
            out[u.username] = tuple(u.zones)
    return sorted(out.items())


def dashboard_roster(cfg: AppConfig, url: str) -> Callable[[], Mapping[str, Sequence[str]]]:
    """Run-time assignments made by an admin in the dashboard (empty when unavailable).

    Every known user is in it (:meth:`archive.users.UserStore.warden_roster`): a disabled or
    re-roled warden maps to no segments, so the config's ``wardens:`` entry no longer routes
    alerts to them.
    """
    db: list[DashboardDB] = []

    def load() -> Mapping[str, Sequence[str]]:
        try:
            if not db:
                db.append(DashboardDB(url))
            return UserStore(cfg, db[0]).warden_roster()
        except Exception as e:  # noqa: BLE001 - fall back to the config's roster
            log.warning("warden roster from the dashboard unavailable: %s", e)
            return {}

    return load


class IncidentService:
    """Archives incidents, alerts wardens, escalates.

    Args:
        cfg: Configuration (``alerts``, ``wardens``, ``users``).
        bus: Event bus.
        archive: SQL archive.
        alerts: Open alerts in Redis and the push channels.
        runtime_roster: Admin's run-time warden assignments.
        clock: Wall clock, ms.
    """

    def __init__(
        self,
        cfg: AppConfig,
        bus: EventBus,
        archive: Archive,
        alerts: AlertStore,
        runtime_roster: Callable[[], Mapping[str, Sequence[str]]] | None = None,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.cfg = cfg
        self.bus = bus
        self.archive = archive
        self.alerts = alerts
        self.runtime_roster = runtime_roster or (lambda: {})
        self.clock = clock
        self.archived = 0
        self.alerted = 0
        self.escalated = 0
        self._acks_archived: set[str] = set()

    def _desk(self) -> AlertDesk:
        desk = AlertDesk(
            Roster.build(configured_roster(self.cfg), self.runtime_roster()), self.cfg.alerts.escalate_after_s
        )
        desk.open = self.alerts.all()
        return desk

    def handle_one(self, inc: Incident) -> None:
        if self.archive.add_incident(inc):
            self.archived += 1
        desk = self._desk()
        alert = desk.raise_for(inc, self.clock())
        if alert is None:
            return  # alert already raised (replay)
        self.alerts.save(alert)
        self.archive.save_alert(alert)
        if alert.escalated:
            self._mark_escalated(alert.incident_id, "no warden for this segment")
        self.bus.publish(alert)
        self.alerts.push(alert)
        self.alerted += 1
        log.info(
            "incident %s (%s) -> %s", inc.incident_id[:12], inc.kind.value, ", ".join(alert.wardens) or "control room"
        )

    def handle(self, messages: Sequence[Message]) -> None:
        done: list[Message] = []
        try:
            for m in messages:
                if isinstance(m.envelope.obj, Incident):
                    self.handle_one(m.envelope.obj)
                done.append(m)
        finally:
            if done:
                self.bus.ack(GROUP, done)

    def _mark_escalated(self, incident_id: str, note: str) -> None:
        with contextlib.suppress(InvalidAction):  # already acknowledged/closed meanwhile
            self.archive.incident_action(incident_id, "escalate", "system", note)
        self.bus.publish(IncidentUpdate(incident_id, "escalate", "system", self.clock(), note, None, "escalated"))

    def tick(self) -> None:
        """Escalate alerts whose deadline passed unacknowledged."""
        desk = self._desk()
        for alert in desk.due(self.clock()):
            self.alerts.save(alert)
            self.archive.save_alert(alert)
            self._mark_escalated(alert.incident_id, f"not acknowledged within {self.cfg.alerts.escalate_after_s:.0f} s")
            self.bus.publish(alert)
            self.alerts.push(alert)
            self.escalated += 1
            log.warning("alert %s escalated to the control room", alert.alert_id)
        for aid, a in desk.open.items():  # acknowledgements made in the dashboard -> SQL, once
            if a.acked_by and aid not in self._acks_archived:
                self.archive.save_alert(a)
                self._acks_archived.add(aid)


def run(cfg: AppConfig, bus: EventBus, stop: threading.Event, args: argparse.Namespace | None = None) -> None:
    archive, url = service_archive(cfg, args)
    svc = IncidentService(
        cfg, bus, archive, AlertStore(bus.client, cfg.alerts.control_room), dashboard_roster(cfg, url)
    )
    consumer = consumer_name(args)
    log.info("incidents: %s -> %s", STREAM, url.split("@")[-1])
    try:
        consume(bus, GROUP, consumer, [STREAM], svc.handle, stop, tick=svc.tick)
    finally:
        archive.close()


def main(argv: Sequence[str] | None = None) -> int:
    return service_main(argv, "python -m services.incidents", __doc__.split("\n\n")[0], run)


if __name__ == "__main__":
    sys.exit(main())
