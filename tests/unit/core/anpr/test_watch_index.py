"""The indexed watchlist lookup against the brute-force scan, and entry expiry."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from rapidfuzz.distance import Levenshtein

from core.anpr import Watchlist, WatchlistEntry, watchlist_from_csv, watchlist_from_mapping
from core.anpr.expiry import format_expiry, parse_expiry
from core.anpr.watch_index import PlateIndex, deletions, fold
from core.anpr.watch_scan import scan_match
from core.plate_formats import random_plate
from core.types import Priority

T = 1_800_000_000_000  # a fixed "now" (2027-01-15)
PRIOS = list(Priority)
TWINS = {"0": "O", "O": "0", "1": "I", "I": "1", "8": "B", "B": "8", "5": "S", "S": "5", "2": "Z", "Z": "2"}


def _rapidfuzz(a: str, b: str, limit: int | None) -> int:
    return Levenshtein.distance(a, b) if limit is None else Levenshtein.distance(a, b, score_cutoff=limit)


def _random_entries(rng: random.Random, n: int) -> list[WatchlistEntry]:
    out = []
    for i in range(n):
        plate = (
            random_plate(rng)
            if rng.random() < 0.8
            else "".join(rng.choices("ABCDEFGHJK0123456789OIS", k=rng.randint(2, 9)))
        )
        expiry = None if rng.random() < 0.7 else T + rng.choice([-1, 1]) * rng.randint(1, 10**8)
        out.append(WatchlistEntry.create(plate, f"reason {i}", rng.choice(PRIOS), expiry=expiry))
    return out


def _mutate(rng: random.Random, plate: str) -> str:
    """A reading of ``plate``: as listed, one edit off, OCR twins, two edits off or unrelated."""
    kind = rng.randrange(6)
    chars = list(plate)
    i = rng.randrange(len(chars))
    if kind == 0:
        return plate
    if kind == 1:
        chars[i] = rng.choice("ABCDEFGHKLMNPRSTUVWXYZ0123456789")
    elif kind == 2:
        del chars[i]
    elif kind == 3:
        chars.insert(i, rng.choice("ABC0123456789"))
    elif kind == 4:
        chars = [TWINS.get(c, c) if rng.random() < 0.6 else c for c in chars]
    else:
        return random_plate(rng)
    return "".join(chars)


@pytest.mark.parametrize(("seed", "size"), [(1, 5), (2, 50), (3, 400), (4, 2000), (5, 3000)])
def test_indexed_match_equals_brute_force_scan(seed: int, size: int) -> None:
    rng = random.Random(seed)
    entries = _random_entries(rng, size)
    wl = Watchlist(entries)
    by_plate = {e.plate: e for e in entries}
    listed = list(by_plate)
    reads = [_mutate(rng, rng.choice(listed)) for _ in range(400)] + ["", "A", "AB", "ZZZZZZZ", "LEA1234"]
    kinds = {"exact": 0, "possible": 0, "none": 0}
    for read in reads:
        want = scan_match(by_plate, read, T, distance=_rapidfuzz)
        assert wl.match(read, T) == want, read
        kinds["none" if want is None else "exact" if want.exact else "possible"] += 1
        if rng.random() < 0.1:  # the old pure-Python distance agrees too
            assert scan_match(by_plate, read, T) == want, read
    assert min(kinds.values()) >= 20, kinds  # the table exercises hits, possible hits and misses


def test_index_finds_every_one_edit_neighbour() -> None:
    idx = PlateIndex(["LEA1234", "PRA777", "AB1"])
    assert idx.near("LEA1234") == {"LEA1234": 0}
    assert idx.near("LEA124") == {"LEA1234": 1}  # deletion
    assert idx.near("LEA12345") == {"LEA1234": 1}  # insertion
    assert idx.near("LEA1284") == {"LEA1234": 1}  # substitution
    assert idx.near("LAE1234") == {}  # a transposition is two edits (shares a key; rejected by the check)
    assert idx.near("1EA1234") == {"LEA1234": 1}
    assert idx.near("1EA12E4") == {}
    assert idx.near("PRA7") == {}
    assert idx.near("AB1") == {}  # 2-3 characters: exact matches only
    assert idx.near("PRA77") == {"PRA777": 1}
    assert idx.keys == 2 + (1 + 7) + (1 + 4)  # folded texts + plates and their distinct deletions (PRA77 once)
    assert deletions("ABA") == {"BA", "AA", "AB"} and fold("LOB5") == "1085"


@pytest.mark.parametrize(
    ("read", "listed", "distance"),
    [
        ("8KA321", "BKA321", 1),
        ("BKA32I", "BKA321", 1),
        ("8KA32I", "BKA321", 2),  # two OCR twins: still a possible hit, at distance 2
        ("PRK4Z4Z", "PRK4242", 2),
    ],
)
def test_ocr_twins_at_any_distance(read: str, listed: str, distance: int) -> None:
    wl = Watchlist([WatchlistEntry.create("BKA-321", "x"), WatchlistEntry.create("PRK 4242", "y")])
    hit = wl.match(read, T)
    assert hit is not None and (hit.entry.plate, hit.exact, hit.distance) == (listed, False, distance)


def test_expired_entries_never_match() -> None:
    wl = Watchlist(
        [
            WatchlistEntry.create("LEA-1234", "stolen", "critical", expiry=T),
            WatchlistEntry.create("LEA-1235", "wanted", "low"),
        ],
        clock=lambda: T + 1,
    )
    hit = wl.match("LEA1234", T - 1)
    assert hit is not None and hit.exact and hit.entry.reason == "stolen"
    hit = wl.match("LEA1234", T)  # expired at T: the neighbour one edit away is the best hit now
    assert hit is not None and not hit.exact and hit.entry.plate == "LEA1235"
    hit = wl.match("LEA1234")  # no time given: the clock's
    assert hit is not None and hit.entry.plate == "LEA1235"
    assert Watchlist([WatchlistEntry.create("LEA1234", "x", expiry=T)]).match("LEA1284", T + 5) is None
    assert len(wl) == 2 and wl.get("lea 1234") is not None  # still listed (the admin screen shows it)


@pytest.mark.parametrize(
    ("value", "want"),
    [
        (None, None),
        ("", None),
        ("2026-12-31", "2027-01-01T00:00:00Z"),  # a date: the end of that day, UTC
        (dt.date(2026, 12, 31), "2027-01-01T00:00:00Z"),
        ("2026-12-31T18:30", "2026-12-31T18:30:00Z"),  # no zone: UTC
        ("2026-12-31T18:30:00Z", "2026-12-31T18:30:00Z"),
        ("2026-12-31T18:30:00+05:00", "2026-12-31T13:30:00Z"),
        (dt.datetime(2026, 12, 31, 18, 30, tzinfo=dt.UTC), "2026-12-31T18:30:00Z"),
        (1_798_761_600_000, "2027-01-01T00:00:00Z"),
    ],
)
def test_parse_expiry(value: object, want: str | None) -> None:
    got = parse_expiry(value)
    assert (format_expiry(got) or None) == want


@pytest.mark.parametrize("value", ["tomorrow", "2026-13-01", "31/12/2026", "2026-12-31T25:00", True, -5, 1.5, [1]])
def test_parse_expiry_rejects(value: object) -> None:
    with pytest.raises(ValueError, match="expiry"):
        parse_expiry(value)


def test_loaders_accept_expiry() -> None:
    entries = watchlist_from_mapping(
        {
            "plates": [
                {"plate": "LEA-1234", "reason": "stolen", "expiry": dt.date(2026, 12, 31)},
                {"plate": "AB12", "reason": "x"},
            ]
        }
    )
    assert [format_expiry(e.expires_ms) for e in entries] == ["2027-01-01T00:00:00Z", ""]
    csv_entries = watchlist_from_csv(
        "plate,reason,priority,note,expiry\nLEA1234,stolen,high,,2026-06-30T12:00Z\nAB12,x,,,\n"
    )
    assert [format_expiry(e.expires_ms) for e in csv_entries] == ["2026-06-30T12:00:00Z", ""]
    with pytest.raises(ValueError, match="entry 0: expiry"):
        watchlist_from_mapping([{"plate": "LEA1234", "reason": "x", "expiry": "soon"}])
    with pytest.raises(ValueError, match="line 2: expiry"):
        watchlist_from_csv("plate,reason,expiry\nLEA1234,x,31/12/2026\n")
