"""One camera's vision pipeline: frame -> detections -> tracks -> crossings and zone density.

Stateful (background model, tracks, line memory), so one :class:`CameraPipeline`
per camera, fed that camera's frames in order. Not thread-safe.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from config.settings import CameraConfig
from core.counting import VEHICLE_LABELS, LineCounter, ZoneOccupancy
from core.types import Detection, Direction, Frame, LineCrossing, Track, ZoneDensity
from vision.detectors.base import Detector
from vision.detectors.factory import build_detector, describe_detector
from vision.tracker import Tracker


@dataclass(frozen=True, slots=True)
class FrameResult:
    """What the pipeline made of one frame.

    Attributes:
        frame_index: ``Frame.index`` of the analysed frame.
        ts_ms: Capture time of the frame (UTC ms); crossings carry the same time.
        detections: Raw detections.
        tracks: Confirmed tracks in this frame (all labels, persons included).
        crossings: Line crossings that happened in this frame (vehicles only).
        zones: Per-zone vehicle count and occupancy (vehicles only), in config order.
        counts: Cumulative crossings after this frame, ``("<line_id>:<direction>", n)`` pairs
            (same keys as :meth:`CameraPipeline.counts`), so a drawing of this frame can show them.
        detector_ran: False when a motion-gated detector skipped this frame (nothing moved):
            ``detections`` are then the last ones and ``tracks`` are carried over unchanged.
    """

    frame_index: int
    ts_ms: int
    detections: tuple[Detection, ...]
    tracks: tuple[Track, ...]
    crossings: tuple[LineCrossing, ...]
    zones: tuple[ZoneDensity, ...]
    counts: tuple[tuple[str, int], ...] = ()
    detector_ran: bool = True


class CameraPipeline:
    """Detector -> ByteTrack -> line counters -> zone occupancy for one camera.

    Line counting and zone occupancy see vehicles only (labels in
    :data:`core.counting.VEHICLE_LABELS`); pedestrians are tracked but not counted.

    With a motion-gated detector (:class:`vision.detectors.gate.MotionGatedDetector`), a frame
    on which the detector did not run (its ``last_ran`` is False: nothing moved) keeps
    the previous frame's tracks as they were; the tracker is not fed, so it neither
    loses the tracks nor ages them.

    Attributes:
        camera: The camera's config.
        detector: The detector in use.
        tracker: The tracker in use.
        lines: One :class:`LineCounter` per configured line, in config order.
        zones: One :class:`ZoneOccupancy` per configured zone, in config order.
        frames: Frames processed.
        detector_runs: Frames on which the detector ran (all of them without a motion gate).
        detector_seconds: Time spent in the detector (motion gate included).
        detector_name: What it detects with (:func:`vision.detectors.factory.describe_detector`).
    """

    def __init__(self, camera: CameraConfig, detector: Detector | None = None, frame_rate: float | None = None) -> None:
        """Build the pipeline.

        Args:
            camera: Camera config (detector, lines, zones).
            detector: Detector to use; default built from ``camera.detector``.
            frame_rate: Rate at which frames will be fed; default ``camera.analysis_fps``.

        Raises:
            vision.detectors.base.DetectorError: the configured detector cannot be built.
            ValueError: a line or zone in the config is degenerate.
        """
        self.camera = camera
        self.detector: Detector = detector if detector is not None else build_detector(camera.detector)
        rate = frame_rate if frame_rate and frame_rate > 0 else camera.analysis_fps
        # Detectors whose scores are not probabilities (motion blobs) say so; ByteTrack then
        # matches on IoU alone instead of IoU x score.
        self.tracker = Tracker(frame_rate=rate, fuse_score=bool(getattr(self.detector, "calibrated_scores", True)))
        # Forget a track's line state after about 3 s without it (ByteTrack keeps ids ~1.5 s).
        forget = max(5, int(round(3 * rate)))
        self.lines: list[LineCounter] = [LineCounter(ln.id, ln.a, ln.b, forget_after=forget) for ln in camera.lines]
        self.zones: list[ZoneOccupancy] = [ZoneOccupancy(z.id, z.polygon) for z in camera.zones]
        self.frames = 0
        self.detector_runs = 0
        self.detector_seconds = 0.0
        self.detector_name = describe_detector(self.detector)
        self._tracks: tuple[Track, ...] | None = None

    def process(self, frame: Frame) -> FrameResult:
        """Analyse the next frame of the camera.

        Args:
            frame: The frame (frames must come in capture order).

        Returns:
            Detections, tracks, crossings (stamped with ``frame.ts_ms``) and zone figures.
        """
        self.frames += 1
        t0 = time.perf_counter()
        detections = tuple(self.detector.detect(frame.image))
        self.detector_seconds += time.perf_counter() - t0
        ran = bool(getattr(self.detector, "last_ran", True))
        self.detector_runs += ran
        if ran or self._tracks is None:
            self._tracks = tuple(self.tracker.update(detections))
        tracks = self._tracks
        vehicles = [t for t in tracks if t.label in VEHICLE_LABELS]
        crossings: list[LineCrossing] = []
        for counter in self.lines:
            for track, direction in counter.update(vehicles):
                crossings.append(
                    LineCrossing(
                        camera_id=self.camera.id,
                        line_id=counter.line_id,
                        track_id=track.track_id,
                        label=track.label,
                        direction=direction,
                        ts_ms=frame.ts_ms,
                    )
                )
        zones = tuple(z.measure(vehicles) for z in self.zones)
        return FrameResult(
            frame_index=frame.index,
            ts_ms=frame.ts_ms,
            detections=detections,
            tracks=tracks,
            crossings=tuple(crossings),
            zones=zones,
            counts=tuple(self.counts().items()),
            detector_ran=ran,
        )

    def counts(self) -> dict[str, int]:
        """Cumulative crossings, ``"<line_id>:<forward|backward>" -> n`` (every line and direction present)."""
        out: dict[str, int] = {}
        for counter in self.lines:
            for direction in Direction:
                out[f"{counter.line_id}:{direction.value}"] = counter.counts[direction]
        return out

    def counts_by_label(self) -> dict[str, int]:
        """Cumulative crossings per label over all lines and directions, ``label -> n``."""
        out: dict[str, int] = {}
        for counter in self.lines:
            for (_, label), n in counter.counts_by_label.items():
                out[label] = out.get(label, 0) + n
        return out


__all__ = ["CameraPipeline", "FrameResult"]
