"""HMAC-SHA256 signatures (pure): the one way the product signs and checks a message.

Payment callbacks and orders (:mod:`core.payments`), the notifier's webhooks
(:mod:`core.notify.signing`) and the short-lived media links (:mod:`storage.signing`) all sign
with :func:`hmac_hex` / :func:`signature` and compare with :func:`same` (constant time).
"""

from __future__ import annotations

import hashlib
import hmac

#: Prefix of a header-style signature: ``sha256=<hex>``.
SHA256_PREFIX = "sha256="


def _key(secret: str | bytes) -> bytes:
    return secret.encode("utf-8") if isinstance(secret, str) else secret


def hmac_hex(secret: str | bytes, message: bytes) -> str:
    """Hex HMAC-SHA256 of ``message`` under ``secret`` (a str secret is UTF-8 encoded)."""
    return hmac.new(_key(secret), message, hashlib.sha256).hexdigest()


def signature(secret: str | bytes, message: bytes) -> str:
    """``sha256=<hex HMAC-SHA256>`` of ``message``: the value of a signature header."""
    return SHA256_PREFIX + hmac_hex(secret, message)


def same(expected: str, sent: str | None) -> bool:
    """True when ``sent`` equals ``expected``, compared in constant time (surrounding blanks ignored)."""
    if not sent:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), sent.strip().encode("utf-8", "replace"))


__all__ = ["SHA256_PREFIX", "hmac_hex", "same", "signature"]
