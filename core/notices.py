"""Ticket notices to citizens: which state change sends what, retry delays, overdue fines, due dates. Pure.

A ticket entering one of :data:`NOTICE_TEMPLATES`' states queues that template on each channel the
owner can be reached on (email, SMS) and as a PDF letter (``pdf``, always: it is printed and posted
when there is no other address). The outbox (``notice_outbox``) is written in the same transaction as
the state change (:mod:`archive.notices`); the notices service sends it (:mod:`services.notices`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from core.backoff import exponential_delay_s
from core.types import TicketState

DAY_MS = 86_400_000


class Channel(str, Enum):
    """How a notice reaches the citizen."""

    EMAIL = "email"
    SMS = "sms"
    PDF = "pdf"


class NoticeState(str, Enum):
    """Life of one outbox row."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DEAD = "dead"
    SKIPPED = "skipped"


#: The notice template a ticket entering the state sends.
NOTICE_TEMPLATES: dict[TicketState, str] = {
    TicketState.NOTIFIED: "notice",
    TicketState.UPHELD: "appeal_upheld",
    TicketState.CANCELLED: "appeal_cancelled",
    TicketState.PAID: "receipt",
    TicketState.OVERDUE: "overdue",
}

#: States whose due date runs (a ticket past it becomes overdue).
DUE_STATES: tuple[TicketState, ...] = (TicketState.NOTIFIED, TicketState.UPHELD)


def channels_for(email: str, phone: str) -> tuple[Channel, ...]:
    """The channels of a notice to an owner with this e-mail and phone ("" = none): PDF always."""
    out = [Channel.PDF]
    if email.strip():
        out.insert(0, Channel.EMAIL)
    if phone.strip():
        out.insert(1 if email.strip() else 0, Channel.SMS)
    return tuple(out)


def retry_delay_ms(attempts: int, base_s: float, max_s: float) -> int:
    """Wait before retry number ``attempts`` (1 = after the first failure): ``base * 2**(attempts-1)``, capped."""
    if attempts < 1:
        raise ValueError(f"attempts must be >= 1, got {attempts}")
    return int(exponential_delay_s(attempts - 1, base_s, max_s) * 1000)


@dataclass(frozen=True, slots=True)
class SurchargeStep:
    """From ``after_days`` days past the due date, the fine is the original plus ``percent`` % plus ``amount_pkr``."""

    after_days: int
    percent: float = 0.0
    amount_pkr: int = 0


def overdue_fine(original_pkr: int, days_past_due: float, steps: Sequence[SurchargeStep]) -> tuple[int, str]:
    """The fine of a ticket ``days_past_due`` days after its due date, and the rule that set it.

    The step with the largest ``after_days`` reached applies (steps replace each other, they do not
    add up); before the first step, or with no steps, the fine is the original.

    Returns:
        ``(fine in PKR, rule text)``; the rule is "" when no step applies.
    """
    best: SurchargeStep | None = None
    for s in sorted(steps, key=lambda s: s.after_days):
        if days_past_due >= s.after_days:
            best = s
    if best is None:
        return original_pkr, ""
    fine = int(round(original_pkr * (1 + best.percent / 100.0))) + best.amount_pkr
    parts = [f"+{best.percent:g}%" if best.percent else "", f"+{best.amount_pkr} PKR" if best.amount_pkr else ""]
    return fine, f"{' '.join(p for p in parts if p) or '+0'} from {best.after_days} day(s) past due"


def due_ms(entered_ms: int, due_days: int) -> int:
    """Pay-by time of a ticket that entered a due state (notified, upheld) at ``entered_ms``."""
    return entered_ms + due_days * DAY_MS


def notice_message_id(notice_id: int, ticket_id: str, domain: str) -> str:
    """The e-mail Message-ID of a notice: the same on every retry, so a resend is recognised as one message."""
    return f"<notice-{notice_id}.{ticket_id.lower()}@{domain}>"


__all__ = [
    "DAY_MS",
    "DUE_STATES",
    "NOTICE_TEMPLATES",
    "Channel",
    "NoticeState",
    "SurchargeStep",
    "channels_for",
    "due_ms",
    "notice_message_id",
    "overdue_fine",
    "retry_delay_ms",
]
