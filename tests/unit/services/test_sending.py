"""Which HTTP answers every adapter retries (SMS gateway, owner register, webhooks): one rule."""

from __future__ import annotations

from services.notices.senders import SendError
from services.notify.errors import DeliveryError, http_failure
from services.sending import SendFailure, http_permanent, short_text


def test_every_adapter_uses_one_http_rule() -> None:
    assert {s for s in range(400, 600) if not http_permanent(s)} == {408, 425, 429, *range(500, 600)}
    assert all(http_failure(s, "", "x").permanent is http_permanent(s) for s in range(400, 600))


def test_one_error_type() -> None:
    assert SendError is SendFailure and issubclass(DeliveryError, SendFailure)
    e = DeliveryError("gone", gone=True)
    assert e.permanent and e.reason == "gone"
    assert short_text("a\n  b\tc" + "x" * 300, 10) == "a b cxxxxx"
