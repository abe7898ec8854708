"""Plate search: query checking (each bad input named) and fuzzy matching and ranking."""

from __future__ import annotations

import pytest

from core.sightings import (
    MAX_LIMIT,
    PlateQuery,
    QueryError,
    Ranked,
    length_range,
    match_plates,
    max_edits,
    parse_plate_query,
    parse_time,
    rank,
)

CAMERAS = ("cam-a", "cam-b")


def q(**args: str) -> PlateQuery:
    return parse_plate_query(args, CAMERAS)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"plate": "LEA-1234"}, PlateQuery("LEA1234")),
        ({"plate": " lea 1234 "}, PlateQuery("LEA1234")),
        ({"plate": "lea.1234", "camera": "cam-b", "limit": "5"}, PlateQuery("LEA1234", camera_id="cam-b", limit=5)),
        ({"plate": "AB", "from": "1700000000000"}, PlateQuery("AB", from_ms=1_700_000_000_000)),
        (
            {"plate": "AB", "from": "2026-05-01T08:30", "to": "2026-05-01T09:00:00Z"},
            PlateQuery("AB", from_ms=1_777_624_200_000, to_ms=1_777_626_000_000),
        ),
        ({"plate": "AB", "to": "2026-05-01T13:30+05:00"}, PlateQuery("AB", to_ms=1_777_624_200_000)),
        ({"plate": "AB", "from": "", "to": "", "camera": "", "limit": ""}, PlateQuery("AB")),
        ({"plate": "ABCDE12345"}, PlateQuery("ABCDE12345")),
        ({"plate": "AB", "limit": str(MAX_LIMIT)}, PlateQuery("AB", limit=MAX_LIMIT)),
    ],
)
def test_good_queries(args: dict[str, str], expected: PlateQuery) -> None:
    assert q(**args) == expected


@pytest.mark.parametrize(
    ("args", "field", "reason"),
    [
        ({}, "plate", "required"),
        ({"plate": "   "}, "plate", "required"),
        ({"plate": "A"}, "plate", "2-10 letters or digits, got 1"),
        ({"plate": "---"}, "plate", "got 0"),
        ({"plate": "ABCDE123456"}, "plate", "got 11"),
        ({"plate": "LEA'; DROP TABLE"}, "plate", "only letters"),
        ({"plate": "LEA%"}, "plate", "only letters"),
        ({"plate": "LEA*1234"}, "plate", "only letters"),
        ({"plate": "x" * 30}, "plate", "at most 24"),
        ({"plate": "AB", "from": "yesterday"}, "from", "not a time"),
        ({"plate": "AB", "to": "2026-13-01"}, "to", "not a time"),
        ({"plate": "AB", "from": "99999999999999999"}, "from", "out of range"),
        ({"plate": "AB", "from": "-5"}, "from", "not a time"),
        ({"plate": "AB", "from": "2000", "to": "1000"}, "to", "before from"),
        ({"plate": "AB", "camera": "cam-z"}, "camera", "unknown camera"),
        ({"plate": "AB", "limit": "0"}, "limit", "between 1 and"),
        ({"plate": "AB", "limit": "501"}, "limit", "between 1 and"),
        ({"plate": "AB", "limit": "ten"}, "limit", "whole number"),
        ({"plate": "AB", "limit": "-1"}, "limit", "whole number"),
        ({"plate": "AB", "sort": "ts"}, "sort", "unknown parameter"),
    ],
)
def test_bad_queries_name_the_field(args: dict[str, str], field: str, reason: str) -> None:
    with pytest.raises(QueryError) as e:
        q(**args)
    assert e.value.field == field
    assert reason in e.value.reason
    assert str(e.value).startswith(f"{field}: ")


def test_epoch_and_iso_agree() -> None:
    assert parse_time("from", "2023-11-14T22:13:20Z") == parse_time("from", "1700000000000") == 1_700_000_000_000


def test_query_as_audited() -> None:
    assert PlateQuery("LEA1234", 1, 2, "cam-a", 5).as_dict() == {
        "plate": "LEA1234",
        "from": 1,
        "to": 2,
        "camera": "cam-a",
        "limit": 5,
    }


@pytest.mark.parametrize(
    ("plate", "edits", "lengths"),
    [("AB", 0, (2, 2)), ("ABC", 0, (3, 3)), ("ABC1", 1, (3, 5)), ("ABC12", 1, (4, 6)), ("LEA1234", 2, (5, 9))],
)
def test_edits_allowed_grow_with_length(plate: str, edits: int, lengths: tuple[int, int]) -> None:
    assert max_edits(plate) == edits
    assert length_range(plate) == lengths


@pytest.mark.parametrize(
    ("plate", "candidates", "expected"),
    [
        ("LEA1234", ["LEA1234"], {"LEA1234": 0}),
        ("LEA1234", ["LEA1284"], {"LEA1284": 1}),  # one character misread
        ("LEA1234", ["LE1234"], {"LE1234": 1}),  # one dropped
        ("LEA1234", ["LEAB1234"], {"LEAB1234": 1}),  # one inserted
        ("LEA1234", ["LEB1284"], {"LEB1284": 2}),  # two off
        ("LEA1234", ["LFB1284"], {}),  # three off
        ("LEA1234", ["ABC9876", "KHI1234X"], {}),
        ("LEA1234", ["LEA1234", "LEA1234", "LEA1243"], {"LEA1234": 0, "LEA1243": 2}),  # a swap is two edits
        ("ABC1", ["ABC2", "ABD2"], {"ABC2": 1}),  # short plates: one edit only
        ("AB", ["AB", "AC"], {"AB": 0}),  # very short: exact only
        ("LEA1234", [], {}),
    ],
)
def test_fuzzy_matching(plate: str, candidates: list[str], expected: dict[str, int]) -> None:
    assert match_plates(plate, candidates) == expected


def test_ranking_exact_first_then_distance_then_newest() -> None:
    items = [
        Ranked("LEA1284", 1, 500),
        Ranked("LEA1234", 0, 100),
        Ranked("LEB1284", 2, 900),
        Ranked("LEA1234", 0, 300),
        Ranked("LE1234", 1, 700),
    ]
    assert [(r.plate, r.ts_ms) for r in rank(items)] == [
        ("LEA1234", 300),
        ("LEA1234", 100),
        ("LE1234", 700),
        ("LEA1284", 500),
        ("LEB1284", 900),
    ]
