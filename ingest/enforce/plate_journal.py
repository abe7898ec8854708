"""Plate reads in flight, written down so that a crashed worker's reads are asked for again.

The plate reader (:class:`ingest.enforce.plates.PlateWorker`) holds its jobs in memory. A worker
that dies while a read is queued loses it, and the vehicle may never be read again: a car standing
still when the worker restarts is background to a motion detector, and a vehicle restored from the
checkpoint has already been counted as asked. So a watch-listed car whose read was in flight at the
crash would raise no incident. The journal keeps each job's crop in the evidence store and a small
entry in ``rules:plates:<camera_id>`` (:mod:`bus.rulestate`) until the read finishes; a restarted
enforcer replays them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from bus.evidence import EvidenceStore
from bus.rulestate import RuleStateStore
from ingest.enforce.images import encode_jpeg

log = logging.getLogger("ingest.enforce")

#: JPEG quality of a journalled crop (it is read again by OCR: keep it sharp).
JOURNAL_JPEG_QUALITY = 95


@dataclass(frozen=True)
class PlateJob:
    """One plate read asked for: the reader's key, the vehicle it is for, and the crop."""

    key: str
    vehicle_key: str
    image: np.ndarray
    thorough: bool
    first: bool
    #: The ask's number and box height of a watch-list read (None: a violator's read).
    watch_n: int | None = None
    box_h: float = 0.0


class PlateJournal:
    """Writes plate jobs down on submit, crosses them out when done, and replays what is left.

    Args:
        camera_id: The camera whose jobs these are.
        state: Where entries go.
        evidence: Where crops go (content-addressed, with the evidence TTL).

    A journal error never stops a read: it is logged and counted in :attr:`errors`.
    """

    def __init__(self, camera_id: str, state: RuleStateStore, evidence: EvidenceStore) -> None:
        self.camera_id = camera_id
        self.state = state
        self.evidence = evidence
        self.errors = 0

    def write(self, job: PlateJob) -> None:
        """Write a submitted job down (its crop first, so an entry always has its image)."""
        try:
            sha = self.evidence.put(encode_jpeg(job.image, JOURNAL_JPEG_QUALITY))
            entry = {"v": job.vehicle_key, "e": sha, "t": job.thorough, "f": job.first, "h": job.box_h}
            if job.watch_n is not None:
                entry["n"] = job.watch_n
            self.state.put_plate_job(self.camera_id, job.key, entry)
        except Exception as e:  # noqa: BLE001 - the read goes ahead; only a crash before it ends would lose it
            self.errors += 1
            log.warning("camera %s: plate job %s not journalled: %s", self.camera_id, job.key, e)

    def cross_out(self, key: str) -> None:
        """The job finished (read, failed or pushed out of the queue): forget it."""
        try:
            self.state.drop_plate_job(self.camera_id, key)
        except Exception as e:  # noqa: BLE001 - a stale entry is read once more after a restart, no harm
            self.errors += 1
            log.warning("camera %s: plate job %s not crossed out: %s", self.camera_id, key, e)

    def replay(self) -> Iterator[PlateJob]:
        """The jobs a previous worker left unfinished; entries whose crop is gone are crossed out."""
        for key, d in self.state.plate_jobs(self.camera_id).items():
            try:
                raw = self.evidence.get(str(d["e"]))
                img = cv2.imdecode(np.frombuffer(raw, np.uint8), cv2.IMREAD_COLOR) if raw else None
                n = d.get("n")
                job = PlateJob(
                    key,
                    str(d["v"]),
                    img if img is not None else np.zeros((0, 0, 3), np.uint8),
                    bool(d.get("t")),
                    bool(d.get("f")),
                    int(n) if n is not None else None,
                    float(d.get("h") or 0.0),
                )
            except (KeyError, TypeError, ValueError) as e:
                log.warning("camera %s: plate job %s unreadable, dropped: %s", self.camera_id, key, e)
                self.cross_out(key)
                continue
            if job.image.size == 0:
                log.warning("camera %s: plate job %s lost its crop (evidence expired), dropped", self.camera_id, key)
                self.cross_out(key)
                continue
            yield job


__all__ = ["JOURNAL_JPEG_QUALITY", "PlateJob", "PlateJournal"]
