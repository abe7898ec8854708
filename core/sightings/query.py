"""A plate search as an operator asks it: ``plate``, ``from``, ``to``, ``camera``, ``limit``, checked.

:func:`parse_plate_query` turns the raw query parameters (strings, as from a URL) into a
:class:`PlateQuery` or raises :class:`QueryError` naming the parameter and what is wrong, which
the API answers with 400 and the page shows beside the search box.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from core.anpr.text import normalise_plate_text

#: Query parameters a plate search accepts.
PARAMS = frozenset({"plate", "from", "to", "camera", "limit"})
#: Letters and digits a plate may have after normalisation.
MIN_PLATE, MAX_PLATE = 2, 10
#: What the raw ``plate`` may contain: letters, digits, spaces, hyphens and dots (e.g. ``LEA-1234``).
RAW_PLATE = re.compile(r"[A-Za-z0-9 .\-]{1,24}")
DEFAULT_LIMIT, MAX_LIMIT = 100, 500
#: Epoch milliseconds accepted for ``from``/``to`` (1970 .. year 5138).
MAX_EPOCH_MS = 10**14


class QueryError(ValueError):
    """A malformed plate search; ``field`` names the parameter."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True, slots=True)
class PlateQuery:
    """A checked plate search.

    Attributes:
        plate: Normalised plate text (upper-case letters and digits).
        from_ms: Earliest sighting time (UTC epoch ms, inclusive), or None.
        to_ms: Latest sighting time (inclusive), or None.
        camera_id: Only this camera's sightings, or None.
        limit: Results at most.
    """

    plate: str
    from_ms: int | None = None
    to_ms: int | None = None
    camera_id: str | None = None
    limit: int = DEFAULT_LIMIT

    def as_dict(self) -> dict[str, str | int | None]:
        """The query as the audit log records it."""
        return {
            "plate": self.plate,
            "from": self.from_ms,
            "to": self.to_ms,
            "camera": self.camera_id,
            "limit": self.limit,
        }


def parse_time(field: str, raw: str) -> int:
    """``raw`` as UTC epoch ms: digits are epoch ms, else ISO-8601 (no offset = UTC).

    Raises:
        QueryError: neither form, or out of range.
    """
    raw = raw.strip()
    if raw.isdigit():
        ms = int(raw)
        if ms > MAX_EPOCH_MS:
            raise QueryError(field, f"epoch milliseconds out of range: {raw}")
        return ms
    try:
        dt = datetime.fromisoformat(raw.replace("Z", "+00:00") if raw.endswith("Z") else raw)
    except ValueError:
        raise QueryError(
            field, f"not a time: {raw[:40]!r}; use ISO-8601 (2026-05-01T08:30) or epoch milliseconds"
        ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    ms = int(dt.timestamp() * 1000)
    if not 0 <= ms <= MAX_EPOCH_MS:
        raise QueryError(field, f"time out of range: {raw[:40]!r}")
    return ms


def parse_plate(raw: str | None) -> str:
    """The normalised plate of a search.

    Raises:
        QueryError: missing, with characters other than letters/digits/space/hyphen/dot,
            or not 2-10 letters and digits.
    """
    if raw is None or not raw.strip():
        raise QueryError("plate", "required")
    if not RAW_PLATE.fullmatch(raw.strip()):
        raise QueryError("plate", "only letters, digits, spaces, hyphens and dots (at most 24 characters)")
    plate = normalise_plate_text(raw)
    if not MIN_PLATE <= len(plate) <= MAX_PLATE:
        raise QueryError("plate", f"needs {MIN_PLATE}-{MAX_PLATE} letters or digits, got {len(plate)}")
    return plate


def parse_plate_query(args: Mapping[str, str | None], cameras: Collection[str]) -> PlateQuery:
    """Check a plate search's parameters.

    Args:
        args: Raw parameters (``plate`` required; ``from``, ``to``, ``camera``, ``limit``
            optional; empty strings count as absent).
        cameras: Ids of the configured cameras.

    Returns:
        The checked query.

    Raises:
        QueryError: an unknown parameter, or a bad value (the first one found).
    """
    unknown = sorted(set(args) - PARAMS)
    if unknown:
        raise QueryError(unknown[0], f"unknown parameter; use {', '.join(sorted(PARAMS))}")
    plate = parse_plate(args.get("plate"))
    raw_from, raw_to = (args.get("from") or "").strip(), (args.get("to") or "").strip()
    from_ms = parse_time("from", raw_from) if raw_from else None
    to_ms = parse_time("to", raw_to) if raw_to else None
    if from_ms is not None and to_ms is not None and from_ms > to_ms:
        raise QueryError("to", "is before from")
    camera = (args.get("camera") or "").strip() or None
    if camera is not None and camera not in cameras:
        raise QueryError("camera", f"unknown camera {camera[:64]!r}")
    raw_limit = (args.get("limit") or "").strip()
    limit = DEFAULT_LIMIT
    if raw_limit:
        if not raw_limit.isdigit():
            raise QueryError("limit", "must be a whole number")
        limit = int(raw_limit)
        if not 1 <= limit <= MAX_LIMIT:
            raise QueryError("limit", f"must be between 1 and {MAX_LIMIT}")
    return PlateQuery(plate, from_ms, to_ms, camera, limit)


__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "MAX_PLATE",
    "MIN_PLATE",
    "PARAMS",
    "PlateQuery",
    "QueryError",
    "parse_plate",
    "parse_plate_query",
    "parse_time",
]
