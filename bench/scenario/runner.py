"""Runs a scenario through the real pieces: camera runners, aggregator and services on one Redis and one archive."""

from __future__ import annotations

import argparse
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archive import Archive
from bench.scenario.model import Scenario
from bench.scenario.source import ScenarioSource
from bus.embedded import EmbeddedRedis, connect, start_embedded_redis
from bus.publisher import SpoolPublisher
from bus.schema import stream_of
from bus.spool import Spool
from bus.store import LiveStore
from bus.streams import EventBus
from bus.watchlist import RedisWatchlist
from config.settings import resolve_path
from core.types import DensityReport, Incident, SegmentDensity, Violation
from ingest.enforce import enforcer_factory
from ingest.sources import CameraCapture
from ingest.worker import CameraRunner
from services import aggregate
from services import incidents as incidents_svc
from services import sightings as sightings_svc
from services import ticketing as ticketing_svc


@dataclass
class RunResult:
    """What a run produced: tickets and incidents from the archive, segment levels from Redis."""

    tickets: list[dict[str, Any]]
    incidents: list[dict[str, Any]]
    levels: dict[str, list[tuple[int, str]]]
    restarts: int
    seconds: float


class Runner:
    """Runs the scenario: worker(s), aggregator and services on one Redis and one archive."""

    def __init__(
        self,
        sc: Scenario,
        redis_url: str | None,
        archive_url: str | None,
        workdir: Path,
        progress: Callable[[str], None],
    ) -> None:
        self.sc = sc
        self.workdir = workdir
        self.progress = progress
        self.embedded: EmbeddedRedis | None = None
        if redis_url:
            self.client, _ = connect(redis_url, workdir / "redis")
            if self.client.exists(stream_of(Violation), stream_of(Incident), stream_of(DensityReport)):
                raise SystemExit(
                    "the Redis at --redis-url already has scenario streams; use a scratch database (FLUSHDB it first)"
                )
        else:
            self.embedded = start_embedded_redis(workdir / "redis")
            self.client, _ = connect(self.embedded.url, workdir / "redis")
        cfg = sc.config
        self.archive_url = archive_url or f"sqlite:///{workdir / 'archive.db'}"
        self.evidence_dir = workdir / "evidence"
        self.cfg = cfg.model_copy(
            update={
                "archive": cfg.archive.model_copy(update={"url": self.archive_url, "evidence_dir": self.evidence_dir})
            }
        )
        if cfg.watchlist_file is not None:  # as ingest.launch does: first start only
            RedisWatchlist(self.client).seed(resolve_path(cfg.watchlist_file))
        self.bus = EventBus(self.client, maxlen=cfg.redis.stream_maxlen)
        self.store = LiveStore(self.client, notify=False)
        self.sources = {c.id: ScenarioSource(c, sc.start_ms) for c in cfg.cameras if c.enabled}
        fps = {c.id: c.source.fps for c in cfg.cameras if c.enabled}  # type: ignore[union-attr]
        for cid, src in self.sources.items():
            src.limit_frames = int(round(sc.duration_s * fps[cid]))
        self.stop_services = threading.Event()
        self.threads: list[threading.Thread] = []
        self.restarts = 0

    def _service(self, name: str, target: Callable[[], None]) -> None:
        t = threading.Thread(target=target, name=name, daemon=True)
        t.start()
        self.threads.append(t)

    def _start_services(self) -> None:
        cfg = self.cfg
        args = argparse.Namespace(archive_url=self.archive_url, consumer="simulate")
        self._service(
            "aggregator",
            lambda: aggregate.run(cfg, EventBus(self.client), LiveStore(self.client, notify=False), self.stop_services),
        )
        self._service("ticketing", lambda: ticketing_svc.run(cfg, EventBus(self.client), self.stop_services, args))
        self._service("incidents", lambda: incidents_svc.run(cfg, EventBus(self.client), self.stop_services, args))
        self._service("sightings", lambda: sightings_svc.run(cfg, EventBus(self.client), self.stop_services, args))
        # The aggregator's group starts at "$": make sure it exists before any density report.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                groups = {
                    g["name"].decode() if isinstance(g["name"], bytes) else g["name"]
                    for g in self.client.xinfo_groups(stream_of(DensityReport))
                }
            except Exception:  # noqa: BLE001 - stream not created yet
                groups = set()
            if aggregate.GROUP in groups:
                return
            time.sleep(0.05)

    def _workers(self, spool: Path) -> tuple[list[CameraRunner], SpoolPublisher]:
        # After the crash the old spool is closed, yet about 1 restart in 5 under load found its lock still
        # held for a moment (holder not identified): wait for it, as a restarted worker process would.
        publisher = SpoolPublisher(self.client, Spool.open(spool, wait_s=10.0), self.bus.maxlen).start()
        make = enforcer_factory(self.cfg, self.client)
        runners = []
        for cam in self.cfg.cameras:
            if not cam.enabled:
                continue
            r = CameraRunner(
                cam,
                self.cfg.worker,
                self.bus,
                self.store,
                "simulate",
                capture=CameraCapture(self.sources[cam.id], buffer=4),
                publisher=publisher,
                enforcer=make(cam),
            )
            r.start()
            runners.append(r)
        return runners, publisher

    def run(self) -> RunResult:
        t0 = time.monotonic()
        self._start_services()
        spool = self.workdir / "worker.spool"
        runners, publisher = self._workers(spool)
        restart_at = self.sc.restart_at_s
        while any(r.alive for r in runners):
            time.sleep(0.2)
            done = min((s.scene.frame_index if s.scene else 0) / s.cfg.fps for s in self.sources.values())
            self.progress(f"scene time {done:5.1f} / {self.sc.duration_s:.0f} s")
            if restart_at is not None and done >= restart_at:
                restart_at = None
                self.progress(
                    f"crashing the worker at {done:.1f} s (no flush), restarting after {self.sc.restart_gap_s:.1f} s of lost frames"
                )
                for r in runners:
                    r.abort()
                publisher.stop(flush_timeout=0)  # whatever is queued stays in the spool file
                for src in self.sources.values():
                    src.skip(int(round(self.sc.restart_gap_s * src.cfg.fps)))
                runners, publisher = self._workers(spool)
                self.restarts += 1
        for r in runners:
            r.stop()
        publisher.stop(flush_timeout=30)
        self._drain()
        self.stop_services.set()
        for t in self.threads:
            t.join(10)
        return self._collect(time.monotonic() - t0)

    def _lag(self, stream: str, group: str) -> int:
        try:
            info = self.client.xinfo_groups(stream)
        except Exception:  # noqa: BLE001
            return 0
        for g in info:
            name = g["name"].decode() if isinstance(g["name"], bytes) else g["name"]
            if name == group:
                return int(g.get("lag") or 0) + int(g.get("pending") or 0)
        return 0

    def _drain(self, timeout_s: float = 120.0) -> None:
        """Wait until the services consumed everything (and the violations the aggregator raised)."""
        deadline = time.monotonic() + timeout_s
        quiet = 0
        while time.monotonic() < deadline and quiet < 3:
            lag = (
                self._lag(stream_of(Violation), ticketing_svc.GROUP)
                + self._lag(stream_of(Incident), incidents_svc.GROUP)
                + self._lag(stream_of(DensityReport), aggregate.GROUP)
            )
            quiet = quiet + 1 if lag == 0 else 0
            time.sleep(0.5)

    def _collect(self, seconds: float) -> RunResult:
        arc = Archive(self.archive_url, self.evidence_dir)
        try:
            rows, _ = arc.list_tickets(limit=100_000, sort="ts")
            tickets = []
            for r in rows:
                d = arc.get_ticket(r.ticket_id)
                assert d is not None
                tickets.append(
                    {
                        "ticket_id": r.ticket_id,
                        "kind": r.kind,
                        "state": r.state,
                        "camera_id": r.camera_id,
                        "ts_ms": r.ts_ms,
                        "plate": r.plate,
                        "speed_kmh": r.speed_kmh,
                        "limit_kmh": d.ticket.limit_kmh,
                        "fine_pkr": r.fine_pkr,
                        "track_id": d.ticket.track_id,
                        "details": dict(d.ticket.details),
                        "box": [float(x) for x in dict(d.ticket.details).get("box", "0,0,0,0").split(",")],
                        "evidence": len(d.evidence),
                        "evidence_ok": all(arc.verify_evidence(e.sha256) for e in d.evidence if e.present),
                    }
                )
            incs, _ = arc.list_incidents(limit=100_000)
            incidents = [
                {
                    "incident_id": v.id,
                    "kind": v.kind,
                    "camera_id": v.incident.camera_id,
                    "segment_id": v.incident.segment_id,
                    "ts_ms": v.incident.ts_ms,
                    "track_id": v.incident.track_id,
                    "summary": v.incident.summary,
                    "box": dict(v.incident.details).get("box"),
                }
                for v in incs
            ]
        finally:
            arc.close()
        levels: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for m in reversed(self.bus.recent(stream_of(SegmentDensity), count=100_000)):
            s = m.envelope.obj
            levels[s.segment_id].append((s.ts_ms, s.level.value))
        return RunResult(tickets, incidents, dict(levels), self.restarts, seconds)

    def close(self) -> None:
        try:
            self.client.close()
        finally:
            if self.embedded is not None:
                self.embedded.stop()
