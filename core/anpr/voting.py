"""Per-track voting over the plate readings of several frames (pure).

Plates are personal data: this module never logs them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.anpr.text import hamming, normalise_plate_text
from core.types import Box, PlateRead


@dataclass(frozen=True)
class PlateObservation:
    """One frame's best plate reading for a track (input of :class:`TrackPlateVoter`)."""

    text: str
    confidence: float
    ts_ms: int
    box: Box


@dataclass
class _TrackVotes:
    observations: list[PlateObservation] = field(default_factory=list)
    last_ts_ms: int = 0
    reported: str | None = None


class TrackPlateVoter:
    """Per-track voting over plate readings from several frames.

    Each track collects the readings of its frames; :meth:`best` returns the text
    with the most support, where a reading supports its own text with its confidence
    and a same-length text one character off with a quarter of it (OCR slips on one
    frame). Confidence is the winner's share of all support, times the mean
    confidence of the readings that agreed exactly.

    Args:
        min_votes: Readings needed before :meth:`best` answers.
        min_confidence: Readings below this are ignored.
        max_observations: Readings kept per track (oldest dropped).
        stale_ms: Tracks silent for this long are dropped by :meth:`prune`.
    """

    def __init__(
        self, min_votes: int = 2, min_confidence: float = 0.3, max_observations: int = 30, stale_ms: int = 10_000
    ) -> None:
        if min_votes < 1:
            raise ValueError("min_votes must be >= 1")
        self.min_votes = min_votes
        self.min_confidence = min_confidence
        self.max_observations = max_observations
        self.stale_ms = stale_ms
        self._tracks: dict[int, _TrackVotes] = {}

    def add(self, track_id: int, text: str, confidence: float, ts_ms: int, box: Box) -> None:
        """Record one frame's reading of a track's plate (ignored when empty or unsure)."""
        norm = normalise_plate_text(text)
        if not norm or confidence < self.min_confidence:
            return
        tv = self._tracks.setdefault(track_id, _TrackVotes())
        tv.observations.append(PlateObservation(norm, float(confidence), int(ts_ms), box))
        if len(tv.observations) > self.max_observations:
            del tv.observations[0]
        tv.last_ts_ms = max(tv.last_ts_ms, int(ts_ms))

    def tracks(self) -> list[int]:
        """Ids of the tracks with readings."""
        return list(self._tracks)

    def votes(self, track_id: int) -> int:
        """Readings recorded for a track."""
        tv = self._tracks.get(track_id)
        return len(tv.observations) if tv else 0

    def best(self, track_id: int, camera_id: str = "") -> PlateRead | None:
        """The best-supported reading of a track, or None with too few readings."""
        tv = self._tracks.get(track_id)
        if tv is None or len(tv.observations) < self.min_votes:
            return None
        obs = tv.observations
        support: dict[str, float] = {}
        for o in obs:
            support.setdefault(o.text, 0.0)
        for text in support:
            for o in obs:
                if o.text == text:
                    support[text] += o.confidence
                elif len(o.text) == len(text) and hamming(o.text, text) == 1:
                    support[text] += 0.25 * o.confidence
        total = sum(o.confidence for o in obs)
        winner = max(support, key=lambda t: (support[t], sum(o.text == t for o in obs)))
        agreeing = [o for o in obs if o.text == winner]
        if not agreeing:  # pragma: no cover - the winner always has its own reading
            return None
        top = max(agreeing, key=lambda o: o.confidence)
        share = min(1.0, support[winner] / total) if total > 0 else 0.0
        confidence = share * float(np.mean([o.confidence for o in agreeing]))
        return PlateRead(
            camera_id=camera_id,
            track_id=track_id,
            ts_ms=top.ts_ms,
            text=winner,
            confidence=round(confidence, 4),
            box=top.box,
            votes=len(agreeing),
        )

    def finish(self, track_id: int, camera_id: str = "") -> PlateRead | None:
        """Best reading of a track that has ended, and forget the track."""
        tv = self._tracks.get(track_id)
        if tv is None:
            return None
        saved, self.min_votes = self.min_votes, 1
        try:
            return self.best(track_id, camera_id)
        finally:
            self.min_votes = saved
            del self._tracks[track_id]

    def mark_reported(self, track_id: int, text: str) -> bool:
        """Remember that ``text`` was published for a track; False if it already was."""
        tv = self._tracks.get(track_id)
        if tv is None or tv.reported == text:
            return False
        tv.reported = text
        return True

    def prune(self, now_ms: int) -> list[int]:
        """Forget tracks silent for :attr:`stale_ms`; returns their ids."""
        gone = [tid for tid, tv in self._tracks.items() if now_ms - tv.last_ts_ms > self.stale_ms]
        for tid in gone:
            del self._tracks[tid]
        return gone
