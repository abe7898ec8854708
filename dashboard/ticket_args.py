"""The query arguments of the ticket endpoints: the list filters and the ticket number in the path.

Shared by :mod:`dashboard.api_tickets` and :mod:`dashboard.api_backoffice` (its reports take
the same filters), so each check is written once.
"""

from __future__ import annotations

import re

import flask

from archive import TicketFilter
from core.anpr import normalise_plate_text
from core.tickets import TICKET_ID_RE, normalise_ticket_id
from core.types import IncidentKind, TicketState
from dashboard.api_base import BadRequest, _enum_list, _int_arg

LIST_PARAMS = {
    "state",
    "kind",
    "camera",
    "segment",
    "plate",
    "needs_plate",
    "since",
    "until",
    "sort",
    "offset",
    "limit",
}
PLATE_RE = re.compile(r"^[A-Z0-9]{2,12}$")


def _ticket_filter(extra: frozenset[str] = frozenset()) -> TicketFilter:
    """The list filters of the request; parameters other than :data:`LIST_PARAMS` and ``extra`` are a 400."""
    unknown = sorted(set(flask.request.args) - LIST_PARAMS - extra)
    if unknown:
        raise BadRequest(
            400, f"unknown query parameter(s): {', '.join(unknown)}; allowed: {', '.join(sorted(LIST_PARAMS))}"
        )
    needs = flask.request.args.get("needs_plate")
    if needs not in (None, "", "true", "false"):
        raise BadRequest(400, "needs_plate must be true or false")
    plate = flask.request.args.get("plate")
    if plate is not None and not PLATE_RE.match(normalise_plate_text(plate)):
        raise BadRequest(422, "plate must have 2-12 letters or digits")
    since = _int_arg("since", -1, 0, 10**14)
    until = _int_arg("until", -1, 0, 10**14)
    return TicketFilter(
        states=_enum_list("state", TicketState),
        kinds=_enum_list("kind", IncidentKind, ("overspeed", "wrong_way", "red_light", "stalled")),  # type: ignore[arg-type]
        camera_id=flask.request.args.get("camera") or None,
        segment_id=flask.request.args.get("segment") or None,
        plate=normalise_plate_text(plate) if plate else None,
        since_ms=None if since < 0 else since,
        until_ms=None if until < 0 else until,
        needs_plate=None if not needs else needs == "true",
    )


def _check_ticket_id(ticket_id: str) -> str:
    tid = normalise_ticket_id(ticket_id)
    if not TICKET_ID_RE.match(tid):
        raise BadRequest(400, "malformed ticket number; it looks like ET-XXXX-XXXX-XXXX")
    return tid


__all__ = ["LIST_PARAMS", "PLATE_RE", "_check_ticket_id", "_ticket_filter"]
