"""The one HMAC-SHA256 helper: a published test vector, constant-time comparison, and every signer using it."""

from __future__ import annotations

import pytest

from core import payments
from core.notify import signing as webhook_signing
from core.signing import hmac_hex, same, signature

# HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog") (Wikipedia's HMAC example).
FOX = "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
MSG = b"The quick brown fox jumps over the lazy dog"


def test_known_vector_str_and_bytes_keys() -> None:
    assert hmac_hex("key", MSG) == hmac_hex(b"key", MSG) == FOX
    assert signature("key", MSG) == "sha256=" + FOX


@pytest.mark.parametrize(
    ("sent", "ok"),
    [
        ("sha256=" + FOX, True),
        (" sha256=" + FOX + "\n", True),
        ("sha256=" + FOX[:-1] + "0", False),
        ("", False),
        (None, False),
        ("sha256=ü", False),
    ],
)
def test_same(sent: str | None, ok: bool) -> None:
    assert same("sha256=" + FOX, sent) is ok


def test_payment_and_webhook_signatures_are_the_shared_hmac() -> None:
    assert payments.sign("key", MSG) == signature("key", MSG)
    assert payments.verify_signature("key", MSG, "sha256=" + FOX)
    assert not payments.verify_signature("other", MSG, "sha256=" + FOX)
    sig = webhook_signing.signature("key", 1700000000, MSG)
    assert sig == signature("key", b"1700000000." + MSG)
    assert webhook_signing.verify("key", "1700000000", MSG, sig, now_s=1700000100)
    assert not webhook_signing.verify("key", "1700000000", MSG + b"!", sig, now_s=1700000100)
