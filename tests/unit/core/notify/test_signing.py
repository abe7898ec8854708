"""Webhook signatures: HMAC-SHA256 over timestamp and body; stale or altered ones fail."""

from __future__ import annotations

import hashlib
import hmac

from core.notify.signing import signature, verify

BODY = b'{"kind":"congestion"}'


def test_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    want = hmac.new(b"s3cret", b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert signature("s3cret", 1_700_000_000, BODY) == "sha256=" + want


def test_verify() -> None:
    sig = signature("s3cret", 1_700_000_000, BODY)
    assert verify("s3cret", "1700000000", BODY, sig, now_s=1_700_000_010)
    assert not verify("other", "1700000000", BODY, sig, now_s=1_700_000_010)
    assert not verify("s3cret", "1700000000", BODY + b" ", sig, now_s=1_700_000_010)
    assert not verify("s3cret", "1700000001", BODY, sig, now_s=1_700_000_010)
    assert not verify("s3cret", "1700000000", BODY, sig, now_s=1_700_000_400)  # replayed later
    assert not verify("s3cret", "soon", BODY, sig, now_s=1_700_000_010)
    assert not verify("s3cret", "1700000000", BODY, "", now_s=1_700_000_010)
