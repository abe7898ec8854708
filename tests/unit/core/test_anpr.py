"""Plate text logic: normalisation, layouts and confusions, voting, watchlist matching."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from core.anpr import (
    ALPHABET,
    OcrLine,
    PlateFormatSet,
    PlateLayout,
    TrackPlateVoter,
    Watchlist,
    WatchlistEntry,
    edit_distance,
    normalise_plate_text,
    parse_pattern,
    watchlist_from_csv,
    watchlist_from_mapping,
    watchlist_incident,
)
from core.plate_formats import random_plate
from core.types import IncidentKind, PlateRead, Priority
from tests.paths import REPO_ROOT


@pytest.fixture(scope="module")
def formats() -> PlateFormatSet:
    """The shipped format set (config/plate_formats.yaml)."""
    return PlateFormatSet.from_mapping(yaml.safe_load((REPO_ROOT / "config" / "plate_formats.yaml").read_text()))


def line(text: str, alts: dict[int, dict[str, float]] | None = None, conf: float = 0.98) -> OcrLine:
    """An OCR reading of ``text``; ``alts`` gives per-position probabilities to override."""
    probs = np.full((len(text), len(ALPHABET)), (1 - conf) / (len(ALPHABET) - 1))
    for i, c in enumerate(text):
        probs[i, ALPHABET.index(c)] = conf
        for ch, p in (alts or {}).get(i, {}).items():
            probs[i, ALPHABET.index(ch)] = p
    return OcrLine(text, probs)


# --------------------------------------------------------------------------- normalisation


@pytest.mark.parametrize(
    ("raw", "norm"),
    [
        pytest.param("LEA1234", "LEA1234", id="already-normal"),
        pytest.param("lea-1234", "LEA1234", id="lower-case-and-hyphen"),
        pytest.param("Lea 1234", "LEA1234", id="mixed-case-and-space"),
        pytest.param("PRA 1234", "PRA1234", id="space"),
        pytest.param(" lea\t12 34 \n", "LEA1234", id="tabs-newlines-padding"),
        pytest.param("L.E.A. 1234", "LEA1234", id="dots"),
        pytest.param("BKA·123\n", "BKA123", id="middle-dot"),
        pytest.param("lea‐1234", "LEA1234", id="unicode-hyphen"),
        pytest.param("LEA–1234", "LEA1234", id="en-dash"),
        pytest.param("Lea_12/34", "LEA1234", id="underscore-slash"),
        pytest.param("ＬＥＡ・１２", "LEA12", id="full-width-letters-and-digits"),
        pytest.param("ＰＲＡ－７７７", "PRA777", id="full-width-hyphen"),
        pytest.param("ｌｅａ１２３４", "LEA1234", id="full-width-lower-case"),
        pytest.param("LEA ①②", "LEA12", id="circled-digits-fold"),
        pytest.param("ﬁ 1", "FI1", id="ligature-folds"),
        # Urdu (Extended Arabic-Indic) and Arabic-Indic digits have no NFKC
        # compatibility mapping to ASCII: they are dropped, like other scripts.
        pytest.param("LEA-۱۲۳۴", "LEA", id="urdu-digits-dropped"),
        pytest.param("LEA-١٢٣", "LEA", id="arabic-indic-digits-dropped"),
        pytest.param("ابc1", "C1", id="arabic-letters-dropped"),
        pytest.param("é1", "1", id="accented-letter-dropped"),
        pytest.param("", "", id="empty"),
        pytest.param(" -.", "", id="separators-only"),
    ],
)
def test_normalise(raw: str, norm: str) -> None:
    assert normalise_plate_text(raw) == norm
    assert normalise_plate_text(norm) == norm  # idempotent


# --------------------------------------------------------------------------- layouts


def test_pattern_expansion() -> None:
    variants = parse_pattern("L{2,3} D{1,4}")
    assert len(variants) == 8
    assert all(all(keep for _, keep in v) for v in variants)
    year = parse_pattern("L{3} D{4} (D{2})")
    assert [keep for _, keep in year[0]] == [True] * 7 + [False] * 2
    assert parse_pattern("[AB]3")[0] == (("AB", True), ("3", True))


@pytest.mark.parametrize("bad", ["", "L{5,2}", "L{2", "(L", "L)", "x", "((L))", "L{11}"])
def test_bad_patterns_are_errors(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_pattern(bad)


def test_format_set_rejects_unknown_keys_and_bad_layouts() -> None:
    with pytest.raises(ValueError, match="unknown plate format keys"):
        PlateFormatSet.from_mapping({"layouts": [{"name": "a", "pattern": "L D"}], "colour": 1})
    with pytest.raises(ValueError, match="lacks"):
        PlateFormatSet.from_mapping({"layouts": [{"pattern": "L D"}]})
    with pytest.raises(ValueError, match="weight"):
        PlateLayout.from_pattern("a", "L", weight=0)
    with pytest.raises(ValueError, match="duplicate"):
        PlateFormatSet((PlateLayout.from_pattern("a", "L D"), PlateLayout.from_pattern("a", "D")))


@pytest.mark.parametrize(
    ("read", "expected"),
    [
        ("LEA1234", "LEA1234"),  # clean Pakistani plate
        ("LEAI234", "LEA1234"),  # I in a digit position -> 1
        ("8KA123", "BKA123"),  # 8 in a letter position -> B
        ("PRA12S4", "PRA1254"),  # S among the digits -> 5
        ("0A123", "QA123"),  # 0 among the letters -> a letter twin (O/D/Q/U), the most probable
    ],
)
def test_confusions_resolved_by_pakistani_layout(formats: PlateFormatSet, read: str, expected: str) -> None:
    alts = {}
    if read == "0A123":  # the model saw a round glyph: Q slightly more likely than O
        alts = {0: {"Q": 0.3, "O": 0.2}}
    best = formats.resolve(line(read, alts))[0]
    if read == "0A123":
        assert best.text == "QA123"
    else:
        assert best.text == expected
    assert best.layout == "pk_standard"


def test_every_generated_pakistani_plate_fits_exactly(formats: PlateFormatSet) -> None:
    import random

    rng = random.Random(3)
    for _ in range(200):
        plate = normalise_plate_text(random_plate(rng))
        best = formats.resolve(line(plate))[0]
        assert best.text == plate
        assert best.changed == 0


def test_confident_free_text_is_kept_when_no_layout_fits(formats: PlateFormatSet) -> None:
    # A US vanity plate fits only the generic layout: nothing is changed, an O is read as 0.
    assert formats.resolve(line("LUVPOKR"))[0].text == "LUVP0KR"
    assert formats.resolve(line("6MMD595"))[0].text == "6MMD595"


def test_eu_layout_settles_letter_digit_swaps_and_trims_country_band(formats: PlateFormatSet) -> None:
    assert formats.resolve(line("RK340A0"))[0].text == "RK340AO"
    # A doubtful extra character at the start (country band) is dropped ...
    assert formats.resolve(line("RRK346AL", {0: {"R": 0.33, "E": 0.3}}))[0].text == "RK346AL"
    # ... a confident one is not.
    assert formats.resolve(line("UXX71N"))[0].text == "UXX71N"


def test_year_mark_is_not_part_of_the_plate() -> None:
    fs = PlateFormatSet((PlateLayout.from_pattern("pk_year", "L{3} D{4} (D{2})"),), max_trim=0)
    best = fs.resolve(line("LEA123407"))[0]
    assert best.text == "LEA1234"
    assert best.layout == "pk_year"


def test_too_short_or_long_readings_have_no_resolution(formats: PlateFormatSet) -> None:
    assert formats.resolve(line("A")) == []
    assert formats.resolve(line("ABCDEFGHIJKLMNOP")) == []


def test_ocrline_validates_and_concatenates() -> None:
    with pytest.raises(ValueError):
        OcrLine("AB", np.zeros((3, len(ALPHABET))))
    joined = OcrLine.concat([line("LEA"), line("1234")])
    assert joined.text == "LEA1234"
    assert joined.probs.shape == (7, len(ALPHABET))
    assert 0.97 < joined.confidence <= 0.99
    assert line("ABC1").without([1]).text == "AC1"


# --------------------------------------------------------------------------- voting


def test_voting_keeps_best_supported_text() -> None:
    v = TrackPlateVoter(min_votes=2)
    box = (10.0, 10.0, 40.0, 12.0)
    v.add(7, "LEA1234", 0.9, 1000, box)
    assert v.best(7) is None  # one reading is not enough
    v.add(7, "LEA1284", 0.95, 1100, box)  # an OCR slip on one frame
    v.add(7, "LEA-1234", 0.85, 1200, box)
    v.add(7, "XYZ", 0.1, 1300, box)  # below min_confidence: ignored
    best = v.best(7, "cam-1")
    assert best is not None
    assert (best.text, best.votes, best.camera_id, best.track_id) == ("LEA1234", 2, "cam-1", 7)
    assert best.ts_ms == 1000  # frame of the most confident agreeing reading
    assert 0.5 < best.confidence < 0.9


def test_voting_report_once_and_prune() -> None:
    v = TrackPlateVoter(min_votes=1, stale_ms=1000)
    v.add(1, "PRA777", 0.9, 0, (0, 0, 1, 1))
    assert v.mark_reported(1, "PRA777")
    assert not v.mark_reported(1, "PRA777")
    assert v.prune(500) == []
    assert v.prune(2000) == [1]
    assert v.best(1) is None


def test_finish_answers_with_a_single_reading() -> None:
    v = TrackPlateVoter(min_votes=3)
    v.add(2, "ABC123", 0.8, 5, (0, 0, 1, 1))
    assert v.best(2) is None
    read = v.finish(2)
    assert read is not None and read.text == "ABC123"
    assert v.tracks() == []


# --------------------------------------------------------------------------- watchlist


@pytest.fixture
def watchlist() -> Watchlist:
    return Watchlist(
        [
            WatchlistEntry.create("LEA-1234", "stolen", "critical"),
            WatchlistEntry.create("PRA 777", "wanted", "medium"),
            WatchlistEntry.create("AB1", "short plate", "high"),
        ]
    )


@pytest.mark.parametrize(
    ("read", "listed", "exact", "distance"),
    [
        ("LEA1234", "LEA1234", True, 0),
        ("lea-1234", "LEA1234", True, 0),
        ("LEA1284", "LEA1234", False, 1),  # one substitution
        ("LEA234", "LEA1234", False, 1),  # one deletion
        ("LEA12345", "LEA1234", False, 1),  # one insertion
        ("1EA1234", "LEA1234", False, 1),  # an OCR twin (L/1)
        ("PRA777", "PRA777", True, 0),
        ("PRA7777", "PRA777", False, 1),
    ],
)
def test_watchlist_matches(watchlist: Watchlist, read: str, listed: str, exact: bool, distance: int) -> None:
    hit = watchlist.match(read)
    assert hit is not None
    assert (hit.entry.plate, hit.exact, hit.distance) == (listed, exact, distance)


@pytest.mark.parametrize("read", ["LEA1299", "PRB123", "AB2", "", "B1"])
def test_watchlist_misses(watchlist: Watchlist, read: str) -> None:
    assert watchlist.match(read) is None


def test_fuzzy_off_gives_exact_only(watchlist: Watchlist) -> None:
    strict = Watchlist(watchlist.entries(), fuzzy=False)
    assert strict.match("LEA1284") is None
    assert strict.match("LEA1234") is not None
    assert "lea 1234" in strict and len(strict) == 3


def test_entry_validation() -> None:
    with pytest.raises(ValueError):
        WatchlistEntry.create("-", "stolen")
    with pytest.raises(ValueError):
        WatchlistEntry.create("ABC123", " ")
    with pytest.raises(ValueError, match="priority"):
        WatchlistEntry.create("ABC123", "stolen", "urgent")


def test_watchlist_files_parse() -> None:
    entries = watchlist_from_mapping(yaml.safe_load((REPO_ROOT / "config" / "watchlist.yaml").read_text()))
    assert entries and all(e.plate.isalnum() and e.plate.isupper() for e in entries)
    csv_entries = watchlist_from_csv("plate,reason,priority\nlea-1234,stolen,critical\n\nPRA 7,wanted,\n")
    assert [(e.plate, e.priority) for e in csv_entries] == [("LEA1234", Priority.CRITICAL), ("PRA7", Priority.HIGH)]
    with pytest.raises(ValueError, match="header"):
        watchlist_from_csv("number,why\nA1,x\n")
    with pytest.raises(ValueError, match="line 2"):
        watchlist_from_csv("plate,reason\n-,stolen\n")
    with pytest.raises(ValueError, match="unknown keys"):
        watchlist_from_mapping({"plates": [{"plate": "AB12", "reason": "x", "colour": "red"}]})


def test_incident_from_hit_is_idempotent_and_prioritised(watchlist: Watchlist) -> None:
    read = PlateRead("cam-1", 42, 1_700_000_000_000, "LEA1234", 0.93, (1.0, 2.0, 30.0, 10.0), votes=3)
    hit = watchlist.match(read.text)
    assert hit is not None
    inc = watchlist_incident(hit, read, "univ-rd", (34.0, 71.5), ("a" * 64, "b" * 64))
    again = watchlist_incident(hit, PlateRead("cam-1", 42, read.ts_ms + 500, "LEA1234", 0.9, read.box), None, None, ())
    assert inc.incident_id == again.incident_id
    assert (inc.kind, inc.priority, inc.plate, inc.track_id) == (
        IncidentKind.WATCHLIST,
        Priority.CRITICAL,
        "LEA1234",
        42,
    )
    assert inc.evidence == ("a" * 64, "b" * 64)
    assert "LEA1234" not in inc.summary  # the summary may reach people who must not see plates
    possible = watchlist.match("PRA7777")
    assert possible is not None
    pinc = watchlist_incident(possible, PlateRead("cam-2", 1, 0, "PRA7777", 0.8, (0, 0, 1, 1)))
    assert pinc.priority == Priority.MEDIUM
    assert "possible" in pinc.summary
    near_critical = watchlist.match("LEA1284")
    assert near_critical is not None
    assert watchlist_incident(near_critical, read).priority == Priority.HIGH


def test_edit_distance() -> None:
    assert edit_distance("ABC", "ABC") == 0
    assert edit_distance("ABC", "ABD") == 1
    assert edit_distance("ABC", "AC") == 1
    assert edit_distance("ABCDEF", "A", limit=1) == 2


# --------------------------------------------------------------------------- reader helpers (no models)


def test_ctc_decoding_folds_to_plate_alphabet() -> None:
    from vision.plates import _decode, _fold_table

    vocab = ["blank", "L", "E", "A", "-", "1", "x", "中", "Ｏ", " "]
    fold = _fold_table(vocab)
    # frames: L L blank E A - 1 1 x 中 Ｏ blank
    seq = [1, 1, 0, 2, 3, 4, 5, 5, 6, 7, 8, 0]
    pred = np.full((len(seq), len(vocab)), 0.01)
    for t, k in enumerate(seq):
        pred[t, k] = 0.9
    ocr = _decode(pred, fold)
    assert ocr.text == "LEA1O"  # separator, lower-case and CJK dropped; full-width O folded
    assert 0.1 < ocr.other < 0.5  # the x and the CJK glyph count as non-plate ink
    assert len(ocr.spans) == 5 and all(0 <= a < b <= 1 for a, b in ocr.spans)


def test_squeezed_doubtful_character_is_dropped() -> None:
    from vision.plates import drop_squeezed

    text = "HKOBE7C"
    centres = [0.1, 0.25, 0.4, 0.475, 0.55, 0.7, 0.85]  # B sits between O and E, one pitch apart
    probs = np.full((7, len(ALPHABET)), 0.001)
    for i, ch in enumerate(text):
        probs[i, ALPHABET.index(ch)] = 0.45 if ch == "B" else 0.98
    spans = tuple((c - 0.02, c + 0.02) for c in centres)
    assert drop_squeezed(OcrLine(text, probs, 0.0, spans)).text == "HKOE7C"
    probs[3, ALPHABET.index("B")] = 0.98  # a confident character stays
    assert drop_squeezed(OcrLine(text, probs, 0.0, spans)).text == text
    even = tuple((0.1 + 0.125 * i - 0.02, 0.1 + 0.125 * i + 0.02) for i in range(7))
    probs[3, ALPHABET.index("B")] = 0.45  # evenly spaced: nothing is squeezed
    assert drop_squeezed(OcrLine(text, probs, 0.0, even)).text == text
