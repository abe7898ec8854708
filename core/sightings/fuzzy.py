"""Fuzzy plate matching: which archived plates are "one or two characters off" the one searched.

OCR misreads a character or two (``LEA1234`` read as ``LEA1284`` or ``LE1234``), so a search
also finds plates within a few Levenshtein edits (insert, delete, substitute). The archive
pre-filters in SQL by length (a plate more than ``d`` characters longer or shorter cannot be
within ``d`` edits; the distinct plates come from a one-row-per-plate index table);
:func:`match_plates` then runs ``rapidfuzz.process.extract`` (``scorer=Levenshtein.distance``,
``score_cutoff=d``) over those candidates in Python, and SQL fetches the matches' sightings in
the time window and camera. That is fine at this scale: a city's plates over the retention
period, 5x10^4 distinct plates in 2x10^5 sightings, take about 0.12 s a search on a busy
2-core machine, most of it reading the candidate plates out of SQLite (``python -m
bench.sightings``). A much larger archive would want a trigram index (PostgreSQL ``pg_trgm``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

#: Edits allowed at most, whatever the plate's length.
MAX_EDITS = 2


def max_edits(plate: str) -> int:
    """Edits a search for ``plate`` tolerates: 0 below 4 characters, 1 for 4-5, else :data:`MAX_EDITS`.

    A short search with two edits would match nearly every plate of its length band.
    """
    n = len(plate)
    if n < 4:
        return 0
    if n < 6:
        return 1
    return MAX_EDITS


def length_range(plate: str) -> tuple[int, int]:
    """Lengths a candidate plate may have to be within :func:`max_edits` of ``plate``."""
    d = max_edits(plate)
    return max(1, len(plate) - d), len(plate) + d


def match_plates(plate: str, candidates: Iterable[str]) -> dict[str, int]:
    """Candidate plates within :func:`max_edits` of ``plate``, with their distance.

    Args:
        plate: Normalised plate searched.
        candidates: Normalised plates (duplicates allowed).

    Returns:
        ``candidate -> edits``; the exact plate (if present) has 0.
    """
    distinct = list(dict.fromkeys(candidates))
    if not distinct:
        return {}
    hits = process.extract(plate, distinct, scorer=Levenshtein.distance, score_cutoff=max_edits(plate), limit=None)
    return {choice: int(dist) for choice, dist, _ in hits}


@dataclass(frozen=True, slots=True)
class Ranked:
    """One sighting's place in the results: its plate's distance from the search, and its time."""

    plate: str
    distance: int
    ts_ms: int


def rank_key(r: Ranked) -> tuple[int, int, str]:
    """Exact matches first, then by distance; newest first at equal distance."""
    return (r.distance, -r.ts_ms, r.plate)


def rank(items: Sequence[Ranked]) -> list[Ranked]:
    """``items`` in result order (:func:`rank_key`)."""
    return sorted(items, key=rank_key)


__all__ = ["MAX_EDITS", "Ranked", "length_range", "match_plates", "max_edits", "rank", "rank_key"]
