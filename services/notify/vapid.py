"""The notifier's VAPID key pair (Web Push sender identity), generated on first start.

The private key is a PEM file under ``var/`` (``notify.vapid.private_key_file``, never
committed, mode 0600); the public key (the browsers' ``applicationServerKey``) is derived from
it and published in Redis for the warden page (:class:`bus.notify.NotifyState`). Two processes
starting together agree on one key: the file is created exclusively, the loser reads it.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid02


def public_key_b64(v: Vapid02) -> str:
    """The application server key: base64url (no padding) of the uncompressed P-256 point."""
    raw = v.public_key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def load_or_create(path: Path) -> tuple[Vapid02, bool]:
    """The key pair in ``path``, created there first when missing.

    Returns:
        ``(vapid, created)``.

    Raises:
        ValueError: the file exists but is not a usable EC private key PEM (says which file).
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        v = Vapid02()
        v.generate_keys()
        pem = v.private_pem()
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it meanwhile: use theirs
        else:
            with os.fdopen(fd, "wb") as f:
                f.write(pem)
            return v, True
    try:
        return Vapid02.from_file(str(path)), False
    except Exception as e:  # noqa: BLE001 - py_vapid raises bare exceptions of several kinds
        raise ValueError(
            f"{path}: not a VAPID private key PEM ({type(e).__name__}: {e}); delete it to make a new one"
        ) from None


__all__ = ["load_or_create", "public_key_b64"]
