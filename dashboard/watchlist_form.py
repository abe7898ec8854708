"""Checking a watchlist entry typed by an admin (screen form or JSON API), field by field.

:func:`parse_entry` turns the raw values into a :class:`core.anpr.WatchlistEntry` or raises
:class:`FieldErrors`, which holds one reason per bad field (``plate``, ``reason``,
``priority``, ``expiry``, ``note``) so the screen can show each under its input and the API
can answer 400 with all of them. Messages never repeat the plate text.
"""

from __future__ import annotations

from collections.abc import Callable

from core.anpr import WatchlistEntry, normalise_plate_text
from core.anpr.expiry import format_expiry, parse_expiry
from core.clock import now_ms
from core.types import Priority

FIELDS = ("plate", "reason", "priority", "expiry", "note")
PRIORITIES = tuple(p.value for p in Priority)
MAX_REASON = 200
MAX_NOTE = 500
#: Characters allowed in a typed plate besides letters and digits (separators people type).
PLATE_SEPARATORS = " -."


class FieldErrors(ValueError):
    """Reasons per bad field (``{"plate": "...", "expiry": "..."}``)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def check_plate(raw: object) -> str:
    """The normalised plate of a typed one.

    Raises:
        ValueError: the reason (not a string, odd characters, not 2-10 letters/digits).
    """
    if not isinstance(raw, str) or not raw.strip():
        raise ValueError("enter a plate (2-10 letters and digits)")
    text = raw.strip()
    if len(text) > 20 or any(not (c.isascii() and c.isalnum()) and c not in PLATE_SEPARATORS for c in text):
        raise ValueError("a plate has only letters, digits, spaces and dashes")
    norm = normalise_plate_text(text)
    if not 2 <= len(norm) <= 10:
        raise ValueError(f"a plate has 2-10 letters and digits (this one has {len(norm)})")
    return norm


def parse_entry(
    plate: object,
    reason: object,
    priority: object = "high",
    expiry: object = None,
    note: object = "",
    clock: Callable[[], int] = now_ms,
) -> WatchlistEntry:
    """A checked entry from typed values.

    Args:
        plate: Plate as typed (``LEA-1234``).
        reason: Why it is listed (1-200 characters).
        priority: ``low`` | ``medium`` | ``high`` | ``critical`` (empty: ``high``).
        expiry: Empty/None (never), or an ISO date (end of that day, UTC) or datetime, in the future.
        note: Free text (up to 500 characters).
        clock: Wall clock (UTC epoch ms) to reject expiries already past.

    Raises:
        FieldErrors: one reason per bad field.
    """
    errors: dict[str, str] = {}
    norm = ""
    try:
        norm = check_plate(plate)
    except ValueError as e:
        errors["plate"] = str(e)
    reason_s = reason.strip() if isinstance(reason, str) else ""
    if not reason_s:
        errors["reason"] = "say why the plate is listed (e.g. stolen vehicle)"
    elif len(reason_s) > MAX_REASON:
        errors["reason"] = f"at most {MAX_REASON} characters"
    prio = priority if priority not in (None, "") else "high"
    if not isinstance(prio, str) or prio.strip().lower() not in PRIORITIES:
        errors["priority"] = f"priority must be one of {', '.join(PRIORITIES)}"
    expires_ms = None
    if expiry is not None and not isinstance(expiry, str):
        errors["expiry"] = "expiry must be an ISO date (2026-12-31) or datetime (2026-12-31T18:00:00Z)"
    else:
        try:
            expires_ms = parse_expiry(expiry)
        except ValueError as e:
            errors["expiry"] = str(e)
        else:
            if expires_ms is not None and expires_ms <= clock():
                errors["expiry"] = f"expiry {format_expiry(expires_ms)} is already past"
    note_s = note.strip() if isinstance(note, str) else ""
    if note is not None and not isinstance(note, str):
        errors["note"] = "note must be text"
    elif len(note_s) > MAX_NOTE:
        errors["note"] = f"at most {MAX_NOTE} characters"
    if errors:
        raise FieldErrors(errors)
    return WatchlistEntry.create(norm, reason_s, str(prio).strip().lower(), note_s, expires_ms)
