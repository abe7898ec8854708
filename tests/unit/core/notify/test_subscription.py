"""Web Push subscriptions posted by the warden page: exactly PushSubscription.toJSON(), or a reason."""

from __future__ import annotations

import base64

import pytest

from core.notify.subscription import SubscriptionError, parse_subscription, subscription_id_for


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


P256 = b64(b"\x04" + bytes(range(64)))
AUTH = b64(bytes(16))
GOOD = {"endpoint": "https://fcm.googleapis.com/fcm/send/abc", "keys": {"p256dh": P256, "auth": AUTH}}


def test_good_subscription() -> None:
    s = parse_subscription({**GOOD, "expirationTime": None}, "warden1", "warden", 5, "Mozilla/5.0 " + "x" * 300)
    assert (s.username, s.role, s.endpoint, s.p256dh, s.auth, s.created_ms) == (
        "warden1",
        "warden",
        GOOD["endpoint"],
        P256,
        AUTH,
        5,
    )
    assert s.subscription_id == subscription_id_for(GOOD["endpoint"]) and len(s.user_agent) == 200
    assert s.info() == {"endpoint": GOOD["endpoint"], "keys": {"p256dh": P256, "auth": AUTH}}


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ([], "JSON object"),
        ({**GOOD, "extra": 1}, "unknown field"),
        ({"keys": GOOD["keys"]}, "endpoint"),
        ({**GOOD, "endpoint": "http://push.example.org/x"}, "https://"),
        ({**GOOD, "endpoint": "https://push.example.org/" + "x" * 1000}, "at most"),
        ({**GOOD, "endpoint": "https://push.example.org/a b"}, "one URL"),
        ({**GOOD, "keys": {"p256dh": P256}}, "exactly p256dh and auth"),
        ({**GOOD, "keys": {"p256dh": 5, "auth": AUTH}}, "keys.p256dh must be a base64url"),
        ({**GOOD, "keys": {"p256dh": "not base64!", "auth": AUTH}}, "keys.p256dh must be a base64url"),
        ({**GOOD, "keys": {"p256dh": b64(b"\x04" + bytes(10)), "auth": AUTH}}, "65 bytes"),
        ({**GOOD, "keys": {"p256dh": b64(b"\x02" + bytes(64)), "auth": AUTH}}, "uncompressed"),
        ({**GOOD, "keys": {"p256dh": P256, "auth": b64(bytes(8))}}, "16 bytes"),
    ],
)
def test_bad_subscription_says_why(body: object, words: str) -> None:
    with pytest.raises(SubscriptionError, match=words):
        parse_subscription(body, "warden1", "warden", 0)


@pytest.mark.parametrize(("body", "malformed"), [([], True), ({**GOOD, "x": 1}, True), ({"keys": {}}, False)])
def test_shape_errors_are_malformed(body: object, malformed: bool) -> None:
    with pytest.raises(SubscriptionError) as e:
        parse_subscription(body, "w", "warden", 0)
    assert e.value.malformed is malformed


def test_http_endpoint_only_when_allowed() -> None:
    body = {**GOOD, "endpoint": "http://127.0.0.1:9999/push/1"}
    assert parse_subscription(body, "w", "warden", 0, allow_http=True).endpoint == body["endpoint"]
