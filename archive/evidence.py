"""Evidence files: content-addressed under ``evidence_dir`` (``ab/cd/<sha256>.jpg``), stored once, re-checkable."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from sqlalchemy.exc import IntegrityError

from archive.database import Database
from archive.errors import EvidenceError
from archive.models import EvidenceRecord

SHA256_HEX = frozenset("0123456789abcdef")


class EvidenceStore:
    """Evidence files on disk and their rows in the ``evidence`` table.

    Args:
        db: The archive database.
        evidence_dir: Where evidence files go (created on demand).
    """

    def __init__(self, db: Database, evidence_dir: Path) -> None:
        self._db = db
        self.evidence_dir = evidence_dir

    def _evidence_file(self, sha: str, ext: str = ".jpg") -> Path:
        """Where the file of ``sha`` goes: ``ab/cd/<sha256><ext>`` under ``evidence_dir``."""
        return self.evidence_dir / sha[:2] / sha[2:4] / f"{sha}{ext}"

    def store_evidence(self, data: bytes, sha256: str | None = None, mime: str = "image/jpeg") -> str:
        """Store a file once by content; returns its SHA-256 hex.

        Raises:
            EvidenceError: ``sha256`` given and not the hash of ``data``.
        """
        sha = hashlib.sha256(data).hexdigest()
        if sha256 is not None and sha256 != sha:
            raise EvidenceError(f"evidence bytes do not match their id {sha256[:12]}...")
        path = self._evidence_file(sha, ".png" if mime == "image/png" else ".jpg")
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        with self._db.session() as s:
            if s.get(EvidenceRecord, sha) is None:
                s.add(
                    EvidenceRecord(
                        sha256=sha,
                        mime=mime,
                        size=len(data),
                        path=str(path.relative_to(self.evidence_dir)),
                        created_ts_ms=self._db.clock(),
                    )
                )
                try:
                    s.flush()
                except IntegrityError:  # stored by a concurrent writer: same content
                    s.rollback()
        return sha

    def evidence_path(self, sha256: str) -> Path | None:
        """Path of a stored evidence file, or None (unknown id or file missing)."""
        if len(sha256) != 64 or not set(sha256) <= SHA256_HEX:
            return None
        with self._db.session() as s:
            rec = s.get(EvidenceRecord, sha256)
        if rec is None:
            return None
        p = self.evidence_dir / rec.path
        return p if p.is_file() else None

    def delete_evidence(self, sha256: str) -> bool:
        """Remove a stored file and its row (retention); False when it was not there."""
        if len(sha256) != 64 or not set(sha256) <= SHA256_HEX:
            return False
        with self._db.session() as s:
            rec = s.get(EvidenceRecord, sha256)
            if rec is None:
                return False
            path = self.evidence_dir / rec.path
            s.delete(rec)
        path.unlink(missing_ok=True)
        return True

    def verify_evidence(self, sha256: str) -> bool:
        """True when the stored file exists and still hashes to its id."""
        p = self.evidence_path(sha256)
        return p is not None and hashlib.sha256(p.read_bytes()).hexdigest() == sha256


__all__ = ["SHA256_HEX", "EvidenceStore"]
