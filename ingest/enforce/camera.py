"""The per-camera enforcer: speeds, rules, evidence and plates of one camera (see :mod:`ingest.enforce`)."""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from bus.embedded import RedisClient
from bus.evidence import EvidenceStore
from bus.rulestate import RuleStateStore
from bus.schema import stream_of
from bus.streams import EventBus
from config.settings import AppConfig, CameraConfig
from core.anpr import normalise_plate_text
from core.rules import WatchlistSource
from core.speed import SpeedEstimator
from core.types import Box, Frame, Incident, PlateRead, SignalState, Violation
from ingest.enforce.build import build_signals, homography_of, rule_engine, speed_params
from ingest.enforce.images import crop, encode_jpeg
from ingest.enforce.pending import Pending
from ingest.enforce.plate_journal import PlateJob, PlateJournal
from ingest.enforce.plates import PlateResult, PlateWorker
from ingest.enforce.sightings import PlateVotes

log = logging.getLogger("ingest.enforce")

CHECKPOINT_EVERY_MS = 1000
SIGNAL_POLL_S = 1.0
#: A pending violation is published at the latest this long after the moment, plate or not.
MAX_WAIT_S = 20.0
#: Smallest vehicle box height (px) worth reading a plate from.
MIN_PLATE_BOX_H = 48
#: With ``read_plates: all``: reads per vehicle at most, each once its box is this much taller than at the last.
WATCH_READS = 3
WATCH_GROWTH = 1.3


class CameraEnforcer:
    """Speeds, rules and evidence for one camera (see :mod:`ingest.enforce`).

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
        self.engine = rule_engine(camera, seg.speed_limit_kmh, self.h, self.signals, watchlist, cfg.traffic_side)
        self.client = client
        self.evidence = EvidenceStore(client, cfg.evidence.redis_ttl_s) if client is not None else None
        self.state = RuleStateStore(client) if client is not None else None
        self.journal = (
            PlateJournal(camera.id, self.state, self.evidence)
            if self.state is not None and self.evidence is not None and plates is not None
            else None
        )
        self.bus = EventBus(client) if client is not None else None
        self.plates = plates
        #: Asks for a video clip: ``(owner kind, owner id, moment ts_ms)``; set by the worker when clips are on.
        self.clip_sink: Callable[[str, str, int], None] | None = None
        self.read_all = cfg.evidence.read_plates == "all"
        self.ring: deque[Frame] = deque()
        self.pending: dict[str, Pending] = {}
        self._speeds: list[float] = []
        self._last_checkpoint_ms = 0
        self._last_signal_poll = 0.0
        self._signal_seen: set[tuple[str, int]] = set()
        self._plate_asked: dict[str, tuple[int, float]] = {}  # vehicle key -> (reads asked, box height then)
        self._plate_waiting: dict[str, str] = {}
        self._votes = PlateVotes(camera.id)
        self.evidence_errors = 0
        self.plates_asked = 0  # crops sent to the plate reader
        self.plates_read = 0  # reads that found a plate
        self.plates_dropped = 0  # crops the reader had no room for (or pushed out for a more urgent one)
        self.plates_failed = 0  # crops the reader could not read (an error, counted, never fatal)
        self.violations = 0
        self.incidents = 0
        self.sightings = 0
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
            self._replay_plates()
        except Exception as e:  # noqa: BLE001 - Redis down at start: begin afresh
            log.warning("camera %s: enforcement state not restored: %s", self.camera.id, e)

    def _replay_plates(self) -> None:
        """Ask again for the plate reads a crashed worker had in flight (same keys: pending violations find theirs)."""
        if self.journal is None:
            return
        n = 0
        for job in self.journal.replay():
            if job.watch_n is not None:
                asked, _ = self._plate_asked.get(job.vehicle_key, (0, 0.0))
                self._plate_asked[job.vehicle_key] = (max(asked, job.watch_n + 1), job.box_h)
            n += self._submit_plate(job, journal=False)
        if n:
            log.info("camera %s: %d unfinished plate read(s) asked for again", self.camera.id, n)

    # ------------------------------------------------------------------ per frame

    def process(self, frame: Frame, tracks: Sequence[Any]) -> list[Violation | Incident | PlateRead]:
        """Run speeds, rules and evidence on one analysed frame.

        Args:
            frame: The frame.
            tracks: Its tracks (from the vision pipeline).

        Returns:
            Events to publish now: incidents, finalised violations and plate sightings
            (one :class:`core.types.PlateRead` per finished plate read).
        """
        ts = frame.ts_ms
        self._buffer(frame)
        self._poll_signals()
        motions = self.speed.update(ts, tracks, (frame.width, frame.height)) if self.speed is not None else {}
        for m in motions.values():
            if m.speed_kmh is not None:
                self._speeds.append(m.speed_kmh)
        out = self.engine.update(ts, tracks, motions, image=frame.image)
        events: list[Violation | Incident | PlateRead] = []
        incidents = list(out.incidents)
        plate_incidents, sightings = self._plates_tick(frame, tracks)
        incidents += plate_incidents
        for inc in incidents:
            events.append(self._with_frame(inc, frame))
            self._ask_clip("incident", inc.incident_id, inc.ts_ms)
        for v in out.violations:
            self._start(v, frame)
        events.extend(self._finish_ready(frame))
        events.extend(sightings)
        self.sightings += len(sightings)
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

    def _store_crop(self, res: PlateResult) -> str | None:
        """Store a plate crop as evidence; its id, or None (no crop, no Redis, or the store failed)."""
        if not res.crop_jpeg or self.evidence is None:
            return None
        try:
            return self._store(res.crop_jpeg)
        except Exception as e:  # noqa: BLE001 - the frame is still attached; the sighting has no crop
            self.evidence_errors += 1
            log.warning("camera %s: plate crop not stored: %s", self.camera.id, e)
            return None

    @staticmethod
    def _with_plate_crop(inc: Incident, crop_sha: str | None) -> Incident:
        """A watchlist incident with the plate crop as its first evidence (the frame follows)."""
        if crop_sha is None:
            return inc
        return replace(
            inc, evidence=(*inc.evidence, crop_sha), details=(*inc.details, ("evidence_roles", "plate,frame"))
        )

    def _frame_near(self, ts_ms: int) -> Frame | None:
        return min(self.ring, key=lambda f: abs(f.ts_ms - ts_ms), default=None)

    def _ask_clip(self, kind: str, owner_id: str, ts_ms: int) -> None:
        if self.clip_sink is None:
            return
        try:
            self.clip_sink(kind, owner_id, ts_ms)
        except Exception as e:  # noqa: BLE001 - a clip is extra evidence; the stills are kept regardless
            log.warning("camera %s: clip of %s %s not requested: %s", self.camera.id, kind, owner_id, e)

    def _start(self, v: Violation, frame: Frame) -> None:
        self._ask_clip("violation", v.violation_id, v.ts_ms)
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
        if self._submit_plate(PlateJob(key, p.vehicle_key, img, thorough=True, first=True, box_h=box[3])):
            p.plate_key = key

    def _submit_plate(self, job: PlateJob, journal: bool = True) -> bool:
        """Queue a read; written down in the journal (unless replayed from it) until it finishes."""
        assert self.plates is not None
        if self.plates.submit(job.key, job.image, thorough=job.thorough, first=job.first):
            self.plates_asked += 1
            self._plate_waiting[job.key] = job.vehicle_key
            if journal and self.journal is not None:
                self.journal.write(job)
            return True
        self.plates_dropped += 1
        return False

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
                    self._save_pending(vid, p)  # a restarted worker waits for this read, not the older one
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
            plate, conf = normalise_plate_text(res.text), res.confidence
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

    def _plates_tick(self, frame: Frame, tracks: Sequence[Any]) -> tuple[list[Incident], list[PlateRead]]:
        """Apply finished plate reads (even of vehicles no longer in view); ask for new ones.

        Returns:
            Watch-list incidents, and one sighting per finished read (the vehicle's voted plate).
        """
        if self.plates is None:
            return [], []
        out: list[Incident] = []
        reads: list[PlateRead] = []
        for key, vkey in list(self._plate_waiting.items()):
            res = self.plates.result(key)
            if res is False or self.plates.done(key):
                del self._plate_waiting[key]
                if self.journal is not None:
                    self.journal.cross_out(key)
                if res is False:  # pushed out of the reader's queue by a more urgent read
                    self.plates_dropped += 1
                elif self.plates.read_failed(key):
                    self.plates_failed += 1
                if isinstance(res, PlateResult):
                    self.plates_read += 1
                    incs = self.engine.set_plate(vkey, res.text, res.confidence, frame.ts_ms)
                    crop_sha = self._store_crop(res)
                    out.extend(self._with_plate_crop(inc, crop_sha) for inc in incs)
                    reads.extend(self._sighting(vkey, res, frame, crop_sha))
        if not self.read_all:
            return out, reads
        for tr in tracks:
            veh = self.engine.vehicle_of_track(tr.track_id)
            if veh is None:
                continue
            n, last_h = self._plate_asked.get(veh.key, (0, 0.0))
            x, y, w, h = tr.box
            # Read each vehicle up to WATCH_READS times, each time its box is clearly larger (a nearer, sharper
            # plate); the most confident reading of the vehicle stands (RuleEngine.set_plate).
            if n >= WATCH_READS or h < max(1.5 * MIN_PLATE_BOX_H, WATCH_GROWTH * last_h):
                continue
            if x > 2 and y > 2 and x + w < frame.width - 2 and y + h < frame.height - 2:
                img = crop(frame.image, tr.box)
                if img is None:
                    continue
                key = f"{self.camera.id}:{veh.key}:watch{n}"
                if self._submit_plate(PlateJob(key, veh.key, img, False, n == 0, watch_n=n, box_h=float(h))):
                    self._plate_asked[veh.key] = (n + 1, float(h))
        if len(self._plate_asked) > 4 * self.plates.MAX_RESULTS:  # bounded memory on a long-running camera
            live = {v.key for v in self.engine.vehicles.values() if v.active}
            self._plate_asked = {k: v for k, v in self._plate_asked.items() if k in live}
        return out, reads

    def _sighting(self, vkey: str, res: PlateResult, frame: Frame, crop_sha: str | None) -> list[PlateRead]:
        """The ``plate.read`` of a finished read: the vehicle's voted plate, its votes and the crop."""
        self._votes.add(vkey, res.text)
        veh = self.engine.vehicles.get(vkey)
        if veh is not None and veh.plate:
            voted, conf, box = veh.plate, veh.plate_confidence, veh.box
        else:  # the vehicle left the engine meanwhile: the reading itself
            voted, conf, box = res.text, res.confidence, (0.0, 0.0, 0.0, 0.0)
        read = self._votes.sighting(vkey, voted, conf, frame.ts_ms, box, crop_sha)
        return [read] if read is not None else []

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
