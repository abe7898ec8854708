"""Small print beside the registration: characters whose ink is much shorter than the rest are dropped.

A plate's registration is printed in one size. A dealer or county number after it (New Jersey's
small "59"), a registration year (Pakistani plates print "07" small after the number) or a state
code before it sits on the same text line, so the text detector gives one line and the recogniser
reads it all. The recogniser tells where each character is (CTC spans, fractions of the crop's
width); here the height of the ink in each character's columns is measured on the same crop, and
a run of characters at either end of the line shorter than ``ratio`` of the line's median
character height is removed.
"""

from __future__ import annotations

import cv2
import numpy as np

from core.anpr import OcrLine

#: A character counts as small print below this share of the line's median ink height.
SMALL_PRINT_RATIO = 0.7
#: ... and above this share (smaller ink is a dot, a bolt or a broken glyph, not print).
MIN_PRINT = 0.35
#: The registration's characters must measure within this share of their median height.
SAME_SIZE = 0.15
#: The median character must be at least this share of the crop's height (else the measure failed).
MIN_TEXT_SHARE = 0.4
#: Fewest characters a registration keeps after small print is removed.
MIN_KEEP = 4


def ink_mask(crop: np.ndarray) -> np.ndarray:
    """Boolean mask of the text ink (Otsu threshold; ink is the minority class in the middle band)."""
    gray = crop if crop.ndim == 2 else cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    _, light = cv2.threshold(gray, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    h = light.shape[0]
    band = light[h // 4 : max(h // 4 + 1, 3 * h // 4)]
    return (light == 0) if band.mean() > 0.5 else (light == 1)


def char_heights(crop: np.ndarray, spans: tuple[tuple[float, float], ...]) -> list[int | None]:
    """Ink height (px) of each character: the tallest ink blob in its columns (None: no blob found).

    Each character's columns are its span's centre +- 0.2 of the median pitch (CTC spans are narrow
    peaks, not the glyph's extent). Blobs (connected ink) wider than 2.5 pitches are frames, bands or
    merged text, not characters, and are ignored; a character whose only ink is such a blob has no height.
    """
    ink = ink_mask(crop).astype(np.uint8)
    w = ink.shape[1]
    centres = [(a + b) / 2 * w for a, b in spans]
    pitch = float(np.median(np.diff(centres))) if len(centres) > 1 else w / 8
    half = max(1.0, 0.2 * pitch)
    _, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    blobs = stats[1:]
    blobs = blobs[(blobs[:, cv2.CC_STAT_WIDTH] <= 2.5 * pitch) & (blobs[:, cv2.CC_STAT_AREA] >= 3)]
    left = blobs[:, cv2.CC_STAT_LEFT]
    right = left + blobs[:, cv2.CC_STAT_WIDTH]
    out: list[int | None] = []
    for c in centres:
        hit = blobs[(left < c + half) & (right > c - half), cv2.CC_STAT_HEIGHT]
        out.append(int(hit.max()) if hit.size else None)
    return out


def drop_small_print(line: OcrLine, crop: np.ndarray, ratio: float = SMALL_PRINT_RATIO) -> OcrLine:
    """``line`` without the runs of small characters at its start and end (see the module docstring).

    Unchanged when the line has no spans, is shorter than ``MIN_KEEP + 1`` characters, or would
    keep fewer than ``MIN_KEEP``.
    """
    n = len(line.text)
    if n <= MIN_KEEP or len(line.spans) != n or crop.size == 0:
        return line
    heights = char_heights(crop, line.spans)
    known = [h for h in heights if h is not None]
    if len(known) < MIN_KEEP:
        return line
    ref = float(np.median(known))
    if ref < MIN_TEXT_SHARE * crop.shape[0]:
        return line  # the ink was not measured (binarisation failed on a dark or blurred crop)
    # A run at either end of characters that are not full size, holding at least one legible smaller
    # character (a half-height suffix; not only dots, bolts, unmeasured or broken glyphs).
    short = [h is None or h < ratio * ref for h in heights]
    legible = [h is not None and MIN_PRINT * ref <= h < ratio * ref for h in heights]
    lead = next((i for i, s in enumerate(short) if not s), n)
    trail = next((i for i, s in enumerate(reversed(short)) if not s), n)
    drop = [i for run in (range(lead), range(n - trail, n)) if any(legible[j] for j in run) for i in run]
    kept = [h for i, h in enumerate(heights) if i not in drop and h is not None]
    if not drop or n - len(drop) < MIN_KEEP or len(kept) < MIN_KEEP:
        return line
    # ... and only when the registration itself measured as one size (else the measure is noise).
    if max(kept) > (1 + SAME_SIZE) * ref or min(kept) < (1 - SAME_SIZE) * ref:
        return line
    return line.without(drop)
