"""Synthetic camera: a rendered road with traffic and ground truth, deterministic from a seed.

A straight road with ``2 * lanes_per_direction`` lanes is watched by a fixed camera
looking along it. Traffic is simulated on the ground plane (metres: ``x`` across the
road, ``y`` along it) and drawn through the camera of the camera's ``calibration``
(:mod:`sim.camera`), so a speed estimator using the same calibration measures
the simulated speeds. Left-hand traffic, as in Pakistan: the left carriageway drives
away from the camera (up the image, direction ``"up"``), the right one toward it
(``"down"``).

Traffic model:

* Poisson arrivals at ``vehicles_per_minute`` (both directions together), each arrival
  given a class from ``vehicle_mix`` and a lane (heavy and slow vehicles prefer the kerb
  lane). A lane's arrivals queue off-screen until its entry is free.
* Car following by the Intelligent Driver Model (IDM) on continuous lateral positions,
  plus a hard no-overlap constraint; lane changes when the leader is slow or oncoming
  and the target lane has a safe gap.
* ``congestion_period_s``: a wave ``c(t) = (1 - cos(2 pi t / period)) / 2``; arrivals
  rise to ``1 + 2c`` times the base rate and desired speeds fall to ``1 - 0.85c`` of
  free flow, so traffic crawls and queues at the wave's peak (``t = period / 2``).
* ``rule_breakers``: ``speeder`` (fast, overtakes), ``wrong_way`` (drives against the
  kerb lane's direction, pulling onto the kerb to pass oncoming traffic), ``stalled``
  (stops for ``stop_s`` at a third of the road; others queue or change lane),
  ``red_light`` (labelled in the truth only, for now).

Per frame, :class:`SceneTruth` lists every simulated vehicle with its plate, ground
position, true speed and its image box (bounding box of the drawn shape, clipped to
the image). :class:`SyntheticScene` is pure (no threads, no sleeping);
:class:`sim.source.SyntheticSource` is the :class:`~ingest.base.FrameSource` around it.
The car-following model is in :mod:`sim.traffic`, the drawing in :mod:`sim.look` and
:mod:`sim.background`.

``python -m sim.preview --help`` renders a preview video or measures the fps.
"""

from __future__ import annotations

import math
from collections import deque

import cv2
import numpy as np

from config.settings import CalibrationConfig
from config.settings import SyntheticSource as SyntheticConfig
from sim.background import render_background
from sim.camera import CameraModel, RoadLayout, camera_for
from sim.look import VehicleLook
from sim.plates import plate_for
from sim.specs import SPECS, VehicleSpec
from sim.traffic import HARD_GAP_M, Pending, Vehicle, idm, lane_gap, leaders, move_laterally
from sim.truth import Projected, SceneTruth, VehicleTruth, frame_truth, project_vehicles

_MAX_SUBSTEP_S = 0.1
_LANE_CHANGE_COOLDOWN_S = 4.0
_MAX_QUEUE = 60


class SyntheticScene:
    """Simulates and renders the road, one frame per :meth:`step`.

    Args:
        cfg: The camera's synthetic source settings.
        calibration: Pixel <-> ground calibration; None uses
            :func:`sim.camera.default_calibration`'s camera.
        start_ts_ms: Timestamp of frame 0 (UTC ms); frame ``k`` is at
            ``start_ts_ms + k * 1000 / fps``.

    Attributes:
        cam: The scene camera.
        layout: The road cross-section.
        frame_index: Index of the last frame produced (-1 before the first).
        arrivals: Vehicles that arrived (were queued to enter) since frame 0.
        spawned: Vehicles that entered the road since frame 0.
        dropped: Arrivals dropped because a lane's entry queue was full.
    """

    def __init__(
        self, cfg: SyntheticConfig, calibration: CalibrationConfig | None = None, start_ts_ms: int = 0
    ) -> None:
        self.cfg = cfg
        self.width, self.height = cfg.width, cfg.height
        self.fps = cfg.fps
        self.start_ts_ms = int(start_ts_ms)
        self.layout = RoadLayout.from_config(cfg)
        self.cam: CameraModel = camera_for(cfg, calibration)
        self._rng = np.random.default_rng([cfg.seed, 1])
        self._noise_rng = np.random.default_rng([cfg.seed, 2])
        self._base_speed = cfg.speed_kmh / 3.6
        mix = cfg.vehicle_mix.model_dump()
        total = sum(mix.values())
        self._labels = [k for k, v in mix.items() if v > 0] or ["car"]
        self._label_p = np.array([mix[k] for k in self._labels], dtype=np.float64) / (total or 1.0)
        self._vehicles: list[Vehicle] = []
        self._queues: dict[int, deque[Pending]] = {ln: deque() for ln in range(self.layout.n_lanes)}
        self._breakers = sorted(cfg.rule_breakers, key=lambda b: b.at_s)
        self._breaker_i = 0
        self._next_id = 1
        self.arrivals = 0
        self.spawned = 0
        self.dropped = 0
        self.frame_index = -1
        self._t = 0.0
        self._proj: dict[int, Projected] = {}
        self._y_far = self._far_limit()
        self._y_near: dict[tuple[str, int], float] = {}
        for label in SPECS:
            for lane in range(self.layout.n_lanes):
                self._y_near[(label, lane)] = self._near_limit(SPECS[label], self.layout.lane_center(lane))
        self._background = render_background(self.cam, self.layout, cfg.seed)
        self._noise = self._make_noise()
        self._warm_up()

    # ------------------------------------------------------------------ public
    @property
    def time_s(self) -> float:
        """Scene time of the current state (0 at frame 0)."""
        return self._t

    @property
    def background(self) -> np.ndarray:
        """The empty street, without vehicles or sensor noise (a copy)."""
        return self._background.copy()

    @property
    def road_far_m(self) -> float:
        """Ground ``y`` where vehicles enter/leave at the far end."""
        return self._y_far

    def congestion(self, t: float | None = None) -> float:
        """Congestion wave level in [0, 1] at scene time ``t`` (0 without waves)."""
        period = self.cfg.congestion_period_s
        if not period:
            return 0.0
        t = self._t if t is None else t
        return 0.5 - 0.5 * math.cos(2 * math.pi * t / period)

    def advance(self) -> SceneTruth:
        """Move to the next frame time and return its truth, without rendering."""
        if self.frame_index >= 0:
            self._simulate(1.0 / self.fps)
        self.frame_index += 1
        self._project_all()
        return self._truth()

    def render(self) -> np.ndarray:
        """Draw the current state (after :meth:`advance`): BGR image with sensor noise."""
        img = self._background.copy()
        W, H = self.width, self.height
        cam_x = self.cam.center[0]
        fade_from = 0.8 * self._y_far
        for v in sorted(self._vehicles, key=lambda q: -(q.y - q.hl)):
            p = self._proj[v.vid]
            x0, y0, x1, y1 = p.box
            if x1 < 0 or y1 < 0 or x0 > W or y0 > H:
                continue
            fade = min(max((v.y - fade_from) / (self._y_far - fade_from), 0.0), 1.0)
            v.look.draw(img, v.x, v.direction, p.hom, p.box, cam_x, fade)
        if self._noise is not None:
            b = int(self._noise_rng.integers(len(self._noise)))
            o = int(self._noise_rng.integers(self._noise[b][0].shape[0] - self.height + 1))
            pos, neg = self._noise[b]
            cv2.add(img, pos[o : o + self.height], dst=img)
            cv2.subtract(img, neg[o : o + self.height], dst=img)
        return img

    def step(self) -> tuple[np.ndarray, SceneTruth]:
        """Advance ``1 / fps`` seconds (the first call gives frame 0) and render."""
        truth = self.advance()
        return self.render(), truth

    # ------------------------------------------------------------------ geometry helpers
    def _far_limit(self) -> float:
        """Far end of the simulated road: where a car is ~6 px wide (between L + 20 m and 2.5 L).

        Vehicles fade into the haze over the last fifth of it, so they do not pop in or out.
        """
        L = self.layout.length_m
        y = L
        while y < 2.5 * L and self.cam.px_per_m(0.0, y) * 1.8 > 6.0:
            y += 5.0
        return max(y, L + 20.0)

    def _near_limit(self, spec: VehicleSpec, x: float) -> float:
        """Centre ``y`` at which a vehicle of ``spec`` at ``x`` is entirely below the image."""
        look = VehicleLook.create(spec, "X", np.random.default_rng(0))
        # Bottom of the image on the ground at this lane, then step toward the camera.
        y = float(self.cam.image_to_ground(np.array([self.cam.ground_to_image(np.array([x, 0.0]))[0], self.height]))[1])
        if not math.isfinite(y):
            y = 0.0
        y_min = self.cam.center[1] + spec.length / 2 + 0.5
        y = max(y + spec.length, y_min)
        while y > y_min:
            box = look.image_box(self.cam.project_h(look.corners(x, y, 1)))
            if box is None or box[1] > self.height + 1:
                return y
            y -= 0.5
        return y_min

    def _make_noise(self) -> list[tuple[np.ndarray, np.ndarray]] | None:
        sigma = self.cfg.noise
        if sigma <= 0:
            return None
        rng = np.random.default_rng([self.cfg.seed, 3])
        bank = []
        for _ in range(2):
            n = rng.standard_normal((self.height + 48, self.width, 3), dtype=np.float32) * np.float32(sigma)
            bank.append((np.clip(n, 0, 255).astype(np.uint8), np.clip(-n, 0, 255).astype(np.uint8)))
        return bank

    # ------------------------------------------------------------------ simulation
    def _warm_up(self) -> None:
        """Run the traffic before frame 0 so the road is not empty at the start."""
        span = self._y_far - self._y_near[("car", 0)]
        warm = min(90.0, 1.2 * span / max(self._base_speed * 0.8, 1.0))
        dt = 1.0 / self.fps
        self._t = -warm - dt
        self._simulate(warm, warmup=True, max_step=0.25)
        self._simulate(dt, warmup=True)  # the last interval gives frame 0 its speeds
        self._t = 0.0
        self.arrivals = self.spawned = self.dropped = 0

    def _simulate(self, seconds: float, warmup: bool = False, max_step: float = _MAX_SUBSTEP_S) -> None:
        for v in self._vehicles:
            v.prev_x, v.prev_y = v.x, v.y
        n = max(1, math.ceil(seconds / max_step - 1e-9))
        dt = seconds / n
        for _ in range(n):
            self._substep(dt, warmup)
        # Speeds over the whole interval are computed in _truth from prev -> now.

    def _substep(self, dt: float, warmup: bool) -> None:
        c = self.congestion()
        self._arrivals(dt, c)
        if not warmup:
            self._release_breakers()
        self._spawn()
        self._drive(dt, c)
        move_laterally(self._vehicles, dt)
        self._decide_lanes()
        self._t += dt
        self._despawn()

    def _arrivals(self, dt: float, c: float) -> None:
        rate_dir = self.cfg.vehicles_per_minute / 60.0 / 2.0 * (1.0 + 2.0 * c)
        for direction in (1, -1):
            k = int(self._rng.poisson(rate_dir * dt))
            for _ in range(k):
                label = self._labels[int(self._rng.choice(len(self._labels), p=self._label_p))]
                lane = self._pick_lane(SPECS[label], direction)
                q = self._queues[lane]
                self.arrivals += 1
                if len(q) >= _MAX_QUEUE:
                    self.dropped += 1
                    continue
                q.append(Pending(label))

    def _pick_lane(self, spec: VehicleSpec, direction: int) -> int:
        lanes = self.layout.carriageway_lanes(direction)
        kerb = self.layout.kerb_lane(direction)
        if len(lanes) == 1 or self._rng.random() < spec.kerb_lane_pref:
            return kerb
        return int(lanes[int(self._rng.integers(len(lanes)))])

    def _release_breakers(self) -> None:
        while self._breaker_i < len(self._breakers) and self._breakers[self._breaker_i].at_s <= self._t:
            b = self._breakers[self._breaker_i]
            self._breaker_i += 1
            self.arrivals += 1
            n = self.layout.lanes_per_direction
            if b.lane is not None:
                lane = min(b.lane, self.layout.n_lanes - 1)
            elif b.kind == "wrong_way":
                lane = self.layout.kerb_lane(1 if self._rng.random() < 0.5 else -1)
            elif b.kind == "speeder":
                lane = n - 1 if self._rng.random() < 0.5 else n  # fast lanes by the median
            else:
                lane = int(self._rng.integers(self.layout.n_lanes))
            lane_dir = self.layout.lane_direction(lane)
            direction = -lane_dir if b.kind == "wrong_way" else lane_dir
            label = b.label if b.label in SPECS else "car"
            self._queues[lane].appendleft(Pending(label, b, direction))

    def _entry_y(self, spec: VehicleSpec, lane: int, direction: int) -> float:
        if direction > 0:
            return self._y_near[(spec.label, lane)]
        return self._y_far + spec.length / 2

    def _spawn(self) -> None:
        for lane, q in self._queues.items():
            if not q:
                continue
            pend = q[0]
            spec = SPECS[pend.label]
            direction = pend.direction or self.layout.lane_direction(lane)
            x = self.layout.lane_center(lane)
            if pend.rule is not None and pend.rule.kind == "wrong_way":
                x = self._kerb_hug_x(lane, spec)
            y = self._entry_y(spec, lane, direction)
            # Free entry? Nearest laterally overlapping vehicle must leave room.
            gap_ahead = math.inf
            lead_speed = math.inf
            blocked = False
            for o in self._vehicles:
                if abs(o.x - x) >= o.hw + spec.width / 2 + 0.25:
                    continue
                d = (o.y - y) * direction
                g = abs(o.y - y) - o.hl - spec.length / 2
                if g < spec.min_gap + 1.0:
                    blocked = True
                    break
                if d > 0 and g < gap_ahead:
                    gap_ahead = g
                    lead_speed = o.v if o.direction == direction else 0.0
            if blocked:
                continue
            q.popleft()
            v0 = self._desired_speed_free(spec, 1.0)
            vid = self._next_id
            self._next_id += 1
            factor = float(np.clip(1.0 + self.cfg.speed_jitter * self._rng.standard_normal(), 0.5, 1.6))
            plate = plate_for(pend.rule.plate if pend.rule is not None else None, self._rng)
            look = VehicleLook.create(spec, plate, self._rng)
            veh = Vehicle(vid, spec, look, lane, x, y, 0.0, direction, factor, x_target=x)
            veh.prev_x, veh.prev_y = x, y
            if pend.rule is not None:
                veh.rule = pend.rule.kind if pend.rule.kind != "normal" else None  # normal: scripted, breaks nothing
                if pend.rule.kind == "speeder":
                    veh.aggressive = True
                    veh.fixed_speed = (pend.rule.speed_kmh or min(1.9 * self.cfg.speed_kmh, 140.0)) / 3.6
                elif pend.rule.speed_kmh:
                    veh.fixed_speed = pend.rule.speed_kmh / 3.6
                if pend.rule.kind == "stalled":
                    veh.stop_y = self.layout.length_m / 3
                    veh.stop_s = pend.rule.stop_s
            v_init = self._desired_speed(veh, self.congestion())
            if math.isfinite(gap_ahead):
                v_init = min(v_init, lead_speed + math.sqrt(2.0 * 2.0 * max(gap_ahead - spec.min_gap, 0.0)))
            veh.v = max(0.0, min(v_init, v0 * 2))
            self._vehicles.append(veh)
            self.spawned += 1

    def _desired_speed_free(self, spec: VehicleSpec, factor: float) -> float:
        return self._base_speed * spec.speed_factor * factor

    def _desired_speed(self, v: Vehicle, c: float) -> float:
        if v.fixed_speed is not None:
            return v.fixed_speed
        s = self._desired_speed_free(v.spec, v.v0_factor) * (1.0 - 0.85 * c)
        if v.rule == "red_light":
            s *= 1.15
        return max(s, 0.3)

    def _drive(self, dt: float, c: float) -> None:
        vs = self._vehicles
        if not vs:
            return
        leader, gap = leaders(self._vehicles)
        new_y = []
        for i, v in enumerate(vs):
            v0 = self._desired_speed(v, c)
            s, dv_lead = math.inf, 0.0
            if leader[i] >= 0:
                o = vs[leader[i]]
                s = float(gap[i])
                dv_lead = o.v * o.direction * v.direction
            # Stalled vehicle: a virtual obstacle at its stop point until the time is up.
            if v.stop_y is not None and v.stop_until is None:
                s_stop = (v.stop_y - v.y) * v.direction + v.spec.min_gap
                if s_stop < s and s_stop > -1.0:
                    s, dv_lead = max(s_stop, 0.01), 0.0
                if abs(v.y - v.stop_y) < 1.5 and v.v < 0.3:
                    v.stop_until = self._t + v.stop_s
            stopped = v.stop_until is not None and self._t < v.stop_until
            a = idm(v, v0, s, dv_lead)
            vel = 0.0 if stopped else max(0.0, v.v + a * dt)
            new_y.append(v.y + v.direction * vel * dt)
        # Apply with a hard no-overlap constraint against current positions.
        for i, v in enumerate(vs):
            y = new_y[i]
            j = int(leader[i])
            if j >= 0:
                o = vs[j]
                limit = o.y - v.direction * (o.hl + v.hl + HARD_GAP_M)
                if (y - limit) * v.direction > 0:
                    y = limit if (limit - v.y) * v.direction > 0 else v.y
            v.v = max(0.0, (y - v.y) * v.direction / dt)
            v.y = y

    def _kerb_hug_x(self, lane: int, spec: VehicleSpec) -> float:
        """Lateral position of a wrong-way vehicle hugging the kerb of ``lane``'s carriageway."""
        kerb = self.layout.kerb_x(lane)
        return kerb - math.copysign(spec.width / 2 + 0.2, kerb)

    def _decide_lanes(self) -> None:
        vs = self._vehicles
        if not any(self._t >= v.next_decision_t for v in vs):
            return
        leader, gap = leaders(self._vehicles)
        for i, v in enumerate(vs):
            if self._t < v.next_decision_t:
                continue
            v.next_decision_t = self._t + 0.5
            if v.rule == "wrong_way":
                self._wrong_way_lateral(v, int(leader[i]), float(gap[i]))
                continue
            cooldown = _LANE_CHANGE_COOLDOWN_S / (2.0 if v.aggressive else 1.0)
            if abs(v.x - v.x_target) > 1e-6 or self._t - v.last_change_t < cooldown:
                continue
            if v.stop_until is not None and self._t < v.stop_until:
                continue
            j = int(leader[i])
            if j < 0:
                continue
            o = vs[j]
            oncoming = o.direction != v.direction
            v0 = self._desired_speed(v, self.congestion())
            slow = float(gap[i]) < max(35.0, 4.0 * v.v) and (o.v < 0.75 * v0 or (o.stop_until is not None))
            if not (slow or (oncoming and float(gap[i]) < 60.0)):
                continue
            lanes = self.layout.carriageway_lanes(v.direction)
            best, best_gap = None, float(gap[i]) + (0.0 if oncoming else (2.0 if v.aggressive else 8.0))
            for cand in (v.lane - 1, v.lane + 1):
                if cand not in lanes:
                    continue
                ok, g_ahead = lane_gap(self._vehicles, v, self.layout.lane_center(cand))
                if ok and g_ahead > best_gap:
                    best, best_gap = cand, g_ahead
            if best is not None:
                v.lane = best
                v.x_target = self.layout.lane_center(best)
                v.last_change_t = self._t

    def _wrong_way_lateral(self, v: Vehicle, leader: int, gap: float) -> None:
        lane_x = self.layout.lane_center(v.lane)
        if leader >= 0 and self._vehicles[leader].direction != v.direction and gap < 45.0:
            o = self._vehicles[leader]
            side = math.copysign(1.0, self.layout.kerb_x(v.lane))
            v.x_target = o.x + side * (o.hw + v.hw + 0.35)
            return
        # Back toward the lane when nothing is coming for a while and the lane is clear beside us.
        hug = self._kerb_hug_x(v.lane, v.spec)
        target = hug if abs(hug - lane_x) < abs(v.x_target - lane_x) else v.x_target
        if abs(v.x - target) > 1e-6:
            ok, g = lane_gap(self._vehicles, v, target)
            clear_ahead = all(
                not (abs(o.x - target) < o.hw + v.hw + 0.25 and 0 < (o.y - v.y) * v.direction < 60.0)
                for o in self._vehicles
                if o is not v
            )
            if ok and clear_ahead:
                v.x_target = target

    def _despawn(self) -> None:
        keep = []
        for v in self._vehicles:
            if v.direction > 0 and v.y - v.hl > self._y_far:
                continue
            if v.direction < 0 and v.y < self._y_near[(v.spec.label, v.lane)] - 0.5:
                continue
            keep.append(v)
        self._vehicles = keep

    # ------------------------------------------------------------------ truth
    def _project_all(self) -> None:
        """Project every vehicle's shape once per frame (used by the truth and the renderer)."""
        self._proj = project_vehicles(self.cam, self._vehicles)

    def _truth(self) -> SceneTruth:
        ts = self.start_ts_ms + int(round(self.frame_index * 1000.0 / self.fps))
        return frame_truth(self._vehicles, self._proj, self.cam, self.fps, self.frame_index, ts)


__all__ = ["SceneTruth", "SyntheticScene", "VehicleTruth"]
