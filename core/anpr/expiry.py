"""Watchlist expiry times: ISO dates/datetimes <-> UTC epoch milliseconds (pure).

An expiry given as a date (``2026-12-31``) means the end of that day in UTC: the entry
still matches on the 31st and stops at ``2027-01-01T00:00:00Z``. A datetime without a
zone (``2026-12-31T18:00``) is UTC; one with a zone (``...+05:00``) is converted.
"""

from __future__ import annotations

import datetime as dt

_UTC = dt.UTC


def parse_expiry(value: object) -> int | None:
    """An expiry as UTC epoch milliseconds (None: never expires).

    Args:
        value: None/"" (no expiry), an ISO date or datetime string, a ``datetime.date``
            or ``datetime.datetime`` (YAML parses unquoted dates itself), or epoch
            milliseconds as an int.

    Raises:
        ValueError: naming what was wrong with the value.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError(f"expiry must be an ISO date or datetime, got {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"expiry must be a positive epoch-ms value, got {value}")
        return value
    if isinstance(value, dt.datetime):
        return _ms(value)
    if isinstance(value, dt.date):
        return _ms(dt.datetime.combine(value + dt.timedelta(days=1), dt.time(), _UTC))
    if not isinstance(value, str):
        raise ValueError(f"expiry must be an ISO date or datetime, got {type(value).__name__}")
    text = value.strip()
    try:
        if len(text) == 10:
            return parse_expiry(dt.date.fromisoformat(text))
        return _ms(dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00")))
    except ValueError:
        raise ValueError(
            f"expiry {value!r} is not an ISO date (2026-12-31) or datetime (2026-12-31T18:00:00Z)"
        ) from None


def _ms(t: dt.datetime) -> int:
    if t.tzinfo is None:
        t = t.replace(tzinfo=_UTC)
    return int(t.timestamp() * 1000)


def format_expiry(expires_ms: int | None) -> str:
    """An expiry as ISO-8601 UTC (``2027-01-01T00:00:00Z``), or "" for none."""
    if expires_ms is None:
        return ""
    t = dt.datetime.fromtimestamp(expires_ms / 1000, _UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")
