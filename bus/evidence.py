"""Evidence blobs in flight: the worker puts each file in Redis once, by SHA-256; the
ticketing service copies it into the archive.

Keys ``evidence:<sha256>`` hold the bytes (``SET NX`` with a TTL, so the same frame
used by two violations is stored once and Redis never fills up with evidence nobody
collects). :meth:`EvidenceStore.get` re-checks the hash, so a damaged blob is never
archived as evidence.
"""

from __future__ import annotations

import hashlib
from typing import Any

import redis

from bus.keys import evidence_key


class EvidenceStore:
    """Content-addressed blobs in Redis.

    Args:
        client: Redis client with ``decode_responses=False``.
        ttl_s: How long a blob waits for the ticketing service.
    """

    def __init__(self, client: redis.Redis, ttl_s: int = 86_400) -> None:
        self.client = client
        self.ttl_s = int(ttl_s)

    @staticmethod
    def sha256(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()

    def put(self, data: bytes) -> str:
        """Store ``data`` once (refreshing the TTL when it is already there); returns its SHA-256 hex."""
        sha = self.sha256(data)
        key = evidence_key(sha)
        pipe = self.client.pipeline(transaction=False)
        pipe.set(key, data, nx=True, ex=self.ttl_s)
        pipe.expire(key, self.ttl_s)
        pipe.execute()
        return sha

    def get(self, sha: str) -> bytes | None:
        """The blob, or None when it is missing, expired or does not match its hash."""
        raw: Any = self.client.get(evidence_key(sha))
        if raw is None:
            return None
        data = bytes(raw)
        return data if self.sha256(data) == sha else None

    def exists(self, sha: str) -> bool:
        return bool(self.client.exists(evidence_key(sha)))

    def delete(self, sha: str) -> None:
        self.client.delete(evidence_key(sha))


__all__ = ["EvidenceStore"]
