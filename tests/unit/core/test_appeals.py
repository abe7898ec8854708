"""core.appeals: which states citizens see, notice/due dates, the appeal window, reason and photo checks."""

from __future__ import annotations

from dataclasses import replace

import pytest

from core.appeals import (
    APPEALABLE_STATES,
    CITIZEN_STATES,
    DAY_MS,
    AppealError,
    appeal_window,
    check_appealable,
    check_photo,
    check_reason,
    due_ms,
    notice_ms,
    sniff_image,
    visible_to_citizen,
)
from core.tickets import FineSchedule, issue, transition
from core.types import IncidentKind, TicketState, Violation

T0 = 1_700_000_000_000
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\0" * 32


def _notified(at: int = T0):
    v = Violation("v1", IncidentKind.RED_LIGHT, "cam", "seg", 1, 0, "car", "LEA1234", 0.9, None, None, None, ("a", "b"))
    t = issue(v, FineSchedule(1500, (), 2000, 1000, 500), T0 - 10)
    for s, ts in ((TicketState.UNDER_REVIEW, T0 - 5), (TicketState.APPROVED, T0 - 2), (TicketState.NOTIFIED, at)):
        t = transition(t, s, "op", ts)
    return t


def test_visible_states_and_plate_match() -> None:
    t = _notified()
    assert visible_to_citizen(t, "lea-1234") and not visible_to_citizen(t, "LEA1235")
    assert not visible_to_citizen(None, "LEA1234") and not visible_to_citizen(replace(t, plate=None), "")
    for s in TicketState:
        assert visible_to_citizen(replace(t, state=s), "LEA1234") == (s in CITIZEN_STATES)
    assert {TicketState.ISSUED, TicketState.UNDER_REVIEW, TicketState.VOID, TicketState.OWNER_UNKNOWN}.isdisjoint(
        CITIZEN_STATES
    )


def test_notice_and_due_dates() -> None:
    t = _notified()
    assert notice_ms(t) == T0 and due_ms(t, 30) == T0 + 30 * DAY_MS
    approved = replace(t, transitions=t.transitions[:-1], state=TicketState.APPROVED)
    assert notice_ms(approved) == T0 - 2  # before a notice: from the approval
    assert appeal_window(approved, 14) is None


@pytest.mark.parametrize(
    ("now", "ok"),
    [(T0, True), (T0 + 14 * DAY_MS, True), (T0 + 14 * DAY_MS + 1, False), (T0 - 1, False), (T0 + 3 * DAY_MS, True)],
)
def test_appeal_window(now: int, ok: bool) -> None:
    t = _notified()
    if ok:
        assert check_appealable(t, 14, now).deadline_ms == T0 + 14 * DAY_MS
    else:
        with pytest.raises(AppealError) as e:
            check_appealable(t, 14, now)
        assert e.value.status == 409 and "window" in str(e.value)


def test_only_notified_and_overdue_can_be_appealed() -> None:
    assert {TicketState.NOTIFIED, TicketState.OVERDUE} == APPEALABLE_STATES
    with pytest.raises(AppealError, match="cannot be appealed"):
        check_appealable(replace(_notified(), state=TicketState.APPEALED), 14, T0)


def test_reason() -> None:
    assert check_reason("  not me  ", 20) == "not me"
    for bad in ("", "   ", None, "x" * 21):
        with pytest.raises(AppealError) as e:
            check_reason(bad, 20)
        assert e.value.status == 422


def test_photo_sniffed_by_bytes() -> None:
    assert sniff_image(JPEG) == "image/jpeg" and sniff_image(PNG) == "image/png"
    assert sniff_image(b"GIF89a....") is None and sniff_image(b"\xff\xd8") is None
    assert check_photo(PNG, "image/jpeg", 100) == "image/png"  # the bytes decide
    assert check_photo(JPEG, None, 100) == "image/jpeg"
    assert check_photo(JPEG, "application/octet-stream", 100) == "image/jpeg"
    for data, declared, status in [
        (JPEG + b"\0" * 100, "image/jpeg", 413),
        (b"<svg/>" + b"\0" * 40, "image/jpeg", 415),
        (JPEG, "text/html", 415),
        (JPEG, "image/gif", 415),
    ]:
        with pytest.raises(AppealError) as e:
            check_photo(data, declared, 100)
        assert e.value.status == status
