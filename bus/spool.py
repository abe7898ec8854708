"""A bounded, durable, append-only queue of encoded events on local disk.

Producers (ingest workers) write every event here first and a forwarder
(:class:`bus.publisher.SpoolPublisher`) moves them to the Redis streams in
order. While Redis is unreachable the events simply accumulate; when it comes
back they are replayed oldest first. Nothing is lost when the process dies:
the spool is an SQLite database in WAL mode, and every append is one
transaction.

Durability (``sync``):

* ``"normal"`` (default): WAL + ``synchronous=NORMAL``. A committed append
  survives the process being killed (SIGKILL, OOM); only an operating-system
  crash or power loss can drop the last commits before a checkpoint.
* ``"full"``: ``synchronous=FULL``, an fsync per append; survives power loss.
* ``"off"``: no fsync at all (benchmarks only).

Bounded: at most ``max_events`` rows. When an append would exceed it the
*oldest* rows are removed, counted in :attr:`Spool.dropped` (persisted) and
logged as errors: an outage longer than the spool can hold loses its oldest
events, visibly. Size it for the longest Redis outage you must ride out
(docs/operations.md).

Each spool file has a stable ``producer_id`` (a UUID stored in the file) and
hands out strictly increasing sequence numbers (``AUTOINCREMENT``: never
reused, even after the rows are deleted). The forwarder uses the pair to make
replays idempotent (see :mod:`bus.publisher`).

A spool file is locked (``flock`` on ``<file>.lock``) by the process that has
it open, so two processes never forward the same file; a file left by a dead
process is *orphaned* and can be adopted by another process on the same
machine (:func:`orphaned_spools`, :meth:`Spool.open`).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

log = logging.getLogger(__name__)

SyncMode = Literal["off", "normal", "full"]
_SYNC = {"off": "OFF", "normal": "NORMAL", "full": "FULL"}
SUFFIX = ".spool"
LOCK_SUFFIX = ".lock"


class SpoolLocked(RuntimeError):
    """The spool file is open in another (live) process."""


@dataclass(frozen=True, slots=True)
class SpooledEvent:
    """One queued event.

    Attributes:
        seq: Position in the spool (strictly increasing, never reused).
        stream: Redis stream it goes to.
        event_id: Idempotent event id (:func:`bus.schema.event_id`).
        fields: Encoded stream-entry fields (:func:`bus.schema.encode`).
    """

    seq: int
    stream: str
    event_id: str
    fields: dict[str, str]


class Spool:
    """Durable FIFO of ``(stream, event_id, fields)`` rows.

    Thread-safe (one SQLite connection behind a lock). Use :meth:`Spool.open`
    for a file; ``Spool.memory()`` gives a non-durable in-memory spool with the
    same behaviour (tests, in-process tools).

    Args:
        path: SQLite file, or None for an in-memory spool.
        max_events: Bound on queued rows (oldest dropped and counted beyond it).
        sync: Durability mode, see the module docstring.
        ledger: Optional audit file: after each committed append, one line
            ``<event_id> <stream>`` per event is appended (used by
            ``bench.faults`` to count what producers handed over).

    Raises:
        SpoolLocked: ``path`` is open in another process.
    """

    def __init__(
        self,
        path: Path | None,
        *,
        max_events: int = 1_000_000,
        sync: SyncMode = "normal",
        ledger: Path | None = None,
    ) -> None:
        if max_events < 1:
            raise ValueError("max_events must be >= 1")
        if sync not in _SYNC:
            raise ValueError(f"sync must be one of {', '.join(_SYNC)}")
        self.path = Path(path) if path is not None else None
        self.max_events = max_events
        self._lock = threading.Lock()
        self._lock_fh: IO[bytes] | None = None
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._lock_fh = _lock_file(self.path)
        try:
            self._db = sqlite3.connect(
                str(self.path) if self.path is not None else ":memory:",
                isolation_level=None,  # explicit BEGIN/COMMIT
                check_same_thread=False,
                timeout=30.0,
            )
            if self.path is not None:
                self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA synchronous={_SYNC[sync]}")
            self._db.executescript(
                """
                CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
                CREATE TABLE IF NOT EXISTS events (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    stream TEXT NOT NULL,
                    event_id TEXT NOT NULL,
                    fields TEXT NOT NULL
                );
                """
            )
            self.producer_id = self._meta("producer_id") or self._set_meta("producer_id", uuid.uuid4().hex)
            self.dropped = int(self._meta("dropped") or 0)
            self._count = int(self._db.execute("SELECT COUNT(*) FROM events").fetchone()[0])
        except BaseException:
            self._release_lock()
            raise
        self._ledger: IO[str] | None = open(ledger, "a", encoding="utf-8", buffering=1) if ledger else None  # noqa: SIM115
        self.appended = 0

    # ------------------------------------------------------------------ construction

    @classmethod
    def open(cls, path: Path, wait_s: float = 0.0, **kwargs: object) -> Spool:
        """Open (creating when missing) a spool file; raises :class:`SpoolLocked` when in use.

        Args:
            wait_s: Keep trying this long while the file is locked (a predecessor still letting go of it).
        """
        deadline = time.monotonic() + max(0.0, wait_s)
        while True:
            try:
                return cls(Path(path), **kwargs)  # type: ignore[arg-type]
            except SpoolLocked:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.05)

    @classmethod
    def memory(cls, max_events: int = 1_000_000) -> Spool:
        """A non-durable in-memory spool (same ordering, bound and ids; gone with the process)."""
        return cls(None, max_events=max_events)

    # ------------------------------------------------------------------ meta

    def _meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT v FROM meta WHERE k = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    def _set_meta(self, key: str, value: str) -> str:
        self._db.execute("INSERT OR REPLACE INTO meta (k, v) VALUES (?, ?)", (key, value))
        return value

    # ------------------------------------------------------------------ queue

    def append(self, events: Sequence[tuple[str, str, Mapping[str, str]]]) -> int:
        """Queue events, all in one transaction.

        Args:
            events: ``(stream, event_id, fields)`` tuples, in publishing order.

        Returns:
            The sequence number of the last one (0 when ``events`` is empty).
        """
        if not events:
            return 0
        rows = [(s, eid, json.dumps(dict(f), separators=(",", ":"), ensure_ascii=False)) for s, eid, f in events]
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                cur = self._db.executemany("INSERT INTO events (stream, event_id, fields) VALUES (?, ?, ?)", rows)
                del cur
                last = int(self._db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'events'").fetchone()[0])
                overflow = self._count + len(rows) - self.max_events
                if overflow > 0:
                    self._db.execute(
                        "DELETE FROM events WHERE seq IN (SELECT seq FROM events ORDER BY seq LIMIT ?)", (overflow,)
                    )
                    self.dropped += overflow
                    self._set_meta("dropped", str(self.dropped))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._count = min(self._count + len(rows), self.max_events)
            self.appended += len(rows)
        if overflow > 0:
            log.error(
                "spool %s full (%d events): dropped the %d oldest (%d dropped in all)",
                self.path or ":memory:",
                self.max_events,
                overflow,
                self.dropped,
            )
        if self._ledger is not None:
            self._ledger.write("".join(f"{eid} {s}\n" for s, eid, _ in events))
        return last

    def peek(self, limit: int = 500) -> list[SpooledEvent]:
        """The oldest ``limit`` queued events, oldest first (they stay queued)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, stream, event_id, fields FROM events ORDER BY seq LIMIT ?", (max(1, int(limit)),)
            ).fetchall()
        return [SpooledEvent(int(seq), str(s), str(eid), json.loads(f)) for seq, s, eid, f in rows]

    def remove_through(self, seq: int) -> int:
        """Remove every queued event with sequence number <= ``seq`` (after they were forwarded).

        Returns:
            How many were removed.
        """
        with self._lock:
            cur = self._db.execute("DELETE FROM events WHERE seq <= ?", (int(seq),))
            n = max(0, cur.rowcount)
            self._count = max(0, self._count - n)
            return n

    def __len__(self) -> int:
        with self._lock:
            return self._count

    def __iter__(self) -> Iterator[SpooledEvent]:
        """All queued events, oldest first (a snapshot)."""
        return iter(self.peek(self.max_events))

    # ------------------------------------------------------------------ lifetime

    def close(self, remove_if_empty: bool = False) -> None:
        """Close the database and release the file lock (idempotent).

        Args:
            remove_if_empty: Delete the files when nothing is queued (an adopted
                orphan that has been fully forwarded).
        """
        with self._lock:
            db, self._db = self._db, None  # type: ignore[assignment]
            if db is None:
                return
            empty = self._count == 0
            try:
                with contextlib.suppress(sqlite3.Error):
                    if self.path is not None:
                        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                db.close()
                if self._ledger is not None:
                    self._ledger.close()
                if remove_if_empty and empty and self.path is not None:
                    for p in (self.path, _sidecar(self.path, "-wal"), _sidecar(self.path, "-shm")):
                        with contextlib.suppress(FileNotFoundError):
                            p.unlink()
            finally:  # whatever failed above, the next process must be able to open the spool
                self._release_lock(unlink=remove_if_empty and empty)

    def _release_lock(self, unlink: bool = False) -> None:
        fh, self._lock_fh = self._lock_fh, None
        if fh is None:
            return
        if unlink and self.path is not None:
            with contextlib.suppress(FileNotFoundError):
                _sidecar(self.path, LOCK_SUFFIX).unlink()
        fh.close()  # closing the descriptor releases the flock

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Spool({str(self.path) if self.path else ':memory:'}, queued={self._count}, dropped={self.dropped})"


def _sidecar(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


def _lock_file(path: Path) -> IO[bytes]:
    fh = open(_sidecar(path, LOCK_SUFFIX), "a+b")  # noqa: SIM115 - held for the spool's lifetime
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.close()
        raise SpoolLocked(f"spool {path} is in use by another process") from None
    with contextlib.suppress(OSError):
        fh.truncate(0)
        fh.write(str(os.getpid()).encode())
        fh.flush()
    return fh


def spool_path(spool_dir: Path, name: str) -> Path:
    """File of the spool called ``name`` (a worker id) in ``spool_dir``."""
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name) or "spool"
    return Path(spool_dir) / (safe + SUFFIX)


def orphaned_spools(spool_dir: Path, exclude: Path | None = None) -> list[Path]:
    """Spool files in ``spool_dir`` that no live process holds open (oldest first).

    A process that died (even by SIGKILL) released its lock, so its spool shows up
    here and another process may adopt it with :meth:`Spool.open`.
    """
    d = Path(spool_dir)
    if not d.is_dir():
        return []
    out: list[tuple[float, Path]] = []
    for p in d.glob("*" + SUFFIX):
        if exclude is not None and p.resolve() == Path(exclude).resolve():
            continue
        lock = _sidecar(p, LOCK_SUFFIX)
        try:
            with open(lock, "a+b") as fh:
                try:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # held by a live process
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
            out.append((p.stat().st_mtime, p))
        except OSError:
            continue
    return [p for _, p in sorted(out)]


__all__ = ["Spool", "SpoolLocked", "SpooledEvent", "orphaned_spools", "spool_path"]
