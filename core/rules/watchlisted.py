"""Watch-listed plates: an incident as soon as a vehicle's plate reading matches the watchlist."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from core.anpr.text import normalise_plate_text
from core.anpr.watchlist import Watchlist, watchlist_incident
from core.rules.ids import incident_id_for
from core.rules.vehicle import VehicleState
from core.types import Incident, IncidentKind, PlateRead

#: A watchlist, or a callable returning the current one (a run-time cache fed from Redis).
WatchlistSource = Watchlist | Callable[[], Watchlist]


def record_plate(
    v: VehicleState,
    text: str,
    conf: float,
    ts_ms: int,
    watchlist: Callable[[], Watchlist | None],
    camera_id: str,
    segment_id: str,
    location: tuple[float, float] | None,
) -> Incident | None:
    """Record a plate reading on a vehicle; the watch-list incident when the plate is listed.

    The reading replaces the vehicle's plate unless it is empty or less confident than
    the one it has. A vehicle raises at most one watch-list incident; its id is that
    of the vehicle (:func:`core.rules.ids.incident_id_for`), so replays give the same id.

    Args:
        v: The vehicle.
        text: Plate text as read.
        conf: Its confidence, 0-1.
        ts_ms: Frame time of the reading.
        watchlist: Returns the watchlist in force (None: no watchlist); only called when
            the reading is new and the vehicle has no watch-list incident yet.
        camera_id: Camera id.
        segment_id: Road segment of the camera.
        location: (lat, lon) of the camera.

    Returns:
        The new incident, or None.
    """
    plate = normalise_plate_text(text)
    if not plate or conf < v.plate_confidence:
        return None
    v.plate, v.plate_confidence = plate, float(conf)
    if IncidentKind.WATCHLIST.value in v.fired:
        return None
    wl = watchlist()
    hit = wl.match(plate, ts_ms) if wl is not None else None
    if hit is None:
        return None
    v.fired.add(IncidentKind.WATCHLIST.value)
    read = PlateRead(camera_id, v.key_track_id, ts_ms, plate, float(conf), v.box)
    inc = watchlist_incident(hit, read, segment_id, location)
    return replace(
        inc,
        incident_id=incident_id_for(camera_id, v.key_track_id, v.first_ts_ms, IncidentKind.WATCHLIST),
        details=(*inc.details, ("track_first_ts_ms", str(v.first_ts_ms))),
    )
