"""The plate reader: plates found, their text lines rectified, read, grouped, fitted to the layouts and ranked.

Two ways to find the text of a plate, chosen by ``mode``:

* ``fast`` (the default): the plate detector (:mod:`vision.plates.finder`) finds the plate box on the vehicle
  crop; the text detector then runs on that small plate crop only, and the recogniser reads its lines (and
  the whole box). About 10-20x cheaper than ``text``. When the detector finds no plate, or the best reading's
  confidence is below ``fallback_below``, the ``text`` path runs as well and the better-scored reading wins
  (``fallback=True``); :attr:`PlateReader.counts` says how often each path gave the answer.
* ``text``: today's full path: text detection over the whole image (or vehicle crop), every line read. It
  reads plates the plate detector misses (unusual plates, plates the training data never showed) at 1-3 s
  per image on a CPU.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import yaml

from config.settings import REPO_ROOT
from core.anpr import OcrLine, PlateFormatSet, Resolution
from core.types import Box
from vision.plates.candidates import PlateCandidate, _best, _Cand, _Line, _line_groups, _merge_readings, drop_squeezed
from vision.plates.ink import drop_small_print
from vision.plates.ocr import OcrEngine, get_engine
from vision.plates.rectify import _as_bgr, _clip_region, _quad_box, _quad_hw, rectify

log = logging.getLogger("vision.plates")

#: Reader modes (see the module docstring).
MODES = ("fast", "text")

#: The shipped plate layouts.
DEFAULT_FORMATS_PATH = REPO_ROOT / "config" / "plate_formats.yaml"


def load_formats(path: Path | str | None = None) -> PlateFormatSet:
    """Plate layouts from YAML (default: ``config/plate_formats.yaml``).

    Raises:
        ValueError: when the file is malformed (the message names the file).
    """
    p = Path(path) if path is not None else DEFAULT_FORMATS_PATH
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError("top level must be a mapping")
        return PlateFormatSet.from_mapping(data)
    except (OSError, yaml.YAMLError, ValueError) as e:
        raise ValueError(f"{p}: {e}") from e


#: Widths of the canvas a plate crop is drawn on for the text detector (few input shapes: the runtime keeps
#: one compiled plan per shape, and a new shape costs tens to hundreds of milliseconds).
CANVAS_WIDTHS = (256, 384, 512, 768)


def _plate_canvas(crop: np.ndarray, height: int) -> tuple[np.ndarray, float]:
    """A plate crop scaled to ``height`` px (narrower than the widest canvas) on a canvas of a fixed width.

    Returns the canvas and the scale applied (canvas px per crop px); the canvas right of the crop
    repeats its edge, so no text edge is invented.
    """
    h, w = crop.shape[:2]
    scale = min(height / max(h, 1), CANVAS_WIDTHS[-1] / max(w, 1))
    nh, nw = max(8, round(h * scale)), max(8, round(w * scale))
    scaled = cv2.resize(crop, (nw, nh), interpolation=cv2.INTER_LINEAR)
    width = next(cw for cw in CANVAS_WIDTHS if cw >= nw)
    canvas = cv2.copyMakeBorder(scaled, 0, height - nh, 0, width - nw, cv2.BORDER_REPLICATE)
    return canvas, scale


class PlateReader:
    """Finds and reads number plates in an image.

    Args:
        formats: Plate layouts (default: ``config/plate_formats.yaml``).
        engine: OCR engine (default: the per-process one from :func:`get_engine`).
        det_min_side: Short side (px) the text detector aims for; larger finds smaller
            plates, slower.
        det_max_side: Cap on the detector's long side (px).
        det_max_upscale: Cap on the detector's upscaling of small images (vehicle crops).
        min_text_px: Text lines lower than this (px, in the input image) are ignored.
        pads: Crops read per text line, as ``(x, y)`` padding in line heights; the
            readings of equal length are averaged (test-time augmentation).
        mode: ``fast`` (plate detector first) or ``text`` (text detection over the whole image).
        finder: The plate detector (default: the shipped one, loaded on first use); when it cannot be
            loaded the reader warns once and runs the ``text`` path.
        fallback: In ``fast`` mode, also run the ``text`` path when the plate path finds nothing or reads
            below ``fallback_below``.
        fallback_below: Confidence under which the fallback runs.
        plate_det_side: Short side (px) the text detector works at on a plate crop.
        fast_pads: ``pads`` of the lines read on plate crops (one crop per line: the plate box already
            frames the text).
    """

    def __init__(
        self,
        formats: PlateFormatSet | None = None,
        engine: OcrEngine | None = None,
        det_min_side: int = 736,
        det_max_side: int = 1408,
        det_max_upscale: float = 2.5,
        min_text_px: float = 7.0,
        pads: Sequence[tuple[float, float]] = ((0.06, 0.05), (0.06, 0.2)),
        mode: str = "fast",
        finder: object | None = None,
        fallback: bool = True,
        fallback_below: float = 0.5,
        plate_det_side: int = 128,
        fast_pads: Sequence[tuple[float, float]] = ((0.06, 0.05),),
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"plate reader mode must be one of {MODES}, got {mode!r}")
        self.formats = formats if formats is not None else load_formats()
        self.engine = engine if engine is not None else get_engine()
        self.det_min_side = det_min_side
        self.det_max_side = det_max_side
        self.det_max_upscale = det_max_upscale
        self.min_text_px = min_text_px
        self.pads = tuple(pads)
        self._weights = {lay.name: lay.weight for lay in self.formats.layouts}
        self.mode = mode
        self.fallback = fallback
        self.fallback_below = fallback_below
        self.plate_det_side = plate_det_side
        self.fast_pads = tuple(fast_pads)
        self._finder = finder
        self._finder_failed = False
        self._finder_lock = threading.Lock()
        #: Which path gave each answer: ``plate-box``, ``text-lines`` (fallback or text mode), ``hint``, ``none``.
        self.counts: Counter[str] = Counter()

    @property
    def finder(self) -> object | None:
        """The plate detector, or None (text mode, or it could not be loaded)."""
        if self.mode != "fast" or self._finder_failed:
            return None
        with self._finder_lock:
            if self._finder is None:
                from vision.detectors.base import DetectorError
                from vision.plates.finder import get_finder

                try:
                    self._finder = get_finder()
                except DetectorError as e:
                    self._finder_failed = True
                    log.warning("plate detector unavailable (%s): reading plates by full text detection", e)
                    return None
            return self._finder

    def read(
        self, image: np.ndarray, box_hint: Box | None = None, top: int = 3, fallback: bool | None = None
    ) -> list[PlateCandidate]:
        """Plate readings in an image, best first.

        Args:
            image: BGR (or grey) uint8 image: a whole frame or a vehicle crop.
            box_hint: Optional region ``(x, y, w, h)`` to search (a vehicle or plate box);
                returned boxes are still in ``image`` pixels.
            top: Most candidates returned (distinct texts).
            fallback: Override the reader's ``fallback`` for this call (``fast`` mode).

        Returns:
            Candidates with distinct texts, best first; empty when no plate-like text is found.
        """
        bgr = _as_bgr(image)
        if bgr is None:
            return []
        image = bgr
        ox = oy = 0
        plate_like = False
        if box_hint is not None:
            plate_like = 1.5 <= box_hint[2] / max(box_hint[3], 1e-6) <= 6.0
            region = _clip_region(box_hint, image.shape, margin=0.3 if plate_like else 0.05)
            if region is None:
                return []
            x0, y0, x1, y1 = region
            image, ox, oy = image[y0:y1, x0:x1], x0, y0
        if box_hint is not None and plate_like:
            # A plate-shaped hint may be the plate itself: read it whole, and the text lines inside it.
            x, y, w, h = box_hint
            cands = self._read_plate_boxes(image, [(x - ox, y - oy, w, h)], "hint")
            self.counts["hint" if cands else "none"] += 1
            return _best(cands, top, (ox, oy))
        cands = []
        finder = self.finder
        if finder is not None:
            found = finder.find(image)  # type: ignore[attr-defined]
            boxes = [pb.box for pb in found if pb.score >= 0.4 * found[0].score]
            cands = self._read_plate_boxes(image, boxes, "plate-box")
            ih, iw = image.shape[:2]
            if ih <= 240 and 1.6 <= iw / max(ih, 1) <= 6.0 and not any(b[2] * b[3] >= 0.3 * iw * ih for b in boxes):
                # A small plate-shaped image the detector finds no large plate in is likely a plate crop itself.
                cands += self._read_plate_boxes(image, [(0.0, 0.0, float(iw), float(ih))], "whole-image")
        best = max(cands, key=lambda c: c.score, default=None)
        use_fallback = self.fallback if fallback is None else fallback
        if finder is None or (use_fallback and (best is None or best.confidence < self.fallback_below)):
            lines = self._detect_lines(image)
            self._read_lines(image, lines)
            cands += self._rank(lines, "text-lines")
            best = max(cands, key=lambda c: c.score, default=None)
        self.counts[best.path if best is not None else "none"] += 1
        return _best(cands, top, (ox, oy))

    def _read_plate_boxes(self, image: np.ndarray, boxes: Sequence[Box], path: str) -> list[_Cand]:
        """Candidates from plate boxes: each box read whole, and the text lines found on its crop only.

        The text detector runs on each small plate crop; every line of every box is read in one
        recogniser call.
        """
        groups: list[list[_Line]] = []
        found_lines: list[_Line] = []
        for x, y, w, h in boxes:
            lines: list[_Line] = []
            # The crop the text detector sees: the box with a fifth of its width on each side (detector boxes
            # run narrow on plates wider than the training photos showed) and a tenth of its height, + 10 %.
            region = _clip_region((x - 0.2 * w, y - 0.1 * h, 1.4 * w, 1.2 * h), image.shape, margin=0.1)
            if region is not None:
                x0, y0, x1, y1 = region
                sub, scale = _plate_canvas(image[y0:y1, x0:x1], self.plate_det_side)
                for ln in self._detect_lines(sub, min_side=self.plate_det_side, max_side=sub.shape[1]):
                    q = ln.quad / scale + np.array([x0, y0], dtype=np.float32)
                    if ln.box[0] < sub.shape[1] and ln.box[1] < sub.shape[0]:
                        lines.append(_Line(q, ln.h / scale, ln.w / scale, _quad_box(q), []))
            # The registration is the tallest text on a plate: small print (state, dealer, "PUNJAB") is not read.
            top_h = max((ln.h for ln in lines), default=0.0)
            lines = [ln for ln in lines if ln.h >= 0.5 * top_h]
            found_lines += lines
            # The plate read whole when its text lines do not explain it: no line found, or lines covering
            # less than 70 % of the box's width (text the detector split or missed). Widened to the lines
            # found: a detector box that cuts off the last characters would otherwise read a shorter plate.
            covered = sum(min(ln.box[0] + ln.box[2], x + w) - max(ln.box[0], x) for ln in lines if ln.h >= 0.6 * top_h)
            if not lines or covered < 0.7 * w:
                x0b = min([x] + [ln.box[0] for ln in lines])
                x1b = max([x + w] + [ln.box[0] + ln.box[2] for ln in lines])
                q = np.array([[x0b, y], [x1b, y], [x1b, y + h], [x0b, y + h]], dtype=np.float32)
                lines.append(_Line(q, float(h), float(x1b - x0b), _quad_box(q), []))
            groups.append(lines)
        self._read_lines(image, [ln for g in groups for ln in g], self.fast_pads, tight=True)
        # Text heights compare across the boxes: a sticker's small print loses to the registration.
        text_h = max((ln.h for ln in found_lines if ln.readings and ln.ocr.text), default=None)
        return [c for g in groups for c in self._rank(g, path, text_h)]

    def read_boxes(
        self, image: np.ndarray, boxes: Sequence[Box], top: int = 3, min_box_px: float = 40.0
    ) -> list[list[PlateCandidate]]:
        """Plate readings for several vehicle boxes of one frame, with one text detection.

        The detector runs once on the part of the frame that holds the boxes; each text
        line is given to the box that holds its centre (the smallest such box), and only
        those lines are read.

        Args:
            image: The whole frame (BGR).
            boxes: Vehicle boxes ``(x, y, w, h)`` in frame pixels.
            top: Most candidates per box.
            min_box_px: Boxes narrower than this get no reading (plates too small to read).

        Returns:
            One list of candidates (best first, boxes in frame pixels) per box.
        """
        out: list[list[PlateCandidate]] = [[] for _ in boxes]
        bgr = _as_bgr(image)
        live = [i for i, b in enumerate(boxes) if b[2] >= min_box_px and b[3] >= 0.5 * min_box_px]
        if bgr is None or not live:
            return out
        image = bgr
        regions = [_clip_region(boxes[i], image.shape, margin=0.05) for i in live]
        live = [i for i, r in zip(live, regions, strict=True) if r is not None]
        rs = [r for r in regions if r is not None]
        if not rs:
            return out
        x0, y0 = min(r[0] for r in rs), min(r[1] for r in rs)
        x1, y1 = max(r[2] for r in rs), max(r[3] for r in rs)
        sub = image[y0:y1, x0:x1]
        lines = self._detect_lines(sub)
        owner: dict[int, list[_Line]] = {}
        for ln in lines:
            cx, cy = ln.box[0] + ln.box[2] / 2 + x0, ln.box[1] + ln.box[3] / 2 + y0
            holders = [
                i
                for i in live
                if boxes[i][0] <= cx <= boxes[i][0] + boxes[i][2] and boxes[i][1] <= cy <= boxes[i][1] + boxes[i][3]
            ]
            if holders:
                i = min(holders, key=lambda j: boxes[j][2] * boxes[j][3])
                owner.setdefault(i, []).append(ln)
        self._read_lines(sub, [ln for group in owner.values() for ln in group])
        for i, group in owner.items():
            out[i] = _best(self._rank(group, "text-lines"), top, (x0, y0))
        return out

    # ------------------------------------------------------------------ internals

    def _detect_lines(self, image: np.ndarray, min_side: int | None = None, max_side: int | None = None) -> list[_Line]:
        h, w = image.shape[:2]
        if min_side is None:
            # Upscale small images (vehicle crops) at most det_max_upscale times, but always
            # to a short side of 320 px, below which the detector misses text.
            min_side = int(max(min(self.det_min_side, self.det_max_upscale * min(h, w)), min(self.det_min_side, 320)))
        quads = self.engine.detect(image, int(min_side), max_side or self.det_max_side)
        lines: list[_Line] = []
        for q in quads:
            qh, qw = _quad_hw(q)
            if qh >= self.min_text_px and qw >= 0.8 * qh:
                lines.append(_Line(q, qh, qw, _quad_box(q), []))
        return lines

    def _read_lines(
        self,
        image: np.ndarray,
        lines: list[_Line],
        pads: Sequence[tuple[float, float]] | None = None,
        tight: bool = False,
    ) -> None:
        """Read every line (``pads`` crops each, averaged); ``tight``: the recogniser's input only as wide as the lines."""
        if not lines:
            return
        pads = self.pads if pads is None else pads
        crops = [rectify(image, ln.quad, px, py) for ln in lines for px, py in pads]
        reads = [
            drop_small_print(drop_squeezed(r), crop)
            for r, crop in zip(self.engine.recognize(crops, tight=tight), crops, strict=True)
        ]
        k = len(pads)
        for i, ln in enumerate(lines):
            ln.readings = _merge_readings(reads[i * k : (i + 1) * k])

    def _rank(self, lines: list[_Line], path: str = "", max_h: float | None = None) -> list[_Cand]:
        lines = [ln for ln in lines if ln.readings and ln.ocr.text]
        if not lines:
            return []
        groups: list[list[_Line]] = [[ln] for ln in lines] + _line_groups(lines)
        max_h = max([ln.h for ln in lines] + ([max_h] if max_h else []))
        cands: list[_Cand] = []
        for g in groups:
            options = g[0].readings if len(g) == 1 else [OcrLine.concat([ln.ocr for ln in g])]
            for ocr in options:
                for res in self.formats.resolve(ocr, top=2):
                    score, conf = self._score(g, ocr, res, max_h)
                    cands.append(_Cand(g, ocr, res, score, conf, path))
        return cands

    def _score(self, group: list[_Line], ocr: OcrLine, res: Resolution, max_h: float) -> tuple[float, float]:
        """Ranking score (log scale) and a 0-1 confidence for one candidate."""
        h = max(ln.h for ln in group)
        has_digit = any(c.isdigit() for c in ocr.text)
        score = (
            res.log_score
            + (0.0 if has_digit else -2.0)  # plates without digits are rare (vanity plates)
            - 4.0 * ocr.other  # lower-case, punctuation, other scripts: not a plate
            + 1.5 * np.log(h / max_h)  # the registration is the tallest text on a plate
            - 0.5 * (len(group) - 1)
            - (2.0 if len(res.text) < 4 else 0.7 if len(res.text) == 4 else 0.0)
        )
        confidence = res.char_confidence * (1.0 - ocr.other) * (1.0 if has_digit else 0.7)
        return float(score), float(confidence)
