"""Short-lived, HMAC-signed download links for the disk backend: ``/media/<key>?exp=<epoch s>&sig=<hex>``.

The dashboard serves ``/media/`` to logged-in operators only (``dashboard.auth`` closes every path
not listed as public) and checks the signature and expiry here, so a link copied out of an operator's
page stops working after ``storage.url_ttl_s`` and cannot be altered to reach another key.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from core.signing import hmac_hex, same

MEDIA_PREFIX = "/media/"


class UrlSigner:
    """Signs and checks ``(key, expiry)`` pairs with one HMAC-SHA256 key.

    Args:
        key: The secret (at least 16 bytes).
        clock: Wall clock in seconds (tests).
    """

    def __init__(self, key: bytes, clock: Callable[[], float] = time.time) -> None:
        if len(key) < 16:
            raise ValueError("media signing key must be at least 16 bytes")
        self._key = key
        self._clock = clock

    def _sig(self, blob_key: str, exp: int) -> str:
        return hmac_hex(self._key, f"{blob_key}\n{exp}".encode())

    def url(self, blob_key: str, ttl_s: int) -> str:
        exp = int(self._clock()) + int(ttl_s)
        return f"{MEDIA_PREFIX}{quote(blob_key)}?exp={exp}&sig={self._sig(blob_key, exp)}"

    def check(self, blob_key: str, exp: str | None, sig: str | None) -> str | None:
        """None when the link is valid, else why not (for a 403 body)."""
        if not exp or not sig:
            return "unsigned link: exp and sig are required"
        try:
            exp_i = int(exp)
        except ValueError:
            return "malformed exp"
        if exp_i < self._clock():
            return "link expired"
        if not same(self._sig(blob_key, exp_i), sig):
            return "bad signature"
        return None


def load_signing_key(env_var: str, key_file: Path) -> bytes:
    """The HMAC key: ``$env_var`` when set, else the file (created with a random key, mode 0600)."""
    val = os.environ.get(env_var, "").strip()
    if val:
        return val.encode()
    try:
        return key_file.read_bytes().strip() or _new_key(key_file)
    except FileNotFoundError:
        return _new_key(key_file)


def _new_key(key_file: Path) -> bytes:
    """Create the key file, never leaving it empty: the key is written aside, then linked into place.

    A process that loses the race reads the winner's key. An empty file (left by an older version
    that crashed mid-write) is replaced once it has stayed empty for a second.
    """
    key_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = key_file.with_name(f"{key_file.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(secrets.token_hex(32).encode())
    try:
        os.link(tmp, key_file)  # atomic, and fails when the file exists
    except FileExistsError:
        for _ in range(50):
            existing = key_file.read_bytes().strip()
            if existing:
                return existing
            time.sleep(0.02)
        os.replace(tmp, key_file)  # empty for a second: a stale file, not a writer at work
    finally:
        tmp.unlink(missing_ok=True)
    return key_file.read_bytes().strip()


__all__ = ["MEDIA_PREFIX", "UrlSigner", "load_signing_key"]
