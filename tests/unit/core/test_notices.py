"""Pure back-office rules: CNIC masking, notice channels, retry delays, overdue surcharge steps, due dates."""

from __future__ import annotations

import pytest

from core.notices import (
    DAY_MS,
    Channel,
    SurchargeStep,
    channels_for,
    due_ms,
    notice_message_id,
    overdue_fine,
    retry_delay_ms,
)
from core.owners import mask_cnic


@pytest.mark.parametrize(
    ("cnic", "masked"),
    [
        ("17301-1234567-1", "*****-****567-1"),
        ("1730112345671", "*****-****567-1"),
        ("12345", "*****"),  # not a CNIC: all hidden
        ("", ""),
    ],
)
def test_mask_cnic(cnic: str, masked: str) -> None:
    assert mask_cnic(cnic) == masked


@pytest.mark.parametrize(
    ("email", "phone", "want"),
    [
        ("a@b.pk", "+92300", (Channel.EMAIL, Channel.SMS, Channel.PDF)),
        ("", "+92300", (Channel.SMS, Channel.PDF)),
        ("a@b.pk", " ", (Channel.EMAIL, Channel.PDF)),
        ("", "", (Channel.PDF,)),
    ],
)
def test_channels_for(email: str, phone: str, want: tuple[Channel, ...]) -> None:
    assert channels_for(email, phone) == want


def test_retry_delay_doubles_and_caps() -> None:
    assert [retry_delay_ms(a, 30, 100) for a in (1, 2, 3, 4)] == [30_000, 60_000, 100_000, 100_000]
    with pytest.raises(ValueError):
        retry_delay_ms(0, 30, 100)


STEPS = (SurchargeStep(0, percent=25), SurchargeStep(30, percent=50), SurchargeStep(60, percent=50, amount_pkr=500))


@pytest.mark.parametrize(
    ("days", "fine", "rule"),
    [
        (-1, 2000, ""),
        (0, 2500, "+25% from 0 day(s) past due"),
        (29.9, 2500, "+25% from 0 day(s) past due"),
        (30, 3000, "+50% from 30 day(s) past due"),
        (61, 3500, "+50% +500 PKR from 60 day(s) past due"),
    ],
)
def test_overdue_fine_steps_replace_each_other(days: float, fine: int, rule: str) -> None:
    assert overdue_fine(2000, days, STEPS) == (fine, rule)


def test_no_steps_no_surcharge_and_due_dates() -> None:
    assert overdue_fine(1500, 400, ()) == (1500, "")
    assert due_ms(1000, 30) == 1000 + 30 * DAY_MS
    assert notice_message_id(7, "ET-AB12-CD34-EF56", "kp.example") == "<notice-7.et-ab12-cd34-ef56@kp.example>"
