"""Plate sightings of one camera: each finished plate read becomes a :class:`core.types.PlateRead`.

The rule engine keeps each vehicle's most confident reading (its voted plate); the reads of a
vehicle that agreed on that text are its votes. :class:`PlateVotes` counts them, bounded in
memory, and :meth:`PlateVotes.sighting` builds the event the worker publishes on ``plate.read``
(archived by ``services.sightings``).
"""

from __future__ import annotations

from collections import Counter, OrderedDict

from core.anpr import normalise_plate_text
from core.types import Box, PlateRead

#: Vehicles whose votes are remembered (oldest forgotten first).
MAX_VEHICLES = 2000


class PlateVotes:
    """Readings per vehicle and text, for the ``votes`` of each sighting.

    Args:
        camera_id: The camera.
    """

    def __init__(self, camera_id: str) -> None:
        self.camera_id = camera_id
        self._votes: OrderedDict[str, Counter[str]] = OrderedDict()

    def add(self, vehicle_key: str, text: str) -> None:
        """Count one reading of a vehicle (empty texts are not votes)."""
        plate = normalise_plate_text(text)
        if not plate:
            return
        self._votes.setdefault(vehicle_key, Counter())[plate] += 1
        self._votes.move_to_end(vehicle_key)
        while len(self._votes) > MAX_VEHICLES:
            self._votes.popitem(last=False)

    def sighting(
        self,
        vehicle_key: str,
        voted: str | None,
        confidence: float,
        ts_ms: int,
        box: Box,
        crop: str | None,
    ) -> PlateRead | None:
        """The sighting of a vehicle after a reading, or None when it has no plate text yet.

        Args:
            vehicle_key: ``"<key track id>@<first ts>"`` (:attr:`core.rules.vehicle.VehicleState.key`).
            voted: The vehicle's voted plate (the engine's best reading), or the reading itself.
            confidence: Confidence of the voted plate.
            ts_ms: Frame time.
            box: Box of the vehicle in frame pixels.
            crop: Evidence id of the plate crop, or None.
        """
        plate = normalise_plate_text(voted or "")
        if not plate:
            return None
        track = vehicle_key.split("@", 1)[0]
        track_id = int(track) if track.lstrip("-").isdigit() else -1
        votes = max(1, self._votes.get(vehicle_key, Counter())[plate])
        return PlateRead(self.camera_id, track_id, ts_ms, plate, float(confidence), box, votes, crop)


__all__ = ["MAX_VEHICLES", "PlateVotes"]
