"""Motion gating: run a detector only when and where the motion detector sees change (as Frigate does).

:class:`MotionGatedDetector` wraps any detector; between the frames it runs on, the
pipeline carries the tracks over (see :class:`vision.pipeline.CameraPipeline`).
"""

from __future__ import annotations

import time

import numpy as np

from core.types import Detection
from vision.detectors.base import Detector
from vision.detectors.motion import MotionDetector
from vision.wrapper import WrappedDetector

#: Width (pixels) at which the motion gate models the background: a quarter of the pixels of a
#: 640-wide frame; vehicles of the default ``min_area_px`` still show (see bench.detector --gating).
GATE_WIDTH = 320


class MotionGatedDetector(WrappedDetector):
    """Runs a detector only on frames where something moved; between them the last detections stand.

    As Frigate does on fixed cameras: a cheap background model (a :class:`MotionDetector`'s
    foreground mask on a downscaled frame) looks at every frame, the expensive detector
    only at frames where enough pixels changed. It also runs:

    * on the first frame after the motion stops (a vehicle that just left, or stopped);
    * while the motion detector is still learning the background, and after it relearned
      it (scene change, new frame size);
    * at least every ``refresh_frames`` frames (vehicles standing still in a queue fade into
      the background model; this re-checks them).

    On a skipped frame nothing in view has changed, so :meth:`detect` returns the last
    detections again and sets :attr:`last_ran` to False; :class:`vision.pipeline.CameraPipeline`
    then keeps the previous tracks instead of feeding the tracker (ByteTrack would otherwise
    count the tracks as lost).

    Not thread-safe; one per camera (it holds that camera's background model).

    Attributes:
        detector: The wrapped detector.
        motion: The motion detector used as the gate.
        refresh_frames: Longest run of skipped frames.
        frames: Frames seen.
        runs: Frames on which the detector ran.
        last_ran: Whether the detector ran on the last frame.
        motion_seconds: Time spent in the motion gate.
        detector_seconds: Time spent in the detector.
    """

    def __init__(
        self,
        detector: Detector,
        motion: MotionDetector | None = None,
        refresh_frames: int = 10,
        min_changed_px: float | None = None,
    ) -> None:
        """Wrap a detector.

        Args:
            detector: The detector to gate.
            motion: The gate's background model (default: a :class:`MotionDetector` working
                at :data:`GATE_WIDTH` pixels wide).
            refresh_frames: Run the detector at least every this many frames.
            min_changed_px: Changed pixels (in frame pixels) that count as motion; default half
                the motion detector's ``min_area_px`` (a vehicle-sized blob is at least half full).
        """
        self.detector = detector
        self.motion = motion if motion is not None else MotionDetector(max_width=GATE_WIDTH)
        self.refresh_frames = max(1, int(refresh_frames))
        self.min_changed_px = float(min_changed_px) if min_changed_px is not None else self.motion.min_area_px / 2.0
        self.frames = 0
        self.runs = 0
        self.last_ran = False
        self.motion_seconds = 0.0
        self.detector_seconds = 0.0
        self._last: list[Detection] | None = None
        self._was_moving = True
        self._since_run = 0

    @property
    def run_fraction(self) -> float:
        """Fraction of frames on which the detector ran."""
        return self.runs / self.frames if self.frames else 0.0

    def reset(self) -> None:
        """Forget the background and the last detections (camera moved, stream restarted)."""
        self.motion.reset()
        self._last = None
        self._was_moving = True
        self._since_run = 0

    def should_run(self, image: np.ndarray) -> bool:
        """Feed the frame to the motion gate and say whether the detector must run on it.

        The gate only needs a yes/no, so it skips what makes the motion detector's boxes
        (closing, contours, merging, labels): the background model at ``motion.max_width``,
        the noise-cleaned foreground, and a pixel count. Frames stay in colour: in grey,
        MOG2's shadow test takes every vehicle darker than the road for a shadow.
        """
        found = self.motion.foreground(image, close=False)
        if found is None:  # still learning the background, or relearning it after a scene change
            moving, learning = False, True
        else:
            mask, scale = found
            moving, learning = bool(np.count_nonzero(mask) >= self.min_changed_px * scale * scale), False
        run = moving or self._was_moving or learning or self._last is None or self._since_run + 1 >= self.refresh_frames
        self._was_moving = moving
        return run

    def detect(self, image: np.ndarray) -> list[Detection]:
        """Detect on the frame if it changed, else return the last detections.

        Args:
            image: BGR uint8 frame of this camera.

        Returns:
            Detections in pixels of ``image`` (:attr:`last_ran` says whether they are new).
        """
        if image is None or image.size == 0:
            self.last_ran = False
            return []
        self.frames += 1
        t0 = time.perf_counter()
        run = self.should_run(image)
        t1 = time.perf_counter()
        self.motion_seconds += t1 - t0
        if run:
            self._last = list(self.detector.detect(image))
            self.detector_seconds += time.perf_counter() - t1
            self.runs += 1
            self._since_run = 0
            self.last_ran = True
        else:
            self._since_run += 1
            self.last_ran = False
        return list(self._last or [])


__all__ = ["GATE_WIDTH", "MotionGatedDetector"]
