"""Motion detector: background subtraction for fixed cameras, no weights.

:class:`MotionDetector` turns a camera's moving blobs into detections, labelled by blob
size; :func:`merge_boxes` joins the pieces of one vehicle. The motion gate
(:mod:`vision.detectors.gate`) uses the same background model as a cheap yes/no test.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

import cv2
import numpy as np

from core.types import Detection


def merge_boxes(boxes: Sequence[tuple[int, int, int, int]], gap: int) -> list[tuple[int, int, int, int]]:
    """Merge boxes that overlap or lie within ``gap`` pixels of each other, until none do.

    Args:
        boxes: ``(x, y, w, h)`` integer boxes.
        gap: Largest gap (pixels, in x and in y) between two boxes that are still merged.

    Returns:
        Merged boxes.
    """
    rects = [[x, y, x + w, y + h] for x, y, w, h in boxes]
    merged = True
    while merged and len(rects) > 1:
        merged = False
        out: list[list[int]] = []
        for r in rects:
            for o in out:
                if r[0] <= o[2] + gap and o[0] <= r[2] + gap and r[1] <= o[3] + gap and o[1] <= r[3] + gap:
                    o[0], o[1] = min(o[0], r[0]), min(o[1], r[1])
                    o[2], o[3] = max(o[2], r[2]), max(o[3], r[3])
                    merged = True
                    break
            else:
                out.append(list(r))
        rects = out
    return [(r[0], r[1], r[2] - r[0], r[3] - r[1]) for r in rects]


class MotionDetector:
    """Moving-object detector for fixed cameras: background subtraction, no weights.

    Per frame: (optionally downscaled) MOG2 foreground mask with shadow detection;
    shadow pixels (value 127) are dropped by thresholding at 200; a small opening
    removes noise and a closing joins the pieces of one vehicle; external contours
    give boxes; boxes within ``merge_gap`` (a fraction of the image diagonal) are
    merged (a vehicle split by its dark windscreen or a lamp post); blobs smaller
    than ``min_area_px`` (in pixels of the input image) are dropped. The first
    ``warmup_frames`` frames only train the background and return nothing. When
    more than ``max_foreground`` of the frame changes at once (exposure jump, camera
    moved, scene cut) the background is relearned from scratch and nothing is
    reported for that frame (counted in :attr:`scene_changes`).

    **Labels** come from blob size, since a blob carries no class information, and
    size depends on distance. The detector therefore keeps, per horizontal band of
    the image (by the blob's bottom edge, ``size_bands`` bands), the areas of the last
    ``size_history`` blobs, and compares each blob with that band's median:

    * area > ``truck_ratio`` x median -> ``truck`` (bus and truck look alike as blobs);
    * area < ``motorcycle_ratio`` x median and taller than wide -> ``motorcycle``;
    * otherwise, and while a band has seen fewer than 20 blobs, -> ``car``.

    Blobs touching the frame edge (vehicles entering or leaving) are labelled but
    not added to the statistics.

    This assumes cars are the commonest vehicle at every distance; it is a crude,
    self-calibrating guess, fine for counts and occupancy, not for per-class
    statistics (use the YOLO detector for those). Two merged cars read as a truck.

    Confidence is the blob's fill ratio (foreground pixels / box area), clipped to
    0.3-0.95; it is not a probability (see ``calibrated_scores``).

    Not thread-safe; one instance per camera (it holds that camera's background).

    Attributes:
        calibrated_scores: False: the confidences are blob fill ratios, not
            probabilities, so the tracker should not weigh matches by them.
        frames_seen: Frames given to :meth:`detect` since the last (re)start.
        scene_changes: Times the background was relearned after a global change.
        last_mask: Cleaned foreground mask of the last frame (at the working scale).
    """

    calibrated_scores = False

    def __init__(
        self,
        min_area_px: int = 150,
        warmup_frames: int = 10,
        history: int = 300,
        var_threshold: float = 25.0,
        max_width: int = 640,
        merge_gap: float = 0.006,
        open_frac: float = 0.002,
        close_frac: float = 0.012,
        max_foreground: float = 0.5,
        size_bands: int = 6,
        size_history: int = 200,
        truck_ratio: float = 2.2,
        motorcycle_ratio: float = 0.4,
        learning_rate: float = 0.01,
    ) -> None:
        """Create a motion detector.

        Args:
            min_area_px: Smallest blob box area kept, pixels of the input image.
            warmup_frames: Frames used only to learn the background.
            history: MOG2 history length (frames).
            var_threshold: MOG2 variance threshold (higher = less sensitive).
            max_width: Frames wider than this are downscaled for the subtraction (speed).
            merge_gap: Blobs closer than this fraction of the image diagonal are merged.
            open_frac: Opening (noise removal) kernel size as a fraction of the image diagonal.
            close_frac: Closing (hole filling) kernel size as a fraction of the image diagonal.
            max_foreground: Foreground fraction of the frame above which the scene is
                taken to have changed as a whole.
            size_bands: Horizontal bands with their own blob-size statistics.
            size_history: Blob areas remembered per band.
            truck_ratio: Area / band median above which a blob is labelled truck.
            motorcycle_ratio: Area / band median below which a tall blob is a motorcycle.
            learning_rate: Background learning rate after the warm-up. A vehicle standing
                still for about ``0.1 / learning_rate`` frames fades into the background (10
                frames at the default 0.01); lower values keep queues visible longer but
                clear the ghosts of vehicles present during the warm-up more slowly.
        """
        self.min_area_px = int(min_area_px)
        self.warmup_frames = int(warmup_frames)
        self.history = int(history)
        self.var_threshold = float(var_threshold)
        self.max_width = int(max_width)
        self.merge_gap = float(merge_gap)
        self.open_frac = float(open_frac)
        self.close_frac = float(close_frac)
        self.max_foreground = float(max_foreground)
        self.size_bands = max(1, int(size_bands))
        self.size_history = max(1, int(size_history))
        self.truck_ratio = float(truck_ratio)
        self.motorcycle_ratio = float(motorcycle_ratio)
        self.learning_rate = float(learning_rate)
        self.frames_seen = 0
        self.scene_changes = 0
        self.last_mask: np.ndarray | None = None
        self._shape: tuple[int, ...] | None = None
        self._subtractor = self._new_subtractor()
        self._band_areas: list[deque[float]] = [deque(maxlen=self.size_history) for _ in range(self.size_bands)]

    def _new_subtractor(self) -> cv2.BackgroundSubtractorMOG2:
        return cv2.createBackgroundSubtractorMOG2(
            history=self.history, varThreshold=self.var_threshold, detectShadows=True
        )

    def reset(self) -> None:
        """Forget the background and size statistics (camera moved, stream restarted)."""
        self.frames_seen = 0
        self._shape = None
        self._subtractor = self._new_subtractor()
        self.last_mask = None
        for band in self._band_areas:
            band.clear()

    def _label(self, box: tuple[int, int, int, int], width: int, height: int) -> str:
        x, y, w, h = box
        area = float(w * h)
        on_border = x <= 1 or y <= 1 or x + w >= width - 1 or y + h >= height - 1
        band = self._band_areas[min(self.size_bands - 1, int((y + h) * self.size_bands / max(height, 1)))]
        label = "car"
        if len(band) >= 20:
            ratio = area / float(np.median(np.fromiter(band, dtype=np.float64, count=len(band))))
            if ratio > self.truck_ratio:
                label = "truck"
            elif ratio < self.motorcycle_ratio and h > w:
                label = "motorcycle"
        if not on_border:  # a vehicle cut by the frame edge would bias the statistics low
            band.append(area)
        return label

    def foreground(self, image: np.ndarray, close: bool = True) -> tuple[np.ndarray, float] | None:
        """Feed the next frame to the background model and return its cleaned foreground mask.

        Args:
            image: BGR (or grey) uint8 frame; a change of size restarts the background.
            close: Also close gaps (join the pieces of one vehicle); detection needs it, a
                yes/no motion test does not.

        Returns:
            ``(mask, scale)``: the binary mask at the working scale (``scale`` x the frame
            size), or None during the warm-up and on a scene change.
        """
        if self._shape != image.shape:
            self.reset()
            self._shape = image.shape
        h, w = image.shape[:2]
        scale = min(1.0, self.max_width / float(w))
        if scale < 1.0:
            small = cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
        else:
            small = image
        # MOG2's automatic rate is 1/frames_seen (until `history` frames): fast enough to learn the
        # background in the warm-up, but right after it a slow vehicle would be absorbed within
        # 2-4 frames. After the warm-up the rate is held at `learning_rate`.
        rate = -1.0 if self.frames_seen < self.warmup_frames else self.learning_rate
        fg = self._subtractor.apply(small, learningRate=rate)
        self.frames_seen += 1
        if self.frames_seen <= self.warmup_frames:
            return None
        _, fg = cv2.threshold(fg, 200, 255, cv2.THRESH_BINARY)  # drop shadows (127)
        if np.count_nonzero(fg) > self.max_foreground * fg.size:
            self.scene_changes += 1
            shape = self._shape
            self.reset()
            self._shape = shape
            self._subtractor.apply(small)  # the new scene is the first background frame
            self.frames_seen = 1
            return None
        sh, sw = fg.shape[:2]
        diag = float(np.hypot(sw, sh))
        k_open = max(3, int(round(diag * self.open_frac)) | 1)
        k_close = max(5, int(round(diag * self.close_frac)) | 1)
        fg = cv2.morphologyEx(fg, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k_open, k_open)))
        if close:
            fg = cv2.morphologyEx(fg, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k_close, k_close)))
        self.last_mask = fg
        return fg, scale

    def detect(self, image: np.ndarray) -> list[Detection]:
        """Detect moving objects in the next frame of the camera.

        Args:
            image: BGR (or grey) uint8 frame; a change of size restarts the background.

        Returns:
            Detections in pixels of ``image`` (empty during warm-up and on a scene change).
        """
        if image is None or image.size == 0:
            return []
        found = self.foreground(image)
        if found is None:
            return []
        fg, scale = found
        sh, sw = fg.shape[:2]
        diag = float(np.hypot(sw, sh))
        contours, _ = cv2.findContours(fg, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        min_area_small = self.min_area_px * scale * scale
        # Fragments smaller than the minimum may still join into a vehicle; drop only specks here.
        fragments: list[tuple[int, int, int, int]] = []
        for c in contours:
            if cv2.contourArea(c) >= min_area_small * 0.1:
                fx, fy, fw, fh = cv2.boundingRect(c)
                fragments.append((int(fx), int(fy), int(fw), int(fh)))
        boxes = merge_boxes(fragments, gap=int(round(diag * self.merge_gap)))
        out: list[Detection] = []
        for x, y, bw, bh in boxes:
            if bw * bh < min_area_small:
                continue
            fill = float(np.count_nonzero(fg[y : y + bh, x : x + bw])) / float(bw * bh)
            label = self._label((x, y, bw, bh), sw, sh)
            conf = float(min(0.95, max(0.3, fill)))
            box = (x / scale, y / scale, bw / scale, bh / scale)
            out.append(Detection(label=label, confidence=round(conf, 3), box=box))
        return out


__all__ = ["MotionDetector", "merge_boxes"]
