"""Plate text: the plate alphabet, normalisation and string distances (pure).

* :data:`ALPHABET`: digits then letters; per-character probability vectors of an OCR
  model are indexed in this order (:data:`ALPHABET_INDEX`).
* :func:`normalise_plate_text`: upper-case ASCII letters and digits only.
* :func:`hamming` / :func:`edit_distance`: how far two plate texts are apart.

Plates are personal data: this module never logs them.
"""

from __future__ import annotations

import unicodedata

DIGITS = "0123456789"
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#: The plate alphabet; per-character probability vectors are indexed in this order.
ALPHABET = DIGITS + LETTERS
#: Position of each character in :data:`ALPHABET`.
ALPHABET_INDEX = {c: i for i, c in enumerate(ALPHABET)}


def normalise_plate_text(text: str) -> str:
    """Upper-case ASCII letters and digits only: ``"lea-1234"`` -> ``"LEA1234"``.

    Full-width forms (``"ＬＥＡ"``) are folded to ASCII first; anything else
    (separators, spaces, other scripts) is dropped.
    """
    folded = unicodedata.normalize("NFKC", text).upper()
    return "".join(ch for ch in folded if ch in ALPHABET_INDEX)


def hamming(a: str, b: str) -> int:
    """Positions that differ between two equal-length strings."""
    if len(a) != len(b):
        raise ValueError("hamming distance needs equal lengths")
    return sum(x != y for x, y in zip(a, b, strict=True))


def edit_distance(a: str, b: str, limit: int | None = None) -> int:
    """Levenshtein distance (insert, delete, substitute); stops early above ``limit``."""
    if a == b:
        return 0
    if limit is not None and abs(len(a) - len(b)) > limit:
        return limit + 1
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        if limit is not None and min(cur) > limit:
            return limit + 1
        prev = cur
    return prev[-1]
