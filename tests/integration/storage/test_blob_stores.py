"""The blob-store contract on the disk backend and on S3 (a real moto server): one test, both backends."""

from __future__ import annotations

import hashlib
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from archive.database import Database
from archive.errors import EvidenceError
from archive.evidence import EvidenceStore
from storage.base import BlobNotFound, BlobStore
from storage.signing import UrlSigner


def test_put_get_open_exists_size_delete(blob_store: BlobStore) -> None:
    assert blob_store.get("a/b.bin") is None and not blob_store.exists("a/b.bin") and blob_store.size("a/b.bin") is None
    blob_store.put("a/b.bin", b"hello", "application/octet-stream")
    assert blob_store.get("a/b.bin") == b"hello" and blob_store.exists("a/b.bin") and blob_store.size("a/b.bin") == 5
    with blob_store.open("a/b.bin") as f:
        assert f.read() == b"hello"
    blob_store.put("a/b.bin", b"again")  # overwrite
    assert blob_store.get("a/b.bin") == b"again"
    assert blob_store.delete("a/b.bin") and not blob_store.delete("a/b.bin")
    with pytest.raises(BlobNotFound):
        blob_store.open("a/b.bin")


def test_put_file_and_list_by_prefix(blob_store: BlobStore, tmp_path: Path) -> None:
    src = tmp_path / "big.bin"
    src.write_bytes(b"z" * 300_000)
    blob_store.put_file("recordings/cam/2026-01-01/1.mp4", src, "video/mp4")
    blob_store.put("recordings/cam/2026-01-01/2.mp4", b"xy")
    blob_store.put("clips/cam/x.mp4", b"c")
    listed = {b.key: b.size for b in blob_store.list("recordings/cam/")}
    assert listed == {"recordings/cam/2026-01-01/1.mp4": 300_000, "recordings/cam/2026-01-01/2.mp4": 2}
    assert {b.key for b in blob_store.list("")} >= {"clips/cam/x.mp4", *listed}
    assert all(b.modified_ts_ms > 0 for b in blob_store.list("clips/"))


@pytest.mark.parametrize("key", ["", "../etc/passwd", "a/../b", "/abs", "a//b", "sp ace", "x" * 600])
def test_bad_keys_are_refused(blob_store: BlobStore, key: str) -> None:
    with pytest.raises(ValueError):
        blob_store.put(key, b"x")


def test_download_links_expire_and_cannot_be_altered(blob_store: BlobStore) -> None:
    blob_store.put("clips/c/v.mp4", b"video-bytes")
    url = blob_store.url("clips/c/v.mp4", 60)
    if blob_store.backend == "s3":  # presigned: the S3 server itself checks it
        with urllib.request.urlopen(url, timeout=5) as r:
            assert r.read() == b"video-bytes"
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(url.replace("v.mp4", "w.mp4"), timeout=5)
        assert e.value.code in (403, 404)
        assert "X-Amz-Expires=60" in url
    else:
        signer = blob_store.signer  # type: ignore[attr-defined]
        path, query = url.split("?")
        args = dict(p.split("=") for p in query.split("&"))
        assert path == "/media/clips/c/v.mp4"
        assert signer.check("clips/c/v.mp4", args["exp"], args["sig"]) is None
        assert signer.check("clips/c/w.mp4", args["exp"], args["sig"]) == "bad signature"
        assert signer.check("clips/c/v.mp4", str(int(args["exp"]) + 1), args["sig"]) == "bad signature"
        later = UrlSigner(b"k" * 32, clock=lambda: time.time() + 61)
        assert later.check("clips/c/v.mp4", args["exp"], args["sig"]) == "link expired"
        assert signer.check("clips/c/v.mp4", None, None) is not None


# --------------------------------------------------------------------------- the archive's evidence on each backend


@pytest.fixture
def evidence(blob_store: BlobStore, tmp_path: Path) -> EvidenceStore:
    db = Database(f"sqlite:///{tmp_path / 'a.db'}")
    db.create_tables()
    return EvidenceStore(db, tmp_path / "evidence", blob_store)


def test_evidence_is_stored_once_by_hash_and_verifiable(evidence: EvidenceStore, blob_store: BlobStore) -> None:
    data = b"\xff\xd8\xff jpeg bytes"
    sha = hashlib.sha256(data).hexdigest()
    assert evidence.store_evidence(data, sha) == sha
    assert evidence.store_evidence(data) == sha  # same content: same id, no second file
    key = f"{sha[:2]}/{sha[2:4]}/{sha}.jpg"  # the layout of evidence_dir, unchanged
    assert evidence.stored_key(sha) == key and blob_store.get(key) == data
    assert evidence.has_evidence(sha) and evidence.evidence_bytes(sha) == data and evidence.verify_evidence(sha)
    assert (evidence.evidence_path(sha) is not None) == (blob_store.backend == "disk")
    blob_store.put(key, b"tampered")
    assert not evidence.verify_evidence(sha)


def test_evidence_with_a_wrong_hash_or_id_is_refused(evidence: EvidenceStore) -> None:
    with pytest.raises(EvidenceError):
        evidence.store_evidence(b"abc", "0" * 64)
    assert not evidence.has_evidence("not-a-hash") and evidence.evidence_bytes("0" * 64) is None


def test_deleted_evidence_is_gone_from_table_and_store(evidence: EvidenceStore, blob_store: BlobStore) -> None:
    sha = evidence.store_evidence(b"\x89PNG plate", mime="image/png")
    key = evidence.stored_key(sha)
    assert key is not None and key.endswith(".png")
    assert evidence.delete_evidence(sha) and not blob_store.exists(key) and not evidence.delete_evidence(sha)
