"""The rule engine of one camera: tracks + speeds + plates of each frame -> violations and incidents.

See :mod:`core.rules` for how vehicles are identified, re-linked over broken tracks,
held while stopped, and carried over a worker restart.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from core.anpr.watchlist import Watchlist
from core.counting import VEHICLE_LABELS
from core.geometry import Homography
from core.rules.base import Finding, Rule, RuleContext, RuleOutput
from core.rules.checkpoint import vehicle_checkpoint, vehicle_from_checkpoint
from core.rules.probe import PatchProbe
from core.rules.records import finding_incident, finding_violation
from core.rules.relink import RelinkParams, link_cost
from core.rules.stopping import StoppingCheck
from core.rules.vehicle import VehicleState, observe
from core.rules.watchlisted import WatchlistSource, record_plate
from core.signals import SignalBoard
from core.speed import Motion
from core.types import Incident, Track, Violation


class RuleEngine:
    """All rules of one camera. Not thread-safe; feed frames in time order.

    Args:
        camera_id: Camera id (in every id it makes).
        segment_id: Road segment of the camera.
        location: (lat, lon) of the camera.
        rules: The rules.
        homography: Pixels -> metres (None: image-only re-linking, no ground rules).
        signals: Signal phases for red-light rules.
        watchlist: The watchlist (:class:`core.anpr.Watchlist`, exact and one-character-off
            matching), or a callable returning the current one (e.g. the worker's
            :meth:`bus.watchlist.WatchlistCache.get`, fed from Redis); None checks nothing.
        relink: Re-linking tuning.
        hold: Keep stopped vehicles alive with a :class:`PatchProbe` (needs images via ``update``).
    """

    def __init__(
        self,
        camera_id: str,
        segment_id: str,
        location: tuple[float, float] | None,
        rules: Sequence[Rule],
        homography: Homography | None = None,
        signals: SignalBoard | None = None,
        watchlist: WatchlistSource | None = None,
        relink: RelinkParams | None = None,
        hold: bool = True,
    ) -> None:
        self.camera_id = camera_id
        self.segment_id = segment_id
        self.location = location
        self.rules = list(rules)
        self.h = homography
        self.signals = signals or SignalBoard()
        self._watchlist = watchlist
        self.relink = relink or RelinkParams()
        self.probe = PatchProbe() if hold else None
        #: Vehicles slower than this in a stopping zone are remembered as patches (they may
        #: fade into the background of a motion detector before they fully stop).
        self.hold_speed_kmh = 15.0
        self._vehicles: dict[str, VehicleState] = {}
        self._by_track: dict[int, str] = {}
        self.relinked = 0
        self.last_ts_ms = 0

    # ------------------------------------------------------------------ public

    def watchlist(self) -> Watchlist | None:
        """The watchlist in force now (None: no watchlist)."""
        wl = self._watchlist
        return wl() if callable(wl) else wl

    @property
    def vehicles(self) -> dict[str, VehicleState]:
        """Vehicles currently known, by key."""
        return self._vehicles

    def vehicle_of_track(self, track_id: int) -> VehicleState | None:
        key = self._by_track.get(track_id)
        return self._vehicles.get(key) if key else None

    def update(
        self,
        ts_ms: int,
        tracks: Sequence[Track],
        motions: Mapping[int, Motion] | None = None,
        plates: Mapping[int, tuple[str, float]] | None = None,
        image: np.ndarray | None = None,
    ) -> RuleOutput:
        """Apply the rules to one frame.

        Args:
            ts_ms: Frame time.
            tracks: The frame's tracks (non-vehicles are ignored).
            motions: Ground motion per track id (from :class:`core.speed.SpeedEstimator`).
            plates: Best plate reading so far per track id: ``(text, confidence)``.
            image: The frame, for holding stopped vehicles (optional).

        Returns:
            New violations and incidents (each vehicle and kind at most once).
        """
        motions = motions or {}
        plates = plates or {}
        if self.probe is not None:
            self.probe.set_image(image)
        vehicles = [t for t in tracks if t.label in VEHICLE_LABELS]
        ctx = RuleContext(ts_ms=ts_ms, signals=self.signals, homography=self.h)
        for v in self._vehicles.values():
            v.active = False
        self._assign(ts_ms, vehicles, motions)
        for rule in self.rules:
            rule.prepare(vehicles, ctx)
        violations: list[Violation] = []
        incidents: list[Incident] = []
        for tr in vehicles:
            v = self._vehicles[self._by_track[tr.track_id]]
            if tr.track_id in plates:
                self._plate(v, *plates[tr.track_id], ts_ms, incidents)
            self._apply(v, ctx, violations, incidents)
            v.prev_ts_ms = ts_ms
        self._hold(ctx, violations, incidents)
        self._expire(ts_ms)
        self.last_ts_ms = ts_ms
        return RuleOutput(tuple(violations), tuple(incidents))

    def set_plate(self, vehicle_key: str, text: str, confidence: float, ts_ms: int) -> list[Incident]:
        """Record a plate reading that arrived outside :meth:`update` (e.g. from a slow OCR thread).

        Args:
            vehicle_key: :attr:`VehicleState.key` of the vehicle (it may have left the view meanwhile).
            text: Plate text.
            confidence: 0-1.
            ts_ms: Frame time of the reading.

        Returns:
            The watch-list incident, when the plate is listed (once per vehicle).
        """
        v = self._vehicles.get(vehicle_key)
        out: list[Incident] = []
        if v is not None:
            self._plate(v, text, confidence, ts_ms, out)
        return out

    def checkpoint(self) -> dict[str, Any]:
        """JSON-able state that lets a restarted worker continue (see :meth:`restore`)."""
        return {
            "v": 1,
            "camera_id": self.camera_id,
            "ts_ms": self.last_ts_ms,
            "vehicles": [vehicle_checkpoint(v, self.probe) for v in self._vehicles.values()],
        }

    def restore(self, data: Mapping[str, Any]) -> int:
        """Load a :meth:`checkpoint` of this camera; returns the vehicles restored.

        Restored vehicles have no live track; new tracks are re-linked to them by
        position (and their already-reported kinds stay reported). Bad data is ignored.
        """
        if not isinstance(data, Mapping) or data.get("v") != 1 or data.get("camera_id") != self.camera_id:
            return 0
        n = 0
        for d in data.get("vehicles") or ():
            try:
                v = vehicle_from_checkpoint(d, self.probe)
            except (KeyError, TypeError, ValueError):
                continue
            if v.key not in self._vehicles:
                self._vehicles[v.key] = v
                n += 1
        return n

    # ------------------------------------------------------------------ internals

    def _assign(self, ts_ms: int, tracks: Sequence[Track], motions: Mapping[int, Motion]) -> None:
        new: list[Track] = []
        for tr in tracks:
            key = self._by_track.get(tr.track_id)
            m = motions.get(tr.track_id)
            if key is None or key not in self._vehicles:
                new.append(tr)
            elif m is not None and m.restarted:
                # The track's positions jumped away: maybe another vehicle now. Detach it and
                # let re-linking decide (it may well link back to the same vehicle).
                del self._by_track[tr.track_id]
                self._vehicles[key].scratch.pop("wrong_way", None)
                new.append(tr)
            else:
                observe(self._vehicles[key], tr, m, ts_ms)
        if not new:
            return
        lost = [v for v in self._vehicles.values() if not v.active]
        for tr in new:
            m = motions.get(tr.track_id)
            best, best_cost = None, math.inf
            for v in lost:
                cost = link_cost(v, tr, m, ts_ms, self.relink)
                if cost is not None and cost < best_cost:
                    best, best_cost = v, cost
            if best is not None:
                lost.remove(best)
                if self._by_track.get(best.track_id) == best.key:
                    del self._by_track[best.track_id]
                best.track_id, best.restored, best.held = tr.track_id, False, False
                self.relinked += 1
                v = best
            else:
                v = VehicleState(tr.track_id, ts_ms, tr.track_id, tr.label, ts_ms, tr.box)
                self._vehicles[v.key] = v
            self._by_track[tr.track_id] = v.key
            observe(v, tr, m, ts_ms)

    def _plate(self, v: VehicleState, text: str, conf: float, ts_ms: int, incidents: list[Incident]) -> None:
        inc = record_plate(v, text, conf, ts_ms, self.watchlist, self.camera_id, self.segment_id, self.location)
        if inc is not None:
            incidents.append(inc)

    def _apply(self, v: VehicleState, ctx: RuleContext, violations: list[Violation], incidents: list[Incident]) -> None:
        for rule in self.rules:
            f = rule.check(v, ctx)
            if f is None or f.kind.value in v.fired:
                continue
            v.fired.add(f.kind.value)
            self._emit(v, f, ctx.ts_ms, violations, incidents)
        if self.probe is not None and v.active:
            self._snapshot(v)

    def _emit(
        self, v: VehicleState, f: Finding, ts_ms: int, violations: list[Violation], incidents: list[Incident]
    ) -> None:
        violation = finding_violation(v, f, ts_ms, self.camera_id, self.segment_id, self.location)
        if violation is not None:
            violations.append(violation)
        incident = finding_incident(v, f, ts_ms, self.camera_id, self.segment_id, self.location)
        if incident is not None:
            incidents.append(incident)

    def _stopping_rules(self) -> list[StoppingCheck]:
        return [r for r in self.rules if isinstance(r, StoppingCheck)]

    def _snapshot(self, v: VehicleState) -> None:
        """Keep a patch of a vehicle that is (nearly) stopped in a stopping zone."""
        assert self.probe is not None
        zones = [r for r in self._stopping_rules() if r.inside(v)]
        if not zones or (v.speed_kmh is not None and v.speed_kmh >= self.hold_speed_kmh):
            self.probe.forget(v.key)
            v.scratch.pop("hold_area", None)
            return
        if v.speed_kmh is None:
            return  # unknown (e.g. a flickering re-detection): keep what we have
        area = v.box[2] * v.box[3]
        # Refresh while the box is whole; a shrinking box means it is fading into the background.
        if area >= 0.8 * v.scratch.get("hold_area", 0.0) and self.probe.remember(v.key, v.box):
            v.scratch["hold_area"] = max(area, v.scratch.get("hold_area", 0.0))

    def _hold(self, ctx: RuleContext, violations: list[Violation], incidents: list[Incident]) -> None:
        if self.probe is None or self.probe.image is None:
            return
        for v in self._vehicles.values():
            if v.active or v.key not in self.probe:
                continue
            if not self.probe.confirmed(v.key) and not self.probe.confirm(v.key):
                continue  # it did not stay: the image no longer shows it there
            if self.probe.still_there(v.key):
                v.held = True
                v.last_ts_ms = ctx.ts_ms
                v.speed_kmh = 0.0
                v.scratch["hold_miss_ms"] = None
                box = self.probe.box(v.key)
                if box is not None:
                    v.box = box
                for rule in self._stopping_rules():
                    f = rule.check(v, ctx)
                    if f is not None and f.kind.value not in v.fired:
                        v.fired.add(f.kind.value)
                        self._emit(v, f, ctx.ts_ms, violations, incidents)
            else:
                since = v.scratch.get("hold_miss_ms") or ctx.ts_ms
                v.scratch["hold_miss_ms"] = since
                if ctx.ts_ms - since >= self.relink.hold_grace_s * 1000:
                    v.held = False
                    self.probe.forget(v.key)

    def _expire(self, ts_ms: int) -> None:
        horizon = int(self.relink.forget_s * 1000)
        for key in [k for k, v in self._vehicles.items() if ts_ms - v.last_ts_ms > horizon and not v.held]:
            v = self._vehicles.pop(key)
            if self._by_track.get(v.track_id) == key:
                del self._by_track[v.track_id]
            if self.probe is not None:
                self.probe.forget(key)
