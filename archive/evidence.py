"""Evidence files: content-addressed in the blob store (``ab/cd/<sha256>.jpg``), stored once, re-checkable.

The files go through :class:`storage.base.BlobStore`: the local-disk backend under ``evidence_dir`` (the
default, the same layout as before, so existing evidence paths keep working) or an S3-compatible bucket
shared by several machines. The ``evidence`` table holds each file's key (``path``), type and size.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy.exc import IntegrityError

from archive.database import Database
from archive.errors import EvidenceError
from archive.models import EvidenceRecord
from storage.base import BlobStore
from storage.disk import DiskStore

SHA256_HEX = frozenset("0123456789abcdef")


def _is_sha(s: str) -> bool:
    return len(s) == 64 and set(s) <= SHA256_HEX


class EvidenceStore:
    """Evidence files in the blob store and their rows in the ``evidence`` table.

    Args:
        db: The archive database.
        evidence_dir: Where the disk backend keeps files (created on demand); used when ``store`` is None.
        store: The blob store (disk or S3); None = a :class:`storage.disk.DiskStore` on ``evidence_dir``.
    """

    def __init__(self, db: Database, evidence_dir: Path, store: BlobStore | None = None) -> None:
        self._db = db
        self._evidence_dir = evidence_dir
        self.store: BlobStore = store if store is not None else DiskStore(evidence_dir)

    @property
    def evidence_dir(self) -> Path:
        return self._evidence_dir

    @evidence_dir.setter
    def evidence_dir(self, path: Path) -> None:
        self._evidence_dir = path
        if isinstance(self.store, DiskStore):
            self.store = DiskStore(path, self.store.signer)

    @staticmethod
    def evidence_key(sha: str, mime: str = "image/jpeg") -> str:
        """Key of the file of ``sha``: ``ab/cd/<sha256>.jpg`` (``.png``, ``.mp4`` by type)."""
        ext = {"image/png": ".png", "video/mp4": ".mp4"}.get(mime, ".jpg")
        return f"{sha[:2]}/{sha[2:4]}/{sha}{ext}"

    def store_evidence(self, data: bytes, sha256: str | None = None, mime: str = "image/jpeg") -> str:
        """Store a file once by content; returns its SHA-256 hex.

        Raises:
            EvidenceError: ``sha256`` given and not the hash of ``data``.
            storage.StorageError: the blob store failed (nothing is recorded then).
        """
        sha = hashlib.sha256(data).hexdigest()
        if sha256 is not None and sha256 != sha:
            raise EvidenceError(f"evidence bytes do not match their id {sha256[:12]}...")
        key = self.evidence_key(sha, mime)
        if not self.store.exists(key):
            self.store.put(key, data, mime)
        with self._db.session() as s:
            if s.get(EvidenceRecord, sha) is None:
                s.add(EvidenceRecord(sha256=sha, mime=mime, size=len(data), path=key, created_ts_ms=self._db.clock()))
                try:
                    s.flush()
                except IntegrityError:  # stored by a concurrent writer: same content
                    s.rollback()
        return sha

    def _record(self, sha256: str) -> EvidenceRecord | None:
        if not _is_sha(sha256):
            return None
        with self._db.session() as s:
            return s.get(EvidenceRecord, sha256)

    def stored_key(self, sha256: str) -> str | None:
        """The blob key of a stored evidence file, or None (unknown id or blob missing)."""
        rec = self._record(sha256)
        return rec.path if rec is not None and self.store.exists(rec.path) else None

    def has_evidence(self, sha256: str) -> bool:
        """True when the file is recorded and its blob exists."""
        return self.stored_key(sha256) is not None

    def evidence_mime(self, sha256: str) -> str | None:
        rec = self._record(sha256)
        return rec.mime if rec is not None else None

    def evidence_bytes(self, sha256: str) -> bytes | None:
        """The file's bytes, or None (unknown id or blob missing)."""
        rec = self._record(sha256)
        return self.store.get(rec.path) if rec is not None else None

    def evidence_path(self, sha256: str) -> Path | None:
        """Path of a stored evidence file on this machine's disk (disk backend), or None."""
        rec = self._record(sha256)
        return self.store.local_path(rec.path) if rec is not None else None

    def delete_evidence(self, sha256: str) -> bool:
        """Remove a stored file and its row (retention); False when it was not there."""
        if not _is_sha(sha256):
            return False
        with self._db.session() as s:
            rec = s.get(EvidenceRecord, sha256)
            if rec is None:
                return False
            key = rec.path
            s.delete(rec)
        self.store.delete(key)
        return True

    def verify_evidence(self, sha256: str) -> bool:
        """True when the stored file exists and still hashes to its id."""
        data = self.evidence_bytes(sha256)
        return data is not None and hashlib.sha256(data).hexdigest() == sha256


__all__ = ["SHA256_HEX", "EvidenceStore"]
