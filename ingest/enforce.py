"""Per-camera enforcement stage of the worker: speeds, rules, evidence, plates.

A :class:`CameraEnforcer` runs after the vision pipeline on every analysed frame:

1. ground speed per track (:class:`core.speed.SpeedEstimator`, from the camera's
   calibration) and the mean speed for the density report;
2. the camera's rules (:class:`core.rules.RuleEngine`) with the signal phases
   (schedule from the config, or the ``signal.state`` stream a controller writes);
3. evidence: a ring buffer of recent frames; for each violation the frames before, at
   and after the moment (``evidence.frames``, ``evidence.spacing_s`` apart) and a plate
   (or vehicle) crop are JPEG-encoded once and put in Redis by SHA-256
   (:class:`bus.evidence.EvidenceStore`); the violation is published once the frame
   after the moment exists and the plate was read (or ``evidence.hold_s`` passed, or
   the track ended), carrying the SHA-256 of each file;
4. plates: when the ANPR modules (:mod:`vision.plates`) are installed, a background
   thread reads the violator's plate from its largest view (never blocking analysis);
   with ``evidence.read_plates: all`` every vehicle is read once, for the watch list.

Crash safety: pending violations (evidence stored, not yet published) and a checkpoint
of the rule engine (vehicles in view, what they were already reported for) are kept
in Redis (:class:`bus.rulestate.RuleStateStore`); a restarted worker publishes the
pending ones and re-links the vehicles still in view, so nothing is lost and nothing
is reported twice. Violation ids are idempotent in any case (the ticketing service
makes one ticket per id).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import cv2
import numpy as np

from bus.embedded import RedisClient
from bus.evidence import EvidenceStore
from bus.rulestate import RuleStateStore
from bus.schema import stream_of
from bus.streams import EventBus
from bus.watchlist import RedisWatchlist, WatchlistCache, load_watchlist_file
from config.settings import AppConfig, CameraConfig, resolve_path
from core.anpr import Watchlist, normalize_plate_text
from core.geometry import Homography
from core.rules import RuleEngine, WatchlistSource
from core.signals import ScheduledSignal, SignalBoard, StreamSignal
from core.speed import SpeedEstimator, SpeedParams
from core.types import Box, Frame, Incident, SignalState, Violation

log = logging.getLogger("ingest.enforce")

CHECKPOINT_EVERY_MS = 1000
SIGNAL_POLL_S = 1.0
#: A pending violation is published at the latest this long after the moment, plate or not.
MAX_WAIT_S = 20.0
#: Smallest vehicle box height (px) worth reading a plate from.
MIN_PLATE_BOX_H = 48


def build_signals(cfg: AppConfig) -> SignalBoard:
    """Signal clocks of every configured signal."""
    sigs: dict[str, ScheduledSignal | StreamSignal] = {}
    for s in cfg.signals:
        if s.source == "schedule":
            sigs[s.id] = ScheduledSignal([(p.phase, p.duration_s) for p in s.cycle], s.offset_s)
        else:
            sigs[s.id] = StreamSignal(stale_s=s.stale_s)
    return SignalBoard(sigs)


def homography_of(camera: CameraConfig) -> Homography | None:
    cal = camera.ground_calibration()
    return None if cal is None else Homography(cal.image_points, cal.ground_points_m)


def speed_params(camera: CameraConfig) -> SpeedParams:
    s = camera.speed
    return SpeedParams(
        window_s=s.window_s,
        min_span_s=s.min_span_s,
        min_samples=s.min_samples,
        max_kmh=s.max_kmh,
        max_accel_mps2=s.max_accel_mps2,
        edge_margin_px=s.edge_margin_px,
        max_m_per_px=s.max_m_per_px,
    )


def encode_jpeg(image: np.ndarray, quality: int) -> bytes:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return np.asarray(buf).tobytes()


def crop(image: np.ndarray, box: Box, pad: float = 0.08) -> np.ndarray | None:
    h, w = image.shape[:2]
    x, y, bw, bh = box
    x0, y0 = max(0, int(x - pad * bw)), max(0, int(y - pad * bh))
    x1, y1 = min(w, int(np.ceil(x + bw * (1 + pad)))), min(h, int(np.ceil(y + bh * (1 + pad))))
    if x1 - x0 < 4 or y1 - y0 < 4:
        return None
    return image[y0:y1, x0:x1]


# --------------------------------------------------------------------------- plate reading


@dataclass(frozen=True, slots=True)
class PlateResult:
    """A plate read in the background: text, confidence and the plate crop (JPEG)."""

    text: str
    confidence: float
    crop_jpeg: bytes | None


class PlateWorker:
    """One background thread reading plates from vehicle crops (OCR is slow on a CPU).

    Jobs are dropped, not queued without bound, when the reader falls behind.

    Args:
        reader: Object with ``read(image, box_hint) -> [candidate(text, confidence, box)]``
            (:class:`vision.plates.PlateReader`).
        max_queue: Jobs waiting at most.
    """

    MAX_RESULTS = 5000

    def __init__(self, reader: Any, max_queue: int = 8, jpeg_quality: int = 90) -> None:
        self.reader = reader
        self.jpeg_quality = jpeg_quality
        self._jobs: queue.Queue[tuple[str, np.ndarray]] = queue.Queue(max_queue)
        self._results: dict[str, PlateResult | None] = {}
        self._lock = threading.Lock()
        self._finished: set[str] = set()
        self._stop = threading.Event()
        self.dropped = 0
        self.read = 0
        self._thread = threading.Thread(target=self._run, name="plates", daemon=True)
        self._thread.start()

    @classmethod
    def try_create(cls, jpeg_quality: int = 90) -> PlateWorker | None:
        """A worker around :class:`vision.plates.PlateReader`, or None when ANPR is not installed."""
        try:
            from vision.plates import PlateReader
        except ImportError:
            return None
        try:
            return cls(PlateReader(), jpeg_quality=jpeg_quality)
        except Exception as e:  # noqa: BLE001 - no ANPR: tickets go to manual review
            log.warning("plate reader unavailable (%s): tickets without plates go to manual review", e)
            return None

    def submit(self, key: str, vehicle_crop: np.ndarray) -> bool:
        """Queue a read of one vehicle crop under ``key``; False when dropped."""
        with self._lock:
            if key in self._results:
                return True
            while len(self._results) >= self.MAX_RESULTS:  # forget the oldest reads (bounded memory)
                old = next(iter(self._results))
                self._results.pop(old)
                self._finished.discard(old)
            self._results[key] = None
        try:
            self._jobs.put_nowait((key, vehicle_crop.copy()))
            return True
        except queue.Full:
            with self._lock:
                self._results.pop(key, None)
            self.dropped += 1
            return False

    def result(self, key: str) -> PlateResult | None | bool:
        """The read result; ``False`` when not submitted, ``None`` while pending or when nothing was found."""
        with self._lock:
            if key not in self._results:
                return False
            return self._results[key]

    def done(self, key: str) -> bool:
        """The read of ``key`` finished (found a plate or not)."""
        with self._lock:
            return key in self._finished

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                key, img = self._jobs.get(timeout=0.5)
            except queue.Empty:
                continue
            res: PlateResult | None = None
            try:
                cands = self.reader.read(img)
                if cands:
                    c = cands[0]
                    pc = crop(img, c.box, pad=0.15)
                    res = PlateResult(
                        c.text, float(c.confidence), encode_jpeg(pc, self.jpeg_quality) if pc is not None else None
                    )
            except Exception as e:  # noqa: BLE001 - a bad crop must not kill the reader
                log.warning("plate read failed: %s", e)
            self.read += 1
            with self._lock:
                self._results[key] = res
                self._finished.add(key)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2.0)


# --------------------------------------------------------------------------- pending violations


@dataclass
class Pending:
    """A violation waiting for its last evidence frame and its plate."""

    violation: Violation
    vehicle_key: str
    evidence: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    after_done: bool = False
    best_box: Box = (0.0, 0.0, 0.0, 0.0)
    plate_key: str | None = None
    last_seen_ms: int = 0

    def to_dict(self) -> dict[str, Any]:
        from bus.schema import dumps

        return {
            "violation": dumps(self.violation),
            "vehicle_key": self.vehicle_key,
            "evidence": self.evidence,
            "roles": self.roles,
            "after_done": self.after_done,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Pending | None:
        from bus.schema import SchemaError, loads

        try:
            v = loads(d["violation"]).obj
        except (KeyError, SchemaError):
            return None
        if not isinstance(v, Violation):
            return None
        return cls(
            v,
            str(d.get("vehicle_key", "")),
            list(d.get("evidence") or []),
            list(d.get("roles") or []),
            bool(d.get("after_done")),
        )


class CameraEnforcer:
    """Speeds, rules and evidence for one camera (see the module docstring).

    Args:
        cfg: Whole configuration (signals, fines, watch list, evidence settings).
        camera: The camera.
        client: Redis client (evidence, checkpoints, signal states); None = no Redis
            state (tests of the pure parts).
        plates: Background plate reader, or None (no ANPR: plates stay unknown).
        restore: Load the camera's checkpoint and pending violations from Redis.
    """

    def __init__(
        self,
        cfg: AppConfig,
        camera: CameraConfig,
        client: RedisClient | None,
        plates: PlateWorker | None = None,
        restore: bool = True,
        watchlist: WatchlistSource | None = None,
    ) -> None:
        self.cfg = cfg
        self.camera = camera
        self.ev_cfg = cfg.evidence
        self.h = homography_of(camera)
        self.speed = SpeedEstimator(self.h, speed_params(camera)) if self.h is not None else None
        self.signals = build_signals(cfg)
        seg = cfg.segment(camera.segment)
        self.engine = RuleEngine.for_camera(
            camera, seg.speed_limit_kmh, self.h, self.signals, watchlist, cfg.traffic_side
        )
        self.client = client
        self.evidence = EvidenceStore(client, cfg.evidence.redis_ttl_s) if client is not None else None
        self.state = RuleStateStore(client) if client is not None else None
        self.bus = EventBus(client) if client is not None else None
        self.plates = plates
        self.read_all = cfg.evidence.read_plates == "all"
        self.ring: deque[Frame] = deque()
        self.pending: dict[str, Pending] = {}
        self._speeds: list[float] = []
        self._last_checkpoint_ms = 0
        self._last_signal_poll = 0.0
        self._signal_seen: set[tuple[str, int]] = set()
        self._plate_asked: set[str] = set()
        self._plate_waiting: dict[str, str] = {}
        self.evidence_errors = 0
        self.violations = 0
        self.incidents = 0
        if restore and self.state is not None:
            self._restore()

    # ------------------------------------------------------------------ restart

    def _restore(self) -> None:
        assert self.state is not None
        try:
            cp = self.state.load_checkpoint(self.camera.id)
            if cp:
                n = self.engine.restore(cp)
                log.info("camera %s: %d vehicle(s) restored from the checkpoint", self.camera.id, n)
            for vid, d in self.state.pending(self.camera.id).items():
                p = Pending.from_dict(d)
                if p is not None:
                    self.pending[vid] = p
        except Exception as e:  # noqa: BLE001 - Redis down at start: begin afresh
            log.warning("camera %s: enforcement state not restored: %s", self.camera.id, e)

    # ------------------------------------------------------------------ per frame

    def process(self, frame: Frame, tracks: Sequence[Any]) -> list[Violation | Incident]:
        """Run speeds, rules and evidence on one analysed frame.

        Args:
            frame: The frame.
            tracks: Its tracks (from the vision pipeline).

        Returns:
            Events to publish now: incidents and finalised violations.
        """
        ts = frame.ts_ms
        self._buffer(frame)
        self._poll_signals()
        motions = self.speed.update(ts, tracks, (frame.width, frame.height)) if self.speed is not None else {}
        for m in motions.values():
            if m.speed_kmh is not None:
                self._speeds.append(m.speed_kmh)
        out = self.engine.update(ts, tracks, motions, image=frame.image)
        events: list[Violation | Incident] = []
        incidents = list(out.incidents)
        incidents += self._plates_tick(frame, tracks)
        for inc in incidents:
            events.append(self._with_frame(inc, frame))
        for v in out.violations:
            self._start(v, frame)
        events.extend(self._finish_ready(frame))
        self._checkpoint(ts)
        self.violations += sum(1 for e in events if isinstance(e, Violation))
        self.incidents += sum(1 for e in events if isinstance(e, Incident))
        return events

    def mean_speed_kmh(self) -> float | None:
        """Mean of the plausible track speeds since the last call (None when none)."""
        s, self._speeds = self._speeds, []
        return round(float(np.mean(s)), 1) if s else None

    def flush(self) -> list[Violation]:
        """Finalise every pending violation now (graceful stop), with the evidence it has."""
        out = [self._finalise(vid, p) for vid, p in list(self.pending.items())]
        if self.state is not None and self.engine.last_ts_ms:
            try:
                self.state.save_checkpoint(self.camera.id, self.engine.checkpoint())
            except Exception as e:  # noqa: BLE001
                log.warning("camera %s: checkpoint not saved: %s", self.camera.id, e)
        return out

    # ------------------------------------------------------------------ evidence

    def _buffer(self, frame: Frame) -> None:
        self.ring.append(frame)
        horizon = frame.ts_ms - int(self.ev_cfg.buffer_s * 1000)
        while self.ring and self.ring[0].ts_ms < horizon:
            self.ring.popleft()

    def _store(self, data: bytes) -> str:
        if self.evidence is None:
            from hashlib import sha256

            return sha256(data).hexdigest()
        return self.evidence.put(data)

    def _store_frame(self, frame: Frame) -> str | None:
        try:
            return self._store(encode_jpeg(frame.image, self.ev_cfg.jpeg_quality))
        except Exception as e:  # noqa: BLE001 - evidence is retried by the next frames / reviewed manually
            self.evidence_errors += 1
            log.warning("camera %s: evidence frame not stored: %s", self.camera.id, e)
            return None

    def _with_frame(self, inc: Incident, frame: Frame) -> Incident:
        sha = self._store_frame(frame)
        return replace(inc, evidence=(*inc.evidence, sha)) if sha else inc

    def _with_plate_crop(self, inc: Incident, res: PlateResult) -> Incident:
        """A watchlist incident with the plate crop as its first evidence (the frame follows)."""
        if not res.crop_jpeg or self.evidence is None:
            return inc
        try:
            sha = self._store(res.crop_jpeg)
        except Exception as e:  # noqa: BLE001 - the frame is still attached
            self.evidence_errors += 1
            log.warning("camera %s: plate crop not stored: %s", self.camera.id, e)
            return inc
        return replace(inc, evidence=(*inc.evidence, sha), details=(*inc.details, ("evidence_roles", "plate,frame")))

    def _frame_near(self, ts_ms: int) -> Frame | None:
        return min(self.ring, key=lambda f: abs(f.ts_ms - ts_ms), default=None)

    def _start(self, v: Violation, frame: Frame) -> None:
        key = dict(v.details).get("track_first_ts_ms", "")
        p = Pending(v, f"{v.track_id}@{key}", best_box=v.box, last_seen_ms=frame.ts_ms)
        spacing = int(self.ev_cfg.spacing_s * 1000)
        frames = [frame] if self.ev_cfg.frames == 2 else []
        if self.ev_cfg.frames == 3 or not frames:
            before = self._frame_near(frame.ts_ms - spacing)
            frames = ([before] if before is not None and before.ts_ms < frame.ts_ms else []) + [frame]
        for f in frames:
            sha = self._store_frame(f)
            if sha:
                p.evidence.append(sha)
                p.roles.append("frame")
        p.after_done = self.ev_cfg.frames == 2 and len(p.evidence) >= 2
        self._ask_plate(p, frame, v.box)
        self.pending[v.violation_id] = p
        self._save_pending(v.violation_id, p)

    def _save_pending(self, vid: str, p: Pending) -> None:
        if self.state is None:
            return
        try:
            self.state.put_pending(self.camera.id, vid, p.to_dict())
        except Exception as e:  # noqa: BLE001
            log.warning("camera %s: pending violation not saved: %s", self.camera.id, e)

    def _ask_plate(self, p: Pending, frame: Frame, box: Box) -> None:
        if self.plates is None or box[3] < MIN_PLATE_BOX_H:
            return
        img = crop(frame.image, box)
        if img is None:
            return
        key = f"{self.camera.id}:{p.vehicle_key}:{int(box[3])}"
        if self.plates.submit(key, img):
            p.plate_key = key
            self._plate_waiting[key] = p.vehicle_key

    def _vehicle(self, p: Pending) -> Any:
        return self.engine.vehicles.get(p.vehicle_key)

    def _finish_ready(self, frame: Frame) -> list[Violation]:
        out = []
        spacing = int(self.ev_cfg.spacing_s * 1000)
        hold = int(self.ev_cfg.hold_s * 1000)
        for vid, p in list(self.pending.items()):
            v = p.violation
            veh = self._vehicle(p)
            active = veh is not None and veh.active
            if active:
                p.last_seen_ms = frame.ts_ms
                if veh.box[3] >= 1.4 * max(p.best_box[3], 1.0):  # much closer now: a better view of the plate
                    p.best_box = veh.box
                    self._ask_plate(p, frame, veh.box)
            if not p.after_done and frame.ts_ms >= v.ts_ms + spacing:
                sha = self._store_frame(frame)
                if sha:
                    p.evidence.append(sha)
                    p.roles.append("frame")
                p.after_done = True
                self._save_pending(vid, p)
            if not p.after_done:
                continue
            age = frame.ts_ms - v.ts_ms
            plate_ready = p.plate_key is None or (self.plates is not None and self.plates.done(p.plate_key))
            gone = not active and frame.ts_ms - p.last_seen_ms > 1000
            if age >= MAX_WAIT_S * 1000 or (plate_ready and (age >= hold or gone)):
                out.append(self._finalise(vid, p))
        return out

    def _finalise(self, vid: str, p: Pending) -> Violation:
        v = p.violation
        plate, conf = v.plate, v.plate_confidence
        veh = self._vehicle(p)
        if veh is not None and veh.plate and veh.plate_confidence >= conf:
            plate, conf = veh.plate, veh.plate_confidence
        evidence, roles = list(p.evidence), list(p.roles)
        res = self.plates.result(p.plate_key) if (self.plates is not None and p.plate_key) else None
        if isinstance(res, PlateResult) and res.confidence >= conf:
            plate, conf = normalize_plate_text(res.text), res.confidence
            if res.crop_jpeg:
                try:
                    evidence.append(self._store(res.crop_jpeg))
                    roles.append("plate")
                except Exception as e:  # noqa: BLE001
                    log.warning("camera %s: plate crop not stored: %s", self.camera.id, e)
        if "plate" not in roles:
            f = self._frame_near(v.ts_ms)
            img = crop(f.image, v.box) if f is not None else None
            if img is not None:
                try:
                    evidence.append(self._store(encode_jpeg(img, self.ev_cfg.jpeg_quality)))
                    roles.append("vehicle")
                except Exception as e:  # noqa: BLE001
                    log.warning("camera %s: vehicle crop not stored: %s", self.camera.id, e)
        details = (*v.details, ("evidence_roles", ",".join(roles)), ("box", ",".join(f"{c:.0f}" for c in v.box)))
        final = replace(
            v, plate=plate or None, plate_confidence=conf if plate else 0.0, evidence=tuple(evidence), details=details
        )
        self.pending.pop(vid, None)
        if self.state is not None:
            try:
                self.state.drop_pending(self.camera.id, vid)
            except Exception as e:  # noqa: BLE001 - a stale pending entry is re-published once: same id, no duplicate
                log.warning("camera %s: pending entry not removed: %s", self.camera.id, e)
        return final

    # ------------------------------------------------------------------ plates for the watch list

    def _plates_tick(self, frame: Frame, tracks: Sequence[Any]) -> list[Incident]:
        """Apply finished plate reads (even of vehicles no longer in view); ask for new ones."""
        if self.plates is None:
            return []
        out: list[Incident] = []
        for key, vkey in list(self._plate_waiting.items()):
            res = self.plates.result(key)
            if res is False or self.plates.done(key):
                del self._plate_waiting[key]
                if isinstance(res, PlateResult):
                    for inc in self.engine.set_plate(vkey, res.text, res.confidence, frame.ts_ms):
                        out.append(self._with_plate_crop(inc, res))
        if not self.read_all:
            return out
        for tr in tracks:
            veh = self.engine.vehicle_of_track(tr.track_id)
            if veh is None or veh.key in self._plate_asked:
                continue
            x, y, w, h = tr.box
            if h >= 1.5 * MIN_PLATE_BOX_H and x > 2 and y > 2 and x + w < frame.width - 2 and y + h < frame.height - 2:
                img = crop(frame.image, tr.box)
                key = f"{self.camera.id}:{veh.key}:watch"
                if img is not None and self.plates.submit(key, img):
                    self._plate_asked.add(veh.key)
                    self._plate_waiting[key] = veh.key
        return out

    # ------------------------------------------------------------------ signals, checkpoints

    def _poll_signals(self) -> None:
        if self.bus is None or not self.signals.stream_ids:
            return
        t = time.monotonic()
        if t - self._last_signal_poll < SIGNAL_POLL_S:
            return
        self._last_signal_poll = t
        try:
            msgs = self.bus.recent(stream_of(SignalState), count=200)
        except Exception as e:  # noqa: BLE001 - unknown phase = no red-light tickets, never wrong ones
            log.warning("camera %s: signal states unavailable: %s", self.camera.id, e)
            return
        states = []
        for m in msgs:
            s = m.envelope.obj
            if isinstance(s, SignalState) and (s.signal_id, s.ts_ms) not in self._signal_seen:
                self._signal_seen.add((s.signal_id, s.ts_ms))
                states.append(s)
        self.signals.add_states(states)

    def _checkpoint(self, ts_ms: int) -> None:
        if self.state is None or ts_ms - self._last_checkpoint_ms < CHECKPOINT_EVERY_MS:
            return
        self._last_checkpoint_ms = ts_ms
        try:
            self.state.save_checkpoint(self.camera.id, self.engine.checkpoint())
        except Exception as e:  # noqa: BLE001 - best effort; violation ids stay idempotent anyway
            log.warning("camera %s: checkpoint not saved: %s", self.camera.id, e)


def watchlist_cache(cfg: AppConfig, client: RedisClient, poll_s: float = 2.0) -> WatchlistCache:
    """The process's view of the Redis watchlist (see :mod:`bus.watchlist`).

    Redis is the one source at run time (seeded from ``cfg.watchlist_file`` at launch);
    the file's list is used only while Redis cannot be reached before the first load.
    """
    fallback = Watchlist()
    if cfg.watchlist_file is not None:
        try:
            fallback = Watchlist(load_watchlist_file(resolve_path(cfg.watchlist_file)))
        except ValueError as e:
            log.warning("watchlist file not usable as a fallback: %s", e)
    return WatchlistCache(RedisWatchlist(client), poll_s=poll_s, fallback=fallback)


def enforcer_factory(
    cfg: AppConfig, client: RedisClient, watchlist: WatchlistSource | None = None
) -> Callable[[CameraConfig], CameraEnforcer]:
    """Makes one :class:`CameraEnforcer` per camera, sharing one plate reader and one watchlist per process.

    Args:
        cfg: Whole configuration.
        client: Redis client.
        watchlist: Watchlist (or callable returning the current one); default: a
            :func:`watchlist_cache` on ``client``, so run-time edits in Redis apply within seconds.
    """
    plates: list[PlateWorker | None] = []
    wl = watchlist if watchlist is not None else watchlist_cache(cfg, client).get

    def make(camera: CameraConfig) -> CameraEnforcer:
        if not plates:
            off = cfg.evidence.read_plates == "off"
            plates.append(None if off else PlateWorker.try_create(cfg.evidence.jpeg_quality))
        return CameraEnforcer(cfg, camera, client, plates[0], watchlist=wl)

    return make


__all__ = [
    "CameraEnforcer",
    "PlateResult",
    "PlateWorker",
    "build_signals",
    "enforcer_factory",
    "homography_of",
    "watchlist_cache",
]
