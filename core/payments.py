"""Payment callbacks: HMAC-SHA256 signatures, the callback message, freshness and the amount due. Pure logic.

A gateway POSTs a callback whose raw body is canonical JSON (:func:`encode_callback`) and
whose ``X-Signature`` header is ``sha256=<hex HMAC-SHA256 of the raw body>`` under the shared
secret. The receiver checks the signature in constant time (:func:`verify_signature`) before it
parses anything, then the timestamp (:func:`check_fresh`), then the nonce (a replay is refused
by the archive), then the amount (:func:`check_amount`, the one place that says what is due).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass

from core.signing import SHA256_PREFIX, same, signature
from core.tickets import TRANSITIONS
from core.types import ETicket, TicketState

SIGNATURE_HEADER = "X-Signature"
SIGNATURE_PREFIX = SHA256_PREFIX
#: States a ticket can be paid from (derived from the lifecycle).
PAYABLE_STATES: frozenset[TicketState] = frozenset(s for s, to in TRANSITIONS.items() if TicketState.PAID in to)
CALLBACK_STATUSES = ("paid", "failed", "cancelled")
CALLBACK_FIELDS = ("txn_id", "ticket_id", "amount_pkr", "status", "ts", "nonce")
TXN_ID_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
NONCE_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


class CallbackError(ValueError):
    """A callback refused; ``status`` is the HTTP status to answer (4xx)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


@dataclass(frozen=True, slots=True)
class PaymentCallback:
    """What a gateway reports about one transaction.

    Attributes:
        txn_id: Our transaction id (given to the gateway when the payment started).
        ticket_id: The ticket paid.
        amount_pkr: Amount the gateway collected, whole rupees.
        status: ``paid``, ``failed`` or ``cancelled``.
        ts: When the gateway sent it (UTC epoch seconds).
        nonce: Unique per delivery: the same nonce twice is a replay.
    """

    txn_id: str
    ticket_id: str
    amount_pkr: int
    status: str
    ts: int
    nonce: str


def sign(secret: str | bytes, body: bytes) -> str:
    """The ``X-Signature`` value of a raw body: ``sha256=<hex HMAC-SHA256>`` (:mod:`core.signing`)."""
    return signature(secret, body)


def verify_signature(secret: str | bytes, body: bytes, header: str | None) -> bool:
    """True when ``header`` is the signature of ``body`` (constant-time comparison)."""
    return same(sign(secret, body), header)


def encode_callback(cb: PaymentCallback) -> bytes:
    """The canonical raw body of a callback (sorted keys, no spaces)."""
    return json.dumps(asdict(cb), sort_keys=True, separators=(",", ":")).encode("utf-8")


def parse_callback(body: bytes) -> PaymentCallback:
    """The callback in a (signature-checked) raw body.

    Raises:
        CallbackError: 400 with the field that is missing or malformed.
    """
    try:
        raw = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise CallbackError(400, "callback body is not JSON") from None
    if not isinstance(raw, dict):
        raise CallbackError(400, "callback body must be a JSON object")
    missing = [f for f in CALLBACK_FIELDS if f not in raw]
    extra = sorted(set(raw) - set(CALLBACK_FIELDS))
    if missing or extra:
        raise CallbackError(400, f"callback fields: missing {missing or 'none'}, unknown {extra or 'none'}")
    for f in ("txn_id", "ticket_id", "status", "nonce"):
        if not isinstance(raw[f], str):
            raise CallbackError(400, f"callback {f} must be a string")
    for f in ("amount_pkr", "ts"):
        if not isinstance(raw[f], int) or isinstance(raw[f], bool):
            raise CallbackError(400, f"callback {f} must be an integer")
    if not TXN_ID_RE.match(raw["txn_id"]):
        raise CallbackError(400, "callback txn_id is malformed")
    if not NONCE_RE.match(raw["nonce"]):
        raise CallbackError(400, "callback nonce must be 8-64 letters, digits, '-' or '_'")
    if raw["status"] not in CALLBACK_STATUSES:
        raise CallbackError(400, f"callback status must be one of {', '.join(CALLBACK_STATUSES)}")
    return PaymentCallback(**{f: raw[f] for f in CALLBACK_FIELDS})


def check_fresh(cb: PaymentCallback, now_s: float, max_age_s: int) -> None:
    """Refuse a callback sent more than ``max_age_s`` ago (or that far in the future).

    Raises:
        CallbackError: 400.
    """
    if abs(now_s - cb.ts) > max_age_s:
        raise CallbackError(400, f"callback timestamp is more than {max_age_s} s away from now: stale or replayed")


def amount_due(ticket: ETicket) -> int:
    """What the citizen owes now, in PKR: the ticket's current fine (any surcharge is part of it)."""
    return int(ticket.fine_pkr)


def check_amount(ticket: ETicket, amount_pkr: int) -> None:
    """Refuse a payment of anything but the amount due.

    Raises:
        CallbackError: 422 naming both amounts.
    """
    due = amount_due(ticket)
    if amount_pkr != due:
        raise CallbackError(422, f"amount PKR {amount_pkr} does not match the PKR {due} due on {ticket.ticket_id}")


def check_payable(ticket: ETicket) -> None:
    """Refuse payment of a ticket in a state that cannot be paid.

    Raises:
        CallbackError: 409.
    """
    if ticket.state not in PAYABLE_STATES:
        raise CallbackError(409, f"ticket {ticket.ticket_id} is {ticket.state.value}: nothing to pay")


__all__ = [
    "CALLBACK_FIELDS",
    "CALLBACK_STATUSES",
    "PAYABLE_STATES",
    "SIGNATURE_HEADER",
    "CallbackError",
    "PaymentCallback",
    "amount_due",
    "check_amount",
    "check_fresh",
    "check_payable",
    "encode_callback",
    "parse_callback",
    "sign",
    "verify_signature",
]
