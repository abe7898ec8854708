"""Sightings service: ``plate.read`` -> plate sightings in SQL, crops archived, old sightings purged.

``python -m services.sightings`` reads ``plate.read`` in the consumer group ``sightings``. For each
voted plate reading it copies the plate crop from Redis into the archive's evidence store (its
SHA-256 checked) and writes one ``plate_sightings`` row (plate, camera, time, confidence, votes,
track id, crop), then acknowledges the message. Idempotent: a row is keyed by the message's event
id, so a replay or a retry after a crash between commit and ack stores nothing twice.

A crop that is missing from Redis (expired), damaged (hash mismatch) or not a JPEG/PNG is
counted (``crops_unreadable``) and the sighting is stored without it: never fatal.

Every ``archive.purge_interval_s`` the service deletes sightings older than
``archive.sightings_retention_days`` (0 = keep forever), with the crops nothing else uses.
Plates are personal data: this service logs counts, never a plate.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from collections.abc import Callable, Sequence

from archive import Archive
from bus.evidence import EvidenceStore
from bus.schema import stream_of
from bus.streams import EventBus, Message
from config.settings import AppConfig
from core.clock import now_ms
from core.types import PlateRead
from services.common import Periodic, consume, consumer_name, service_archive, service_main

log = logging.getLogger("services.sightings")

GROUP = "sightings"
STREAM = stream_of(PlateRead)
DAY_MS = 86_400_000
#: Leading bytes of the image formats a crop may be in.
IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")


def retention_cutoff_ms(now: int, days: float) -> int | None:
    """Sightings older than this are purged; None when ``days`` is 0 (keep forever)."""
    return None if days <= 0 else int(now - days * DAY_MS)


class SightingsService:
    """Archives plate sightings and purges expired ones.

    Args:
        cfg: Configuration (``archive.sightings_retention_days``, ``archive.purge_interval_s``).
        bus: Event bus.
        evidence: Evidence blobs in Redis (the crops).
        archive: SQL archive.
        clock: Wall clock, ms.

    Attributes:
        archived: Sightings stored by this process.
        duplicates: Messages whose sighting was already stored (replays).
        crops_unreadable: Crops missing, damaged or not an image (sighting stored without one).
        purged: Sightings deleted by retention.
    """

    def __init__(
        self,
        cfg: AppConfig,
        bus: EventBus,
        evidence: EvidenceStore,
        archive: Archive,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.cfg = cfg
        self.bus = bus
        self.evidence = evidence
        self.archive = archive
        self.clock = clock
        self.archived = 0
        self.duplicates = 0
        self.crops_unreadable = 0
        self.purged = 0
        self._purge_timer = Periodic(cfg.archive.purge_interval_s, self.purge)

    def _crop(self, sha: str | None) -> str | None:
        """Copy the crop into the archive; its id, or None (counted) when it cannot be read."""
        if sha is None:
            return None
        if self.archive.has_evidence(sha):
            return sha
        data = self.evidence.get(sha)
        if data is None or not data.startswith(IMAGE_MAGIC):
            self.crops_unreadable += 1
            log.warning(
                "plate crop %s... unreadable (%d so far): sighting stored without it", sha[:12], self.crops_unreadable
            )
            return None
        mime = "image/png" if data.startswith(IMAGE_MAGIC[1]) else "image/jpeg"
        return self.archive.store_evidence(data, sha, mime)

    def handle_one(self, read: PlateRead, event_id: str) -> bool:
        """Archive one sighting; True when it is new."""
        if self.archive.sightings.add(read, event_id, self._crop(read.crop)):
            self.archived += 1
            return True
        self.duplicates += 1
        return False

    def handle(self, messages: Sequence[Message]) -> None:
        done: list[Message] = []
        try:
            for m in messages:
                if isinstance(m.envelope.obj, PlateRead):
                    self.handle_one(m.envelope.obj, m.envelope.event_id)
                done.append(m)
        finally:
            if done:
                self.bus.ack(GROUP, done)

    def purge(self) -> int:
        """Delete the sightings past retention now; returns how many."""
        cutoff = retention_cutoff_ms(self.clock(), self.cfg.archive.sightings_retention_days)
        if cutoff is None:
            return 0
        rows, crops = self.archive.sightings.purge(cutoff)
        self.purged += rows
        if rows:
            log.info(
                "retention: %d sighting(s) and %d crop(s) older than %.0f day(s) purged",
                rows,
                crops,
                self.cfg.archive.sightings_retention_days,
            )
        return rows

    def tick(self) -> None:
        """Purge every ``archive.purge_interval_s``."""
        self._purge_timer()


def run(cfg: AppConfig, bus: EventBus, stop: threading.Event, args: argparse.Namespace | None = None) -> None:
    archive, url = service_archive(cfg, args)
    svc = SightingsService(cfg, bus, EvidenceStore(bus.client, cfg.evidence.redis_ttl_s), archive)
    consumer = consumer_name(args)
    log.info(
        "sightings: %s -> %s (retention %s)",
        STREAM,
        url.split("@")[-1],
        f"{cfg.archive.sightings_retention_days:g} days" if cfg.archive.sightings_retention_days else "forever",
    )
    try:
        consume(bus, GROUP, consumer, [STREAM], svc.handle, stop, tick=svc.tick)
    finally:
        archive.close()


def main(argv: Sequence[str] | None = None) -> int:
    return service_main(argv, "python -m services.sightings", __doc__.split("\n\n")[0], run)


if __name__ == "__main__":
    sys.exit(main())
