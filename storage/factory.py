"""The configured blob store (``storage:`` in the config)."""

from __future__ import annotations

from config.settings import REPO_ROOT, AppConfig, resolve_path
from storage.base import BlobStore
from storage.disk import DiskStore
from storage.signing import UrlSigner, load_signing_key

#: Where the disk backend's link-signing key is kept when ``$SAFECITY_MEDIA_KEY`` is unset.
KEY_FILE = REPO_ROOT / "var" / "media.key"


def open_store(cfg: AppConfig, signer: bool = True) -> BlobStore:
    """The store ``cfg.storage`` names.

    Args:
        cfg: The configuration.
        signer: disk: give it the link signer (the dashboard needs it; workers and services do not).
    """
    sc = cfg.storage
    if sc.backend == "s3":
        from storage.s3 import S3Store

        assert sc.s3 is not None  # the config validator ensures it
        return S3Store(sc.s3)
    root = resolve_path(sc.dir or cfg.archive.evidence_dir)
    return DiskStore(root, UrlSigner(load_signing_key(sc.signing_key_env, KEY_FILE)) if signer else None)


__all__ = ["KEY_FILE", "open_store"]
