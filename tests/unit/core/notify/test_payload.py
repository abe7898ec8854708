"""The alert payload (flat, Home Assistant friendly, nothing personal), topics and e-mail text."""

from __future__ import annotations

import json

import pytest

from core.notify.payload import PAYLOAD_TYPE, alert_payload, email_text, iso_utc, mqtt_topic, payload_text, title
from core.types import IncidentKind, Priority, WardenAlert

ALERT = WardenAlert(
    "a1",
    "inc-1",
    "university-rd",
    ("warden1",),
    1_700_000_000_000,
    False,
    IncidentKind.CONGESTION,
    Priority.HIGH,
    "Heavy traffic on University Road",
)


def test_payload_fields() -> None:
    p = alert_payload(ALERT, "ev1", "University Road")
    assert p == {
        "type": PAYLOAD_TYPE,
        "alert_id": "a1",
        "incident_id": "inc-1",
        "event_id": "ev1",
        "kind": "congestion",
        "priority": "high",
        "severity": 2,
        "zone": "university-rd",
        "zone_name": "University Road",
        "summary": "Heavy traffic on University Road",
        "escalated": False,
        "wardens": ["warden1"],
        "ts_ms": 1_700_000_000_000,
        "ts": "2023-11-14T22:13:20Z",
    }
    assert json.loads(payload_text(p)) == p
    assert payload_text(p) == payload_text(dict(reversed(list(p.items()))))  # sorted: stable bytes to sign


def test_payload_without_zone() -> None:
    p = alert_payload(WardenAlert("a2", "i2", None, (), 0, True), "ev2")
    assert (p["zone"], p["zone_name"], p["escalated"], p["wardens"]) == ("", "", True, [])
    assert mqtt_topic("safecity/alerts", p) == "safecity/alerts/none/congestion"


@pytest.mark.parametrize(
    ("prefix", "zone", "kind", "topic"),
    [
        ("safecity/alerts", "university-rd", "congestion", "safecity/alerts/university-rd/congestion"),
        ("safecity/alerts/", "gt-rd", "wrong_way", "safecity/alerts/gt-rd/wrong_way"),
        ("city", "a/b+c#d e", "sos", "city/a_b_c_d_e/sos"),
    ],
)
def test_topic_levels_are_safe(prefix: str, zone: str, kind: str, topic: str) -> None:
    assert mqtt_topic(prefix, {"zone": zone, "kind": kind}) == topic


def test_title_and_email() -> None:
    p = alert_payload(ALERT, "ev1", "University Road")
    assert title(p) == "[HIGH] congestion - University Road"
    assert title({**p, "escalated": True, "kind": "wrong_way"}) == "[HIGH ESCALATED] wrong way - University Road"
    subject, body = email_text(p, "https://control.example.org/")
    assert subject == "Safe City alert: [HIGH] congestion - University Road"
    assert "Heavy traffic on University Road" in body and "Time (UTC): 2023-11-14T22:13:20Z" in body
    assert "https://control.example.org/incidents" in body and "Wardens: warden1" in body
    assert "Open the control room" not in email_text(p)[1]


def test_iso_utc() -> None:
    assert iso_utc(0) == "1970-01-01T00:00:00Z"
