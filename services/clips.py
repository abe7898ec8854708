"""Clips service: ``clip.saved`` / ``recording.segment`` -> SQL, and the recording retention.

``python -m services.clips`` reads both streams in the consumer group ``clips``. Workers write the clip
and segment files straight into the shared blob store (``storage:``, disk or S3) and announce them; this
service records each one (idempotently: one clip per violation/incident, one row per segment key) so the
ticket page, the incident view and the playback page find them. A clip whose file is missing from the
store is counted and skipped, never recorded. Every ``archive.purge_interval_s`` it deletes recording
segments past ``recording.retention_days`` and, while the total is over ``recording.retention_gb``, the
oldest ones (blob first, then its row).
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from collections.abc import Callable, Sequence

from archive import Archive
from bus.schema import stream_of
from bus.streams import EventBus, Message
from config.settings import AppConfig
from core.clock import now_ms
from core.types import ClipSaved, RecordingSegment
from services.common import Periodic, consume, consumer_name, service_archive, service_main

log = logging.getLogger("services.clips")

GROUP = "clips"
STREAMS = (stream_of(ClipSaved), stream_of(RecordingSegment))
DAY_MS = 86_400_000


class ClipsService:
    """Records clips and segments; applies the recording retention.

    Attributes:
        clips: Clips recorded by this process.
        segments: Segments recorded.
        missing: Announced files not found in the blob store (skipped).
        duplicates: Announcements already recorded.
        purged: Segments deleted by the retention.
    """

    def __init__(self, cfg: AppConfig, bus: EventBus, archive: Archive, clock: Callable[[], int] = now_ms) -> None:
        self.cfg = cfg
        self.bus = bus
        self.archive = archive
        self.clock = clock
        self.clips = 0
        self.segments = 0
        self.missing = 0
        self.duplicates = 0
        self.purged = 0
        self._purge_timer = Periodic(cfg.archive.purge_interval_s, self.purge)

    def handle_one(self, obj: object) -> bool:
        if not isinstance(obj, ClipSaved | RecordingSegment):
            return False
        if self.archive.store.size(obj.key) != obj.size:
            self.missing += 1
            log.warning(
                "%s %s announced but not in the blob store (or a different size): skipped", type(obj).__name__, obj.key
            )
            return False
        added = self.archive.clips.add_clip(obj) if isinstance(obj, ClipSaved) else self.archive.clips.add_segment(obj)
        if not added:
            self.duplicates += 1
        elif isinstance(obj, ClipSaved):
            self.clips += 1
            log.info("clip of %s %s: %s (%.1f s)", obj.owner_kind, obj.owner_id, obj.key, obj.duration_s)
        else:
            self.segments += 1
        return added

    def handle(self, messages: Sequence[Message]) -> None:
        done: list[Message] = []
        try:
            for m in messages:
                self.handle_one(m.envelope.obj)
                done.append(m)
        finally:
            if done:
                self.bus.ack(GROUP, done)

    def purge(self) -> int:
        """Delete the recording segments past retention now (oldest first); returns how many."""
        rc = self.cfg.recording
        older = self.clock() - int(rc.retention_days * DAY_MS) if rc.retention_days > 0 else None
        cap = int(rc.retention_gb * 1024**3) if rc.retention_gb > 0 else None
        if older is None and cap is None:
            return 0
        expired = self.archive.clips.expired_segments(older, cap)
        done = []
        for seg in expired:
            try:
                self.archive.store.delete(seg.key)
            except Exception as e:  # noqa: BLE001 - kept for the next round; the row stays so it is retried
                log.warning("recording segment %s not deleted: %s", seg.key, e)
                continue
            done.append(seg.key)
        n = self.archive.clips.drop_segments(done)
        self.purged += n
        if n:
            log.info("retention: %d recording segment(s) deleted", n)
        return n

    def tick(self) -> None:
        self._purge_timer()


def run(cfg: AppConfig, bus: EventBus, stop: threading.Event, args: argparse.Namespace | None = None) -> None:
    archive, url = service_archive(cfg, args)
    svc = ClipsService(cfg, bus, archive)
    consumer = consumer_name(args)
    log.info("clips: %s -> %s (store: %s)", ", ".join(STREAMS), url.split("@")[-1], cfg.storage.backend)
    try:
        consume(bus, GROUP, consumer, list(STREAMS), svc.handle, stop, tick=svc.tick)
    finally:
        archive.close()


def main(argv: Sequence[str] | None = None) -> int:
    return service_main(argv, "python -m services.clips", __doc__.split("\n\n")[0], run)


if __name__ == "__main__":
    sys.exit(main())
