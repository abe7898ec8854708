"""The Redis fan-in of the websocket push server: a thread tailing the event streams.

:class:`StreamTail` follows :data:`STREAMS` with ``XREAD BLOCK`` (through ``bus/``) from
each stream's newest entry on and hands every decoded entry to a callback; the server
(:mod:`dashboard.live`) passes it on to its event loop.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

from bus.embedded import RedisClient
from bus.schema import SchemaError, decode, stream_of
from core.backoff import Backoff
from core.types import (
    CameraStatus,
    ETicket,
    Incident,
    IncidentUpdate,
    SegmentDensity,
    TicketUpdate,
    TrafficUpdate,
    WardenAlert,
)

log = logging.getLogger("dashboard.live")

#: Streams tailed, in the order they are read.
STREAMS: tuple[str, ...] = (
    stream_of(WardenAlert),
    stream_of(Incident),
    stream_of(IncidentUpdate),
    stream_of(ETicket),
    stream_of(TicketUpdate),
    stream_of(TrafficUpdate),
    stream_of(SegmentDensity),
    stream_of(CameraStatus),
)


class StreamTail(threading.Thread):
    """Reads new entries of :data:`STREAMS` with ``XREAD BLOCK`` and passes them on.

    Starts at each stream's newest entry (history is the pages' job), keeps its
    position across Redis outages (retrying with backoff), and skips malformed entries.

    Args:
        client: Redis client (its socket timeout must exceed ``block_ms``).
        on_entry: Called with ``(stream, msg_id, obj)`` in this thread.
        on_skip: Called for each entry that does not decode.
        streams: Streams to follow.
        block_ms: XREAD block time.
    """

    def __init__(
        self,
        client: RedisClient,
        on_entry: Callable[[str, str, object], None],
        on_skip: Callable[[], None],
        streams: Sequence[str] = STREAMS,
        block_ms: int = 1000,
    ) -> None:
        super().__init__(name="stream-tail", daemon=True)
        self.client = client
        self.on_entry = on_entry
        self.on_skip = on_skip
        self.streams = list(streams)
        self.block_ms = block_ms
        self.stop_event = threading.Event()
        self.ids: dict[str, str] | None = None
        self.errors = 0

    def _start_ids(self) -> dict[str, str]:
        pipe = self.client.pipeline(transaction=False)
        for s in self.streams:
            pipe.xrevrange(s, "+", "-", count=1)
        out = {}
        for s, res in zip(self.streams, pipe.execute(), strict=True):
            mid = res[0][0] if res else b"0-0"
            out[s] = mid.decode() if isinstance(mid, bytes) else str(mid)
        return out

    def run(self) -> None:
        backoff = Backoff(0.2, 5.0, jitter=0.0)
        while not self.stop_event.is_set():
            try:
                if self.ids is None:
                    self.ids = self._start_ids()
                ids: dict[Any, Any] = dict(self.ids)
                resp: Any = self.client.xread(ids, count=500, block=self.block_ms)
                backoff.reset()
            except Exception as e:  # noqa: BLE001 - Redis down or restarting: wait and retry from where we were
                self.errors += 1
                delay = backoff.next_delay()
                log.warning("reading streams failed (%s); retrying in %.1f s", e, delay)
                self.stop_event.wait(delay)
                continue
            for stream_raw, entries in resp or []:
                stream = stream_raw.decode() if isinstance(stream_raw, bytes) else str(stream_raw)
                for mid_raw, fields in entries:
                    mid = mid_raw.decode() if isinstance(mid_raw, bytes) else str(mid_raw)
                    self.ids[stream] = mid
                    try:
                        env = decode(fields)
                    except SchemaError:
                        self.on_skip()
                        continue
                    self.on_entry(stream, mid, env.obj)

    def stop(self) -> None:
        self.stop_event.set()
