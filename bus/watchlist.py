"""The plate watchlist in Redis: seeded from YAML/CSV, edited at run time, versioned.

Keys:

* ``watchlist:plates``: hash ``plate -> JSON {"reason", "priority", "note", "updated_ms",
  "updated_by", "expires_ms"?}`` (plates normalised: upper-case letters and digits only;
  ``expires_ms`` absent = never expires).
* ``watchlist:audit``: who changed what, when (:mod:`bus.watchlist_audit`), written in the
  same transaction as each change.
* ``watchlist:version``: integer, incremented in the same transaction as every change.
* ``watchlist:changed``: pub/sub channel; each change publishes the new version.

Workers hold a :class:`WatchlistCache`: it answers from memory and re-reads the hash
only when ``watchlist:version`` moved (checked at most every ``poll_s`` seconds), so an
operator's edit reaches every camera within a poll without restarting anything.

Plates are personal data: nothing here logs them.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
import yaml

from bus import watchlist_audit
from bus.keys import WATCHLIST_CHANNEL, WATCHLIST_PLATES_KEY, WATCHLIST_VERSION_KEY
from bus.watchlist_audit import AuditRecord
from core.anpr import (
    Watchlist,
    WatchlistEntry,
    normalise_plate_text,
    watchlist_from_csv,
    watchlist_from_mapping,
)
from core.anpr.expiry import format_expiry
from core.clock import now_ms
from core.types import Priority

log = logging.getLogger(__name__)


def load_watchlist_file(path: Path | str) -> list[WatchlistEntry]:
    """Entries from a ``.yaml``/``.yml`` (``plates: [...]``) or ``.csv`` (``plate,reason,priority,note``) file.

    Raises:
        ValueError: for an unreadable or malformed file (the message names it).
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
        if p.suffix.lower() == ".csv":
            return watchlist_from_csv(text)
        if p.suffix.lower() in (".yaml", ".yml", ".json"):
            return watchlist_from_mapping(yaml.safe_load(text) or {})
        raise ValueError("watchlist files are .yaml, .yml, .json or .csv")
    except (OSError, yaml.YAMLError, ValueError) as e:
        raise ValueError(f"{p}: {e}") from e


def _s(value: bytes | str) -> str:
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)


def _encode(entry: WatchlistEntry, now_ms: int, actor: str = "") -> str:
    data: dict[str, Any] = {
        "reason": entry.reason,
        "priority": entry.priority.value,
        "note": entry.note,
        "updated_ms": now_ms,
        "updated_by": actor,
    }
    if entry.expires_ms is not None:
        data["expires_ms"] = entry.expires_ms
    return json.dumps(data, separators=(",", ":"))


def _decode_record(plate: str, raw: str) -> StoredEntry:
    data = json.loads(raw)
    expires = data.get("expires_ms")
    if expires is not None and (isinstance(expires, bool) or not isinstance(expires, int)):
        raise ValueError("expires_ms must be an integer")
    entry = WatchlistEntry.create(
        plate, str(data["reason"]), str(data.get("priority", "high")), str(data.get("note", "")), expires
    )
    return StoredEntry(entry, int(data.get("updated_ms", 0)), str(data.get("updated_by", "")))


def _decode(plate: str, raw: str) -> WatchlistEntry:
    return _decode_record(plate, raw).entry


def describe(entry: WatchlistEntry) -> str:
    """What an audit record says about an entry (no plate: the record holds it apart)."""
    parts = [f"priority {entry.priority.value}", f"reason {entry.reason!r}"]
    if entry.expires_ms is not None:
        parts.append(f"expires {format_expiry(entry.expires_ms)}")
    return ", ".join(parts)


@dataclass(frozen=True)
class StoredEntry:
    """A watchlist entry as stored, with when and by whom it was last written.

    Attributes:
        entry: The entry.
        updated_ms: Last write (UTC epoch ms; 0 when unknown).
        updated_by: Who wrote it ("" when unknown, e.g. seeded before audit existed).
    """

    entry: WatchlistEntry
    updated_ms: int
    updated_by: str


class RedisWatchlist:
    """Read and edit the watchlist in Redis.

    Args:
        client: A redis client (bytes or decoded responses).
        clock: Wall clock, UTC epoch milliseconds (for ``updated_ms``).

    Attributes:
        malformed: Stored entries that could not be decoded (skipped) on the last read.
    """

    def __init__(self, client: redis.Redis, clock: Callable[[], int] = now_ms) -> None:
        self.client = client
        self._clock = clock
        self.malformed = 0

    def _commit(
        self,
        apply: Callable[[redis.client.Pipeline], object],
        actor: str = "",
        action: str = "",
        plate: str = "",
        detail: str = "",
        now: int | None = None,
    ) -> int:
        pipe = self.client.pipeline(transaction=True)
        apply(pipe)
        if action:
            ts = self._clock() if now is None else now
            watchlist_audit.push(pipe, watchlist_audit.encode(ts, actor, action, plate, detail))
        pipe.incr(WATCHLIST_VERSION_KEY)
        result = pipe.execute()
        version = int(result[-1])
        self.client.publish(WATCHLIST_CHANNEL, str(version))
        if action:  # never the plate: logs leave the control room
            log.info("watchlist: %s by %s (version %d)", action, actor or "-", version)
        return version

    def version(self) -> int:
        """Current version (0 when the watchlist was never written)."""
        raw = self.client.get(WATCHLIST_VERSION_KEY)
        return int(raw) if raw is not None else 0

    def add(self, entry: WatchlistEntry, actor: str = "") -> int:
        """Add or replace one plate (audited as ``add`` or ``change`` by ``actor``); returns the new version."""
        now = self._clock()
        action = "change" if self.client.hexists(WATCHLIST_PLATES_KEY, entry.plate) else "add"
        return self._commit(
            lambda p: p.hset(WATCHLIST_PLATES_KEY, entry.plate, _encode(entry, now, actor)),
            actor,
            action,
            entry.plate,
            describe(entry),
            now,
        )

    def add_plate(
        self,
        plate: str,
        reason: str,
        priority: str | Priority = Priority.HIGH,
        note: str = "",
        expiry: object = None,
        actor: str = "",
    ) -> int:
        """Validate and add one plate (see :meth:`WatchlistEntry.create`); returns the new version."""
        return self.add(WatchlistEntry.create(plate, reason, priority, note, expiry), actor)

    def remove(self, plate: str, actor: str = "") -> bool:
        """Remove a plate (audited); True if it was listed (the version moves only then)."""
        norm = normalise_plate_text(plate)
        if not self.client.hexists(WATCHLIST_PLATES_KEY, norm):
            return False
        self._commit(lambda p: p.hdel(WATCHLIST_PLATES_KEY, norm), actor, "remove", norm)
        return True

    def get(self, plate: str) -> StoredEntry | None:
        """One stored entry (expired or not), or None when not listed."""
        norm = normalise_plate_text(plate)
        raw = self.client.hget(WATCHLIST_PLATES_KEY, norm)
        return _decode_record(norm, _s(raw)) if raw is not None else None

    def records(self) -> list[StoredEntry]:
        """Every stored entry with its last write, sorted by plate (malformed ones skipped)."""
        out = []
        for k, v in self.client.hgetall(WATCHLIST_PLATES_KEY).items():
            try:
                out.append(_decode_record(_s(k), _s(v)))
            except (ValueError, KeyError, TypeError):
                continue
        return sorted(out, key=lambda r: r.entry.plate)

    def audit(self, limit: int = 100) -> list[AuditRecord]:
        """The newest changes, newest first (see :mod:`bus.watchlist_audit`)."""
        return watchlist_audit.read(self.client, limit)

    def replace_all(self, entries: Iterable[WatchlistEntry], actor: str = "") -> int:
        """Make the watchlist exactly ``entries`` (one transaction, audited); returns the new version."""
        now = self._clock()
        mapping: dict[Any, Any] = {e.plate: _encode(e, now, actor) for e in entries}

        def apply(p: redis.client.Pipeline) -> None:
            p.delete(WATCHLIST_PLATES_KEY)
            if mapping:
                p.hset(WATCHLIST_PLATES_KEY, mapping=mapping)

        return self._commit(apply, actor, "replace", "", f"{len(mapping)} entries", now)

    def load_file(self, path: Path | str, replace: bool = False, actor: str = "file") -> int:
        """Add (or with ``replace``, set exactly) the entries of a YAML/CSV file; returns the new version."""
        entries = load_watchlist_file(path)
        if replace:
            return self.replace_all(entries, actor)
        now = self._clock()
        mapping: dict[Any, Any] = {e.plate: _encode(e, now, actor) for e in entries}
        if not mapping:
            return self.version()
        return self._commit(
            lambda p: p.hset(WATCHLIST_PLATES_KEY, mapping=mapping),
            actor,
            "load",
            "",
            f"{len(mapping)} entries from {Path(path).name}",
            now,
        )

    def seed(self, path: Path | str) -> bool:
        """Load a file only when the watchlist was never written (first start); True if loaded."""
        if self.client.exists(WATCHLIST_VERSION_KEY):
            return False
        self.load_file(path, actor="seed")
        return True

    def entries(self) -> list[WatchlistEntry]:
        """All listed plates, sorted by plate."""
        return self.snapshot()[1].entries()

    def snapshot(self) -> tuple[int, Watchlist]:
        """The version and the watchlist, read consistently (one transaction)."""
        pipe = self.client.pipeline(transaction=True)
        pipe.get(WATCHLIST_VERSION_KEY)
        pipe.hgetall(WATCHLIST_PLATES_KEY)
        raw_version, raw = pipe.execute()
        entries = []
        bad = 0
        for k, v in raw.items():
            try:
                entries.append(_decode(_s(k), _s(v)))
            except (ValueError, KeyError, TypeError):
                bad += 1
        if bad:
            log.warning("watchlist: skipped %d malformed entries", bad)
        self.malformed = bad
        return (int(raw_version) if raw_version is not None else 0), Watchlist(entries)


class WatchlistCache:
    """A worker's view of the watchlist: from memory, reloaded when the version moves.

    Args:
        store: The Redis watchlist.
        poll_s: Least time between two version checks.
        clock: Monotonic clock in seconds.
        fallback: Watchlist used while Redis is unreachable and nothing was loaded yet.
    """

    def __init__(
        self,
        store: RedisWatchlist,
        poll_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
        fallback: Watchlist | None = None,
    ) -> None:
        self.store = store
        self.poll_s = poll_s
        self._clock = clock
        self._lock = threading.Lock()
        self._version = -1
        self._watchlist = fallback if fallback is not None else Watchlist()
        self._checked = -float("inf")
        self._loading = False
        self.reloads = 0
        self.errors = 0

    @property
    def version(self) -> int:
        """Version of the watchlist held (-1 before the first load)."""
        return self._version

    def get(self) -> Watchlist:
        """The current watchlist; checks Redis at most every ``poll_s`` (errors keep the last one).

        One caller at a time checks and, when the version moved, reloads; the reload (a 100,000-entry
        list takes most of a second to index) runs outside the lock, so other callers (plate reads on
        other threads) keep matching against the list held until the new one replaces it.
        """
        with self._lock:
            now = self._clock()
            if self._loading or now - self._checked < self.poll_s:
                return self._watchlist
            self._checked = now
            self._loading = True
            held = self._version
        try:
            version = self.store.version()
            if version != held:
                version, fresh = self.store.snapshot()
                with self._lock:
                    self._version, self._watchlist = version, fresh
                    self.reloads += 1
        except redis.RedisError as e:
            self.errors += 1
            log.warning("watchlist: cannot reach Redis (%s); keeping version %d", e, held)
        finally:
            with self._lock:
                self._loading = False
        return self._watchlist


__all__ = [
    "AuditRecord",
    "RedisWatchlist",
    "StoredEntry",
    "WatchlistCache",
    "load_watchlist_file",
]
