"""Number-plate finding and reading (ANPR), offline, with the PP-OCR models bundled in rapidocr.

Pipeline for one image (a whole frame or a vehicle crop):

1. **Find text**: the PP-OCR text detector (DB) bundled in the ``rapidocr`` wheel finds
   text lines (rotated quadrilaterals).
2. **Read**: each line is rectified (perspective warp of its quadrilateral, so skewed
   plates come out level) and read by the PP-OCR recogniser. The recogniser's
   per-frame character probabilities are folded to the plate alphabet (``0-9A-Z``),
   so lower-case letters, punctuation and other scripts count as "not plate".
3. **Group**: neighbouring lines on one level (plate text split by a logo) and lines
   stacked one above the other (two-line motorcycle plates) also make candidates.
4. **Fit and rank**: each candidate is fitted to the configured plate layouts
   (:class:`core.anpr.PlateFormatSet`, ``config/plate_formats.yaml``), which settles
   confusions such as ``0``/``O``; candidates are ranked by a plate score that weighs
   OCR confidence, the layout fitted, presence of digits, non-plate ink and text
   height.

:class:`PlateReader` is the API the worker calls per vehicle crop; ``python -m
vision.plates PATH... --json`` is the command line. Models load lazily, once per
process. Plate texts are personal data: they are logged at debug level only.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
import threading
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import yaml

from config.settings import REPO_ROOT
from core.anpr import (
    ALPHABET,
    OcrLine,
    PlateFormatSet,
    Resolution,
    TrackPlateVoter,
    Watchlist,
    WatchlistHit,
    watchlist_incident,
)
from core.types import Box, Frame, Incident, PlateRead, Track

log = logging.getLogger(__name__)

#: The shipped plate layouts.
DEFAULT_FORMATS_PATH = REPO_ROOT / "config" / "plate_formats.yaml"

_N = len(ALPHABET)
_SEP, _OTHER, _BLANK = _N, _N + 1, _N + 2
_SEPARATORS = set(" -.·:,_/|•'\"`*=~+()[]{}<>")


class PlateReaderError(RuntimeError):
    """The OCR models cannot be loaded (e.g. rapidocr is not installed)."""


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


# --------------------------------------------------------------------------- OCR engine


class OcrEngine:
    """Thin wrapper over rapidocr's bundled PP-OCR detector and recogniser (onnxruntime, CPU).

    Use :func:`get_engine` for the per-process instance; construction loads nothing,
    the models load on first use.
    """

    def __init__(self, threads: int = 0, unclip_ratio: float = 1.3, box_thresh: float = 0.5) -> None:
        self._threads = threads
        self.unclip_ratio = unclip_ratio
        self.box_thresh = box_thresh
        self._lock = threading.Lock()
        self._infer_lock = threading.Lock()  # rapidocr's detector keeps per-call state
        self._ocr: Any = None
        self._det: Any = None
        self._rec: Any = None
        self._fold: np.ndarray | None = None

    def load(self) -> None:
        """Load the models now (they otherwise load on first use); safe to call again."""
        with self._lock:
            if self._rec is not None:
                return
            try:
                from rapidocr import RapidOCR  # lazy: heavy import
            except ImportError as e:  # pragma: no cover - depends on the environment
                raise PlateReaderError("rapidocr is not installed: pip install rapidocr") from e
            logging.getLogger("RapidOCR").setLevel(logging.WARNING)
            params: dict[str, Any] = {
                "Global.log_level": "warning",
                "Global.use_cls": False,
                "Det.unclip_ratio": self.unclip_ratio,
                "Det.box_thresh": self.box_thresh,
            }
            if self._threads > 0:
                params["EngineConfig.onnxruntime.intra_op_num_threads"] = self._threads
            t0 = time.perf_counter()
            ocr = RapidOCR(params=params)
            det = ocr._load_det_model()  # noqa: SLF001 - rapidocr exposes no public accessor
            rec = ocr._load_rec_model()  # noqa: SLF001
            self._fold = _fold_table(list(rec.postprocess_op.character))
            self._ocr, self._det = ocr, det
            self._rec = rec
            log.info("plate OCR models loaded in %.1f s", time.perf_counter() - t0)

    def detect(self, image: np.ndarray, min_side: int = 736, max_side: int = 1408) -> list[np.ndarray]:
        """Text quadrilaterals (4x2 float32, clockwise from top-left) in ``image`` pixels.

        The image is scaled so its short side is ``min_side`` (its long side at most
        ``max_side``) for the detector; quads come back in the input's pixels.
        """
        self.load()
        h, w = image.shape[:2]
        scale = min(min_side / min(h, w), max_side / max(h, w))
        scaled = (
            cv2.resize(image, (max(32, round(w * scale)), max(32, round(h * scale))), interpolation=cv2.INTER_LINEAR)
            if abs(scale - 1) > 0.02
            else image
        )
        sh, sw = scaled.shape[:2]
        with self._infer_lock:
            out = self._det(scaled)
        if out.boxes is None:
            return []
        quads = []
        for q in np.asarray(out.boxes, dtype=np.float32):
            q = q.copy()
            q[:, 0] *= w / sw
            q[:, 1] *= h / sh
            quads.append(q)
        return quads

    def recognize(self, crops: Sequence[np.ndarray]) -> list[OcrLine]:
        """Read text lines (BGR crops, any size) with per-character plate-alphabet probabilities."""
        self.load()
        assert self._fold is not None
        if not crops:
            return []
        _, img_h, base_w = self._rec.rec_image_shape
        ratios = [c.shape[1] / max(c.shape[0], 1) for c in crops]
        order = np.argsort(ratios)
        results: list[OcrLine | None] = [None] * len(crops)
        batch = 6
        for b in range(0, len(crops), batch):
            idx = order[b : b + batch]
            max_ratio = max(base_w / img_h, *(ratios[i] for i in idx))
            width = int(img_h * max_ratio)
            arr = np.zeros((len(idx), 3, img_h, width), dtype=np.float32)
            for j, i in enumerate(idx):
                rw = min(width, int(np.ceil(img_h * ratios[i])))
                r = cv2.resize(crops[i], (max(rw, 1), img_h), interpolation=cv2.INTER_CUBIC).astype(np.float32)
                arr[j, :, :, :rw] = (r.transpose(2, 0, 1) / 255.0 - 0.5) / 0.5
            with self._infer_lock:
                preds = np.asarray(self._rec.session(arr), dtype=np.float32)
            for j, i in enumerate(idx):
                rw = min(width, int(np.ceil(img_h * ratios[i])))
                results[i] = _decode(preds[j], self._fold, width / max(rw, 1))
        return [r if r is not None else OcrLine("", np.zeros((0, _N))) for r in results]


def _fold_table(character: list[str]) -> np.ndarray:
    """Map each recogniser class to a plate-alphabet index, or separator / other / blank."""
    index = {c: i for i, c in enumerate(ALPHABET)}
    fold = np.full(len(character), _OTHER, dtype=np.int64)
    for i, ch in enumerate(character):
        if i == 0:
            fold[i] = _BLANK
            continue
        norm = unicodedata.normalize("NFKC", ch)
        if len(norm) == 1 and norm in index:
            fold[i] = index[norm]
        elif ch.isspace() or (len(norm) == 1 and norm in _SEPARATORS):
            fold[i] = _SEP
    return fold


def _decode(pred: np.ndarray, fold: np.ndarray, stretch: float = 1.0) -> OcrLine:
    """Greedy CTC decoding over the folded classes of one line.

    Args:
        pred: T x C softmax of the recogniser.
        fold: Class -> plate alphabet / separator / other / blank (:func:`_fold_table`).
        stretch: Padded input width / width of the line in it (for character spans).
    """
    reduced = np.zeros((pred.shape[0], _N + 3), dtype=np.float32)
    np.add.at(reduced.T, fold, pred.T)
    best = reduced.argmax(axis=1)
    text: list[str] = []
    rows: list[np.ndarray] = []
    spans: list[tuple[float, float]] = []
    ink = 0.0
    other = 0.0
    t = 0
    T = len(best)
    while t < T:
        k = best[t]
        e = t
        while e + 1 < T and best[e + 1] == k:
            e += 1
        if k < _N:
            text.append(ALPHABET[k])
            rows.append(reduced[t : e + 1, :_N].mean(axis=0))
            spans.append((min(1.0, t * stretch / T), min(1.0, (e + 1) * stretch / T)))
        if k != _BLANK:
            span = reduced[t : e + 1]
            ink += float(span[:, :_N].sum() + span[:, _OTHER].sum())
            other += float(span[:, _OTHER].sum())
        t = e + 1
    probs = np.stack(rows) if rows else np.zeros((0, _N), dtype=np.float32)
    return OcrLine("".join(text), probs.astype(np.float64), other / ink if ink > 0 else 0.0, tuple(spans))


_ENGINE: OcrEngine | None = None
_ENGINE_LOCK = threading.Lock()


def get_engine() -> OcrEngine:
    """The process-wide OCR engine (models load on first use)."""
    global _ENGINE
    with _ENGINE_LOCK:
        if _ENGINE is None:
            _ENGINE = OcrEngine()
        return _ENGINE


# --------------------------------------------------------------------------- geometry helpers


def _order_quad(q: np.ndarray) -> np.ndarray:
    """Quad points ordered top-left, top-right, bottom-right, bottom-left."""
    s = q.sum(axis=1)
    d = np.diff(q, axis=1).ravel()
    return np.array([q[np.argmin(s)], q[np.argmin(d)], q[np.argmax(s)], q[np.argmax(d)]], dtype=np.float32)


def rectify(image: np.ndarray, quad: np.ndarray, pad_x: float = 0.06, pad_y: float = 0.12) -> np.ndarray:
    """Perspective-warp a quadrilateral to a level rectangle, with a little padding."""
    q = _order_quad(quad)
    tl, tr, br, bl = q
    w = max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl))
    h = max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr))
    ux = (tr - tl) / max(np.linalg.norm(tr - tl), 1e-6)
    uy = (bl - tl) / max(np.linalg.norm(bl - tl), 1e-6)
    px, py = pad_x * h, pad_y * h
    src = np.array(
        [tl - ux * px - uy * py, tr + ux * px - uy * py, br + ux * px + uy * py, bl - ux * px + uy * py],
        dtype=np.float32,
    )
    ow, oh = max(int(round(w + 2 * px)), 4), max(int(round(h + 2 * py)), 4)
    dst = np.array([[0, 0], [ow, 0], [ow, oh], [0, oh]], dtype=np.float32)
    m = cv2.getPerspectiveTransform(src, dst)
    return cv2.warpPerspective(image, m, (ow, oh), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)


def _quad_box(q: np.ndarray) -> Box:
    x0, y0 = q.min(axis=0)
    x1, y1 = q.max(axis=0)
    return (float(x0), float(y0), float(x1 - x0), float(y1 - y0))


def _quad_hw(q: np.ndarray) -> tuple[float, float]:
    tl, tr, br, bl = _order_quad(q)
    h = (np.linalg.norm(bl - tl) + np.linalg.norm(br - tr)) / 2
    w = (np.linalg.norm(tr - tl) + np.linalg.norm(br - bl)) / 2
    return float(h), float(w)


# --------------------------------------------------------------------------- reader


@dataclass(frozen=True)
class PlateCandidate:
    """One plate reading.

    Attributes:
        text: Plate id, upper-case letters and digits only.
        confidence: 0-1; comparable across candidates and frames.
        box: Plate text box ``(x, y, w, h)`` in pixels of the image given to :meth:`PlateReader.read`.
        layout: Name of the plate layout the text fits (``config/plate_formats.yaml``).
        raw: The OCR's greedy reading before layout fitting (debugging).
        score: Ranking score (log scale; higher is better).
    """

    text: str
    confidence: float
    box: Box
    layout: str = ""
    raw: str = ""
    score: float = 0.0


@dataclass
class _Line:
    quad: np.ndarray
    h: float
    w: float
    box: Box
    readings: list[OcrLine]

    @property
    def ocr(self) -> OcrLine:
        return self.readings[0]


@dataclass
class _Cand:
    lines: list[_Line]
    ocr: OcrLine
    res: Resolution
    score: float
    confidence: float


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


def _as_bgr(image: np.ndarray | None) -> np.ndarray | None:
    if image is None or image.size == 0:
        return None
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return image


def _clip_region(box: Box, shape: tuple[int, ...], margin: float) -> tuple[int, int, int, int] | None:
    """Integer ``(x0, y0, x1, y1)`` of a box grown by ``margin`` and clipped to the image."""
    x, y, w, h = box
    H, W = shape[:2]
    x0, y0 = max(0, int(x - margin * w)), max(0, int(y - margin * h))
    x1, y1 = min(W, int(np.ceil(x + w + margin * w))), min(H, int(np.ceil(y + h + margin * h)))
    if x1 - x0 < 8 or y1 - y0 < 8:
        return None
    return x0, y0, x1, y1


def _best(cands: list[_Cand], top: int, offset: tuple[float, float]) -> list[PlateCandidate]:
    """Distinct texts, best first, boxes shifted by ``offset``."""
    out: list[PlateCandidate] = []
    seen: set[str] = set()
    ox, oy = offset
    for c in sorted(cands, key=lambda c: -c.score):
        if c.res.text in seen:
            continue
        seen.add(c.res.text)
        bx, by, bw, bh = _quad_box(np.concatenate([ln.quad for ln in c.lines]))
        out.append(
            PlateCandidate(
                text=c.res.text,
                confidence=round(c.confidence, 4),
                box=(bx + ox, by + oy, bw, bh),
                layout=c.res.layout,
                raw=c.ocr.text,
                score=round(c.score, 4),
            )
        )
        if len(out) >= top:
            break
    if out:
        log.debug("plate candidates: %s", [(p.text, p.confidence) for p in out])
    return out


def drop_squeezed(line: OcrLine, max_conf: float = 0.7, squeeze: float = 1.3) -> OcrLine:
    """Remove doubtful characters squeezed between two regularly spaced ones.

    Plate characters are evenly spaced; an emblem or separator between two of them
    (a state outline, a dash-like logo) is often read as an extra character whose
    neighbours are only one pitch apart. Such a character is dropped when the model
    was not sure of it (probability below ``max_conf``).
    """
    n = len(line.text)
    if n < 5 or len(line.spans) != n:
        return line
    c = np.array([(a + b) / 2 for a, b in line.spans])
    pitch = float(np.median(np.diff(c)))
    if pitch <= 0:
        return line
    p = line.probs.max(axis=1)
    drop = [i for i in range(1, n - 1) if c[i + 1] - c[i - 1] < squeeze * pitch and p[i] < max_conf]
    if not drop or n - len(drop) < 4:
        return line
    return line.without(drop)


def _merge_readings(reads: Sequence[OcrLine]) -> list[OcrLine]:
    """Combine readings of one line from several crops: equal-length readings are averaged.

    Returns the distinct-length readings, the one most crops agree on first.
    """
    by_len: dict[int, list[OcrLine]] = {}
    for r in reads:
        if r.text:
            by_len.setdefault(len(r.text), []).append(r)
    out: list[tuple[int, float, OcrLine]] = []
    for group in by_len.values():
        if len(group) == 1:
            merged = group[0]
        else:
            probs = np.mean([r.probs for r in group], axis=0)
            text = "".join(ALPHABET[i] for i in probs.argmax(axis=1))
            merged = OcrLine(text, probs, float(np.mean([r.other for r in group])), group[0].spans)
        out.append((len(group), merged.confidence, merged))
    out.sort(key=lambda t: (-t[0], -t[1]))
    return [m for _, _, m in out] or [OcrLine("", np.zeros((0, _N)))]


def _line_groups(lines: list[_Line]) -> list[list[_Line]]:
    """Lines that may be one plate: neighbours on one level, or two stacked lines."""
    out: list[list[_Line]] = []
    live = [ln for ln in lines if ln.ocr.text]
    for a in live:
        ax, ay, aw, ah = a.box
        for b in live:
            if a is b:
                continue
            bx, by, bw, bh = b.box
            ratio = b.h / a.h
            if not 0.6 <= ratio <= 1.6:
                continue
            # b right of a, on the same level
            v_overlap = min(ay + ah, by + bh) - max(ay, by)
            gap = bx - (ax + aw)
            if v_overlap > 0.6 * min(ah, bh) and bx > ax + 0.5 * aw and -0.6 * a.h <= gap <= 2.5 * a.h:
                out.append([a, b])
            # b below a (two-line plates)
            h_overlap = min(ax + aw, bx + bw) - max(ax, bx)
            vgap = by - (ay + ah)
            if h_overlap > 0.5 * min(aw, bw) and -0.3 * a.h <= vgap <= 0.8 * a.h:
                out.append([a, b])
    return out


# --------------------------------------------------------------------------- per-camera monitor


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
        match = wl.match(read.text)
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


# --------------------------------------------------------------------------- CLI


def _iter_images(paths: Sequence[str]) -> list[Path]:
    exts = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(f for f in p.rglob("*") if f.suffix.lower() in exts)
        else:
            out.append(p)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m vision.plates PATH... --json``: read the plates in images."""
    ap = argparse.ArgumentParser(
        prog="python -m vision.plates", description="Read number plates in images (offline ANPR)."
    )
    ap.add_argument("paths", nargs="+", help="image files or folders")
    ap.add_argument("--json", action="store_true", help="one JSON line per image on stdout")
    ap.add_argument("--top", type=int, default=3, help="most readings per image (default 3)")
    ap.add_argument("--formats", type=Path, default=None, help="plate layouts YAML (default config/plate_formats.yaml)")
    ap.add_argument("-v", "--verbose", action="store_true", help="debug logging on stderr (shows plate texts)")
    args = ap.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        stream=sys.stderr,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        reader = PlateReader(formats=load_formats(args.formats))
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    images = _iter_images(args.paths)
    failures = 0
    for i, path in enumerate(images, 1):
        t0 = time.perf_counter()
        img = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if img is None:
            failures += 1
            print(f"[{i}/{len(images)}] {path}: cannot read image", file=sys.stderr)
            rec: dict[str, Any] = {"image": str(path), "plates": [], "error": "cannot read image"}
        else:
            plates = reader.read(img, top=args.top)
            rec = {
                "image": str(path),
                "plates": [
                    {"text": p.text, "confidence": p.confidence, "box": [round(v, 1) for v in p.box]} for p in plates
                ],
            }
            print(
                f"[{i}/{len(images)}] {path}: {len(plates)} plate(s), {1000 * (time.perf_counter() - t0):.0f} ms",
                file=sys.stderr,
            )
        if args.json:
            print(json.dumps(rec), flush=True)
        else:
            texts = ", ".join(f"{p['text']} ({p['confidence']:.2f})" for p in rec["plates"]) or "-"
            print(f"{path}: {texts}", flush=True)
    return 1 if failures and failures == len(images) else 0


if __name__ == "__main__":
    raise SystemExit(main())
