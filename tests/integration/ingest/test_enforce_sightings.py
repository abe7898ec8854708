"""The worker's enforcer publishes plate sightings: synthetic road frames, their ground-truth
boxes as tracks, the real background plate reader (rapidocr) and a real Redis; every finished
read comes out of ``CameraEnforcer.process`` as a ``PlateRead`` with the voted plate, its votes
and the crop's evidence id, and the sightings service archives what the bus carries."""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np
import pytest
import redis

from archive import Archive
from bus.evidence import EvidenceStore
from bus.streams import EventBus
from config.settings import load_config
from core.anpr import normalise_plate_text
from core.anpr.text import edit_distance
from core.sightings import PlateQuery
from core.types import Frame, PlateRead, Track
from ingest.enforce import CameraEnforcer, PlateWorker
from services import sightings as sightings_svc
from services.sightings import SightingsService
from sim.scene import SyntheticScene

CFG = load_config()


def test_finished_plate_reads_become_plate_read_events_and_sightings(redis_client: redis.Redis, tmp_path: Path) -> None:
    plates = PlateWorker.try_create()
    if plates is None:
        pytest.skip("plate reader (rapidocr) unavailable")
    cfg = CFG.model_copy(update={"evidence": CFG.evidence.model_copy(update={"read_plates": "all"})})
    cam = cfg.cameras[0]
    assert cam.source.kind == "synthetic"
    scene = SyntheticScene(cam.source.model_copy(update={"noise": 0.0}), cam.ground_calibration(), 1_800_000_000_000)
    enf = CameraEnforcer(cfg, cam, redis_client, plates, restore=False)
    truth_plates: dict[int, str] = {}
    reads: list[PlateRead] = []
    deadline = time.monotonic() + 120
    try:
        for i in range(int(cam.source.fps * 90)):  # at most 90 s of scene
            img, truth = scene.step()
            tracks = [Track(v.vehicle_id, v.label, 0.9, v.box) for v in truth.visible]
            for v in truth.visible:
                truth_plates[v.vehicle_id] = normalise_plate_text(v.plate)
            reads += [e for e in enf.process(Frame(cam.id, i, truth.ts_ms, img), tracks) if isinstance(e, PlateRead)]
            if len([r for r in reads if r.crop]) >= 3 or time.monotonic() > deadline:
                break
            time.sleep(0.01)  # leave the reader thread some CPU, as a real frame rate would
    finally:
        plates.stop()
    assert reads, f"no plate.read after {i + 1} frames ({plates.read} reads, {plates.dropped} dropped)"
    assert enf.sightings == len(reads)
    ev = EvidenceStore(redis_client)
    for r in reads:
        assert r.camera_id == cam.id and r.track_id in truth_plates
        assert r.text == normalise_plate_text(r.text) and r.text
        assert r.votes >= 1 and 0.0 < r.confidence <= 1.0
        if r.crop is not None:
            data = ev.get(r.crop)
            assert data is not None
            assert cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) is not None
    assert any(r.crop for r in reads)
    # OCR of the rendered plates is good but not perfect: most reads are within the search's two edits.
    near = [r for r in reads if edit_distance(r.text, truth_plates[r.track_id]) <= 2]
    assert len(near) >= len(reads) / 2, [(r.text, truth_plates[r.track_id]) for r in reads]

    # What the worker would publish, through the bus, into the archive.
    bus = EventBus(redis_client)
    for r in reads:
        bus.publish(r)
    arc = Archive(f"sqlite:///{tmp_path / 'a.db'}", tmp_path / "evidence")
    try:
        svc = SightingsService(cfg, bus, ev, arc)
        bus.ensure_group(sightings_svc.STREAM, sightings_svc.GROUP, start="0")
        msgs = bus.read_group(sightings_svc.GROUP, "t1", [sightings_svc.STREAM], count=100, block_ms=100)
        svc.handle(msgs)
        assert arc.sightings.count() == len({(r.track_id, r.ts_ms, r.text) for r in reads})
        first = reads[0]
        found = arc.sightings.search(PlateQuery(first.text))
        assert any(s.track_id == first.track_id and s.ts_ms == first.ts_ms for s in found)
        assert svc.crops_unreadable == 0
    finally:
        arc.close()
