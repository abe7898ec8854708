"""Which receiver answers are worth retrying, and the pushed message's shape and size."""

from __future__ import annotations

import json

import pytest

from services.notify.errors import DeliveryError, http_failure
from services.notify.webpush import MAX_PUSH_BYTES, push_message


@pytest.mark.parametrize(
    ("status", "permanent"),
    [
        (400, True),
        (401, True),
        (403, True),
        (404, True),
        (413, True),
        (408, False),
        (425, False),
        (429, False),
        (500, False),
        (502, False),
        (503, False),
    ],
)
def test_http_failure_permanent_only_for_refusals(status: int, permanent: bool) -> None:
    e = http_failure(status, "  some\n  body ", "webhook")
    assert e.permanent is permanent and e.reason == f"webhook answered HTTP {status}: some body"


def test_gone_is_permanent() -> None:
    assert DeliveryError("x", gone=True).permanent


def test_push_message_has_notification_fields_and_fits() -> None:
    payload = {"alert_id": "a1", "kind": "congestion", "priority": "high", "zone_name": "GT Road", "summary": "jam"}
    msg = json.loads(push_message(json.dumps(payload)))
    assert (msg["title"], msg["body"], msg["tag"], msg["url"]) == (
        "[HIGH] congestion - GT Road",
        "jam",
        "a1",
        "/warden",
    )
    big = json.loads(push_message(json.dumps({**payload, "summary": "x" * 10_000})))
    assert len(json.dumps(big).encode()) <= MAX_PUSH_BYTES and len(big["body"]) == 500
