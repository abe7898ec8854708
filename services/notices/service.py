"""Notices service: approved tickets -> owner lookup -> notified | owner_unknown; the outbox -> e-mail,
SMS and PDF; tickets past their due date -> overdue with the configured surcharge.

Each pass (:meth:`NoticeService.tick`, every ``notices.poll_s``):

1. Owners: each ``approved`` ticket's plate is looked up in the register (cached; every lookup is
   written to the audit log with ``source=owner``), the result stored with the ticket, and the ticket
   moved to ``notified`` (owner found) or ``owner_unknown`` (visible and filterable on the tickets page).
   A register that cannot answer leaves the ticket approved for the next pass. Tickets in
   ``owner_unknown`` are looked up again ``notices.owner_recheck_s`` after their last lookup, and at
   once when the SQL register gains their plate (:meth:`NoticeService.recheck_unknown`): found -> notified.
2. Due dates: tickets that entered ``notified``/``upheld`` get ``due = entry + fines.due_days``; every
   ``notices.overdue_check_s``, those past it go to ``overdue`` with the fine of
   ``fines.overdue_surcharge`` (original kept, change recorded), and overdue ones move up the steps.
3. Outbox: due notices are claimed (one process wins each row) and sent; a failure is retried after
   ``retry_base_s * 2**(attempt-1)`` (capped), and dead-lettered after ``max_attempts`` or a permanent
   refusal. A PDF is stored in the evidence store (``application/pdf``), its SHA-256 kept as the result.

The state changes in 1 and 2 go through :meth:`archive.Archive.transition`, which queues their notices in
the same transaction, so a crash never leaves a ticket notified without its notices or the reverse; each
is then announced on ``ticket.updated`` (:mod:`bus.ticket_updates`) so the live feed shows it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from archive import Archive, InvalidTransition, TicketDetail, TicketFilter
from archive.notices import NoticeView
from archive.owners import AUDIT_SOURCE
from bus.streams import EventBus
from bus.ticket_updates import announce_last
from config.settings import AppConfig, resolve_path
from core.clock import now_ms
from core.notices import DAY_MS, DUE_STATES, Channel, SurchargeStep, notice_message_id, overdue_fine, retry_delay_ms
from core.owners import OwnerRecord, OwnerRegister, RegisterError
from core.types import TicketState
from services.notices.pdf import render_pdf
from services.notices.register import CachedRegister
from services.notices.senders import EmailSender, SendError, SmsSender
from services.notices.texts import OFFENCES_EN, OFFENCES_UR, NoticeText, fmt_day, fmt_time

log = logging.getLogger("services.notices")

ACTOR = "notices"


@dataclass
class NoticeStats:
    """What this process did (for logs and tests)."""

    looked_up: int = 0
    notified: int = 0
    owner_unknown: int = 0
    rechecked: int = 0
    found_later: int = 0
    announced: int = 0
    register_errors: int = 0
    sent: int = 0
    retried: int = 0
    dead: int = 0
    skipped: int = 0
    overdue: int = 0
    surcharged: int = 0


class NoticeService:
    """One notices worker; several may run on one database (rows and tickets are claimed, not shared)."""

    def __init__(
        self,
        cfg: AppConfig,
        archive: Archive,
        register: OwnerRegister,
        register_name: str = "sql",
        email: EmailSender | None = None,
        sms: SmsSender | None = None,
        clock: Callable[[], int] = now_ms,
        bus: EventBus | None = None,
    ) -> None:
        self.cfg, self.n = cfg, cfg.notices
        self.bus = bus
        self.archive, self.register, self.register_name = archive, register, register_name
        folder = resolve_path(self.n.folder)
        self.email = email or EmailSender(self.n.email, folder)
        self.sms = sms or SmsSender(self.n.sms, folder)
        self.clock = clock
        self.stats = NoticeStats()
        self._last_overdue = -(10**15)
        self.steps = tuple(SurchargeStep(s.after_days, s.percent, s.amount_pkr) for s in cfg.fines.overdue_surcharge)

    # ------------------------------------------------------------------ the pass

    def tick(self) -> None:
        """One pass: owners (new, then owner-unknown re-lookups), due dates (and overdue when due), the outbox."""
        self.resolve_owners()
        self.recheck_unknown()
        self.archive.due.fill(self.cfg.fines.due_days, self.n.batch)
        if self.clock() - self._last_overdue >= self.n.overdue_check_s * 1000:
            self._last_overdue = self.clock()
            self.apply_overdue()
        self.drain()

    def resolve_owners(self) -> int:
        """Look up the owners of approved tickets and move them on; returns tickets moved."""
        rows, _ = self.archive.list_tickets(TicketFilter(states=(TicketState.APPROVED,)), "ts", 0, self.n.batch)
        moved = 0
        for row in rows:
            plate = row.plate or ""
            owner = self._lookup(row.ticket_id, plate)
            if owner is False:
                continue
            to = TicketState.NOTIFIED if owner else TicketState.OWNER_UNKNOWN
            reason = (
                f"owner found in the {self.register_name} register: notices queued"
                if owner
                else f"no registered owner for plate {plate or '-'} in the {self.register_name} register"
            )
            if not self._move(row.ticket_id, to, reason):
                continue
            moved += 1
            if owner:
                self.stats.notified += 1
            else:
                self.stats.owner_unknown += 1
        return moved

    def recheck_unknown(self) -> int:
        """Look up ``owner_unknown`` tickets again (periodically, or the register gained the plate).

        Found -> ``notified`` (its notices queued); still unknown -> the lookup time is renewed. Every
        lookup is audited like the first one. Returns tickets moved to ``notified``.
        """
        due = self.archive.owners.recheck_due(self.clock() - int(self.n.owner_recheck_s * 1000), self.n.batch)
        moved = 0
        for ticket_id, plate in due:
            if isinstance(self.register, CachedRegister):
                self.register.forget(plate)  # a cached "no such vehicle" must not hide a new registration
            owner = self._lookup(ticket_id, plate)
            if owner is False:
                continue
            self.stats.rechecked += 1
            if owner is None:
                continue
            reason = f"owner found on a later lookup in the {self.register_name} register: notices queued"
            if self._move(ticket_id, TicketState.NOTIFIED, reason):
                self.stats.found_later += 1
                moved += 1
        return moved

    def _lookup(self, ticket_id: str, plate: str) -> OwnerRecord | None | bool:
        """The owner of a ticket's plate (audited, stored with the ticket), None, or False: register down."""
        try:
            owner = self.register.lookup(plate) if plate else None
        except RegisterError as e:
            self.stats.register_errors += 1
            log.warning("ticket %s: owner lookup failed (%s); trying again later", ticket_id, e)
            return False
        self.stats.looked_up += 1
        self.archive.sightings.audit(
            ACTOR,
            "service",
            {"plate": plate, "ticket_id": ticket_id, "register": self.register_name},
            1 if owner else 0,
            source=AUDIT_SOURCE,
        )
        self.archive.owners.save(ticket_id, owner, self.register_name)
        return owner

    def _move(self, ticket_id: str, to: TicketState, reason: str, fine: tuple[int, str] | None = None) -> bool:
        """Transition a ticket (its notices queued with it) and announce it on ``ticket.updated``."""
        try:
            d = self.archive.transition(ticket_id, to, ACTOR, reason, fine=fine)
        except InvalidTransition as e:  # an operator moved it meanwhile
            log.info("ticket %s: %s", ticket_id, e)
            return False
        if announce_last(self.bus, d.ticket, d.transitions):
            self.stats.announced += 1
        return True

    def apply_overdue(self) -> int:
        """Tickets past due -> overdue with the surcharge; overdue ones up the steps. Returns changes."""
        now = self.clock()
        changed = 0
        for t in self.archive.due.past_due(now, self.n.batch):
            fine, rule = overdue_fine(t.original_fine_pkr, (now - t.due_ts_ms) / DAY_MS, self.steps)
            if t.state in {s.value for s in DUE_STATES}:
                reason = (
                    f"not paid by {fmt_day(t.due_ts_ms)}; fine {t.fine_pkr} -> {fine} PKR ({rule or 'no surcharge'})"
                )
                if not self._move(t.ticket_id, TicketState.OVERDUE, reason, fine=(fine, rule)):
                    continue
                self.stats.overdue += 1
                changed += 1
            elif fine != t.fine_pkr and self.archive.due.set_fine(t.ticket_id, fine, rule, ACTOR):
                self.stats.surcharged += 1
                changed += 1
        return changed

    def drain(self) -> int:
        """Send the due notices; returns how many were handled."""
        claimed = self.archive.notices.claim(self.n.batch)
        for nv in claimed:
            self._send(nv)
        return len(claimed)

    # ------------------------------------------------------------------ one notice

    def _send(self, nv: NoticeView) -> None:
        out = self.archive.notices
        mode = {Channel.EMAIL.value: self.n.email.mode, Channel.SMS.value: self.n.sms.mode}.get(nv.channel, "on")
        if mode == "off":
            out.skipped(nv.notice_id, f"{nv.channel} is off (notices.{nv.channel}.mode)")
            self.stats.skipped += 1
            return
        try:
            d = self.archive.get_ticket(nv.ticket_id)
            if d is None:
                raise SendError(f"ticket {nv.ticket_id} is gone", permanent=True)
            result = self._deliver(nv, d)
        except Exception as e:  # noqa: BLE001 - any failure is a failed attempt, never a lost notice
            permanent = isinstance(e, SendError) and e.permanent
            err = f"{type(e).__name__}: {e}"
            if permanent or nv.attempts >= self.n.max_attempts:
                out.failed(nv.notice_id, f"attempt {nv.attempts}: {err}", None)
                self.stats.dead += 1
                log.error("notice %d (%s %s) dead: %s", nv.notice_id, nv.ticket_id, nv.channel, err)
            else:
                retry = self.clock() + retry_delay_ms(nv.attempts, self.n.retry_base_s, self.n.retry_max_s)
                out.failed(nv.notice_id, f"attempt {nv.attempts}: {err}", retry)
                self.stats.retried += 1
                log.warning("notice %d (%s %s) failed, retrying: %s", nv.notice_id, nv.ticket_id, nv.channel, err)
            return
        out.sent(nv.notice_id, result)
        self.stats.sent += 1
        log.info("notice %d sent: %s %s %s", nv.notice_id, nv.ticket_id, nv.template, nv.channel)

    def _deliver(self, nv: NoticeView, d: TicketDetail) -> str:
        text = self.text_for(nv, d)
        p = nv.payload
        if nv.channel == Channel.SMS.value:
            return self.sms.send(str(p.get("phone", "")), text.sms(), f"notice-{nv.notice_id}")
        pdf = render_pdf(text, str(p.get("name", "")), str(p.get("address", "")), self._photo(d))
        if nv.channel == Channel.PDF.value:
            return self.archive.store_evidence(pdf, mime="application/pdf")
        subject = f"{text.title_en}: {d.ticket.ticket_id}"
        mid = notice_message_id(nv.notice_id, d.ticket.ticket_id, self.n.email.sender.rsplit("@", 1)[-1])
        return self.email.send(
            str(p.get("email", "")),
            subject,
            text.email_body(str(p.get("name", ""))),
            mid,
            pdf,
            f"{d.ticket.ticket_id}.pdf",
        )

    def text_for(self, nv: NoticeView, d: TicketDetail) -> NoticeText:
        t = d.ticket
        try:
            place = self.cfg.camera(t.camera_id).name
        except KeyError:
            place = t.camera_id
        due = self.archive.due.get(t.ticket_id)
        return NoticeText(
            t.ticket_id,
            nv.template,
            OFFENCES_EN.get(t.kind.value, t.kind.value),
            OFFENCES_UR.get(t.kind.value, t.kind.value),
            fmt_time(t.ts_ms),
            place,
            t.fine_pkr,
            fmt_day(due) if due else "-",
            self.n.portal_url,
        )

    def _photo(self, d: TicketDetail) -> Path | None:
        for e in d.evidence:
            if e.role == "frame" and e.present:
                return self.archive.evidence_path(e.sha256)
        return None


__all__ = ["ACTOR", "NoticeService", "NoticeStats"]
