"""The blob-store interface and what every backend shares: keys, errors, listing entries."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable

#: A key: slash-separated parts of letters, digits, ``._-``; no empty part, no ``..``; at most 512 characters.
KEY_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]*(/[A-Za-z0-9_][A-Za-z0-9._-]*)*$")
MAX_KEY = 512


class StorageError(RuntimeError):
    """The store could not be reached or refused an operation (the message says which and why)."""


class BlobNotFound(KeyError):
    """No blob under that key."""


@dataclass(frozen=True, slots=True)
class BlobInfo:
    """One stored blob, as listed.

    Attributes:
        key: Its key.
        size: Bytes.
        modified_ts_ms: Last write, UTC epoch ms.
    """

    key: str
    size: int
    modified_ts_ms: int


def check_key(key: str) -> str:
    """Return ``key`` when it is a valid blob key.

    Raises:
        ValueError: naming what is wrong with it.
    """
    if not isinstance(key, str) or not key:
        raise ValueError("blob key must be a non-empty string")
    if len(key) > MAX_KEY:
        raise ValueError(f"blob key longer than {MAX_KEY} characters")
    if ".." in key.split("/") or not KEY_RE.match(key):
        raise ValueError(f"invalid blob key {key[:60]!r}: parts of letters, digits, '._-' separated by '/'")
    return key


@runtime_checkable
class BlobStore(Protocol):
    """Where evidence, clips and recordings are kept. Keys are validated with :func:`check_key`."""

    backend: str

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        """Write ``data`` under ``key`` atomically (readers see the old blob or the new one, never half)."""
        ...

    def put_file(self, key: str, path: Path, content_type: str = "application/octet-stream") -> None:
        """Write a local file under ``key`` (streamed, not read into memory at once)."""
        ...

    def get(self, key: str) -> bytes | None:
        """The blob's bytes, or None when there is none."""
        ...

    def open(self, key: str) -> BinaryIO:
        """A readable binary stream of the blob.

        Raises:
            BlobNotFound: no such key.
        """
        ...

    def exists(self, key: str) -> bool: ...

    def size(self, key: str) -> int | None:
        """Bytes of the blob, or None when there is none."""
        ...

    def delete(self, key: str) -> bool:
        """Remove a blob; False when it was not there."""
        ...

    def list(self, prefix: str = "") -> Iterator[BlobInfo]:
        """Blobs whose key starts with ``prefix`` (any order)."""
        ...

    def url(self, key: str, ttl_s: int) -> str:
        """A download link valid for ``ttl_s`` seconds; hand it to operators only."""
        ...

    def local_path(self, key: str) -> Path | None:
        """The file of a blob on this machine's disk (disk backend), else None."""
        ...


__all__ = ["KEY_RE", "MAX_KEY", "BlobInfo", "BlobNotFound", "BlobStore", "StorageError", "check_key"]
