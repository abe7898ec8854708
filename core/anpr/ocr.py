"""One line of plate text as an OCR model read it, with per-character probabilities (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from core.anpr.text import ALPHABET, ALPHABET_INDEX, normalise_plate_text


@dataclass(frozen=True)
class OcrLine:
    """One line of plate text as an OCR model read it.

    Attributes:
        text: Greedy reading, plate alphabet only (see :func:`normalise_plate_text`).
        probs: ``(len(text), len(ALPHABET))`` probabilities of each read character
            (rows sum to at most 1; the rest is mass the model gave to other symbols).
        other: Share of the line's ink the model read as non-plate symbols
            (lower-case letters, punctuation, other scripts), 0-1.
        spans: Optional ``(start, end)`` of each character as fractions of the line's
            width (empty when unknown).
    """

    text: str
    probs: np.ndarray = field(repr=False, compare=False)
    other: float = 0.0
    spans: tuple[tuple[float, float], ...] = ()

    def __post_init__(self) -> None:
        if self.probs.shape != (len(self.text), len(ALPHABET)):
            raise ValueError(f"probs shape {self.probs.shape} does not fit text of length {len(self.text)}")
        if self.spans and len(self.spans) != len(self.text):
            raise ValueError(f"{len(self.spans)} spans for text of length {len(self.text)}")

    def without(self, drop: Iterable[int]) -> OcrLine:
        """The reading with the characters at the given positions removed."""
        gone = set(drop)
        keep = [i for i in range(len(self.text)) if i not in gone]
        return OcrLine(
            "".join(self.text[i] for i in keep),
            self.probs[keep] if keep else np.zeros((0, len(ALPHABET))),
            self.other,
            tuple(self.spans[i] for i in keep) if self.spans else (),
        )

    @property
    def confidence(self) -> float:
        """Mean probability of the read characters (0 for an empty line)."""
        if not self.text:
            return 0.0
        idx = [ALPHABET_INDEX[c] for c in self.text]
        return float(self.probs[np.arange(len(idx)), idx].mean())

    @classmethod
    def from_text(cls, text: str, confidence: float = 1.0) -> OcrLine:
        """A reading with one-hot probabilities (for text from an OCR without per-character scores)."""
        norm = normalise_plate_text(text)
        probs = np.full((len(norm), len(ALPHABET)), (1.0 - confidence) / (len(ALPHABET) - 1))
        for i, c in enumerate(norm):
            probs[i, ALPHABET_INDEX[c]] = confidence
        return cls(norm, probs)

    @staticmethod
    def concat(lines: Sequence[OcrLine]) -> OcrLine:
        """Join lines read separately (two-line plates, text split by a logo) into one."""
        text = "".join(ln.text for ln in lines)
        probs = np.concatenate([ln.probs for ln in lines], axis=0) if text else np.zeros((0, len(ALPHABET)))
        n = sum(max(len(ln.text), 1) for ln in lines)
        other = sum(ln.other * max(len(ln.text), 1) for ln in lines) / max(n, 1)
        return OcrLine(text, probs, other)
