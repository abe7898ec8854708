"""E-tickets (e-challans): idempotent numbers, fines, and the review lifecycle. Pure logic.

* :func:`ticket_id_for` derives the ticket number from the violation id, so a replayed
  or retried violation always maps to the same ticket (one ticket per track and kind).
* :func:`fine_for` reads the fine schedule (PKR): a :class:`FineSchedule`, which the ticketing
  service fills from the config's ``fines`` (:func:`services.fines.fine_schedule`).
* :data:`TRANSITIONS` is the lifecycle::

      issued -> under_review -> approved -> notified -> paid
         |            |            |  |        |  \
         +-> void <---+            |  |        |   +-> overdue -> paid (the fine grows after the due date)
                                   |  |        +-> appealed -> upheld -> paid | overdue
                                   |  |                   \-> cancelled
                                   |  +-> owner_unknown -> notified (owner found later) | void
                                   +-> paid (paid at the counter) | under_review (a complaint reopens it)

  Every change is a :class:`core.types.TicketTransition` recording who and when.
  A ticket without a readable plate is moved to ``under_review`` at once (manual
  review), and cannot be approved until an operator enters the plate.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, replace

from core.anpr.text import normalise_plate_text
from core.types import ETicket, IncidentKind, TicketState, TicketTransition, Violation

#: Allowed state changes.
TRANSITIONS: dict[TicketState, frozenset[TicketState]] = {
    TicketState.ISSUED: frozenset({TicketState.UNDER_REVIEW, TicketState.VOID}),
    TicketState.UNDER_REVIEW: frozenset({TicketState.APPROVED, TicketState.VOID}),
    TicketState.APPROVED: frozenset(
        {TicketState.PAID, TicketState.UNDER_REVIEW, TicketState.NOTIFIED, TicketState.OWNER_UNKNOWN}
    ),
    TicketState.OWNER_UNKNOWN: frozenset({TicketState.NOTIFIED, TicketState.VOID}),
    TicketState.NOTIFIED: frozenset({TicketState.PAID, TicketState.APPEALED, TicketState.OVERDUE}),
    TicketState.APPEALED: frozenset({TicketState.UPHELD, TicketState.CANCELLED}),
    TicketState.UPHELD: frozenset({TicketState.PAID, TicketState.OVERDUE}),
    TicketState.OVERDUE: frozenset({TicketState.PAID, TicketState.APPEALED}),
    TicketState.VOID: frozenset(),
    TicketState.PAID: frozenset(),
    TicketState.CANCELLED: frozenset(),
}

#: States an operator still has to decide on (the review queue).
REVIEW_QUEUE_STATES: tuple[TicketState, ...] = (TicketState.ISSUED, TicketState.UNDER_REVIEW)

SYSTEM_ACTOR = "system"
TICKET_ID_RE = re.compile(r"^ET-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$")
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_B32_TO_CROCKFORD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", _CROCKFORD)


@dataclass(frozen=True, slots=True)
class FineTier:
    """An over-speed tier: ``amount_pkr`` once the speed is ``over_kmh`` or more above the limit."""

    over_kmh: float
    amount_pkr: int


@dataclass(frozen=True, slots=True)
class FineSchedule:
    """Fines in Pakistani rupees (PKR) per kind of violation.

    Attributes:
        overspeed_pkr: Over-speed below the first tier.
        overspeed_tiers: Higher over-speed fines (the highest tier reached applies).
        wrong_way_pkr: Wrong-way driving.
        red_light_pkr: Crossing on red.
        no_stopping_pkr: Stopping in a no-stopping zone.
    """

    overspeed_pkr: int
    overspeed_tiers: tuple[FineTier, ...]
    wrong_way_pkr: int
    red_light_pkr: int
    no_stopping_pkr: int


class InvalidTransition(ValueError):
    """A state change the lifecycle does not allow (the message says why)."""


def ticket_id_for(violation_id: str) -> str:
    """Ticket number of a violation: ``ET-XXXX-XXXX-XXXX`` (Crockford base32, 60 bits of SHA-256).

    Deterministic, so the same violation always gets the same number; no I, L, O or U
    to misread when typed by a citizen.
    """
    digest = hashlib.sha256(("ticket\x1f" + violation_id).encode("utf-8")).digest()
    code = base64.b32encode(digest).decode("ascii")[:12].translate(_B32_TO_CROCKFORD)
    return f"ET-{code[0:4]}-{code[4:8]}-{code[8:12]}"


def normalise_ticket_id(text: str) -> str:
    """Upper-case a typed ticket number and map look-alikes (O->0, I/L->1); dashes are re-inserted."""
    raw = re.sub(r"[^0-9A-Za-z]", "", text).upper()
    if raw.startswith("ET"):
        raw = raw[2:]
    raw = raw.translate(str.maketrans("OIL", "011"))
    if len(raw) != 12:
        return text.strip().upper()
    return f"ET-{raw[0:4]}-{raw[4:8]}-{raw[8:12]}"


def fine_for(violation: Violation, fines: FineSchedule) -> int:
    """Fine in PKR for a violation, from the schedule.

    Over-speed uses the highest tier whose ``over_kmh`` the excess over the limit reaches.

    Raises:
        ValueError: a kind that has no fine.
    """
    kind = IncidentKind(violation.kind)
    if kind is IncidentKind.OVERSPEED:
        amount = fines.overspeed_pkr
        if violation.speed_kmh is not None and violation.limit_kmh is not None:
            over = violation.speed_kmh - violation.limit_kmh
            for tier in sorted(fines.overspeed_tiers, key=lambda t: t.over_kmh):
                if over >= tier.over_kmh:
                    amount = tier.amount_pkr
        return amount
    if kind is IncidentKind.WRONG_WAY:
        return fines.wrong_way_pkr
    if kind is IncidentKind.RED_LIGHT:
        return fines.red_light_pkr
    if kind is IncidentKind.STALLED:
        return fines.no_stopping_pkr
    raise ValueError(f"no fine for violations of kind {kind.value!r}")


def issue(violation: Violation, fines: FineSchedule, now_ms: int, min_plate_confidence: float = 0.5) -> ETicket:
    """The e-ticket for a violation.

    Args:
        violation: The violation (its evidence ids are copied).
        fines: Fine schedule.
        now_ms: Issue time.
        min_plate_confidence: Plates read with less confidence count as unreadable.

    Returns:
        A ticket in ``issued``, or already in ``under_review`` when the plate is missing,
        unreadable or the evidence is incomplete (the reason is in the transition).
    """
    plate = normalise_plate_text(violation.plate or "")
    if not (2 <= len(plate) <= 12) or violation.plate_confidence < min_plate_confidence:
        plate = ""
    ticket = ETicket(
        ticket_id=ticket_id_for(violation.violation_id),
        violation_id=violation.violation_id,
        kind=IncidentKind(violation.kind),
        state=TicketState.ISSUED,
        camera_id=violation.camera_id,
        segment_id=violation.segment_id,
        ts_ms=violation.ts_ms,
        issued_ts_ms=now_ms,
        label=violation.label,
        plate=plate or None,
        plate_confidence=violation.plate_confidence if plate else 0.0,
        fine_pkr=fine_for(violation, fines),
        speed_kmh=violation.speed_kmh,
        limit_kmh=violation.limit_kmh,
        location=violation.location,
        evidence=violation.evidence,
        transitions=(TicketTransition(None, TicketState.ISSUED, SYSTEM_ACTOR, now_ms, "violation detected"),),
        details=violation.details,
        track_id=violation.track_id,
    )
    reason = review_reason(ticket)
    if reason:
        ticket = transition(ticket, TicketState.UNDER_REVIEW, SYSTEM_ACTOR, now_ms, reason)
    return ticket


def review_reason(ticket: ETicket, min_frames: int = 2) -> str:
    """Why a ticket needs manual review before anything else ("" when it does not)."""
    if not ticket.plate:
        return "no readable plate: manual review"
    if len(ticket.evidence) < min_frames:
        return "incomplete evidence: manual review"
    return ""


def check_transition(ticket: ETicket, to: TicketState, plate: str | None = None) -> None:
    """Raise :class:`InvalidTransition` unless ``ticket`` may move to ``to``.

    Args:
        ticket: The ticket.
        to: Target state.
        plate: Plate an operator enters with the change (needed to approve a ticket without one).
    """
    to = TicketState(to)
    if to not in TRANSITIONS[ticket.state]:
        allowed = ", ".join(sorted(s.value for s in TRANSITIONS[ticket.state])) or "none (final state)"
        raise InvalidTransition(
            f"ticket {ticket.ticket_id} is {ticket.state.value}; cannot go to {to.value} (allowed: {allowed})"
        )
    if to is TicketState.APPROVED and not (plate or ticket.plate):
        raise InvalidTransition(f"ticket {ticket.ticket_id} has no plate; enter the plate to approve it")


def transition(
    ticket: ETicket, to: TicketState, actor: str, now_ms: int, reason: str = "", plate: str | None = None
) -> ETicket:
    """The ticket after a state change, with the change recorded.

    Args:
        ticket: Current ticket.
        to: Target state.
        actor: Who (username or ``system``).
        now_ms: When.
        reason: Why (free text).
        plate: Plate entered by the operator (sets a missing or corrects a wrong plate).

    Raises:
        InvalidTransition: not allowed from the current state, a blank actor, or approving without a plate.
    """
    if not actor or not actor.strip():
        raise InvalidTransition("a state change needs an actor")
    check_transition(ticket, to, plate)
    new_plate = ticket.plate
    conf = ticket.plate_confidence
    if plate:
        new_plate, conf = plate, 1.0
    record = TicketTransition(ticket.state, TicketState(to), actor.strip(), now_ms, reason)
    return replace(
        ticket, state=TicketState(to), plate=new_plate, plate_confidence=conf, transitions=(*ticket.transitions, record)
    )


__all__ = [
    "REVIEW_QUEUE_STATES",
    "SYSTEM_ACTOR",
    "TICKET_ID_RE",
    "TRANSITIONS",
    "FineSchedule",
    "FineTier",
    "InvalidTransition",
    "check_transition",
    "fine_for",
    "issue",
    "normalise_ticket_id",
    "review_reason",
    "ticket_id_for",
    "transition",
]
