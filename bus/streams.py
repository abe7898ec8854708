"""Event streams on Redis: publish, consumer groups, acknowledgement, reclaim.

One stream per event type (:data:`bus.schema.STREAM_OF`), every ``XADD`` capped
with ``MAXLEN ~``. Consumers follow the at-least-once pattern::

    bus = EventBus(client)
    bus.ensure_group("traffic.density", "aggregator")
    while running:
        for msg in bus.read_group("aggregator", "agg-1", ["traffic.density"]):
            handle(msg.obj)                      # idempotent: msg.event_id is stable
            bus.ack("aggregator", [msg])         # only after it is durably handled
        bus.reclaim("traffic.density", "aggregator", "agg-1", min_idle_ms=30_000)  # now and then

* A restarted consumer (same consumer name, new :class:`EventBus`) first gets
  back the messages it had read but not acknowledged (its pending entries),
  then new ones.
* Messages another consumer left unacknowledged for ``min_idle_ms`` are taken
  over with :meth:`EventBus.reclaim` (``XAUTOCLAIM``).
* Malformed entries (bad schema, unknown type, future version, or deleted by
  the MAXLEN cap before they were handled) are copied to ``<stream>.dead``,
  acknowledged and counted in :attr:`EventBus.dead_lettered`; they never reach
  the handler and never crash the consumer.

"Something changed" notifications use Redis pub/sub (:func:`notify`,
:func:`subscribe`): fire-and-forget hints for live views, not a delivery
guarantee (the streams and :mod:`bus.store` hold the data).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import redis

from bus.deadletter import DeadLetter, dead_letter_body, parse_dead_letter
from bus.keys import dead_stream
from bus.pubsub import Notification, Subscription, notification_text, notify, subscribe
from bus.redis_client import is_cluster
from bus.schema import SchemaError, decode, encode, stream_of
from bus.stream_entries import (
    DELETED_REASON,
    DeadEntry,
    Message,
    RawEntry,
    as_text,
    decode_entries,
    normalise_xread,
)
from core.clock import now_ms

__all__ = [
    "DeadLetter",
    "EventBus",
    "Message",
    "Notification",
    "Subscription",
    "notification_text",
    "notify",
    "subscribe",
]

log = logging.getLogger(__name__)

_MAX_RECLAIM_ROUNDS = 1000


class EventBus:
    """Publish and consume events on Redis streams.

    Not thread-safe in its bookkeeping (counters, pending-recovery cursors): use
    one instance per consuming thread. The redis client itself may be shared.

    Attributes:
        client: The redis client (bytes or str responses both work).
        maxlen: Approximate cap on every stream this bus writes (dead-letter streams included).
        dead_lettered: Entries moved to dead-letter streams, by source stream.
        skipped: Malformed entries skipped by :meth:`recent`/:meth:`history`, by stream.
    """

    def __init__(self, client: redis.Redis, maxlen: int = 100_000) -> None:
        if maxlen < 1:
            raise ValueError("maxlen must be >= 1")
        self.client = client
        self.maxlen = maxlen
        self.dead_lettered: Counter[str] = Counter()
        self.skipped: Counter[str] = Counter()
        # (group, consumer, stream) -> id after which this consumer's own pending entries are still to be re-read.
        self._recovery: dict[tuple[str, str, str], str] = {}
        self._recovered: set[tuple[str, str, str]] = set()

    # ------------------------------------------------------------------ publish

    def publish(self, obj: object) -> str:
        """Append one event to its stream (``XADD MAXLEN ~``).

        Returns:
            The Redis entry id.

        Raises:
            SchemaError: unregistered type or unsendable value (nothing is written).
        """
        fields: dict[Any, Any] = encode(obj)
        raw: Any = self.client.xadd(stream_of(obj), fields, maxlen=self.maxlen, approximate=True)
        return as_text(raw)

    def publish_many(self, objs: Iterable[object]) -> list[str]:
        """Append many events in one pipelined round trip.

        All events are encoded first, so a :class:`SchemaError` aborts before anything is written.

        Returns:
            Entry ids, in the order of ``objs``.
        """
        encoded: list[tuple[str, dict[Any, Any]]] = [(stream_of(o), encode(o)) for o in objs]
        if not encoded:
            return []
        pipe = self.client.pipeline(transaction=False)
        for stream, fields in encoded:
            pipe.xadd(stream, fields, maxlen=self.maxlen, approximate=True)
        return [as_text(r) for r in pipe.execute()]

    # ------------------------------------------------------------------ groups

    def ensure_group(self, stream: str, group: str, start: str = "$") -> None:
        """Create a consumer group (and the stream) unless it exists.

        Args:
            stream: Stream name.
            group: Group name (one per consuming service).
            start: ``"$"`` = only entries added from now on; ``"0"`` = the whole stream.
        """
        try:
            self.client.xgroup_create(stream, group, id=start, mkstream=True)
        except redis.ResponseError as e:
            if "BUSYGROUP" not in str(e):
                raise

    def read_group(
        self,
        group: str,
        consumer: str,
        streams: Sequence[str],
        count: int = 100,
        block_ms: int = 1000,
        *,
        recover_pending: bool = True,
    ) -> list[Message]:
        """Read messages for ``consumer`` of ``group`` (``XREADGROUP``).

        With ``recover_pending`` (default), the first calls of this instance for a
        (group, consumer, stream) return that consumer's own pending entries,
        i.e. messages delivered to it earlier (e.g. before a restart) and never
        acknowledged, oldest first and without blocking; once they are all
        re-delivered it reads new messages (``>``), blocking up to ``block_ms``.

        A group that does not exist (never created, or lost with its stream) is
        created from ``"0"``; call :meth:`ensure_group` first to choose the start.

        Args:
            group: Consumer group.
            consumer: Consumer name; keep it stable across restarts of the same worker.
            streams: Streams to read.
            count: Max entries per stream.
            block_ms: Max wait for new entries; 0 or less does not block
                (unlike Redis's ``BLOCK 0``, which waits forever).
            recover_pending: Re-deliver this consumer's unacknowledged entries first.

        Returns:
            Decoded messages; malformed ones are dead-lettered instead.

        Raises:
            redis.ConnectionError: Redis is unreachable.
        """
        streams = list(dict.fromkeys(streams))
        if not streams:
            return []
        if recover_pending:
            msgs = self._read_own_pending(group, consumer, streams, count)
            if msgs is not None:
                return msgs
        resp = self._xreadgroup(group, consumer, {s: ">" for s in streams}, count, block_ms if block_ms > 0 else None)
        return self._handle_entries(group, consumer, normalise_xread(resp))

    def _read_own_pending(self, group: str, consumer: str, streams: list[str], count: int) -> list[Message] | None:
        """Messages from this consumer's pending list, or None when it is drained for all streams."""
        while True:
            todo = {
                s: self._recovery.get((group, consumer, s), "0")
                for s in streams
                if (group, consumer, s) not in self._recovered
            }
            if not todo:
                return None
            got = normalise_xread(self._xreadgroup(group, consumer, todo, count, None))
            returned = {s for s, entries in got if entries}
            for s in todo:
                if s not in returned:
                    self._recovered.add((group, consumer, s))
                    self._recovery.pop((group, consumer, s), None)
            for s, entries in got:
                if entries:
                    self._recovery[(group, consumer, s)] = as_text(entries[-1][0])
            msgs = self._handle_entries(group, consumer, got)
            if msgs:
                return msgs

    def _xreadgroup(self, group: str, consumer: str, ids: Mapping[str, str], count: int, block: int | None) -> Any:
        wanted: dict[Any, Any] = dict(ids)
        try:
            return self.client.xreadgroup(group, consumer, wanted, count=count, block=block)
        except redis.ResponseError as e:
            if "NOGROUP" not in str(e):
                raise
            log.warning("consumer group %r missing on %s; creating it from the start", group, ", ".join(ids))
            for s in ids:
                self.ensure_group(s, group, "0")
            return self.client.xreadgroup(group, consumer, wanted, count=count, block=block)

    def ack(self, group: str, messages: Sequence[Message]) -> None:
        """Acknowledge handled messages (``XACK``), one round trip."""
        by_stream: dict[str, list[str]] = {}
        for m in messages:
            by_stream.setdefault(m.stream, []).append(m.msg_id)
        if not by_stream:
            return
        pipe = self.client.pipeline(transaction=False)
        for stream, ids in by_stream.items():
            pipe.xack(stream, group, *ids)
        pipe.execute()

    def reclaim(
        self, stream: str, group: str, consumer: str, min_idle_ms: int = 30_000, count: int = 100
    ) -> list[Message]:
        """Take over messages other consumers left unacknowledged (``XAUTOCLAIM``).

        Entries pending for at least ``min_idle_ms`` (in any consumer of the
        group) are re-assigned to ``consumer`` and returned for handling; ack
        them as usual. Pending entries whose stream entry is gone are
        dead-lettered and acknowledged.

        Args:
            stream: Stream name.
            group: Consumer group.
            consumer: The consumer taking the messages over.
            min_idle_ms: Only entries idle (not delivered/acked) at least this long.
            count: Max messages to claim.

        Returns:
            Claimed, decoded messages, oldest first.
        """
        cursor = "0-0"
        claimed: list[Message] = []
        saw_deleted_without_id = False
        for _ in range(_MAX_RECLAIM_ROUNDS):
            want = count - len(claimed)
            if want <= 0:
                break
            try:
                resp: Any = self.client.xautoclaim(stream, group, consumer, min_idle_ms, start_id=cursor, count=want)
            except redis.ResponseError as e:
                if "NOGROUP" in str(e):
                    self.ensure_group(stream, group, "0")
                    return claimed
                raise
            cursor = as_text(resp[0])
            entries = [(e[0], e[1]) for e in resp[1] if e[0] is not None]
            saw_deleted_without_id |= any(e[0] is None for e in resp[1])  # Redis 6.2 returns nil for those
            deleted_ids = [as_text(i) for i in resp[2]] if len(resp) > 2 else []  # Redis 7 drops them from the PEL
            claimed += self._handle_entries(group, consumer, [(stream, entries)])
            if deleted_ids:
                self._dead_letter(group, consumer, [(stream, i, {}, DELETED_REASON) for i in deleted_ids])
            if cursor in ("0-0", "0"):
                break
        if saw_deleted_without_id:
            self._purge_deleted_pending(stream, group, consumer)
        return claimed

    def _purge_deleted_pending(self, stream: str, group: str, consumer: str) -> None:
        """Dead-letter + ack ``consumer``'s pending entries whose stream entry is gone (Redis 6.2)."""
        cursor = "0"
        for _ in range(_MAX_RECLAIM_ROUNDS):
            got = normalise_xread(self._xreadgroup(group, consumer, {stream: cursor}, 1000, None))
            entries = got[0][1] if got else []
            if not entries:
                return
            gone: list[DeadEntry] = [(stream, as_text(i), {}, DELETED_REASON) for i, f in entries if not f]
            if gone:
                self._dead_letter(group, consumer, gone)
            cursor = as_text(entries[-1][0])

    def pending_count(self, stream: str, group: str) -> int:
        """Entries delivered to ``group`` but not yet acknowledged (0 when the group is missing)."""
        try:
            info: Any = self.client.xpending(stream, group)
        except redis.ResponseError as e:
            if "NOGROUP" in str(e):
                return 0
            raise
        return int(info["pending"])

    # ------------------------------------------------------------------ entries

    def _handle_entries(
        self, group: str, consumer: str, got: Sequence[tuple[str, Sequence[RawEntry]]]
    ) -> list[Message]:
        """Decode entries read by ``consumer`` of ``group``; dead-letter those that cannot be decoded."""
        msgs, dead = decode_entries(got)
        if dead:
            self._dead_letter(group, consumer, dead)
        return msgs

    def _dead_letter(self, group: str, consumer: str, dead: Sequence[DeadEntry]) -> None:
        """Copy bad entries to ``<stream>.dead`` and ack them, atomically per batch (one round trip on a Cluster)."""
        now = str(now_ms())
        pipe = self.client.pipeline(transaction=not is_cluster(self.client))  # two streams: two slots on a Cluster
        for stream, msg_id, fields, reason in dead:
            body = dead_letter_body(fields, stream, msg_id, reason, group, consumer, now)
            pipe.xadd(dead_stream(stream), body, maxlen=self.maxlen, approximate=True)
            if group:
                pipe.xack(stream, group, msg_id)
            log.warning("dead-lettered %s %s: %s", stream, msg_id, reason)
            self.dead_lettered[stream] += 1
        pipe.execute()

    def dead_letters(self, stream: str, count: int = 50) -> list[DeadLetter]:
        """Newest entries of ``stream``'s dead-letter stream."""
        raw: Any = self.client.xrevrange(dead_stream(stream), "+", "-", count=count)
        return [parse_dead_letter(msg_id, fields, stream) for msg_id, fields in raw]

    def _decode_range(self, stream: str, raw: Any) -> list[Message]:
        out = []
        for msg_id, fields in raw or []:
            try:
                out.append(Message(stream=stream, msg_id=as_text(msg_id), envelope=decode(fields or {})))
            except SchemaError:
                self.skipped[stream] += 1
        return out

    def recent(self, stream: str, count: int = 50) -> list[Message]:
        """The newest ``count`` entries, newest first (``XREVRANGE``); malformed ones skipped and counted."""
        return self._decode_range(stream, self.client.xrevrange(stream, "+", "-", count=count))

    def history(
        self, stream: str, start_ms: int | None = None, end_ms: int | None = None, count: int = 1000
    ) -> list[Message]:
        """Entries added between two times (by their stream id, i.e. arrival time), oldest first.

        Args:
            stream: Stream name.
            start_ms: Inclusive lower bound, epoch ms; None = from the oldest.
            end_ms: Inclusive upper bound, epoch ms; None = up to the newest.
            count: Max entries.
        """
        lo = "-" if start_ms is None else f"{int(start_ms)}-0"
        hi = "+" if end_ms is None else f"{int(end_ms)}-18446744073709551615"
        return self._decode_range(stream, self.client.xrange(stream, lo, hi, count=count))

    def length(self, stream: str) -> int:
        """Number of entries in a stream (0 when missing)."""
        return int(self.client.xlen(stream))

    def lengths(self, streams: Sequence[str]) -> list[tuple[int, int]]:
        """``(entries, dead letters)`` of each stream, in order (0 when missing); one round trip."""
        pipe = self.client.pipeline(transaction=False)
        for s in streams:
            pipe.xlen(s)
            pipe.xlen(dead_stream(s))
        lens = pipe.execute()
        return [(int(lens[2 * i]), int(lens[2 * i + 1])) for i in range(len(streams))]

    # ------------------------------------------------------------------ notifications

    def notify(self, channel: str, payload: Mapping[str, Any] | str) -> int:
        """See :func:`notify`."""
        return notify(self.client, channel, payload)

    def subscribe(self, channels: Sequence[str] = (), patterns: Sequence[str] = ()) -> Subscription:
        """See :func:`subscribe`."""
        return subscribe(self.client, channels, patterns)
