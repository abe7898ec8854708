"""Plate sightings search: query checking (:mod:`core.sightings.query`) and fuzzy matching and
ranking (:mod:`core.sightings.fuzzy`). Pure logic; the archive holds the rows, the dashboard asks."""

from core.sightings.fuzzy import MAX_EDITS, Ranked, length_range, match_plates, max_edits, rank, rank_key
from core.sightings.query import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    PlateQuery,
    QueryError,
    parse_plate,
    parse_plate_query,
    parse_time,
)

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_EDITS",
    "MAX_LIMIT",
    "PlateQuery",
    "QueryError",
    "Ranked",
    "length_range",
    "match_plates",
    "max_edits",
    "parse_plate",
    "parse_plate_query",
    "parse_time",
    "rank",
    "rank_key",
]
