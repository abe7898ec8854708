"""Pure parts of the fast plate path: CTC folding by matrix product, the plate-crop canvas."""

from __future__ import annotations

import numpy as np
import pytest

from vision.plates.ctc import _N, _OTHER, _decode, _fold_matrix
from vision.plates.reader import CANVAS_WIDTHS, _plate_canvas


def _reference_reduce(pred: np.ndarray, fold: np.ndarray) -> np.ndarray:
    reduced = np.zeros((pred.shape[0], _N + 3), dtype=np.float64)
    np.add.at(reduced.T, fold, pred.T)
    return reduced


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fold_matrix_sums_like_add_at(seed: int) -> None:
    rng = np.random.default_rng(seed)
    classes = 300
    fold = rng.integers(0, _N + 3, size=classes)
    fold[0] = _N + 2  # blank
    logits = rng.normal(size=(40, classes))
    pred = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    cols, m = _fold_matrix(fold)
    got = pred[:, cols] @ m
    got[:, _OTHER] = pred.sum(axis=1) - got.sum(axis=1)
    np.testing.assert_allclose(got, _reference_reduce(pred, fold), atol=1e-6)


def test_decode_reads_folded_characters() -> None:
    classes = ["blank", "A", "B", "a", "1"]
    from vision.plates.ctc import _fold_table

    fold = _fold_table(classes)
    seq = [1, 1, 0, 2, 0, 4, 3]  # A A _ B _ 1 a(other)
    pred = np.full((len(seq), len(classes)), 0.01, dtype=np.float32)
    for t, k in enumerate(seq):
        pred[t, k] = 1.0 - 0.01 * (len(classes) - 1)
    line = _decode(pred, fold)
    assert line.text == "AB1"
    assert 0.0 < line.other < 0.5


@pytest.mark.parametrize(
    ("h", "w", "width"),
    [(30, 100, 512), (40, 100, 384), (50, 60, 256), (20, 400, 768), (120, 240, 256)],
)
def test_plate_canvas_has_few_fixed_shapes(h: int, w: int, width: int) -> None:
    crop = np.full((h, w, 3), 200, np.uint8)
    canvas, scale = _plate_canvas(crop, 128)
    assert canvas.shape[:2] == (128, width)
    assert canvas.shape[1] in CANVAS_WIDTHS
    assert round(w * scale) <= canvas.shape[1] and round(h * scale) <= 128
