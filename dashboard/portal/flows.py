"""What the citizen portal does, shared by its HTML pages and its JSON API.

Look-up (ticket number + plate; a wrong pair, an unknown number and a state citizens do not see
give the same "not found", after the same minimum time), the citizen's view of a ticket, payment
start, the gateway's callback, appeals and the operator's decision on them. Ticket states change
only through :meth:`archive.Archive.transition` (which records who and when), and each change is
announced on ``ticket.updated`` (best effort: SQL has it).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from archive import Archive, InvalidTransition, TicketDetail
from archive.appeals import Appeal, AppealClosed, AppealNotFound
from archive.payments import PaymentAttempt
from bus.ratelimit import RateLimiter
from bus.ticket_updates import announce_last
from config.settings import AppConfig
from core.anpr import normalise_plate_text
from core.appeals import (
    AppealError,
    appeal_window,
    check_appealable,
    check_photo,
    check_reason,
    due_ms,
    visible_to_citizen,
)
from core.payments import PAYABLE_STATES, CallbackError, amount_due, check_amount, check_payable
from core.tickets import TICKET_ID_RE, normalise_ticket_id
from core.types import TicketState
from dashboard.context import DashboardContext
from dashboard.portal.blur import moment_index, parse_box, redacted_file
from dashboard.portal.gateway import Headers, HmacGateway

log = logging.getLogger("dashboard.portal")

#: Every look-up takes at least this long, found or not, so timing does not tell the cases apart.
LOOKUP_FLOOR_S = 0.15
NOT_FOUND = "no ticket with this number for this plate"
NOTE_MAX_CHARS = 1000
#: The citizen's message (translation key) for a refused appeal photo, by status.
PHOTO_KEYS = {413: "photo_too_large", 415: "photo_type"}


class PortalError(ValueError):
    """A refused portal request: ``status`` (4xx/5xx), ``reason`` and, for 429, ``retry_after`` s."""

    def __init__(self, status: int, reason: str, retry_after: int = 0, key: str = "") -> None:
        super().__init__(reason)
        self.status = status
        self.retry_after = retry_after
        self.key = key  # translation key of the message shown to citizens, when there is one


@dataclass(frozen=True, slots=True)
class Photo:
    """A redacted evidence image for the portal."""

    role: str  # "frame" (the moment, blurred around the vehicle) or "plate" (the plate crop)
    jpeg: bytes


def rate_check(ctx: DashboardContext, scope: str, client: str) -> None:
    """Count one portal request of ``client``.

    Raises:
        PortalError: 429 with ``retry_after`` over the limit; 503 when Redis is down (no limit: refuse).
    """
    p = ctx.cfg.portal
    try:
        ok, retry = RateLimiter(ctx.store.client).hit(
            f"portal-{scope}", client or "unknown", p.rate_limit, p.rate_window_s
        )
    except Exception:  # noqa: BLE001 - without the limiter, refuse rather than allow guessing
        raise PortalError(503, "portal temporarily unavailable", key="unavailable") from None
    if not ok:
        raise PortalError(429, f"too many requests; try again in {retry} s", retry, key="too_many")


def find(arc: Archive, ticket: str, plate: str) -> TicketDetail:
    """The ticket for a (number, plate) pair a citizen typed.

    Raises:
        PortalError: 400 malformed number or plate; 404 (one answer for a wrong pair, an unknown
        number and a hidden state).
    """
    t0 = time.monotonic()
    tid = normalise_ticket_id(ticket or "")
    want = normalise_plate_text(plate or "")
    if not TICKET_ID_RE.match(tid):
        raise PortalError(400, "malformed ticket number; it looks like ET-XXXX-XXXX-XXXX")
    if not 2 <= len(want) <= 12:
        raise PortalError(400, "plate must have 2-12 letters or digits")
    try:
        d = arc.get_ticket(tid)
    except Exception as e:  # noqa: BLE001 - database down
        log.warning("portal lookup: archive unavailable: %s", e)
        raise PortalError(503, "portal temporarily unavailable", key="unavailable") from None
    ok = d is not None and visible_to_citizen(d.ticket, want)
    time.sleep(max(0.0, LOOKUP_FLOOR_S - (time.monotonic() - t0)))
    if not ok or d is None:
        raise PortalError(404, NOT_FOUND, key="not_found")
    return d


def view(cfg: AppConfig, arc: Archive, d: TicketDetail, now_ms: int) -> dict[str, Any]:
    """What the citizen is shown about their ticket (no other personal data)."""
    t = d.ticket
    try:
        seg = cfg.segment(t.segment_id)
        place, place_ur = seg.name, seg.name_ur or seg.name
    except KeyError:
        place = place_ur = t.segment_id
    win = appeal_window(t, cfg.portal.appeal_days)
    appeal = arc.appeals.latest_for(t.ticket_id)
    due = due_ms(t, cfg.fines.due_days)
    return {
        "ticket_id": t.ticket_id,
        "violation": t.kind.value,
        "state": t.state.value,
        "time_ms": t.ts_ms,
        "place": place,
        "place_ur": place_ur,
        "camera_id": t.camera_id,
        "fine_pkr": t.fine_pkr,
        "amount_due_pkr": amount_due(t) if t.state in PAYABLE_STATES else 0,
        "due_ms": due if t.state in PAYABLE_STATES else None,
        "speed_kmh": t.speed_kmh,
        "limit_kmh": t.limit_kmh,
        "payable": t.state in PAYABLE_STATES,
        "appeal_open": bool(win and win.open_at(now_ms)) and t.state in (TicketState.NOTIFIED, TicketState.OVERDUE),
        "appeal_deadline_ms": win.deadline_ms if win else None,
        "appeal_state": appeal.state if appeal else None,
    }


def photos(arc: Archive, d: TicketDetail) -> list[Photo]:
    """The redacted evidence: the frame at the moment (blurred around the vehicle), then the plate crop."""
    roles = [e.role for e in d.evidence]
    out: list[Photo] = []
    i = moment_index(roles)
    picks: list[tuple[int, str]] = [(i, "frame")] if i is not None else []
    picks += [(k, "plate") for k, r in enumerate(roles) if r in ("plate", "vehicle")][:1]
    for k, role in picks:
        e = d.evidence[k]
        path = arc.evidence_path(e.sha256) if e.present else None
        if path is None:
            continue
        jpeg = redacted_file(str(path), parse_box(d.ticket.details) if role == "frame" else None, role == "frame")
        if jpeg is not None:
            out.append(Photo(role, jpeg))
    return out


def announce(ctx: DashboardContext, d: TicketDetail, reason: str) -> None:
    """Publish the ticket's last change on ``ticket.updated`` with a short ``reason`` (best effort)."""
    announce_last(ctx.bus, d.ticket, d.transitions, reason)


# --------------------------------------------------------------------------- payment


def start_payment(arc: Archive, gw: HmacGateway, d: TicketDetail, return_url: str, callback_url: str) -> str:
    """Record a payment attempt for the amount due; the gateway URL to send the citizen to.

    Raises:
        PortalError: 409 when the ticket cannot be paid now.
    """
    try:
        check_payable(d.ticket)
    except CallbackError as e:
        raise PortalError(e.status, str(e)) from None
    attempt = arc.payments.start(d.ticket.ticket_id, gw.name, amount_due(d.ticket))
    return gw.start(attempt, return_url, callback_url)


def handle_callback(
    ctx: DashboardContext, gw: HmacGateway, body: bytes, headers: Headers, now_s: float
) -> tuple[int, dict[str, Any]]:
    """Check and apply one gateway callback; ``(HTTP status, JSON body)``. Every callback is recorded.

    Forged or altered (401), malformed or stale (400), replayed (409), unknown transaction (404),
    wrong amount (422) or an unpayable ticket (409) change nothing. The same paid transaction
    reported again (a new delivery) answers 200 without a second change.
    """
    arc: Archive = ctx.archive
    try:
        cb = gw.verify(body, headers, now_s)
    except CallbackError as e:
        arc.payments.reject(gw.name, body, e.status, str(e), None, signature_ok=e.status != 401)
        return e.status, {"error": str(e), "status": e.status}
    claim = arc.payments.claim(gw.name, body, cb.txn_id, cb.nonce)
    if claim is None:
        reason = "callback replayed (nonce already used): ignored"
        arc.payments.reject(gw.name, body, 409, reason, cb.txn_id, signature_ok=True)
        return 409, {"error": reason, "status": 409}
    status, out = _apply(ctx, gw, cb)
    arc.payments.finish(claim, status, out.get("result", "rejected"), out.get("error", ""))
    return status, out


def _apply(ctx: DashboardContext, gw: HmacGateway, cb: Any) -> tuple[int, dict[str, Any]]:
    arc: Archive = ctx.archive
    attempt = arc.payments.get(cb.txn_id)
    if attempt is None or attempt.gateway != gw.name:
        return 404, {"error": f"unknown transaction {cb.txn_id}", "status": 404}
    if attempt.ticket_id != cb.ticket_id:
        return 400, {"error": "callback ticket does not match the transaction", "status": 400}
    if cb.status != "paid":
        if attempt.state == "started":
            arc.payments.set_state(attempt.txn_id, cb.status)
        return 200, {"result": "recorded", "txn_id": cb.txn_id, "state": cb.status}
    if attempt.state == "paid":
        return 200, {"result": "duplicate", "txn_id": cb.txn_id, "state": "paid"}
    d = arc.get_ticket(cb.ticket_id)
    if d is None:
        return 404, {"error": f"unknown ticket {cb.ticket_id}", "status": 404}
    try:
        if cb.amount_pkr != attempt.amount_pkr:
            raise CallbackError(
                422, f"amount PKR {cb.amount_pkr} is not the PKR {attempt.amount_pkr} of the transaction"
            )
        check_amount(d.ticket, cb.amount_pkr)
        check_payable(d.ticket)
        actor = f"gateway:{gw.name}"
        d = arc.transition(cb.ticket_id, TicketState.PAID, actor, f"paid PKR {cb.amount_pkr} (transaction {cb.txn_id})")
    except CallbackError as e:
        return e.status, {"error": str(e), "status": e.status}
    except InvalidTransition as e:
        return 409, {"error": str(e), "status": 409}
    arc.payments.set_state(attempt.txn_id, "paid")
    announce(ctx, d, "paid")
    return 200, {"result": "applied", "txn_id": cb.txn_id, "state": "paid"}


def payment_outcome(arc: Archive, txn_id: str) -> PaymentAttempt | None:
    """The attempt a return URL names (the transaction id is unguessable), or None."""
    if not txn_id or len(txn_id) > 64:
        return None
    return arc.payments.get(txn_id)


# --------------------------------------------------------------------------- appeals


def file_appeal(
    ctx: DashboardContext, d: TicketDetail, reason: str | None, photo: bytes | None, declared: str | None, now_ms: int
) -> Appeal:
    """Lodge an appeal: checks, the photo into the evidence store, the ticket to ``appealed``.

    Raises:
        PortalError: 413/415 photo, 422 reason, 409 not appealable or the window closed.
    """
    cfg, arc = ctx.cfg, ctx.archive
    try:
        text = check_reason(reason, cfg.portal.appeal_reason_max_chars)
        mime = check_photo(photo, declared, cfg.portal.appeal_photo_max_bytes) if photo else None
        check_appealable(d.ticket, cfg.portal.appeal_days, now_ms)
    except AppealError as e:
        raise PortalError(e.status, str(e), key=PHOTO_KEYS.get(e.status, "")) from None
    sha = arc.store_evidence(photo, mime=mime) if photo and mime else None
    try:
        nd = arc.transition(d.ticket.ticket_id, TicketState.APPEALED, "citizen", "appeal lodged on the portal")
    except InvalidTransition as e:
        raise PortalError(409, str(e)) from None
    appeal = arc.appeals.add(d.ticket.ticket_id, text, sha, mime)
    announce(ctx, nd, "appeal lodged")
    return appeal


def decide_appeal(ctx: DashboardContext, appeal_id: str, decision: str, actor: str, note: str) -> Appeal:
    """An operator's decision: the ticket goes ``upheld`` or ``cancelled`` (the citizen sees it).

    Raises:
        PortalError: 404 no appeal, 409 decided already or the ticket moved on, 422 a bad decision/note.
    """
    arc: Archive = ctx.archive
    if decision not in ("upheld", "cancelled"):
        raise PortalError(422, "decision must be upheld or cancelled")
    note = (note or "").strip()
    if len(note) > NOTE_MAX_CHARS:
        raise PortalError(422, f"note is too long (at most {NOTE_MAX_CHARS} characters)")
    appeal = arc.appeals.get(appeal_id)
    if appeal is None:
        raise PortalError(404, f"no appeal {appeal_id}")
    if appeal.state != "pending":
        raise PortalError(409, f"appeal {appeal_id} was decided already ({appeal.state})")
    try:
        d = arc.transition(appeal.ticket_id, decision, actor, note or f"appeal {decision}")
        decided = arc.appeals.decide(appeal_id, decision, actor, note)
    except (InvalidTransition, AppealClosed) as e:
        raise PortalError(409, str(e)) from None
    except AppealNotFound:
        raise PortalError(404, f"no appeal {appeal_id}") from None
    announce(ctx, d, f"appeal {decision}")
    return decided


__all__ = [
    "LOOKUP_FLOOR_S",
    "NOT_FOUND",
    "Photo",
    "PortalError",
    "announce",
    "decide_appeal",
    "file_appeal",
    "find",
    "handle_callback",
    "payment_outcome",
    "photos",
    "rate_check",
    "start_payment",
    "view",
]
