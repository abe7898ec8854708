"""AG Grid <-> archive: column definitions, filter/sort model mapping, row shape (pure functions).

Column filters map to :class:`archive.TicketFilter`: state and kind may list several
values separated by commas, camera/road/plate are exact matches (plates normalised by the
archive), and the time column takes a day range. Sorting maps to the archive's sort keys.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from core.types import IncidentKind, TicketState
from dashboard.data import iso_utc

#: Rows fetched per block of the infinite row model.
BLOCK = 100

#: Grid column -> archive sort key (ascending, descending).
SORTS = {
    "ts": ("ts", "-ts"),
    "fine_pkr": ("fine", "-fine"),
    "state": ("state", "state"),
    "kind": ("kind", "kind"),
    "camera_id": ("camera", "camera"),
    "updated": ("-updated", "-updated"),
}
TEXT_EQUALS = {
    "filter": "agTextColumnFilter",
    "filterParams": {"filterOptions": ["equals"], "maxNumConditions": 1, "buttons": ["reset"]},
}

COLUMNS: list[dict[str, Any]] = [
    {"field": "ticket_id", "headerName": "Ticket", "pinned": "left", "width": 190, "sortable": False},
    {
        "field": "time",
        "colId": "ts",
        "headerName": "Time (UTC)",
        "width": 170,
        "sortable": True,
        "filter": "agDateColumnFilter",
        "filterParams": {"filterOptions": ["inRange", "greaterThan", "lessThan"], "maxNumConditions": 1},
    },
    {"field": "kind", "headerName": "Violation", "width": 120, "sortable": True, **TEXT_EQUALS},
    {"field": "state", "headerName": "State", "width": 130, "sortable": True, **TEXT_EQUALS},
    {"field": "plate", "headerName": "Plate", "width": 120, "sortable": False, **TEXT_EQUALS},
    {"field": "camera_id", "headerName": "Camera", "width": 170, "sortable": True, **TEXT_EQUALS},
    {"field": "segment_id", "headerName": "Road", "width": 130, "sortable": False, **TEXT_EQUALS},
    {"field": "speed", "headerName": "Speed / limit", "width": 120, "sortable": False},
    {"field": "fine_pkr", "headerName": "Fine (PKR)", "width": 110, "sortable": True, "type": "numericColumn"},
    {"field": "label", "headerName": "Vehicle", "width": 100, "sortable": False},
]


class FilterError(ValueError):
    """A grid filter the archive cannot apply (the message says which)."""


def _values(model: dict[str, Any]) -> list[str]:
    return [v.strip() for v in str(model.get("filter") or "").split(",") if v.strip()]


def _day_ms(text: str | None, end: bool = False) -> int | None:
    if not text:
        return None
    d = datetime.fromisoformat(text[:10]).replace(tzinfo=UTC)
    return int(d.timestamp() * 1000) + (86_400_000 - 1 if end else 0)


def ticket_filter(filter_model: dict[str, Any] | None) -> Any:
    """AG Grid's ``filterModel`` -> ``archive.TicketFilter``.

    Raises:
        FilterError: unknown state/kind values or an unsupported filter.
    """
    from archive import TicketFilter

    fm = filter_model or {}
    kw: dict[str, Any] = {}
    if "state" in fm:
        vals = _values(fm["state"])
        bad = [v for v in vals if v not in {s.value for s in TicketState}]
        if bad:
            raise FilterError(f"unknown state {bad[0]!r}: use {', '.join(s.value for s in TicketState)}")
        kw["states"] = tuple(TicketState(v) for v in vals)
    if "kind" in fm:
        vals = _values(fm["kind"])
        bad = [v for v in vals if v not in {k.value for k in IncidentKind}]
        if bad:
            raise FilterError(f"unknown violation {bad[0]!r}")
        kw["kinds"] = tuple(IncidentKind(v) for v in vals)
    for col, key in (("camera_id", "camera_id"), ("segment_id", "segment_id"), ("plate", "plate")):
        if col in fm and _values(fm[col]):
            kw[key] = _values(fm[col])[0]
    if "ts" in fm:
        m = fm["ts"]
        typ = m.get("type")
        if typ == "inRange":
            kw["since_ms"], kw["until_ms"] = _day_ms(m.get("dateFrom")), _day_ms(m.get("dateTo"), end=True)
        elif typ == "greaterThan":
            kw["since_ms"] = _day_ms(m.get("dateFrom"), end=True)
        elif typ == "lessThan":
            kw["until_ms"] = _day_ms(m.get("dateFrom"))
    unknown = sorted(set(fm) - {"state", "kind", "camera_id", "segment_id", "plate", "ts"})
    if unknown:
        raise FilterError(f"cannot filter by {', '.join(unknown)}")
    return TicketFilter(**kw)


def ticket_sort(sort_model: list[dict[str, Any]] | None) -> str:
    """AG Grid's ``sortModel`` -> the archive's sort key (default newest first)."""
    for s in sort_model or []:
        pair = SORTS.get(str(s.get("colId")))
        if pair:
            return pair[1] if s.get("sort") == "desc" else pair[0]
    return "-ts"


def grid_row(r: Any) -> dict[str, Any]:
    speed = "-" if r.speed_kmh is None else f"{r.speed_kmh:.0f}" + (f" / {r.limit_kmh:.0f}" if r.limit_kmh else "")
    return {
        "ticket_id": r.ticket_id,
        "time": (iso_utc(r.ts_ms) or "")[:19].replace("T", " "),
        "kind": r.kind,
        "state": r.state,
        "plate": r.plate or "(unread)",
        "camera_id": r.camera_id,
        "segment_id": r.segment_id,
        "speed": speed,
        "fine_pkr": r.fine_pkr,
        "label": r.label,
    }


def export_params(flt: Any) -> dict[str, str]:
    """Query of the CSV export endpoint for the same filter."""
    p: dict[str, str] = {}
    if flt.states:
        p["state"] = ",".join(s.value for s in flt.states)
    if flt.kinds:
        p["kind"] = ",".join(k.value for k in flt.kinds)
    for key, name in (("camera_id", "camera"), ("segment_id", "segment"), ("plate", "plate")):
        if getattr(flt, key):
            p[name] = str(getattr(flt, key))
    if flt.since_ms is not None:
        p["since"] = str(flt.since_ms)
    if flt.until_ms is not None:
        p["until"] = str(flt.until_ms)
    return p
