"""Plate candidates: text lines, their readings, line groups, and the ranked, distinct results."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core.anpr import ALPHABET, OcrLine, Resolution
from core.types import Box
from vision.plates.ctc import _N
from vision.plates.rectify import _quad_box

log = logging.getLogger("vision.plates")  # one logger for every plates module, as before the split


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
        path: How the plate was found: ``plate-box`` (the plate detector, then text lines on the plate crop
            only), ``whole-image`` (a plate-shaped image read as one plate), ``text-lines`` (text detection
            over the whole image or vehicle crop) or ``hint`` (a plate box given by the caller).
    """

    text: str
    confidence: float
    box: Box
    layout: str = ""
    raw: str = ""
    score: float = 0.0
    path: str = ""


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
    path: str = ""


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
                path=c.path,
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
