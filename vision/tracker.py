"""Multi-object tracking: our detections -> ultralytics' ByteTrack -> :class:`core.types.Track`.

We do not implement a tracker; this module only adapts our data to
``ultralytics.trackers.byte_tracker.BYTETracker`` (ultralytics 8.4), which takes a
"results" object exposing numpy ``conf``, ``cls`` and ``xywh`` (centre x, centre y,
w, h), supporting ``len()`` and boolean-mask indexing, and returns rows
``[x1, y1, x2, y2, track_id, score, cls, idx]`` for the confirmed tracks of the
frame (``idx`` = index of the matched detection). The class is obtained through
:func:`byte_tracker_class` from :func:`vision.detectors.ultralytics.tracker_classes`, so
the ultralytics import stays behind :mod:`vision.detectors`; by
default it is BYTETracker with ultralytics' centre/width/height Kalman state (BOTrack),
because the stock aspect-ratio state loses vehicles whose box changes shape fast
(entering the frame). Two more low-frame-rate measures: boxes are widened for matching
("buffered IoU", :func:`default_match_buffer`), and detectors whose scores are not
probabilities (motion blobs) can switch off score fusion (``fuse_score=False``).

Output boxes are the matched detections' boxes (not the Kalman estimate), so a
track's box is exactly what the detector saw in this frame. A track's label is
the confidence-weighted majority of the labels it has had, so it does not flicker
when the detector hesitates between, say, car and van.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np

from core.types import LABELS, Detection, Track
from vision.detectors.ultralytics import tracker_classes

_LABEL_INDEX = {label: i for i, label in enumerate(LABELS)}

_TRACKER_CLASSES: dict[str, type] = {}


def byte_tracker_class(motion_model: str = "xywh") -> type:
    """Ultralytics' ``BYTETracker``, obtained through :func:`vision.detectors.ultralytics.tracker_classes`.

    Args:
        motion_model: ``"xyah"``: the stock BYTETracker (Kalman state centre, aspect ratio,
            height). ``"xywh"``: the same BYTETracker association with ultralytics'
            ``KalmanFilterXYWH`` / ``BOTrack`` state (centre, width, height), as BoT-SORT uses
            it. The aspect-ratio state lags badly when a box's shape changes fast (a vehicle
            entering the frame grows from a sliver to its full size): its width estimate
            explodes and the track is lost, so ``xywh`` is the default.

    Returns:
        A class constructed with a tracker-args namespace, as ``BYTETracker(args)``.
    """
    if motion_model not in {"xyah", "xywh"}:
        raise ValueError(f"unknown motion model {motion_model!r} (expected 'xyah' or 'xywh')")
    cls = _TRACKER_CLASSES.get(motion_model)
    if cls is not None:
        return cls
    byte_tracker, bo_track, kalman_xywh = tracker_classes()
    if motion_model == "xyah":
        cls = byte_tracker
    else:

        class ByteTrackXYWH(byte_tracker):  # type: ignore[misc,valid-type]  # a base class known at run time
            """BYTETracker with the centre/width/height Kalman state of ultralytics' BOTrack."""

            track_class = bo_track

            def get_kalmanfilter(self) -> Any:
                return kalman_xywh()

            def multi_predict(self, tracks: list[Any]) -> None:
                bo_track.multi_predict(tracks)

        cls = ByteTrackXYWH
    _TRACKER_CLASSES[motion_model] = cls
    return cls


class _Detections:
    """The minimal results adapter BYTETracker reads (``conf``, ``cls``, ``xywh``, ``len``, mask indexing)."""

    def __init__(self, conf: np.ndarray, cls: np.ndarray, xywh: np.ndarray) -> None:
        self.conf = conf
        self.cls = cls
        self.xywh = xywh

    @classmethod
    def from_detections(cls, detections: Sequence[Detection], buffer: float = 0.0) -> _Detections:
        n = len(detections)
        conf = np.fromiter((d.confidence for d in detections), dtype=np.float32, count=n)
        klass = np.fromiter((_LABEL_INDEX[d.label] for d in detections), dtype=np.float32, count=n)
        xywh = np.zeros((n, 4), dtype=np.float32)
        for i, d in enumerate(detections):
            x, y, w, h = d.box
            xywh[i] = (x + w / 2.0, y + h / 2.0, w * (1.0 + 2.0 * buffer), h * (1.0 + 2.0 * buffer))
        return cls(conf, klass, xywh)

    def __len__(self) -> int:
        return len(self.conf)

    def __getitem__(self, index: np.ndarray) -> _Detections:
        return _Detections(self.conf[index], self.cls[index], self.xywh[index])


@dataclass
class _LabelVotes:
    votes: dict[str, float]
    last_frame: int


def default_match_buffer(frame_rate: float) -> float:
    """Box widening for association: none at 25+ fps, growing as the rate drops (0.5 at 5 fps or less)."""
    return float(min(0.5, max(0.0, 0.5 * (25.0 - frame_rate) / 20.0)))


class Tracker:
    """Assigns stable ids to detections across frames (ByteTrack).

    Not thread-safe; one per camera.
    """

    def __init__(
        self,
        frame_rate: float,
        lost_seconds: float = 1.5,
        high_thresh: float = 0.25,
        low_thresh: float = 0.1,
        new_track_thresh: float = 0.25,
        match_thresh: float = 0.8,
        fuse_score: bool = True,
        match_buffer: float | None = None,
        motion_model: str = "xywh",
    ) -> None:
        """Create a tracker.

        Args:
            frame_rate: Frames per second that will be fed (the *analysed* rate).
            lost_seconds: How long a lost track can be re-found under its old id.
            high_thresh: ByteTrack first-association score threshold.
            low_thresh: ByteTrack second-association (low score) threshold.
            new_track_thresh: Minimum score to start a track.
            match_thresh: ByteTrack IoU-cost gate for the first association.
            fuse_score: Fuse detection scores into the IoU cost (ByteTrack default).
            match_buffer: Each box is widened by this fraction of its size on every side
                before association ("buffered IoU"), so that fast objects at low frame
                rates still overlap from one frame to the next. Reported boxes are the
                detections' own. Default: scaled with the frame rate (see :func:`default_match_buffer`).
            motion_model: Kalman state, ``"xywh"`` (default) or ByteTrack's original ``"xyah"``;
                see :func:`byte_tracker_class`.

        Raises:
            ValueError: if ``frame_rate`` is not positive.
        """
        if frame_rate <= 0:
            raise ValueError(f"frame_rate must be > 0, got {frame_rate}")
        self.frame_rate = float(frame_rate)
        self.track_buffer = max(1, int(round(lost_seconds * frame_rate)))
        self.match_buffer = default_match_buffer(frame_rate) if match_buffer is None else float(match_buffer)
        self._args = SimpleNamespace(
            tracker_type="bytetrack",
            track_high_thresh=high_thresh,
            track_low_thresh=low_thresh,
            new_track_thresh=new_track_thresh,
            track_buffer=self.track_buffer,
            match_thresh=match_thresh,
            fuse_score=fuse_score,
        )
        self._tracker = byte_tracker_class(motion_model)(self._args)
        self._labels: dict[int, _LabelVotes] = {}
        self.frames = 0

    def reset(self) -> None:
        """Drop every track (ids restart at 1)."""
        self._tracker.reset()
        self._labels.clear()
        self.frames = 0

    def update(self, detections: Sequence[Detection]) -> list[Track]:
        """Feed one frame's detections.

        Args:
            detections: Detections of the frame (labels from ``LABELS``).

        Returns:
            The confirmed tracks present in this frame.

        Raises:
            ValueError: a detection label is not one of ``LABELS``.
        """
        self.frames += 1
        for d in detections:
            if d.label not in _LABEL_INDEX:
                raise ValueError(f"unknown label {d.label!r}; expected one of {', '.join(LABELS)}")
        rows = self._tracker.update(_Detections.from_detections(detections, self.match_buffer))
        tracks: list[Track] = []
        for row in np.asarray(rows).reshape(-1, 8):
            track_id = int(row[4])
            idx = int(row[7])
            if 0 <= idx < len(detections):
                det = detections[idx]
                box, conf, label = det.box, det.confidence, det.label
            else:  # defensive: fall back to the tracker's own estimate
                x1, y1, x2, y2 = (float(v) for v in row[:4])
                box, conf, label = (x1, y1, x2 - x1, y2 - y1), float(row[5]), LABELS[int(row[6])]
            tracks.append(Track(track_id=track_id, label=self._vote(track_id, label, conf), confidence=conf, box=box))
        self._forget_old()
        return tracks

    def _vote(self, track_id: int, label: str, conf: float) -> str:
        entry = self._labels.get(track_id)
        if entry is None:
            entry = self._labels[track_id] = _LabelVotes(votes={}, last_frame=self.frames)
        entry.votes[label] = entry.votes.get(label, 0.0) + max(conf, 1e-3)
        entry.last_frame = self.frames
        return max(entry.votes.items(), key=lambda kv: kv[1])[0]

    def _forget_old(self) -> None:
        horizon = self.track_buffer + 1
        old = [tid for tid, e in self._labels.items() if self.frames - e.last_frame > horizon]
        for tid in old:
            del self._labels[tid]


__all__ = ["Tracker", "byte_tracker_class"]
