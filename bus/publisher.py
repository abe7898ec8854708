"""Durable, idempotent event publishing: spool first, then forward to Redis in order.

:class:`SpoolPublisher` is what ingest workers publish through::

    pub = SpoolPublisher(client, Spool.open(path), maxlen=100_000)
    pub.start()
    pub.publish([crossing, density])   # never blocks on Redis, never raises for an outage
    ...
    pub.stop(flush_timeout=10)         # SIGTERM: forward what is queued, close the spool

``publish`` encodes the events and appends them to the local :class:`bus.spool.Spool`
(one SQLite transaction); a forwarder thread moves queued events to their streams,
oldest first, in batches. While Redis is unreachable events accumulate in the spool and
the forwarder retries with exponential backoff and jitter; when Redis is back the backlog
is replayed in order.

Where duplicates are filtered: **in Redis, at the XADD**. A replay can re-send events
whose first send did reach Redis (the reply was lost, a pipeline failed half-way, the
process died between XADD and removing them from the spool). Every spool has a
``producer_id`` and gives each event a strictly increasing sequence number; the Lua
script :data:`XADD_ONCE` appends an event to its stream only when its sequence number is
above the last one recorded for that producer and stream
(``bus:dedup:{<stream>}:<producer_id>``, refreshed with a TTL of ``dedup_ttl_s``), and
records it in the same atomic step. So a replay never adds an entry twice, using one
small key per producer and stream instead of one per event. The dedup key carries the
stream's name as its hash tag, so script and stream are on the same Redis Cluster slot.
Consumers still see each message at least once (a consumer that dies before XACK gets it
again, or another consumer reclaims it), so they must handle by the idempotent
``event_id`` (e.g. a primary key in SQL).

With ``wait_replicas`` > 0 (Sentinel deployments) a batch is removed from the spool only
after that many replicas acknowledged it (``WAIT``), so a fail-over to a lagging replica
cannot lose events that were already removed locally; a re-send is harmless.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import redis

from bus.keys import dedup_key
from bus.schema import encode, event_id, stream_of
from bus.spool import Spool, SpooledEvent
from core.backoff import Backoff

log = logging.getLogger(__name__)

#: KEYS[1] stream, KEYS[2] dedup key. ARGV: maxlen, ttl_ms, n, then per event: seq, nfields, f1, v1, ...
#: Appends the events whose seq is above the recorded one; returns how many were appended.
XADD_ONCE = """
local last = tonumber(redis.call('GET', KEYS[2]) or '0')
local i = 4
local added = 0
for _ = 1, tonumber(ARGV[3]) do
  local seq = tonumber(ARGV[i])
  local nf = tonumber(ARGV[i + 1])
  i = i + 2
  if seq > last then
    local args = {KEYS[1], 'MAXLEN', '~', ARGV[1], '*'}
    for k = i, i + 2 * nf - 1 do args[#args + 1] = ARGV[k] end
    redis.call('XADD', unpack(args))
    last = seq
    added = added + 1
  end
  i = i + 2 * nf
end
redis.call('SET', KEYS[2], last, 'PX', ARGV[2])
return added
"""


@dataclass(frozen=True, slots=True)
class PublisherStats:
    """Snapshot of a :class:`SpoolPublisher`.

    Attributes:
        backlog: Events queued in the spool, not yet in Redis.
        published: Events handed to :meth:`SpoolPublisher.publish`.
        forwarded: Events appended to their streams.
        duplicates_skipped: Re-sent events Redis already had (filtered by :data:`XADD_ONCE`).
        failures: Failed forwarding attempts (Redis unreachable, timeouts ...).
        dropped: Events the bounded spool dropped (oldest first) because it was full.
        redis_ok: False while the last forwarding attempt failed.
        last_error: Text of the last failure ("" when healthy).
        oldest_age_s: Age of the oldest queued event (how far behind Redis is), 0 when none.
    """

    backlog: int
    published: int
    forwarded: int
    duplicates_skipped: int
    failures: int
    dropped: int
    redis_ok: bool
    last_error: str
    oldest_age_s: float


class SpoolPublisher:
    """Publish events through a durable local spool to Redis streams.

    Args:
        client: Redis client (standalone, Sentinel master or Cluster).
        spool: The spool (owned: closed by :meth:`stop`).
        maxlen: ``MAXLEN ~`` cap of every stream.
        batch: Max events per forwarding round.
        dedup_ttl_s: Lifetime of a producer's dedup record after its last write.
        wait_replicas: Replicas that must acknowledge a batch before it leaves the spool (0 = none).
        wait_timeout_ms: ``WAIT`` timeout.
        retry_initial_s: First retry delay after a failure.
        retry_max_s: Largest retry delay.
    """

    def __init__(
        self,
        client: redis.Redis,
        spool: Spool,
        maxlen: int = 100_000,
        *,
        batch: int = 500,
        dedup_ttl_s: float = 7 * 86_400,
        wait_replicas: int = 0,
        wait_timeout_ms: int = 1000,
        retry_initial_s: float = 0.2,
        retry_max_s: float = 2.0,
    ) -> None:
        self.client = client
        self.spool = spool
        self.maxlen = maxlen
        self.batch = max(1, batch)
        self.dedup_ttl_ms = max(1000, int(dedup_ttl_s * 1000))
        self.wait_replicas = wait_replicas
        self.wait_timeout_ms = wait_timeout_ms
        self._script = client.register_script(XADD_ONCE)
        self._backoff = Backoff(retry_initial_s, max(retry_max_s, retry_initial_s))
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._idle = threading.Condition()
        self._thread: threading.Thread | None = None
        self._retry_at = 0.0
        self._flush_deadline = float("inf")
        self._first_queued_at: float | None = time.time() if len(spool) else None
        self.published = 0
        self.forwarded = 0
        self.duplicates_skipped = 0
        self.failures = 0
        self.redis_ok = True
        self.last_error = ""
        self.left_at_stop = 0

    # ------------------------------------------------------------------ producer side

    def publish(self, objs: Iterable[object]) -> int:
        """Queue events for their streams (durable once this returns).

        All events are encoded first, so a :class:`bus.schema.SchemaError` aborts
        before anything is queued. Never blocks on Redis.

        Returns:
            The number of events queued.
        """
        rows = [(stream_of(o), event_id(o), encode(o)) for o in objs]
        if not rows:
            return 0
        self.spool.append(rows)
        self.published += len(rows)
        if self._first_queued_at is None:
            self._first_queued_at = time.time()
        self._wake.set()
        return len(rows)

    @property
    def backlog(self) -> int:
        """Events queued and not yet in Redis."""
        return len(self.spool)

    def stats(self) -> PublisherStats:
        """Counters and health (cheap; safe from any thread)."""
        backlog = self.backlog
        first = self._first_queued_at
        return PublisherStats(
            backlog=backlog,
            published=self.published,
            forwarded=self.forwarded,
            duplicates_skipped=self.duplicates_skipped,
            failures=self.failures,
            dropped=self.spool.dropped,
            redis_ok=self.redis_ok,
            last_error=self.last_error,
            oldest_age_s=round(max(0.0, time.time() - first), 1) if backlog and first is not None else 0.0,
        )

    # ------------------------------------------------------------------ forwarding

    def forward_once(self) -> int:
        """Forward one batch (oldest first) and remove it from the spool.

        Returns:
            Events taken from the spool (appended or recognised as already there).

        Raises:
            redis.RedisError / OSError: Redis unreachable; the batch stays queued.
        """
        batch = self.spool.peek(self.batch)
        if not batch:
            return 0
        groups: dict[str, list[SpooledEvent]] = {}
        for ev in batch:
            groups.setdefault(ev.stream, []).append(ev)
        added = 0
        for stream, events in groups.items():
            args: list[Any] = [self.maxlen, self.dedup_ttl_ms, len(events)]
            for ev in events:
                args += [ev.seq, len(ev.fields)]
                for k, v in ev.fields.items():
                    args += [k, v]
            added += int(self._script(keys=[stream, dedup_key(stream, self.spool.producer_id)], args=args))
        if self.wait_replicas > 0:
            acked = int(self.client.wait(self.wait_replicas, self.wait_timeout_ms))
            if acked < self.wait_replicas:
                raise redis.ConnectionError(
                    f"only {acked} of {self.wait_replicas} replica(s) acknowledged within {self.wait_timeout_ms} ms"
                )
        self.spool.remove_through(batch[-1].seq)
        self.forwarded += added
        self.duplicates_skipped += len(batch) - added
        return len(batch)

    def _run(self) -> None:
        while True:
            stopping = self._stop.is_set()
            if stopping and time.monotonic() >= self._flush_deadline:
                return
            if self.backlog == 0:
                self._first_queued_at = None
                with self._idle:
                    self._idle.notify_all()
                if stopping:
                    return
                self._wake.wait(0.5)
                self._wake.clear()
                continue
            wait = self._retry_at - time.monotonic()
            if wait > 0:
                self._wake.wait(min(wait, 0.5))
                self._wake.clear()
                continue
            try:
                self.forward_once()
            except (redis.RedisError, OSError) as e:
                self._failed(e)
                continue
            if not self.redis_ok:
                log.warning("Redis reachable again; replaying %d spooled event(s)", self.backlog)
            self.redis_ok, self.last_error = True, ""
            self._backoff.reset()
            self._retry_at = 0.0
            self._first_queued_at = time.time() if self.backlog else None

    def _failed(self, e: Exception) -> None:
        self.failures += 1
        delay = self._backoff.next_delay()
        self._retry_at = time.monotonic() + delay
        if self.redis_ok:
            log.warning("Redis unreachable (%s); spooling events locally (%d queued)", e, self.backlog)
        else:
            log.debug("forwarding failed again (%s); retry in %.1f s", e, delay)
        self.redis_ok, self.last_error = False, f"{type(e).__name__}: {e}"

    # ------------------------------------------------------------------ lifetime

    def start(self) -> SpoolPublisher:
        """Start the forwarder thread (replays anything already queued). Returns self."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="spool-forwarder", daemon=True)
            self._thread.start()
        return self

    def flush(self, timeout: float) -> bool:
        """Wait until everything queued is in Redis; False when ``timeout`` passed first."""
        self._wake.set()
        deadline = time.monotonic() + timeout
        with self._idle:
            while self.backlog:
                left = deadline - time.monotonic()
                if left <= 0 or self._thread is None or not self._thread.is_alive():
                    return self.backlog == 0
                self._retry_at = min(self._retry_at, time.monotonic() + min(left, 1.0))
                self._idle.wait(min(left, 0.2))
        return True

    def stop(self, flush_timeout: float = 10.0, remove_if_empty: bool = False) -> bool:
        """Forward what is queued (up to ``flush_timeout`` s), stop, close the spool.

        Events that could not be forwarded stay in the spool file and are replayed
        by the next process that opens or adopts it.

        Args:
            flush_timeout: Seconds to keep forwarding (0: stop now).
            remove_if_empty: Delete the spool file when it was drained (adopted orphans).

        Returns:
            True when nothing was left queued.
        """
        self._flush_deadline = time.monotonic() + max(0.0, flush_timeout)
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(max(0.0, flush_timeout) + 5.0)
        left = self.left_at_stop = self.backlog
        if left:
            log.warning("%d event(s) left in spool %s; they are replayed on the next start", left, self.spool.path)
        try:
            self.spool.close(remove_if_empty=remove_if_empty)
        except Exception:  # noqa: BLE001 - the events stay in the file; the lock is released regardless
            log.exception("spool %s: close failed", self.spool.path)
        return left == 0


def adopt(client: redis.Redis, spool: Spool, maxlen: int, timeout: float, **kwargs: Any) -> int:
    """Forward everything in an orphaned spool, then close it (deleting the file when drained).

    Returns:
        Events left in it (0 when it was drained and removed).
    """
    pub = SpoolPublisher(client, spool, maxlen, **kwargs).start()
    pub.stop(flush_timeout=timeout, remove_if_empty=True)
    return pub.left_at_stop


def describe(stats: PublisherStats) -> Mapping[str, object]:
    """Stats as a plain dict (for heartbeats and logs)."""
    return {
        "backlog": stats.backlog,
        "forwarded": stats.forwarded,
        "duplicates_skipped": stats.duplicates_skipped,
        "failures": stats.failures,
        "dropped": stats.dropped,
        "redis_ok": stats.redis_ok,
        "oldest_age_s": stats.oldest_age_s,
    }


__all__ = ["XADD_ONCE", "PublisherStats", "SpoolPublisher", "adopt", "describe"]
