"""Appeals and what citizens see: visible states, notice time, due date, appeal window, photo sniffing. Pure logic."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from core.anpr.text import normalise_plate_text
from core.tickets import TRANSITIONS
from core.types import ETicket, TicketState

DAY_MS = 86_400_000
#: States a citizen may see; any other (issued, under review, void, owner unknown) reads as "not found".
CITIZEN_STATES: frozenset[TicketState] = frozenset(
    {
        TicketState.APPROVED,
        TicketState.NOTIFIED,
        TicketState.OVERDUE,
        TicketState.APPEALED,
        TicketState.UPHELD,
        TicketState.CANCELLED,
        TicketState.PAID,
    }
)
#: States an appeal can be lodged from (derived from the lifecycle).
APPEALABLE_STATES: frozenset[TicketState] = frozenset(s for s, to in TRANSITIONS.items() if TicketState.APPEALED in to)
#: Decisions on an appeal (the ticket's next state).
DECISIONS: tuple[TicketState, ...] = (TicketState.UPHELD, TicketState.CANCELLED)
IMAGE_TYPES = ("image/jpeg", "image/png")


class AppealError(ValueError):
    """An appeal refused; ``status`` is the HTTP status to answer (4xx)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


@dataclass(frozen=True, slots=True)
class AppealWindow:
    """When the notice was given and until when an appeal is accepted (UTC epoch ms)."""

    notice_ms: int
    deadline_ms: int

    def open_at(self, now_ms: int) -> bool:
        return self.notice_ms <= now_ms <= self.deadline_ms


def visible_to_citizen(ticket: ETicket | None, plate: str) -> bool:
    """True when the pair (ticket, typed plate) may see the ticket: plate matches, state is public."""
    if ticket is None or not ticket.plate:
        return False
    want = normalise_plate_text(plate).encode("utf-8")
    same = hmac.compare_digest(want, ticket.plate.encode("utf-8"))
    return same and ticket.state in CITIZEN_STATES


def notice_ms(ticket: ETicket) -> int | None:
    """When the citizen was notified (first entry into ``notified``), else when approved, else None."""
    for state in (TicketState.NOTIFIED, TicketState.APPROVED):
        for tr in ticket.transitions:
            if tr.to_state is state:
                return tr.ts_ms
    return None


def due_ms(ticket: ETicket, due_days: int) -> int | None:
    """The due date: ``due_days`` after the notice (or the approval)."""
    start = notice_ms(ticket)
    return None if start is None else start + due_days * DAY_MS


def appeal_window(ticket: ETicket, appeal_days: int) -> AppealWindow | None:
    """The appeal window: ``appeal_days`` from the notice; None before any notice."""
    start = next((tr.ts_ms for tr in ticket.transitions if tr.to_state is TicketState.NOTIFIED), None)
    return None if start is None else AppealWindow(start, start + appeal_days * DAY_MS)


def check_appealable(ticket: ETicket, appeal_days: int, now_ms: int) -> AppealWindow:
    """The window, when an appeal is possible now.

    Raises:
        AppealError: 409 when the state does not allow an appeal or the window has closed.
    """
    if ticket.state not in APPEALABLE_STATES:
        raise AppealError(409, f"ticket {ticket.ticket_id} is {ticket.state.value}: it cannot be appealed now")
    win = appeal_window(ticket, appeal_days)
    if win is None or not win.open_at(now_ms):
        raise AppealError(409, f"the appeal window ({appeal_days} days from the notice) has closed")
    return win


def check_reason(text: str | None, max_chars: int) -> str:
    """The appeal's reason, stripped.

    Raises:
        AppealError: 422 when empty or longer than ``max_chars``.
    """
    reason = (text or "").strip()
    if not reason:
        raise AppealError(422, "say why you appeal (reason)")
    if len(reason) > max_chars:
        raise AppealError(422, f"reason is too long (at most {max_chars} characters)")
    return reason


def sniff_image(data: bytes) -> str | None:
    """``image/jpeg`` or ``image/png`` from the file's first bytes (not its name or header), else None."""
    if data.startswith(b"\xff\xd8\xff") and len(data) > 4:
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 16:
        return "image/png"
    return None


def check_photo(data: bytes, declared: str | None, max_bytes: int) -> str:
    """The photo's MIME type once its size, declared type and bytes agree.

    Raises:
        AppealError: 413 when larger than ``max_bytes``; 415 when not a JPEG or PNG (by the bytes),
        or when the declared type is neither.
    """
    if len(data) > max_bytes:
        raise AppealError(413, f"photo is larger than {max_bytes // 1024} KiB")
    declared = (declared or "").split(";")[0].strip().lower()
    if declared and declared not in IMAGE_TYPES and declared != "application/octet-stream":
        raise AppealError(415, f"photo type {declared!r} is not accepted: send a JPEG or PNG")
    sniffed = sniff_image(data)
    if sniffed is None:
        raise AppealError(415, "the photo is not a JPEG or PNG image")
    return sniffed


__all__ = [
    "APPEALABLE_STATES",
    "CITIZEN_STATES",
    "DAY_MS",
    "DECISIONS",
    "IMAGE_TYPES",
    "AppealError",
    "AppealWindow",
    "appeal_window",
    "check_appealable",
    "check_photo",
    "check_reason",
    "due_ms",
    "notice_ms",
    "sniff_image",
    "visible_to_citizen",
]
