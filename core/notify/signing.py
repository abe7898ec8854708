"""Webhook signatures: HMAC-SHA256 over ``<timestamp>.<body>``, checkable by any receiver.

The notifier sends ``X-SafeCity-Timestamp: <unix seconds>`` and
``X-SafeCity-Signature: sha256=<hex>``; a receiver recomputes :func:`signature` with the shared
secret, compares with :func:`verify` (constant time) and refuses old timestamps (replays).
"""

from __future__ import annotations

from core.signing import same
from core.signing import signature as _sign

TIMESTAMP_HEADER = "X-SafeCity-Timestamp"
SIGNATURE_HEADER = "X-SafeCity-Signature"
DELIVERY_HEADER = "X-SafeCity-Delivery"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256(secret, b"<timestamp>." + body)>``."""
    return _sign(secret, str(int(timestamp)).encode("ascii") + b"." + body)


def verify(secret: str, timestamp: str, body: bytes, sent: str, now_s: int, max_age_s: int = 300) -> bool:
    """True when ``sent`` is the signature of ``body`` at ``timestamp`` and the timestamp is recent."""
    try:
        ts = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs(now_s - ts) > max_age_s:
        return False
    return same(signature(secret, ts, body), sent)


__all__ = ["DELIVERY_HEADER", "SIGNATURE_HEADER", "TIMESTAMP_HEADER", "signature", "verify"]
