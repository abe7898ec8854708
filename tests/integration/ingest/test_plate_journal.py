"""A plate read in flight when the worker dies is asked for again by the restarted worker.

Real Redis, the real plate reader (rapidocr) and synthetic road frames with ground-truth boxes as
tracks. The first enforcer's reader thread is stopped before it reads anything (what a crash leaves:
jobs queued in memory only); a second enforcer restored from Redis must replay them and raise the
watch-list incident for the listed car, without seeing the car again.
"""

from __future__ import annotations

import time

import pytest
import redis

from bus.rulestate import RuleStateStore
from config.settings import load_config
from core.anpr import Watchlist, WatchlistEntry, normalise_plate_text
from core.types import Frame, Incident, IncidentKind, PlateRead, Track
from ingest.enforce import CameraEnforcer, PlateWorker
from sim.scene import SyntheticScene

CFG = load_config()


def test_plate_reads_in_flight_at_a_crash_are_replayed(redis_client: redis.Redis) -> None:
    dead = PlateWorker.try_create()
    if dead is None:
        pytest.skip("plate reader (rapidocr) unavailable")
    dead.stop()  # its jobs stay queued, never read: the crash
    cfg = CFG.model_copy(update={"evidence": CFG.evidence.model_copy(update={"read_plates": "all"})})
    cam = cfg.cameras[0]
    scene = SyntheticScene(cam.source.model_copy(update={"noise": 0.0}), cam.ground_calibration(), 1_800_000_000_000)
    listed: list[Watchlist] = [Watchlist()]
    first = CameraEnforcer(cfg, cam, redis_client, dead, restore=False, watchlist=lambda: listed[0])
    state = RuleStateStore(redis_client)
    truth_plates: dict[int, str] = {}
    jobs: dict[str, dict[str, object]] = {}
    for i in range(int(cam.source.fps * 60)):
        img, truth = scene.step()
        tracks = [Track(v.vehicle_id, v.label, 0.9, v.box) for v in truth.visible]
        truth_plates.update({v.vehicle_id: normalise_plate_text(v.plate) for v in truth.visible})
        first.process(Frame(cam.id, i, truth.ts_ms, img), tracks)
        jobs = state.plate_jobs(cam.id)
        if len(jobs) >= 2:
            break
    assert len(jobs) >= 2, "no plate reads asked for in 60 s of scene"
    assert first.plates_asked == len(jobs)
    # Every job is written down with its vehicle and crop, and the first read of each vehicle is number 0.
    assert all({"v", "e", "t", "f", "h"} <= set(d) for d in jobs.values())
    assert {d["n"] for d in jobs.values() if d["f"]} == {0}
    # The checkpoint the crash leaves (saved once a second of scene while running).
    state.save_checkpoint(cam.id, first.engine.checkpoint())
    # List the plate of a vehicle whose read was in flight.
    vkey = str(next(iter(jobs.values()))["v"])
    vid = int(vkey.split("@")[0])
    listed[0] = Watchlist([WatchlistEntry(truth_plates[vid], "stolen")])

    live = PlateWorker.try_create()
    assert live is not None
    try:
        second = CameraEnforcer(cfg, cam, redis_client, live, watchlist=lambda: listed[0])
        assert second.plates_asked == len(jobs), "every unfinished read is asked for again"
        assert not second.journal or second.journal.errors == 0
        incidents: list[Incident] = []
        reads: list[PlateRead] = []
        deadline = time.monotonic() + 120
        j = i
        while time.monotonic() < deadline and state.plate_jobs(cam.id):
            j += 1
            img, truth = scene.step()
            out = second.process(Frame(cam.id, j, truth.ts_ms, img), [])  # the car is not seen again
            incidents += [e for e in out if isinstance(e, Incident)]
            reads += [e for e in out if isinstance(e, PlateRead)]
            time.sleep(0.05)
        assert not state.plate_jobs(cam.id), "finished reads are crossed out of the journal"
    finally:
        live.stop()
    assert reads, f"no replayed read finished ({live.read} read, {live.failed} failed)"
    hits = [x for x in incidents if x.kind == IncidentKind.WATCHLIST]
    assert [h.track_id for h in hits] == [vid], (hits, [(r.track_id, r.text) for r in reads], truth_plates[vid])


def test_a_journal_entry_whose_crop_expired_is_dropped(redis_client: redis.Redis) -> None:
    from bus.evidence import EvidenceStore
    from ingest.enforce.plate_journal import PlateJournal

    state = RuleStateStore(redis_client)
    journal = PlateJournal("cam-x", state, EvidenceStore(redis_client))
    state.put_plate_job("cam-x", "cam-x:1@5:watch0", {"v": "1@5", "e": "0" * 64, "t": False, "f": True, "n": 0})
    state.put_plate_job("cam-x", "cam-x:2@5:watch0", {"e": "0" * 64})  # no vehicle: unreadable
    assert list(journal.replay()) == []
    assert state.plate_jobs("cam-x") == {}
