"""The reference watchlist match: every entry compared with the reading (pure, O(n) per read).

This is the original matching loop of :class:`core.anpr.Watchlist`, kept as the yardstick
that the indexed lookup (:mod:`core.anpr.watch_index`) must agree with: the unit tests
compare the two on random lists (with rapidfuzz's distance), and ``python -m bench.watchlist``
times it with the old pure-Python :func:`core.anpr.text.edit_distance`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from core.anpr.text import edit_distance, normalise_plate_text
from core.anpr.watch_index import MIN_FUZZY_LEN, fold
from core.anpr.watchlist import WatchlistEntry, WatchlistHit, hit_order

#: ``distance(a, b, limit)``: edit distance, allowed to stop early (returning > limit) above ``limit``.
Distance = Callable[[str, str, "int | None"], int]


def _pure_python(a: str, b: str, limit: int | None) -> int:
    return edit_distance(a, b, limit=limit)


def scan_match(
    entries: Mapping[str, WatchlistEntry],
    text: str,
    at_ms: int,
    fuzzy: bool = True,
    distance: Distance = _pure_python,
) -> WatchlistHit | None:
    """The best hit for a reading, by comparing it with every active entry.

    Args:
        entries: Listed plates by normalised plate.
        text: The reading.
        at_ms: Time of the reading (entries expired by then never match).
        fuzzy: Allow possible hits.
        distance: Edit distance to use (default: the pure-Python loop).
    """
    read = normalise_plate_text(text)
    if len(read) < 2:
        return None
    exact = entries.get(read)
    if exact is not None and exact.active(at_ms):
        return WatchlistHit(exact, read, True, 0)
    if not fuzzy:
        return None
    best: WatchlistHit | None = None
    folded = fold(read)
    for plate, entry in entries.items():
        if plate == read or not entry.active(at_ms):
            continue
        if len(plate) >= MIN_FUZZY_LEN and fold(plate) == folded:
            d = distance(read, plate, None)
        else:
            if min(len(plate), len(read)) < MIN_FUZZY_LEN:
                continue
            d = distance(read, plate, 1)
            if d > 1:
                continue
        cand = WatchlistHit(entry, read, False, d)
        if best is None or hit_order(cand) < hit_order(best):
            best = cand
    return best
