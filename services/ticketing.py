"""Ticketing service: ``violation.detected`` -> e-ticket in SQL -> ``ticket.issued``.

``python -m services.ticketing`` reads the stream in the consumer group ``ticketing``.
For each violation it copies the evidence blobs from Redis into the archive's
content-addressed evidence store (each file once, its SHA-256 checked), writes the
ticket (fine from the config's schedule) with its first transition(s), commits, then
publishes :class:`core.types.ETicket` on ``ticket.issued`` and acknowledges the message.

Idempotent: the ticket number derives from the violation id and the violation id is
unique in SQL, so a replay, a retry after a crash between commit and ack, or a worker
re-detecting the same vehicle never makes a second ticket. A ticket whose evidence
expired from Redis is still issued, flagged, and sent to manual review; so is one
without a readable plate.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace

from archive import Archive
from bus.evidence import EvidenceStore
from bus.schema import stream_of
from bus.streams import EventBus, Message
from config.settings import AppConfig
from core.clock import now_ms
from core.tickets import SYSTEM_ACTOR, issue, transition
from core.types import TicketState, Violation
from services.common import consume, consumer_name, service_archive, service_main
from services.fines import fine_schedule

log = logging.getLogger("services.ticketing")

GROUP = "ticketing"
STREAM = stream_of(Violation)


class TicketingService:
    """Turns violations into archived e-tickets.

    Attributes:
        issued: Tickets created by this process.
        duplicates: Violations that already had a ticket (replays, re-detections).
        missing_evidence: Evidence files no longer in Redis.
    """

    def __init__(
        self,
        cfg: AppConfig,
        bus: EventBus,
        evidence: EvidenceStore,
        archive: Archive,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.cfg = cfg
        self.fines = fine_schedule(cfg.fines)
        self.bus = bus
        self.evidence = evidence
        self.archive = archive
        self.clock = clock
        self.issued = 0
        self.duplicates = 0
        self.missing_evidence = 0

    def handle_one(self, v: Violation) -> bool:
        """Archive the ticket of one violation; True when a new ticket was made."""
        if self.archive.has_violation(v.violation_id):
            self.duplicates += 1
            return False
        roles = dict(v.details).get("evidence_roles", "")
        role_list = roles.split(",") if roles else []
        missing = []
        for sha in v.evidence:
            data = self.evidence.get(sha)
            if data is None:
                if not self.archive.has_evidence(sha):
                    missing.append(sha)
                    self.missing_evidence += 1
                continue
            self.archive.store_evidence(data, sha)
        now = self.clock()
        ticket = issue(v, self.fines, now)
        present = tuple(s for s in v.evidence if s not in missing)
        if missing and ticket.state is TicketState.ISSUED:
            ticket = transition(
                ticket,
                TicketState.UNDER_REVIEW,
                SYSTEM_ACTOR,
                now,
                f"{len(missing)} evidence file(s) lost: manual review",
            )
        elif len(present) < 2 and ticket.state is TicketState.ISSUED:
            ticket = transition(
                ticket, TicketState.UNDER_REVIEW, SYSTEM_ACTOR, now, "incomplete evidence: manual review"
            )
        created = self.archive.add_ticket(replace(ticket), role_list, missing)
        if not created:
            self.duplicates += 1
            return False
        self.issued += 1
        try:
            self.bus.publish(ticket)
        except Exception as e:  # noqa: BLE001 - the ticket is in SQL; the notification is best effort
            log.warning("ticket %s archived but not announced: %s", ticket.ticket_id, e)
        log.info("ticket %s issued (%s, %s)", ticket.ticket_id, ticket.kind.value, ticket.state.value)
        return True

    def handle(self, messages: Sequence[Message]) -> None:
        """Handle a batch and acknowledge each message after its ticket is committed."""
        done: list[Message] = []
        try:
            for m in messages:
                obj = m.envelope.obj
                if isinstance(obj, Violation):
                    self.handle_one(obj)
                done.append(m)
        finally:
            if done:
                self.bus.ack(GROUP, done)


def run(cfg: AppConfig, bus: EventBus, stop: threading.Event, args: argparse.Namespace | None = None) -> None:
    archive, url = service_archive(cfg, args)
    svc = TicketingService(cfg, bus, EvidenceStore(bus.client, cfg.evidence.redis_ttl_s), archive)
    consumer = consumer_name(args)
    log.info("ticketing: %s -> %s", STREAM, url.split("@")[-1])
    try:
        consume(bus, GROUP, consumer, [STREAM], svc.handle, stop)
    finally:
        archive.close()


def main(argv: Sequence[str] | None = None) -> int:
    return service_main(argv, "python -m services.ticketing", __doc__.split("\n\n")[0], run)


if __name__ == "__main__":
    sys.exit(main())
