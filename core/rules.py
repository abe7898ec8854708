"""Traffic rules: tracks + speeds + zones + signal phase + time -> violations and incidents.

Pure logic (numpy only). One :class:`RuleEngine` per camera is fed every analysed
frame: the frame's tracks, their :class:`core.speed.Motion` (ground position and
smoothed speed) and the plates read so far. Each rule is a small class that looks at
one vehicle at a time and returns a :class:`Finding`; the engine turns findings into
:class:`core.types.Violation` (an e-ticket) and/or :class:`core.types.Incident` (for
the operator and wardens) **at most once per vehicle and kind**.

Rules:

* :class:`OverspeedCheck`: smoothed speed above limit + tolerance for ``min_duration_s``.
* :class:`WrongWayCheck`: driven ``min_distance_m`` against the legal direction, which
  comes from a one-way zone's ``flow`` or from the road axis and the side of the road
  traffic keeps to (left in Pakistan: left of the centre line moves away from the camera).
* :class:`RedLightCheck`: crossing a stop line in the controlled direction while the
  signal (schedule or controller stream, :mod:`core.signals`) shows red.
* :class:`StoppingCheck`: stopped in a zone longer than ``max_stop_s`` (stalled vehicle
  incident; a violation too in a no-stopping zone).
* watch-listed plate: an incident as soon as a vehicle's plate reading matches.

Vehicle identity. Ids are made from the vehicle's *first* track id and the time that
track was first seen, so violation ids are idempotent (replays give the same id). A
track that breaks up (ByteTrack loses a fast or occluded vehicle and starts a new id)
is re-linked to the vehicle it continues when it appears where that vehicle was
predicted to be (ground position + velocity), so one vehicle never gets two tickets of
one kind. :meth:`RuleEngine.checkpoint` / :meth:`RuleEngine.restore` carry this state
over a worker restart: the vehicles in view when the old worker stopped are re-linked
to the new worker's tracks, and what they were already fined for stays fired.

A vehicle that stops tends to vanish from a background-subtraction detector (it
becomes background). While a vehicle is stopped in a stopping zone the engine keeps a
small image patch of it (:class:`PatchProbe`); if its track is lost, the vehicle is
*held* as long as the patch still matches the image at that place, so the time in the
zone keeps counting.
"""

from __future__ import annotations

import hashlib
import math
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from config.settings import CameraConfig, CameraRules, FlowZone, RedLightRule, StoppingZone, WrongWayRule
from core.anpr import Watchlist, normalize_plate_text, watchlist_incident
from core.counting import VEHICLE_LABELS, LineCounter
from core.geometry import Homography, point_in_polygon, side_of_line
from core.signals import SignalBoard
from core.speed import Motion
from core.types import (
    Box,
    Direction,
    Incident,
    IncidentKind,
    PlateRead,
    Point,
    Priority,
    SignalPhase,
    Track,
    Violation,
    box_bottom_center,
)

#: Ground positions remembered per vehicle for direction checks (4 s at 10 analysed fps: enough
#: to hold ``min_distance_m`` of wrong-way travel at about 6 km/h and up).
TRAIL_LEN = 40

#: Wrong-way evidence: at least this many position steps, and at least this share of them
#: against the legal direction, over the stretch that makes up ``min_distance_m``. A real
#: wrong-way driver moves against the flow step after step; a motion blob whose edge jumps
#: when it merges with the vehicle behind moves against it in one step, and a jittering
#: blob in a crawling queue in about half of them.
WRONG_WAY_MIN_STEPS = 4
WRONG_WAY_MIN_SPAN_MS = 1000
WRONG_WAY_STEADY_SHARE = 0.75
#: ... and no step of that stretch may move against the flow faster than this many times
#: the stretch's mean speed (a blob edge jumping metres in one frame is not driving).
WRONG_WAY_MAX_STEP_RATIO = 3.0
#: A step shorter than this (metres) is standing still, not moving against the flow.
WRONG_WAY_STILL_M = 0.05

#: Incidents raised for violations of each kind (kinds not listed are tickets only).
INCIDENT_PRIORITY: dict[IncidentKind, Priority] = {
    IncidentKind.WRONG_WAY: Priority.HIGH,
    IncidentKind.STALLED: Priority.MEDIUM,
}

SUMMARY = {
    IncidentKind.OVERSPEED: "Over-speeding",
    IncidentKind.WRONG_WAY: "Wrong-way driver",
    IncidentKind.RED_LIGHT: "Red-light violation",
    IncidentKind.STALLED: "Stalled vehicle",
    IncidentKind.WATCHLIST: "Watch-listed plate seen",
}


def stable_id(*parts: object) -> str:
    """SHA-1 hex of the parts joined with a separator (deterministic ids)."""
    return hashlib.sha1("\x1f".join(str(p) for p in parts).encode("utf-8")).hexdigest()


def violation_id(camera_id: str, track_id: int, first_ts_ms: int, kind: IncidentKind | str) -> str:
    """Idempotent violation id: camera + the vehicle's first track id + its first frame time + kind."""
    return stable_id("violation", camera_id, track_id, first_ts_ms, IncidentKind(kind).value)


def incident_id_for(camera_id: str, track_id: int, first_ts_ms: int, kind: IncidentKind | str) -> str:
    """Idempotent incident id of a vehicle incident (same inputs as :func:`violation_id`)."""
    return stable_id("incident", camera_id, track_id, first_ts_ms, IncidentKind(kind).value)


#: A watchlist, or a callable returning the current one (a run-time cache fed from Redis).
WatchlistSource = Watchlist | Callable[[], Watchlist]


# --------------------------------------------------------------------------- vehicles


@dataclass
class VehicleState:
    """What the engine knows about one vehicle (possibly spanning several track ids).

    Attributes:
        key_track_id: Track id when first seen (part of its ids).
        first_ts_ms: Frame time when first seen (part of its ids).
        track_id: Current track id.
        label: Latest label.
        last_ts_ms: Last frame time it was seen (or held).
        box: Last box, pixels.
        ground: Last ground position, metres (None without calibration).
        velocity: Last fitted ground velocity, m/s.
        speed_kmh: Last plausible speed.
        fired: Kinds already reported for it.
        plate: Best plate reading so far.
        plate_confidence: Its confidence.
        scratch: Per-rule state.
        active: Seen in the current frame.
        held: Kept alive by the patch probe while stopped.
        restored: Came from a checkpoint (not yet re-linked).
        prev_ts_ms: Frame time of its previous update.
        fresh: This frame's position went into its speed fit (the velocity is current).
        anchor_ts_ms: Time of ``anchor``.
        anchor: Last ground position that went into the speed fit (what re-linking predicts from).
        trail: Recent such positions ``(ts_ms, ground)``, newest last.
    """

    key_track_id: int
    first_ts_ms: int
    track_id: int
    label: str
    last_ts_ms: int
    box: Box
    ground: Point | None = None
    velocity: tuple[float, float] | None = None
    speed_kmh: float | None = None
    fired: set[str] = field(default_factory=set)
    plate: str | None = None
    plate_confidence: float = 0.0
    scratch: dict[str, Any] = field(default_factory=dict)
    active: bool = False
    held: bool = False
    restored: bool = False
    prev_ts_ms: int = 0
    fresh: bool = False
    anchor_ts_ms: int = 0
    anchor: Point | None = None
    trail: deque[tuple[int, Point]] = field(default_factory=lambda: deque(maxlen=TRAIL_LEN))

    @property
    def point(self) -> Point:
        """Image bottom-centre of the last box."""
        return box_bottom_center(self.box)

    @property
    def key(self) -> str:
        return f"{self.key_track_id}@{self.first_ts_ms}"


@dataclass(frozen=True, slots=True)
class Finding:
    """A rule's verdict on one vehicle.

    Attributes:
        kind: Violation/incident kind.
        details: Facts for the evidence record.
        speed_kmh: Speed at the moment, if relevant.
        limit_kmh: Limit, if relevant.
        ticket: Becomes a :class:`Violation` (e-ticket).
        priority: Also raise an :class:`Incident` with this priority (None = no incident).
        summary: One line for people.
    """

    kind: IncidentKind
    details: tuple[tuple[str, str], ...] = ()
    speed_kmh: float | None = None
    limit_kmh: float | None = None
    ticket: bool = True
    priority: Priority | None = None
    summary: str = ""


@dataclass(frozen=True, slots=True)
class RuleOutput:
    """What one frame produced."""

    violations: tuple[Violation, ...] = ()
    incidents: tuple[Incident, ...] = ()


@dataclass
class RuleContext:
    """Per-frame inputs shared by the rules."""

    ts_ms: int
    signals: SignalBoard
    homography: Homography | None
    crossings: dict[str, dict[int, Direction]] = field(default_factory=dict)


# --------------------------------------------------------------------------- patch probe


class PatchProbe:
    """Is a stopped vehicle still there? Compares small grey patches of the image (numpy only).

    While a slow vehicle is tracked its patch is :meth:`remember`-ed. When its track is
    lost, :meth:`confirm` checks that the image still shows it at (about) that place,
    loosely, since the vehicle may have crept a little, and then re-takes the patch from
    the current image; from then on :meth:`still_there` compares strictly.

    Args:
        size: ``(width, height)`` the patches are sampled to.
        threshold: Normalised cross-correlation at or above which a confirmed vehicle is still there.
        confirm_threshold: Correlation with the last tracked patch needed to confirm.
    """

    def __init__(
        self, size: tuple[int, int] = (24, 16), threshold: float = 0.75, confirm_threshold: float = 0.45
    ) -> None:
        self.size = size
        self.threshold = threshold
        self.confirm_threshold = confirm_threshold
        self.image: np.ndarray | None = None
        self._patches: dict[str, tuple[Box, np.ndarray]] = {}
        self._confirmed: set[str] = set()

    def set_image(self, image: np.ndarray | None) -> None:
        """The current frame (BGR or grey)."""
        self.image = image

    def _sample(self, box: Box) -> np.ndarray | None:
        img = self.image
        if img is None:
            return None
        h, w = img.shape[:2]
        x, y, bw, bh = box
        x0, y0 = max(0, int(x)), max(0, int(y))
        x1, y1 = min(w, int(math.ceil(x + bw))), min(h, int(math.ceil(y + bh)))
        if x1 - x0 < 4 or y1 - y0 < 4:
            return None
        xs = np.linspace(x0, x1 - 1, self.size[0]).astype(int)
        ys = np.linspace(y0, y1 - 1, self.size[1]).astype(int)
        patch = img[np.ix_(ys, xs)].astype(np.float32)
        return patch.mean(axis=2) if patch.ndim == 3 else patch

    def remember(self, key: str, box: Box) -> bool:
        """Store the patch of ``box`` in the current image under ``key``; False when not possible."""
        p = self._sample(box)
        if p is None:
            return False
        self._patches[key] = (box, p)
        self._confirmed.discard(key)
        return True

    def confirm(self, key: str) -> bool:
        """After the track is lost: is the remembered vehicle still in the image? Re-takes its patch if so."""
        s = self.follow(key, threshold=self.confirm_threshold)
        if s is None or s < self.confirm_threshold:
            self.forget(key)
            return False
        box = self._patches[key][0]
        p = self._sample(box)
        if p is None:
            self.forget(key)
            return False
        self._patches[key] = (box, p)
        self._confirmed.add(key)
        return True

    def confirmed(self, key: str) -> bool:
        return key in self._confirmed

    def box(self, key: str) -> Box | None:
        got = self._patches.get(key)
        return got[0] if got else None

    @staticmethod
    def _ncc(a: np.ndarray, b: np.ndarray) -> float:
        da = a - a.mean()
        db = b - b.mean()
        den = float(np.sqrt((da * da).sum() * (db * db).sum()))
        if den < 1e-6:
            return 1.0 if float(np.abs(a - b).mean()) < 8.0 else 0.0
        return float((da * db).sum() / den)

    def similarity(self, key: str) -> float | None:
        """Correlation (-1..1) of the stored patch with the image at the same place now; None if unknown."""
        got = self._patches.get(key)
        if got is None:
            return None
        cur = self._sample(got[0])
        return None if cur is None else self._ncc(got[1], cur)

    def follow(self, key: str, search: float = 0.15, steps: int = 5, threshold: float | None = None) -> float | None:
        """Best correlation of the stored patch within ``search`` x its size around its box.

        The stored box moves to the best place (a stopped vehicle may still creep); the
        stored pixels stay those of the moment it was remembered.

        Returns:
            The best correlation, or None when unknown.
        """
        got = self._patches.get(key)
        if got is None:
            return None
        box, ref = got
        x, y, w, h = box
        best, best_box = -2.0, box
        for dx in np.linspace(-search * w, search * w, steps):
            for dy in np.linspace(-search * h, search * h, steps):
                cand = (x + float(dx), y + float(dy), w, h)
                cur = self._sample(cand)
                if cur is None:
                    continue
                score = self._ncc(ref, cur)
                if score > best:
                    best, best_box = score, cand
        if best <= -2.0:
            return None
        if best >= (self.threshold if threshold is None else threshold):
            self._patches[key] = (best_box, ref)
        return best

    def still_there(self, key: str) -> bool:
        """The remembered vehicle is still at (or within a small shift of) its place.

        On a match the patch is re-taken from the current image, so slow changes
        (creeping, light) are followed while a vehicle driving off is not.
        """
        s = self.follow(key, steps=7)
        if s is None or s < self.threshold:
            return False
        box = self._patches[key][0]
        p = self._sample(box)
        if p is not None:
            self._patches[key] = (box, p)
        return True

    def forget(self, key: str) -> None:
        self._patches.pop(key, None)
        self._confirmed.discard(key)

    def export(self, key: str) -> dict[str, Any] | None:
        """A confirmed patch as plain data (for a checkpoint), or None."""
        got = self._patches.get(key)
        if got is None or key not in self._confirmed:
            return None
        return {"box": [round(c, 1) for c in got[0]], "pixels": np.round(got[1], 1).tolist()}

    def load(self, key: str, data: Mapping[str, Any]) -> bool:
        """Restore an :meth:`export`-ed patch as confirmed; False when malformed."""
        try:
            box = tuple(float(c) for c in data["box"])
            pix = np.asarray(data["pixels"], dtype=np.float32)
        except (KeyError, TypeError, ValueError):
            return False
        if len(box) != 4 or pix.shape != (self.size[1], self.size[0]):
            return False
        self._patches[key] = (box, pix)  # type: ignore[assignment]
        self._confirmed.add(key)
        return True

    def __contains__(self, key: str) -> bool:
        return key in self._patches


# --------------------------------------------------------------------------- rules


class Rule:
    """Base class: one rule of one camera."""

    rule_id: str = "rule"
    kind: IncidentKind = IncidentKind.OVERSPEED

    def prepare(self, tracks: Sequence[Track], ctx: RuleContext) -> None:
        """Called once per frame before :meth:`check` (e.g. to update line counters)."""

    def check(self, v: VehicleState, ctx: RuleContext) -> Finding | None:
        """Verdict on one vehicle seen in this frame (``v.active``) or held (``v.held``)."""
        raise NotImplementedError


class OverspeedCheck(Rule):
    """Smoothed speed above ``limit + tolerance`` for at least ``min_duration_s``."""

    kind = IncidentKind.OVERSPEED

    def __init__(self, limit_kmh: float, tolerance_kmh: float = 5.0, min_duration_s: float = 0.5) -> None:
        self.rule_id = "overspeed"
        self.limit_kmh = float(limit_kmh)
        self.threshold_kmh = float(limit_kmh + tolerance_kmh)
        self.min_duration_ms = int(min_duration_s * 1000)

    def check(self, v: VehicleState, ctx: RuleContext) -> Finding | None:
        if not v.active or v.speed_kmh is None:
            return None  # unknown speed: keep the state, decide on known speeds only
        st = v.scratch.setdefault(self.rule_id, {"since": None, "speeds": []})
        if v.speed_kmh <= self.threshold_kmh:
            st["since"], st["speeds"] = None, []
            return None
        if st["since"] is None:
            st["since"] = ctx.ts_ms
        st["speeds"].append(v.speed_kmh)
        if ctx.ts_ms - st["since"] < self.min_duration_ms:
            return None
        speed = float(np.median(st["speeds"]))
        return Finding(
            kind=self.kind,
            speed_kmh=round(speed, 1),
            limit_kmh=self.limit_kmh,
            details=(
                ("over_limit_kmh", f"{speed - self.limit_kmh:.1f}"),
                ("sustained_s", f"{(ctx.ts_ms - st['since']) / 1000:.1f}"),
                ("samples", str(len(st["speeds"]))),
            ),
            summary=f"{speed:.0f} km/h in a {self.limit_kmh:.0f} km/h zone",
        )


class WrongWayCheck(Rule):
    """Distance driven against the legal direction of travel.

    Three pieces of evidence must agree before a vehicle is a wrong-way driver: the
    distance its fitted velocity carried it against the flow (``min_distance_m``), its
    raw positions of the last half second moving against the flow, and a steady run of
    raw positions (:meth:`_steady_against`) that covers ``min_distance_m`` against the flow
    with most steps going that way, so that one jump of a merging motion blob is not enough.

    Args:
        cfg: The camera's wrong-way settings.
        homography: The camera's pixels -> metres mapping (required).
        traffic_side: ``"left"`` (vehicles left of the road axis move away from the camera) or ``"right"``.
    """

    kind = IncidentKind.WRONG_WAY

    def __init__(self, cfg: WrongWayRule, homography: Homography, traffic_side: str = "left") -> None:
        self.rule_id = "wrong_way"
        self.cfg = cfg
        self.h = homography
        self.traffic_side = traffic_side
        self.zones: list[tuple[FlowZone, np.ndarray]] = [(z, self._ground_dir(*z.flow)) for z in cfg.zones]
        self.axis_dir = self._ground_dir(*cfg.road_axis) if cfg.road_axis is not None else None

    def _ground_dir(self, a: Point, b: Point) -> np.ndarray:
        g = self.h.to_ground([a, b])
        d = g[1] - g[0]
        n = float(np.hypot(*d))
        if not math.isfinite(n) or n < 1e-9:
            raise ValueError(f"wrong-way direction {a} -> {b} has no length on the ground")
        return d / n

    def legal_direction(self, point: Point) -> tuple[np.ndarray, str] | None:
        """Unit ground vector of legal travel at an image point, and where it comes from."""
        for z, d in self.zones:
            if point_in_polygon(point, z.polygon):
                return d, f"zone {z.id}"
        if self.axis_dir is None or self.cfg.road_axis is None:
            return None
        near, far = self.cfg.road_axis
        side = side_of_line(point, near, far)  # -1: left of near->far on screen
        if side == 0:
            return None
        away = (side < 0) == (self.traffic_side == "left")
        return (self.axis_dir if away else -self.axis_dir), ("away from camera" if away else "toward camera")

    def _recently_against(self, v: VehicleState, d: np.ndarray, span_ms: int = 500) -> bool:
        """The raw positions of the last ``span_ms`` also move against ``d`` (not only the fit)."""
        if len(v.trail) < 2:
            return False
        t1, p1 = v.trail[-1]
        older = [(t, p) for t, p in v.trail if t1 - t >= span_ms]
        if not older:
            return False
        t0, p0 = older[-1]
        along = ((p1[0] - p0[0]) * d[0] + (p1[1] - p0[1]) * d[1]) / ((t1 - t0) / 1000.0)
        return bool(along < -self.cfg.min_speed_kmh / 3.6)

    def _steady_against(self, v: VehicleState, d: np.ndarray) -> tuple[float, int, int] | None:
        """Net distance against ``d`` of the newest raw positions, and their steps (all, against).

        Walks back from the newest position until the positions make up ``min_distance_m`` of
        net travel against ``d`` over at least :data:`WRONG_WAY_MIN_STEPS` steps and
        :data:`WRONG_WAY_MIN_SPAN_MS`; None when the trail holds no such stretch, when fewer than
        :data:`WRONG_WAY_STEADY_SHARE` of its steps went against ``d``, or when one step went
        against ``d`` more than :data:`WRONG_WAY_MAX_STEP_RATIO` times faster than the stretch.
        """
        pts = list(v.trail)
        if len(pts) < 2:
            return None
        t_end = pts[-1][0]
        net = 0.0
        steps = against = 0
        fastest = 0.0  # m/s against d, fastest single step
        for (t0, p0), (t1, p1) in zip(reversed(pts[:-1]), reversed(pts[1:]), strict=True):
            step = (p1[0] - p0[0]) * d[0] + (p1[1] - p0[1]) * d[1]
            net -= step
            steps += 1
            against += step < -WRONG_WAY_STILL_M  # a step that hardly moves (a held box) is no evidence
            fastest = max(fastest, -step / max((t1 - t0) / 1000.0, 1e-3))
            if net >= self.cfg.min_distance_m and steps >= WRONG_WAY_MIN_STEPS and t_end - t0 >= WRONG_WAY_MIN_SPAN_MS:
                break
        else:
            return None
        if against < WRONG_WAY_STEADY_SHARE * steps:
            return None
        mean_mps = net / max((t_end - t0) / 1000.0, 1e-3)
        if fastest > WRONG_WAY_MAX_STEP_RATIO * mean_mps:
            return None
        return net, steps, against

    def check(self, v: VehicleState, ctx: RuleContext) -> Finding | None:
        if not v.active or not v.fresh or v.velocity is None or v.speed_kmh is None:
            return None  # only a velocity fitted with this frame's position is evidence
        legal = self.legal_direction(v.point)
        if legal is None:
            return None
        d, where = legal
        along = float(v.velocity[0] * d[0] + v.velocity[1] * d[1])  # m/s, + = legal
        dt = max(0.0, (ctx.ts_ms - (v.prev_ts_ms or ctx.ts_ms)) / 1000.0)
        st = v.scratch.setdefault(self.rule_id, {"against_m": 0.0})
        min_v = self.cfg.min_speed_kmh / 3.6
        if along < -min_v:
            st["against_m"] += -along * dt
        elif along > min_v:
            st["against_m"] = max(0.0, st["against_m"] - along * dt)
        if st["against_m"] < self.cfg.min_distance_m or not self._recently_against(v, d):
            return None
        steady = self._steady_against(v, d)
        if steady is None:
            return None
        net, steps, against = steady
        return Finding(
            kind=self.kind,
            speed_kmh=round(v.speed_kmh, 1),
            details=(
                ("against_m", f"{st['against_m']:.1f}"),
                ("legal_direction", where),
                ("observed_against_m", f"{net:.1f}"),
                ("steps_against", f"{against}/{steps}"),
            ),
            priority=INCIDENT_PRIORITY[self.kind],
            summary=f"Wrong-way driver ({where} is legal) at {v.speed_kmh:.0f} km/h",
        )


class RedLightCheck(Rule):
    """Crossing the stop line in the controlled direction on red (and amber when configured)."""

    kind = IncidentKind.RED_LIGHT

    def __init__(self, cfg: RedLightRule, index: int = 0, forget_after: int = 50) -> None:
        self.rule_id = f"red_light:{index}"
        self.cfg = cfg
        self.direction = Direction(cfg.direction)
        self.counter = LineCounter(self.rule_id, cfg.stop_line[0], cfg.stop_line[1], forget_after=forget_after)

    def prepare(self, tracks: Sequence[Track], ctx: RuleContext) -> None:
        ctx.crossings[self.rule_id] = {t.track_id: d for t, d in self.counter.update(tracks)}

    def check(self, v: VehicleState, ctx: RuleContext) -> Finding | None:
        if not v.active or ctx.crossings.get(self.rule_id, {}).get(v.track_id) != self.direction:
            return None
        info = ctx.signals.at(self.cfg.signal, ctx.ts_ms)
        if info is None:
            return None  # phase unknown: nothing can be proven
        bad = info.phase is SignalPhase.RED or (self.cfg.amber_is_violation and info.phase is SignalPhase.AMBER)
        if not bad:
            return None
        into = (ctx.ts_ms - info.since_ms) / 1000.0
        return Finding(
            kind=self.kind,
            speed_kmh=round(v.speed_kmh, 1) if v.speed_kmh is not None else None,
            details=(("signal", self.cfg.signal), ("phase", info.phase.value), ("phase_elapsed_s", f"{into:.1f}")),
            summary=f"Crossed the stop line {into:.1f} s into {info.phase.value}",
        )


class StoppingCheck(Rule):
    """Stopped inside a zone for longer than ``max_stop_s``."""

    kind = IncidentKind.STALLED

    def __init__(self, zone: StoppingZone) -> None:
        self.rule_id = f"stopping:{zone.id}"
        self.zone = zone

    def inside(self, v: VehicleState) -> bool:
        return point_in_polygon(v.point, self.zone.polygon)

    def is_stopped(self, v: VehicleState) -> bool:
        return v.held or (v.speed_kmh is not None and v.speed_kmh < self.zone.stop_speed_kmh)

    def check(self, v: VehicleState, ctx: RuleContext) -> Finding | None:
        st = v.scratch.setdefault(self.rule_id, {"since": None})
        if not (self.inside(v) and self.is_stopped(v)):
            if v.active and v.speed_kmh is not None and v.speed_kmh >= 2 * self.zone.stop_speed_kmh:
                st["since"] = None  # clearly moving again
            elif v.active and not self.inside(v):
                st["since"] = None
            return None
        if st["since"] is None:
            st["since"] = ctx.ts_ms
        stopped_s = (ctx.ts_ms - st["since"]) / 1000.0
        if stopped_s < self.zone.max_stop_s:
            return None
        return Finding(
            kind=self.kind,
            ticket=self.zone.no_stopping,
            priority=INCIDENT_PRIORITY[self.kind],
            details=(
                ("zone", self.zone.id),
                ("stopped_s", f"{stopped_s:.0f}"),
                ("no_stopping", str(self.zone.no_stopping).lower()),
            ),
            summary=f"Vehicle stopped {stopped_s:.0f} s in {'no-stopping ' if self.zone.no_stopping else ''}zone {self.zone.id}",
        )


# --------------------------------------------------------------------------- engine


@dataclass(frozen=True, slots=True)
class RelinkParams:
    """How a new track is matched to a vehicle whose track was lost.

    Attributes:
        window_s: A lost vehicle can be continued for this long.
        restored_window_s: ... and this long after a restart (checkpoint age included).
        lateral_m: Max sideways distance from the predicted ground position.
        along_m: Max distance along the direction of travel, plus ``along_frac`` of the predicted travel.
        along_frac: See ``along_m``.
        forget_s: Vehicles unseen this long are forgotten (unless held).
        hold_grace_s: A held vehicle whose patch no longer matches is dropped after this long.
    """

    window_s: float = 2.5
    restored_window_s: float = 15.0
    lateral_m: float = 2.0
    along_m: float = 3.0
    along_frac: float = 0.25
    forget_s: float = 20.0
    hold_grace_s: float = 2.0


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

    @classmethod
    def for_camera(
        cls,
        camera: CameraConfig,
        speed_limit_kmh: float,
        homography: Homography | None,
        signals: SignalBoard | None = None,
        watchlist: WatchlistSource | None = None,
        traffic_side: str = "left",
        relink: RelinkParams | None = None,
    ) -> RuleEngine:
        """Build the engine from a camera's config.

        Raises:
            ValueError: a ground rule (wrong-way) without a calibration.
        """
        return cls(
            camera.id,
            camera.segment,
            camera.location,
            build_rules(camera.rules, speed_limit_kmh, homography, traffic_side),
            homography=homography,
            signals=signals,
            watchlist=watchlist,
            relink=relink,
        )

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
            "vehicles": [
                {
                    "key_track_id": v.key_track_id,
                    "first_ts_ms": v.first_ts_ms,
                    "track_id": v.track_id,
                    "label": v.label,
                    "last_ts_ms": v.last_ts_ms,
                    "box": list(v.box),
                    "ground": _as_list(v.anchor or v.ground),
                    "anchor_ts_ms": v.anchor_ts_ms if v.anchor is not None else v.last_ts_ms,
                    "velocity": list(v.velocity) if v.velocity is not None else None,
                    "fired": sorted(v.fired),
                    "plate": v.plate,
                    "plate_confidence": v.plate_confidence,
                    "stopped": {
                        k: st["since"] for k, st in v.scratch.items() if k.startswith("stopping:") and st.get("since")
                    },
                    "patch": self.probe.export(v.key) if (self.probe is not None and v.held) else None,
                }
                for v in self._vehicles.values()
            ],
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
                v = VehicleState(
                    key_track_id=int(d["key_track_id"]),
                    first_ts_ms=int(d["first_ts_ms"]),
                    track_id=-1,
                    label=str(d["label"]),
                    last_ts_ms=int(d["last_ts_ms"]),
                    box=tuple(float(x) for x in d["box"]),  # type: ignore[arg-type]
                    ground=tuple(float(x) for x in d["ground"]) if d.get("ground") else None,  # type: ignore[arg-type]
                    velocity=tuple(float(x) for x in d["velocity"]) if d.get("velocity") else None,  # type: ignore[arg-type]
                    fired={str(k) for k in d.get("fired") or ()},
                    plate=d.get("plate"),
                    plate_confidence=float(d.get("plate_confidence") or 0.0),
                    restored=True,
                )
                if v.ground is not None:
                    v.anchor, v.anchor_ts_ms = v.ground, int(d.get("anchor_ts_ms") or v.last_ts_ms)
                for k, since in (d.get("stopped") or {}).items():
                    v.scratch[str(k)] = {"since": int(since)}
                if d.get("patch") and self.probe is not None and self.probe.load(v.key, d["patch"]):
                    v.held = True  # a stopped vehicle the detector no longer sees: keep timing it
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
                self._observe(self._vehicles[key], tr, m, ts_ms)
        if not new:
            return
        lost = [v for v in self._vehicles.values() if not v.active]
        for tr in new:
            m = motions.get(tr.track_id)
            best, best_cost = None, math.inf
            for v in lost:
                cost = self._link_cost(v, tr, m, ts_ms)
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
            self._observe(v, tr, m, ts_ms)

    def _observe(self, v: VehicleState, tr: Track, m: Motion | None, ts_ms: int) -> None:
        v.active = True
        v.held = False
        v.label, v.box, v.last_ts_ms = tr.label, tr.box, ts_ms
        v.fresh = False
        if m is not None:
            v.ground = m.ground if m.ground is not None else v.ground
            if m.restarted:
                v.trail.clear()
            if m.used and m.ground is not None:
                v.anchor, v.anchor_ts_ms = m.ground, ts_ms
                v.trail.append((ts_ms, m.ground))
            if m.velocity is not None:
                v.velocity = m.velocity
                v.fresh = m.used
            elif m.restarted:
                v.velocity = None
            v.speed_kmh = m.speed_kmh

    def _link_cost(self, v: VehicleState, tr: Track, m: Motion | None, ts_ms: int) -> float | None:
        window = self.relink.restored_window_s if v.restored else self.relink.window_s
        if not 0 < (ts_ms - v.last_ts_ms) / 1000.0 <= window:
            return None
        base = v.anchor if v.anchor is not None else v.ground
        if base is not None and m is not None and m.ground is not None:
            dt = (ts_ms - (v.anchor_ts_ms if v.anchor is not None else v.last_ts_ms)) / 1000.0
            vx, vy = v.velocity or (0.0, 0.0)
            px, py = base[0] + vx * dt, base[1] + vy * dt
            ex, ey = m.ground[0] - px, m.ground[1] - py
            speed = math.hypot(vx, vy)
            if speed > 0.5:
                along = (ex * vx + ey * vy) / speed
                lateral = abs(ex * vy - ey * vx) / speed
            else:
                along = lateral = math.hypot(ex, ey)
            if (
                lateral > self.relink.lateral_m
                or abs(along) > self.relink.along_m + self.relink.along_frac * speed * dt
            ):
                return None
            return math.hypot(along, lateral)
        # Image fallback: within one box size of the last position.
        p, q = v.point, box_bottom_center(tr.box)
        d = math.hypot(p[0] - q[0], p[1] - q[1])
        return d if d <= max(v.box[2], v.box[3], 10.0) else None

    def _plate(self, v: VehicleState, text: str, conf: float, ts_ms: int, incidents: list[Incident]) -> None:
        plate = normalize_plate_text(text)
        if not plate or conf < v.plate_confidence:
            return
        v.plate, v.plate_confidence = plate, float(conf)
        if IncidentKind.WATCHLIST.value in v.fired:
            return
        wl = self.watchlist()
        hit = wl.match(plate) if wl is not None else None
        if hit is None:
            return
        v.fired.add(IncidentKind.WATCHLIST.value)
        read = PlateRead(self.camera_id, v.key_track_id, ts_ms, plate, float(conf), v.box)
        inc = watchlist_incident(hit, read, self.segment_id, self.location)
        incidents.append(
            replace(
                inc,
                incident_id=incident_id_for(self.camera_id, v.key_track_id, v.first_ts_ms, IncidentKind.WATCHLIST),
                details=(*inc.details, ("track_first_ts_ms", str(v.first_ts_ms))),
            )
        )

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
        details = (*f.details, ("track_first_ts_ms", str(v.first_ts_ms)))
        if f.ticket:
            violations.append(
                Violation(
                    violation_id=violation_id(self.camera_id, v.key_track_id, v.first_ts_ms, f.kind),
                    kind=f.kind,
                    camera_id=self.camera_id,
                    segment_id=self.segment_id,
                    track_id=v.key_track_id,
                    ts_ms=ts_ms,
                    label=v.label,
                    plate=v.plate,
                    plate_confidence=v.plate_confidence,
                    speed_kmh=f.speed_kmh,
                    limit_kmh=f.limit_kmh,
                    location=self.location,
                    details=details,
                    box=v.box,
                    track_first_ts_ms=v.first_ts_ms,
                )
            )
        if f.priority is not None:
            incidents.append(
                Incident(
                    incident_id=incident_id_for(self.camera_id, v.key_track_id, v.first_ts_ms, f.kind),
                    kind=f.kind,
                    priority=f.priority,
                    ts_ms=ts_ms,
                    camera_id=self.camera_id,
                    segment_id=self.segment_id,
                    location=self.location,
                    track_id=v.key_track_id,
                    plate=v.plate,
                    summary=f.summary or SUMMARY.get(f.kind, f.kind.value),
                    details=details,
                )
            )

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


def _as_list(p: Point | None) -> list[float] | None:
    return None if p is None else [float(p[0]), float(p[1])]


def build_rules(
    rules: CameraRules, speed_limit_kmh: float, homography: Homography | None, traffic_side: str = "left"
) -> list[Rule]:
    """The rule objects a camera's config asks for.

    Over-speed and wrong-way need a calibration: without one over-speed is skipped
    (no speeds), and a configured wrong-way rule is an error.

    Raises:
        ValueError: wrong-way configured without a calibration, or a degenerate direction.
    """
    out: list[Rule] = []
    if rules.overspeed is not None and homography is not None:
        o = rules.overspeed
        out.append(OverspeedCheck(o.limit_kmh or speed_limit_kmh, o.tolerance_kmh, o.min_duration_s))
    if rules.wrong_way is not None:
        if homography is None:
            raise ValueError("the wrong-way rule needs a calibration (calibration or lane_calibration)")
        out.append(WrongWayCheck(rules.wrong_way, homography, traffic_side))
    out.extend(RedLightCheck(r, i) for i, r in enumerate(rules.red_light))
    out.extend(StoppingCheck(z) for z in rules.stopping)
    return out


__all__ = [
    "INCIDENT_PRIORITY",
    "Finding",
    "OverspeedCheck",
    "PatchProbe",
    "RedLightCheck",
    "RelinkParams",
    "Rule",
    "RuleContext",
    "RuleEngine",
    "RuleOutput",
    "StoppingCheck",
    "VehicleState",
    "WrongWayCheck",
    "build_rules",
    "incident_id_for",
    "stable_id",
    "violation_id",
]
