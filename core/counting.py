"""Line crossing counts and zone occupancy from tracks: pure, no I/O.

Modelled on supervision's ``LineZone``: plain objects, tracks in, per-track
results out; drawing lives elsewhere (:mod:`vision.annotate`).

Both classes use a track's **bottom-centre** (where a vehicle touches the road)
as its position. They count whatever tracks they are given; the pipeline passes
vehicles only (see :data:`VEHICLE_LABELS`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from core.geometry import Polygon, point_in_polygon, points_in_polygon, polygon_area, polygon_bounds, segments_intersect
from core.types import LABELS, Direction, Point, Track, ZoneDensity, box_bottom_center

#: Labels that are vehicles (everything but pedestrians).
VEHICLE_LABELS: frozenset[str] = frozenset(label for label in LABELS if label != "person")


@dataclass
class _LineTrackState:
    side: int  # committed side: -1 left, +1 right (never 0)
    point: Point  # last anchor seen on the committed side (start of the motion segment)
    last_seen: int  # update() call number
    pending: int = 0  # consecutive updates seen across the line, not yet committed
    counted: set[Direction] = field(default_factory=set)


class LineCounter:
    """Counts tracks crossing a finite line segment, per direction.

    A crossing is counted when a track's bottom-centre moves from one side of the
    line to the other **and** its motion segment (from the last position on the old
    side to the new position) intersects the finite segment ``a-b``: a vehicle
    driving past the end of the line is not counted. ``forward`` is from the left
    of ``a -> b`` to its right as seen on screen (see :class:`core.types.Direction`).

    Double counts are prevented three ways:

    * positions within ``hysteresis_px`` of the line keep the previous side, so a
      box jittering on the line does not flip sides;
    * with ``min_frames > 1`` the new side must be seen that many updates in a row;
    * a track is counted at most once per direction, whatever it does later.

    Memory is bounded: a track not seen for ``forget_after`` updates is dropped.

    Attributes:
        line_id: Id of the line (from the config).
        a: Start point of the line, pixels.
        b: End point of the line, pixels.
        counts: Crossings per direction.
        counts_by_label: Crossings per ``(direction, label)``.
    """

    def __init__(
        self,
        line_id: str,
        a: Point,
        b: Point,
        hysteresis_px: float = 2.0,
        min_frames: int = 1,
        forget_after: int = 50,
    ) -> None:
        """Create a counter.

        Args:
            line_id: Id of the line.
            a: Start point, pixels.
            b: End point, pixels (must differ from ``a``).
            hysteresis_px: Dead band either side of the line, pixels.
            min_frames: Updates a track must be seen on the new side before the crossing counts.
            forget_after: Updates after which an unseen track is forgotten.

        Raises:
            ValueError: if ``a == b`` or a parameter is out of range.
        """
        self.line_id = line_id
        self.a: Point = (float(a[0]), float(a[1]))
        self.b: Point = (float(b[0]), float(b[1]))
        dx, dy = self.b[0] - self.a[0], self.b[1] - self.a[1]
        self._length = float(np.hypot(dx, dy))
        if self._length <= 1e-9:
            raise ValueError(f"line {line_id!r}: a and b are the same point {a}")
        if hysteresis_px < 0 or min_frames < 1 or forget_after < 1:
            raise ValueError("hysteresis_px must be >= 0, min_frames and forget_after >= 1")
        self.hysteresis_px = float(hysteresis_px)
        self.min_frames = int(min_frames)
        self.forget_after = int(forget_after)
        self.counts: dict[Direction, int] = {Direction.FORWARD: 0, Direction.BACKWARD: 0}
        self.counts_by_label: dict[tuple[Direction, str], int] = {}
        self._tracks: dict[int, _LineTrackState] = {}
        self._tick = 0

    def _side(self, p: Point) -> int:
        ax, ay = self.a
        bx, by = self.b
        dist = ((bx - ax) * (p[1] - ay) - (by - ay) * (p[0] - ax)) / self._length
        if abs(dist) <= self.hysteresis_px:
            return 0
        return 1 if dist > 0 else -1

    def update(self, tracks: Sequence[Track]) -> list[tuple[Track, Direction]]:
        """Feed the tracks of one frame.

        Args:
            tracks: Tracks present in this frame (ids stable across frames).

        Returns:
            The tracks that crossed in this update, with their direction.
        """
        self._tick += 1
        crossed: list[tuple[Track, Direction]] = []
        for track in tracks:
            p = box_bottom_center(track.box)
            side = self._side(p)
            state = self._tracks.get(track.track_id)
            if state is None:
                if side != 0:
                    self._tracks[track.track_id] = _LineTrackState(side=side, point=p, last_seen=self._tick)
                continue
            state.last_seen = self._tick
            if side == 0:
                continue  # in the dead band: keep the committed side and its anchor
            if side == state.side:
                state.point, state.pending = p, 0
                continue
            if not segments_intersect(state.point, p, self.a, self.b):
                # Changed side beside the finite line (or the track jumped): no crossing.
                state.side, state.point, state.pending = side, p, 0
                continue
            state.pending += 1
            if state.pending < self.min_frames:
                continue
            direction = Direction.FORWARD if side > 0 else Direction.BACKWARD
            state.side, state.point, state.pending = side, p, 0
            if direction in state.counted:
                continue
            state.counted.add(direction)
            self.counts[direction] += 1
            key = (direction, track.label)
            self.counts_by_label[key] = self.counts_by_label.get(key, 0) + 1
            crossed.append((track, direction))
        stale = [tid for tid, st in self._tracks.items() if self._tick - st.last_seen >= self.forget_after]
        for tid in stale:
            del self._tracks[tid]
        return crossed

    @property
    def total(self) -> int:
        """Crossings in both directions."""
        return sum(self.counts.values())

    @property
    def tracked(self) -> int:
        """Number of tracks currently remembered (bounded by ``forget_after``)."""
        return len(self._tracks)

    def reset(self) -> None:
        """Forget all tracks and zero the counts."""
        self.counts = {Direction.FORWARD: 0, Direction.BACKWARD: 0}
        self.counts_by_label = {}
        self._tracks.clear()
        self._tick = 0


class ZoneOccupancy:
    """Vehicles in an image zone and the fraction of the zone their boxes cover.

    A track is *in* the zone when its bottom-centre is inside the polygon.
    Occupancy is the area of the **union** of those tracks' boxes within the zone,
    divided by the zone area, in 0-1.

    The union is approximated on a raster: the zone's bounding box is divided into
    cells of ``cell_px`` pixels (chosen so the longer side has at most ``max_cells``
    cells), a cell belongs to the zone / to a box when its centre does, and
    occupancy is covered-zone-cells / zone-cells. The error is about one cell along
    the zone and box outlines (for a 256-cell raster, well under 1 % of a zone of
    ordinary shape); boxes and zones aligned with the cell grid are exact.

    Attributes:
        zone_id: Id of the zone.
        polygon: Zone vertices, pixels.
        area: Exact polygon area, pixels squared.
    """

    def __init__(self, zone_id: str, polygon: Polygon, max_cells: int = 256) -> None:
        """Create a zone.

        Args:
            zone_id: Id of the zone.
            polygon: 3+ vertices, pixels.
            max_cells: Raster resolution along the longer side of the zone's bounding box.

        Raises:
            ValueError: for a degenerate polygon (zero area).
        """
        self.zone_id = zone_id
        self.polygon: tuple[Point, ...] = tuple((float(x), float(y)) for x, y in polygon)
        self.area = polygon_area(self.polygon)
        if len(self.polygon) < 3 or self.area <= 0:
            raise ValueError(f"zone {zone_id!r}: polygon has no area")
        x0, y0, w, h = polygon_bounds(self.polygon)
        self._origin = (x0, y0)
        self.cell_px = max(w, h) / max_cells
        if self.cell_px < 1.0:
            self.cell_px = 1.0  # never finer than a pixel
        self._nx = max(1, int(np.ceil(w / self.cell_px)))
        self._ny = max(1, int(np.ceil(h / self.cell_px)))
        cx = x0 + (np.arange(self._nx) + 0.5) * self.cell_px
        cy = y0 + (np.arange(self._ny) + 0.5) * self.cell_px
        self._cx, self._cy = cx, cy
        gx, gy = np.meshgrid(cx, cy)
        self._mask = points_in_polygon(np.c_[gx.ravel(), gy.ravel()], self.polygon).reshape(self._ny, self._nx)
        self._zone_cells = int(self._mask.sum())
        if self._zone_cells == 0:
            raise ValueError(f"zone {zone_id!r}: polygon too thin for the occupancy raster")

    def contains(self, p: Point) -> bool:
        """Whether a point is inside the zone (boundary included)."""
        return point_in_polygon(p, self.polygon)

    def inside(self, tracks: Sequence[Track]) -> list[Track]:
        """The tracks whose bottom-centre is inside the zone."""
        return [t for t in tracks if self.contains(box_bottom_center(t.box))]

    def measure(self, tracks: Sequence[Track]) -> ZoneDensity:
        """Measure the zone for one frame.

        Args:
            tracks: Tracks of the frame.

        Returns:
            Vehicle count and occupancy (0-1) of this zone.
        """
        present = self.inside(tracks)
        if not present:
            return ZoneDensity(zone_id=self.zone_id, vehicles=0, occupancy=0.0)
        covered = np.zeros((self._ny, self._nx), dtype=bool)
        for t in present:
            x, y, w, h = t.box
            # cells whose centre lies inside [x, x+w) x [y, y+h)
            i0, i1 = np.searchsorted(self._cx, [x, x + w], side="left")
            j0, j1 = np.searchsorted(self._cy, [y, y + h], side="left")
            if i1 > i0 and j1 > j0:
                covered[j0:j1, i0:i1] = True
        occ = float(np.count_nonzero(covered & self._mask)) / self._zone_cells
        return ZoneDensity(zone_id=self.zone_id, vehicles=len(present), occupancy=round(min(occ, 1.0), 4))


__all__ = ["VEHICLE_LABELS", "LineCounter", "ZoneOccupancy"]
