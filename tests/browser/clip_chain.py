"""The real clip chain for the browser tests: a synthetic camera whose scenario runs a red light, the worker with
clips and recording on, the ticketing and clips services, one archive and one disk blob store.

:func:`chain_config` writes the configuration (the demo city's users and fines, the Tehkal junction camera of
``config/scenarios/junction.yaml`` with one red-light runner right at the start and a signal that is always red);
:func:`run_chain` runs :class:`ingest.worker.process.Worker` (real capture, pipeline, enforcer, clip recorder and
segment recorder) on its own redis-server, with ``services.ticketing.run`` and ``services.clips.run`` consuming
the streams in threads, until the camera's scene ends and the ticket, its clip and the segments are in the
archive.
"""

from __future__ import annotations

import argparse
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from archive import Archive
from bus.embedded import connect, start_embedded_redis
from bus.publisher import SpoolPublisher
from bus.spool import Spool
from bus.store import LiveStore
from bus.streams import EventBus
from config.settings import AppConfig, load_config
from dashboard.process import REPO_ROOT
from ingest.worker.process import Worker
from services import clips as clips_svc
from services import ticketing as ticketing_svc

CAMERA = "cam-univ-tehkal"
PRE_S, POST_S, CLIP_FPS = 2.0, 2.0, 10
SEGMENT_S = 5.0
SCENE_S = 12.0


def chain_config(tmp: Path) -> Path:
    """Write the test configuration under ``tmp`` and return its path."""
    raw = yaml.safe_load((REPO_ROOT / "config" / "default.yaml").read_text(encoding="utf-8"))
    junction = yaml.safe_load((REPO_ROOT / "config" / "scenarios" / "junction.yaml").read_text(encoding="utf-8"))
    jc = junction["config"]
    cam = dict(jc["cameras"][0])
    assert cam["id"] == CAMERA
    cam["source"] = {
        **cam["source"],
        "realtime": True,  # live camera pace: wall-clock frame times, as in the field
        "duration_s": SCENE_S,
        "rule_breakers": [{"at_s": 0.5, "kind": "red_light", "lane": 0, "plate": "PRA-2201"}],
    }
    cam["clips"] = {"pre_s": PRE_S, "post_s": POST_S, "fps": CLIP_FPS, "max_width": 640}
    cam["recording"] = {"enabled": True, "segment_s": SEGMENT_S, "fps": 5, "max_width": 480}
    signal = dict(jc["signals"][0])
    signal["cycle"] = [{"phase": "red", "duration_s": 600}]  # always red: the runner is a violator whenever it runs
    raw.update(segments=jc["segments"], cameras=[cam], signals=[signal], wardens=jc["wardens"])
    raw["evidence"] = {**raw.get("evidence", {}), "read_plates": "violators"}
    raw["notify"] = {"enabled": False}
    raw["archive"] = {**raw.get("archive", {}), "evidence_dir": str(tmp / "evidence")}
    raw["redis"] = {**raw.get("redis", {}), "data_dir": str(tmp / "redis")}
    raw["worker"] = {**raw.get("worker", {}), "spool_dir": str(tmp / "spool")}
    path = tmp / "config.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


@dataclass(frozen=True)
class ChainResult:
    """What the run left in the archive (ids and keys the tests look for)."""

    config: Path
    archive_url: str
    redis_url: str
    ticket_id: str
    violation_id: str
    violation_ts_ms: int
    clip_sha256: str
    clip_size: int
    clip_duration_s: float
    segments: tuple[tuple[int, int], ...]  # (start ms, end ms) of each recorded segment
    seconds: float


def run_chain(tmp: Path, timeout_s: float = 40.0) -> tuple[ChainResult, object]:
    """Run the chain to the end of the scene; returns what it left and the embedded Redis (stop it when done)."""
    t0 = time.monotonic()
    config = chain_config(tmp)
    cfg: AppConfig = load_config(config)
    archive_url = f"sqlite:///{tmp / 'archive.db'}"
    server = start_embedded_redis(tmp / "redis")
    client, _ = connect(server.url, tmp / "redis")
    stop = threading.Event()
    args = argparse.Namespace(archive_url=archive_url, consumer="browser-test")
    services = [
        threading.Thread(target=mod.run, args=(cfg, EventBus(client), stop, args), name=name, daemon=True)
        for name, mod in (("ticketing", ticketing_svc), ("clips", clips_svc))
    ]
    for t in services:
        t.start()
    bus = EventBus(client, maxlen=cfg.redis.stream_maxlen)
    publisher = SpoolPublisher(client, Spool.open(tmp / "worker.spool"), cfg.redis.stream_maxlen).start()
    worker = Worker(cfg, None, bus, LiveStore(client), publisher=publisher, worker_id="browser-test")
    worker.start()
    worker.wait(threading.Event())  # returns when the camera's scene has ended
    worker.stop()
    publisher.stop(flush_timeout=10)
    arc = Archive(archive_url, tmp / "evidence")
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            rows, _ = arc.list_tickets(limit=10)
            red = [r for r in rows if r.kind == "red_light"]
            detail = arc.get_ticket(red[0].ticket_id) if red else None
            clip = arc.clips.clip_of("violation", detail.ticket.violation_id) if detail is not None else None
            segs = arc.clips.segments(CAMERA, 0, 2**62)
            if clip is not None and len(segs) >= 2:
                break
            assert time.monotonic() < deadline, f"chain incomplete: tickets {rows}, clip {clip}, segments {segs}"
            time.sleep(0.2)
        ticket = red[0]
        assert detail is not None
        violation_id = detail.ticket.violation_id
    finally:
        arc.close()
        stop.set()
        for t in services:
            t.join(10)
        client.close()
    result = ChainResult(
        config=config,
        archive_url=archive_url,
        redis_url=server.url,
        ticket_id=ticket.ticket_id,
        violation_id=violation_id,
        violation_ts_ms=ticket.ts_ms,
        clip_sha256=clip.sha256,
        clip_size=clip.size,
        clip_duration_s=clip.duration_s,
        segments=tuple((s.ts_ms, s.end_ts_ms) for s in segs),
        seconds=round(time.monotonic() - t0, 1),
    )
    return result, server


__all__ = ["CAMERA", "POST_S", "PRE_S", "SEGMENT_S", "ChainResult", "chain_config", "run_chain"]
