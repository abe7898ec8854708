"""The plate reader: text lines found, rectified, read, grouped, fitted to the plate layouts and ranked."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import yaml

from config.settings import REPO_ROOT
from core.anpr import OcrLine, PlateFormatSet, Resolution
from core.types import Box
from vision.plates.candidates import PlateCandidate, _best, _Cand, _Line, _line_groups, _merge_readings, drop_squeezed
from vision.plates.ocr import OcrEngine, get_engine
from vision.plates.rectify import _as_bgr, _clip_region, _quad_box, _quad_hw, rectify

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
    ) -> None:
        self.formats = formats if formats is not None else load_formats()
        self.engine = engine if engine is not None else get_engine()
        self.det_min_side = det_min_side
        self.det_max_side = det_max_side
        self.det_max_upscale = det_max_upscale
        self.min_text_px = min_text_px
        self.pads = tuple(pads)
        self._weights = {lay.name: lay.weight for lay in self.formats.layouts}

    def read(self, image: np.ndarray, box_hint: Box | None = None, top: int = 3) -> list[PlateCandidate]:
        """Plate readings in an image, best first.

        Args:
            image: BGR (or grey) uint8 image: a whole frame or a vehicle crop.
            box_hint: Optional region ``(x, y, w, h)`` to search (a vehicle or plate box);
                returned boxes are still in ``image`` pixels.
            top: Most candidates returned (distinct texts).

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
        lines = self._detect_lines(image)
        if box_hint is not None and plate_like:
            # A plate-shaped hint may be the plate itself: read it whole as well.
            x, y, w, h = box_hint
            q = np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], dtype=np.float32) - [ox, oy]
            lines.append(_Line(q, float(h), float(w), _quad_box(q), []))
        self._read_lines(image, lines)
        return _best(self._rank(lines), top, (ox, oy))

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
            out[i] = _best(self._rank(group), top, (x0, y0))
        return out

    # ------------------------------------------------------------------ internals

    def _detect_lines(self, image: np.ndarray) -> list[_Line]:
        h, w = image.shape[:2]
        # Upscale small images (vehicle crops) at most det_max_upscale times, but always
        # to a short side of 320 px, below which the detector misses text.
        min_side = max(min(self.det_min_side, self.det_max_upscale * min(h, w)), min(self.det_min_side, 320))
        quads = self.engine.detect(image, int(min_side), self.det_max_side)
        lines: list[_Line] = []
        for q in quads:
            qh, qw = _quad_hw(q)
            if qh >= self.min_text_px and qw >= 0.8 * qh:
                lines.append(_Line(q, qh, qw, _quad_box(q), []))
        return lines

    def _read_lines(self, image: np.ndarray, lines: list[_Line]) -> None:
        if not lines:
            return
        crops = [rectify(image, ln.quad, px, py) for ln in lines for px, py in self.pads]
        reads = [drop_squeezed(r) for r in self.engine.recognize(crops)]
        k = len(self.pads)
        for i, ln in enumerate(lines):
            ln.readings = _merge_readings(reads[i * k : (i + 1) * k])

    def _rank(self, lines: list[_Line]) -> list[_Cand]:
        lines = [ln for ln in lines if ln.readings and ln.ocr.text]
        if not lines:
            return []
        groups: list[list[_Line]] = [[ln] for ln in lines] + _line_groups(lines)
        max_h = max(ln.h for ln in lines)
        cands: list[_Cand] = []
        for g in groups:
            options = g[0].readings if len(g) == 1 else [OcrLine.concat([ln.ocr for ln in g])]
            for ocr in options:
                for res in self.formats.resolve(ocr, top=2):
                    score, conf = self._score(g, ocr, res, max_h)
                    cands.append(_Cand(g, ocr, res, score, conf))
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
