"""Greedy CTC decoding of the PP-OCR recogniser's output, folded to the plate alphabet.

The recogniser's per-frame character probabilities are folded to the plate alphabet
(``0-9A-Z``), so lower-case letters, punctuation and other scripts count as "not plate".
"""

from __future__ import annotations

import unicodedata

import numpy as np

from core.anpr import ALPHABET, OcrLine

_N = len(ALPHABET)
_SEP, _OTHER, _BLANK = _N, _N + 1, _N + 2
_SEPARATORS = set(" -.·:,_/|•'\"`*=~+()[]{}<>")


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


_FOLD_MATRICES: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}


def _fold_matrix(fold: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The recogniser classes that fold to a plate character, separator or blank, and their one-hot matrix.

    ``pred[:, cols] @ M`` sums each such class's probability into its fold; every other class is "other"
    (one minus the rest, the softmax rows summing to one). Cached per fold table (one per process in
    practice): two orders of magnitude faster than ``np.add.at`` over the recogniser's ~6,600 classes.
    """
    hit = _FOLD_MATRICES.get(id(fold))
    if hit is not None and hit[0] is fold:
        return hit[1], hit[2]
    cols = np.flatnonzero(fold != _OTHER)
    m = np.zeros((len(cols), _N + 3), dtype=np.float32)
    m[np.arange(len(cols)), fold[cols]] = 1.0
    if len(_FOLD_MATRICES) > 8:
        _FOLD_MATRICES.clear()
    _FOLD_MATRICES[id(fold)] = (fold, cols, m)
    return cols, m


def _decode(pred: np.ndarray, fold: np.ndarray, stretch: float = 1.0) -> OcrLine:
    """Greedy CTC decoding over the folded classes of one line.

    Args:
        pred: T x C softmax of the recogniser.
        fold: Class -> plate alphabet / separator / other / blank (:func:`_fold_table`).
        stretch: Padded input width / width of the line in it (for character spans).
    """
    cols, m = _fold_matrix(fold)
    pred = np.asarray(pred, dtype=np.float32)
    reduced = pred[:, cols] @ m
    reduced[:, _OTHER] = np.clip(pred.sum(axis=1) - reduced.sum(axis=1), 0.0, None)
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
