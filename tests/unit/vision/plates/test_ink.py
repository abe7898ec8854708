"""Small print beside the registration (vision/plates/ink.py) on drawn plates with known glyph positions."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from core.anpr import ALPHABET, OcrLine
from vision.plates.ink import char_heights, drop_small_print

FONT = cv2.FONT_HERSHEY_SIMPLEX


def plate(chars: list[tuple[str, float]], dark_on_light: bool = True) -> tuple[np.ndarray, OcrLine]:
    """A plate crop with each character drawn at its own scale, and the OCR line a recogniser would give.

    Spans are the drawn glyphs' horizontal extents as fractions of the width (as the CTC decoder gives).
    """
    pitch, h = 40, 80
    w = pitch * len(chars) + 20
    fg, bg = (0, 0, 0), (235, 235, 235)
    img = np.full((h, w, 3), bg if dark_on_light else fg, np.uint8)
    spans = []
    for i, (ch, scale) in enumerate(chars):
        (tw, th), _ = cv2.getTextSize(ch, FONT, scale, 3)
        x = 10 + i * pitch + (pitch - tw) // 2
        cv2.putText(img, ch, (x, (h + th) // 2), FONT, scale, fg if dark_on_light else bg, 3, cv2.LINE_AA)
        spans.append((x / w, (x + tw) / w))
    text = "".join(c for c, _ in chars)
    probs = np.zeros((len(text), len(ALPHABET)))
    probs[np.arange(len(text)), [ALPHABET.index(c) for c in text]] = 0.9
    return img, OcrLine(text, probs, 0.0, tuple(spans))


BIG, SMALL, DOT = 1.8, 0.9, 0.3


@pytest.mark.parametrize(
    ("chars", "want"),
    [
        ([("L", BIG), ("E", BIG), ("A", BIG), ("1", BIG), ("2", BIG), ("3", BIG)], "LEA123"),  # one size: kept
        ([("1", BIG), ("0", BIG), ("D", BIG), ("T", BIG), ("M", BIG), ("5", SMALL), ("9", SMALL)], "10DTM"),
        ([("A", BIG), ("B", BIG), ("C", BIG), ("1", BIG), ("2", BIG), ("0", SMALL), ("7", SMALL)], "ABC12"),
        ([("P", SMALL), ("K", SMALL), ("L", BIG), ("E", BIG), ("A", BIG), ("4", BIG), ("2", BIG)], "LEA42"),
        ([("A", BIG), ("B", BIG), ("1", BIG), ("2", BIG), ("3", BIG), ("4", DOT)], "AB1234"),  # a dot is not print
        ([("A", BIG), ("B", BIG), ("1", BIG), ("2", SMALL), ("3", SMALL)], "AB123"),  # would keep fewer than 4
        ([("A", BIG), ("B", SMALL), ("1", BIG), ("2", BIG), ("3", BIG)], "AB123"),  # small only inside the line
    ],
)
@pytest.mark.parametrize("dark_on_light", [True, False])
def test_drop_small_print(chars: list[tuple[str, float]], want: str, dark_on_light: bool) -> None:
    img, line = plate(chars, dark_on_light)
    out = drop_small_print(line, img)
    assert out.text == want
    assert len(out.spans) == len(out.text) and out.probs.shape == (len(want), len(ALPHABET))


def test_heights_measure_the_drawn_glyphs() -> None:
    img, line = plate([("A", BIG), ("B", BIG), ("5", SMALL), ("9", SMALL)])
    hs = char_heights(img, line.spans)
    assert all(h is not None for h in hs)
    big, small = hs[0], hs[2]
    assert big is not None and small is not None and 0.35 < small / big < 0.7


def test_unmeasurable_crop_is_left_alone() -> None:
    _, line = plate([("A", BIG), ("B", BIG), ("1", BIG), ("2", BIG), ("5", SMALL), ("9", SMALL)])
    flat = np.full((80, 260, 3), 128, np.uint8)  # no ink at all
    assert drop_small_print(line, flat).text == line.text
    assert drop_small_print(OcrLine(line.text, line.probs, 0.0, ()), flat).text == line.text  # no spans
