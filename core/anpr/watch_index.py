"""A sublinear index of watch-listed plates for exact, OCR-twin and one-edit lookups (pure).

A reading is a *possible hit* on a listed plate when either

* both are at least 4 characters and equal after folding OCR twins (``0``/``O``/``D``/``Q``,
  ``1``/``I``/``L``, ``2``/``Z``, ``5``/``S``, ``8``/``B``, ``6``/``G``), whatever their edit
  distance; or
* both are at least 4 characters and one edit (substitution, insertion, deletion) apart.

Instead of comparing the reading with every entry, :class:`PlateIndex` keeps

* the folded text of every plate (one dictionary lookup finds the twins), and
* a *symmetric-delete* neighbourhood: each plate and each of its one-character deletions
  point back to the plate. Two texts one edit apart always share a key (the longer one's
  deletion is the shorter; a substitution leaves the same deletion at its position), so a
  reading of length n looks up only its n + 1 keys; rapidfuzz's
  ``Levenshtein.distance(..., score_cutoff=1)`` then verifies each candidate (keys also
  collide for texts two edits apart, e.g. a transposition).

Keys are shared plate strings; several plates on one key are joined with ``|`` (never a
plate character) to keep the memory per key small.
"""

from __future__ import annotations

from collections.abc import Iterable

from rapidfuzz.distance import Levenshtein

#: OCR twins folded together for fuzzy matching.
FOLD = str.maketrans({"O": "0", "Q": "0", "D": "0", "I": "1", "L": "1", "Z": "2", "S": "5", "B": "8", "G": "6"})
#: Shortest plate (and reading) that fuzzy matching considers; one edit off a shorter one is noise.
MIN_FUZZY_LEN = 4
_SEP = "|"


def fold(text: str) -> str:
    """``text`` with OCR twins replaced by one representative (``O`` -> ``0``, ``B`` -> ``8`` ...)."""
    return text.translate(FOLD)


def deletions(text: str) -> set[str]:
    """Every text made by deleting one character of ``text``."""
    return {text[:i] + text[i + 1 :] for i in range(len(text))}


def _add(index: dict[str, str], key: str, plate: str) -> None:
    have = index.get(key)
    if have is None:
        index[key] = plate
    elif plate not in have.split(_SEP):
        index[key] = have + _SEP + plate


class PlateIndex:
    """Normalised plates indexed for :meth:`near` (see the module docstring).

    Args:
        plates: Normalised plate texts (upper-case letters and digits).
    """

    def __init__(self, plates: Iterable[str] = ()) -> None:
        self._folded: dict[str, str] = {}
        self._deletes: dict[str, str] = {}
        for p in plates:
            if len(p) < MIN_FUZZY_LEN:
                continue
            _add(self._folded, fold(p), p)
            _add(self._deletes, p, p)
            for d in deletions(p):
                _add(self._deletes, d, p)

    @property
    def keys(self) -> int:
        """Number of keys held (folded texts plus deletion neighbourhood), a measure of its memory."""
        return len(self._folded) + len(self._deletes)

    def near(self, read: str) -> dict[str, int]:
        """Plates that are possible hits for ``read``, with their edit distance to it.

        The reading itself is included (distance 0) when it is indexed.
        """
        out: dict[str, int] = {}
        if len(read) < MIN_FUZZY_LEN:
            return out
        twins = self._folded.get(fold(read))
        if twins is not None:
            for p in twins.split(_SEP):
                out[p] = Levenshtein.distance(read, p)
        for key in (read, *deletions(read)):
            hit = self._deletes.get(key)
            if hit is None:
                continue
            for p in hit.split(_SEP):
                if p in out:
                    continue
                d = Levenshtein.distance(read, p, score_cutoff=1)
                if d <= 1:
                    out[p] = d
        return out
