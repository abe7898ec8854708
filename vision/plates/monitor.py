"""The per-camera plate monitor: reads tracked vehicles' plates, votes per track, checks the watchlist."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from core.anpr import TrackPlateVoter, Watchlist, WatchlistHit, watchlist_incident
from core.types import Box, Frame, Incident, PlateRead, Track
from vision.plates.candidates import PlateCandidate
from vision.plates.reader import PlateReader
from vision.plates.rectify import _clip_region

log = logging.getLogger("vision.plates")  # one logger for every plates module, as before the split


@dataclass(frozen=True)
class PlateHit:
    """A watch-listed plate seen by a camera.

    Attributes:
        incident: The incident to publish (its ``evidence`` are the SHA-256 ids of the two JPEGs).
        hit: The watchlist match.
        read: The voted reading that matched.
        crop_jpeg: JPEG of the plate region (evidence).
        frame_jpeg: JPEG of the whole frame (evidence).
    """

    incident: Incident
    hit: WatchlistHit
    read: PlateRead
    crop_jpeg: bytes = field(repr=False)
    frame_jpeg: bytes = field(repr=False)

    @property
    def evidence(self) -> dict[str, bytes]:
        """Evidence files by id (SHA-256 hex of the bytes), to store before publishing."""
        return {
            hashlib.sha256(self.crop_jpeg).hexdigest(): self.crop_jpeg,
            hashlib.sha256(self.frame_jpeg).hexdigest(): self.frame_jpeg,
        }


@dataclass(frozen=True)
class PlateUpdate:
    """What one frame changed: new per-track readings (stream ``plate.read``) and watchlist hits."""

    reads: tuple[PlateRead, ...] = ()
    hits: tuple[PlateHit, ...] = ()


@dataclass
class _TrackEvidence:
    text: str = ""
    confidence: float = -1.0
    frame: np.ndarray | None = None
    box: Box = (0.0, 0.0, 0.0, 0.0)


WatchlistSource = Watchlist | Callable[[], Watchlist]


class PlateMonitor:
    """Per camera: reads the plates of tracked vehicles, votes per track, checks the watchlist.

    Call :meth:`process` with each analysed frame and its tracks. Plates are read on
    tracks whose box is large enough, until a track has ``max_reads`` readings; a
    track's reading is reported once ``votes`` readings agree (and again if the
    vote changes). A watch-listed reading raises one incident per vehicle: per track,
    and per listed plate within ``hit_cooldown_ms`` on this camera (a tracker that
    loses and re-finds a vehicle does not raise a second one).

    Args:
        camera_id: Camera id.
        reader: Plate reader (default: a new :class:`PlateReader` on the shared engine).
        watchlist: A watchlist, or a callable returning the current one (e.g. a
            :class:`bus.watchlist.WatchlistCache`'s ``get``); None checks nothing.
        segment_id: Road segment of the camera (for incidents).
        location: (lat, lon) of the camera (for incidents).
        labels: Track labels that carry plates.
        min_box_px: Narrowest vehicle box (px) worth reading.
        votes: Agreeing readings needed before a track's plate is reported.
        max_reads: Readings per track after which it is no longer read.
        hit_cooldown_ms: Time during which the same listed plate raises no second incident.
        jpeg_quality: Quality of the evidence JPEGs.
    """

    def __init__(
        self,
        camera_id: str,
        reader: PlateReader | None = None,
        watchlist: WatchlistSource | None = None,
        *,
        segment_id: str | None = None,
        location: tuple[float, float] | None = None,
        labels: Sequence[str] = ("car", "bus", "truck", "van", "motorcycle", "rickshaw"),
        min_box_px: float = 50.0,
        votes: int = 2,
        max_reads: int = 6,
        hit_cooldown_ms: int = 300_000,
        jpeg_quality: int = 85,
    ) -> None:
        self.camera_id = camera_id
        self.reader = reader if reader is not None else PlateReader()
        self._watchlist = watchlist
        self.segment_id = segment_id
        self.location = location
        self.labels = frozenset(labels)
        self.min_box_px = min_box_px
        self.max_reads = max_reads
        self.hit_cooldown_ms = hit_cooldown_ms
        self.jpeg_quality = jpeg_quality
        self.voter = TrackPlateVoter(min_votes=votes)
        self._evidence: dict[int, dict[str, _TrackEvidence]] = {}
        self._hit_tracks: set[tuple[int, str]] = set()
        self._last_hit_ms: dict[str, int] = {}
        self.frames_read = 0

    def watchlist(self) -> Watchlist | None:
        """The watchlist in force now."""
        wl = self._watchlist
        return wl() if callable(wl) else wl

    def process(self, frame: Frame, tracks: Sequence[Track]) -> PlateUpdate:
        """Read, vote and match the plates of one frame's tracks."""
        self._forget(frame.ts_ms, {t.track_id for t in tracks})
        todo = [
            t
            for t in tracks
            if t.label in self.labels and t.box[2] >= self.min_box_px and self.voter.votes(t.track_id) < self.max_reads
        ]
        if not todo:
            return PlateUpdate()
        self.frames_read += 1
        results = self.reader.read_boxes(frame.image, [t.box for t in todo], top=1, min_box_px=self.min_box_px)
        reads: list[PlateRead] = []
        hits: list[PlateHit] = []
        for track, cands in zip(todo, results, strict=True):
            if not cands:
                continue
            best = cands[0]
            tid = track.track_id
            self.voter.add(tid, best.text, best.confidence, frame.ts_ms, best.box)
            self._keep_evidence(tid, best, frame.image)
            voted = self.voter.best(tid, self.camera_id)
            if voted is None or not self.voter.mark_reported(tid, voted.text):
                continue
            reads.append(voted)
            log.debug("camera %s track %d plate %s (%.2f)", self.camera_id, tid, voted.text, voted.confidence)
            hit = self._check(voted)
            if hit is not None:
                hits.append(hit)
        return PlateUpdate(tuple(reads), tuple(hits))

    def _keep_evidence(self, tid: int, cand: PlateCandidate, image: np.ndarray) -> None:
        """Remember the frame of the most confident reading of each text (3 texts per track)."""
        per_text = self._evidence.setdefault(tid, {})
        ev = per_text.get(cand.text)
        if ev is None or cand.confidence > ev.confidence:
            per_text[cand.text] = _TrackEvidence(cand.text, cand.confidence, image, cand.box)
        if len(per_text) > 3:
            worst = min(per_text.values(), key=lambda e: e.confidence)
            del per_text[worst.text]

    def _check(self, read: PlateRead) -> PlateHit | None:
        wl = self.watchlist()
        if wl is None or len(wl) == 0:
            return None
        match = wl.match(read.text, read.ts_ms)
        if match is None:
            return None
        listed = match.entry.plate
        key = (read.track_id, listed)
        last = self._last_hit_ms.get(listed)
        if key in self._hit_tracks or (last is not None and read.ts_ms - last < self.hit_cooldown_ms):
            self._hit_tracks.add(key)
            return None
        self._hit_tracks.add(key)
        self._last_hit_ms[listed] = read.ts_ms
        ev = self._evidence.get(read.track_id, {}).get(read.text)
        image = ev.frame if ev is not None else None
        crop_jpeg, frame_jpeg = _evidence_jpegs(image, ev.box if ev is not None else read.box, self.jpeg_quality)
        evidence = (hashlib.sha256(crop_jpeg).hexdigest(), hashlib.sha256(frame_jpeg).hexdigest())
        incident = watchlist_incident(match, read, self.segment_id, self.location, evidence)
        log.info(
            "camera %s: watchlist %s (incident %s)",
            self.camera_id,
            "hit" if match.exact else "possible hit",
            incident.incident_id,
        )
        return PlateHit(incident, match, read, crop_jpeg, frame_jpeg)

    def _forget(self, now_ms: int, live: set[int]) -> None:
        for tid in self.voter.prune(now_ms):
            self._evidence.pop(tid, None)
        for tid in [t for t in self._evidence if t not in live and t not in self.voter.tracks()]:
            del self._evidence[tid]


def _evidence_jpegs(image: np.ndarray | None, box: Box, quality: int) -> tuple[bytes, bytes]:
    """JPEGs of the plate region (with some context) and of the whole frame."""
    if image is None:
        blank = np.zeros((8, 8, 3), np.uint8)
        ok, buf = cv2.imencode(".jpg", blank)
        return bytes(buf), bytes(buf)
    region = _clip_region(box, image.shape, margin=0.6) or (0, 0, image.shape[1], image.shape[0])
    x0, y0, x1, y1 = region
    params = [cv2.IMWRITE_JPEG_QUALITY, int(quality)]
    ok1, crop = cv2.imencode(".jpg", image[y0:y1, x0:x1], params)
    ok2, full = cv2.imencode(".jpg", image, params)
    if not (ok1 and ok2):  # pragma: no cover - OpenCV encodes any uint8 image
        raise RuntimeError("cannot encode evidence JPEG")
    return bytes(crop), bytes(full)
