"""Plate reading end to end: real photos, the CLI, and synthetic traffic with a watchlist.

Uses the PP-OCR models bundled in the rapidocr wheel (no network) and the real plate
photos in ../shared/data/plates (skipped when missing).
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from config.settings import SyntheticRuleBreaker, SyntheticSource
from core.anpr import Watchlist, WatchlistEntry, normalise_plate_text
from core.types import Frame, IncidentKind, Priority, Track
from sim.scene import SyntheticScene
from tests.paths import REPO_ROOT, SHARED_DATA
from vision.plates import PlateMonitor, PlateReader, get_engine

PLATES = SHARED_DATA / "plates"

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def reader() -> PlateReader:
    return PlateReader(engine=get_engine())


def _labels(name: str) -> dict[str, dict[str, str]]:
    folder = PLATES / name
    if not (folder / "labels.csv").is_file():
        pytest.skip(f"plate data not available: {folder}")
    return {r["image"]: r for r in csv.DictReader((folder / "labels.csv").open(encoding="utf-8"))}


@pytest.mark.parametrize(
    "image",
    ["images/br/NZU2673.jpg", "images/eu/test_057.jpg", "images/us/us8.jpg", "images/us/wts-lg-000047.jpg"],
)
def test_finds_and_reads_plate_in_vehicle_photo(reader: PlateReader, image: str) -> None:
    row = _labels("openalpr_endtoend")[image]
    img = cv2.imread(str(PLATES / "openalpr_endtoend" / image))
    plates = reader.read(img)  # no box given: the reader must find the plate
    assert plates, "no plate found"
    best = plates[0]
    assert best.text == row["plate_text"]
    assert 0.5 < best.confidence <= 1.0
    # the reading's box lies on the annotated plate
    x, y, w, h = (float(row[k]) for k in "xywh")
    bx, by, bw, bh = best.box
    cx, cy = bx + bw / 2, by + bh / 2
    assert x - 0.2 * w <= cx <= x + 1.2 * w and y - 0.5 * h <= cy <= y + 1.5 * h


@pytest.mark.parametrize("image", ["images/in1266.png", "images/ct839.png", "images/ar127.png"])
def test_reads_plate_crop_among_other_plate_text(reader: PlateReader, image: str) -> None:
    row = _labels("openalpr_crops")[image]
    plates = reader.read(cv2.imread(str(PLATES / "openalpr_crops" / image)))
    assert plates and plates[0].text == row["plate_text"]


def test_box_hint_limits_the_search(reader: PlateReader) -> None:
    row = _labels("openalpr_endtoend")["images/us/car2.jpg"]
    img = cv2.imread(str(PLATES / "openalpr_endtoend" / row["image"]))
    x, y, w, h = (float(row[k]) for k in "xywh")
    plates = reader.read(img, box_hint=(x - w, y - h, 3 * w, 3 * h))
    assert plates and plates[0].text == row["plate_text"]
    bx, by, _, _ = plates[0].box
    assert x - w <= bx <= x + w and y - h <= by <= y + h  # boxes come back in frame pixels
    assert reader.read(np.zeros((0, 0, 3), np.uint8)) == []
    assert reader.read(np.full((120, 200, 3), 255, np.uint8)) == []  # blank image: nothing to read


def test_cli_json(tmp_path: Path) -> None:
    _labels("openalpr_endtoend")
    images = [PLATES / "openalpr_endtoend" / "images/eu/test_085.jpg", PLATES / "openalpr_crops" / "images/wi1588.png"]
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a jpeg")
    proc = subprocess.run(
        [sys.executable, "-m", "vision.plates", *map(str, images), str(broken), "--json"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(ln) for ln in proc.stdout.splitlines()]
    assert [ln["image"] for ln in lines] == [*map(str, images), str(broken)]
    assert lines[0]["plates"][0]["text"] == "RK959AD"
    assert lines[1]["plates"][0]["text"] == "956HFJ"
    assert lines[2]["plates"] == [] and "error" in lines[2]
    for ln in lines[:2]:
        for p in ln["plates"]:
            assert p["text"] == normalise_plate_text(p["text"])
            assert 0.0 <= p["confidence"] <= 1.0 and len(p["box"]) == 4
        confs = [p["confidence"] for p in ln["plates"]]
        assert len(confs) >= 1
    assert "[1/3]" in proc.stderr  # progress on stderr
    assert "RK959AD" not in proc.stderr  # plates stay off the logs


def test_synthetic_traffic_votes_plates_and_raises_one_watchlist_incident(reader: PlateReader) -> None:
    cfg = SyntheticSource(
        seed=7,
        vehicles_per_minute=6,
        realtime=False,
        fps=10,
        rule_breakers=(SyntheticRuleBreaker(at_s=1.0, kind="speeder", plate="LEA-1234", speed_kmh=50),),
    )
    scene = SyntheticScene(cfg, None, start_ts_ms=1_700_000_000_000)
    watchlist = Watchlist([WatchlistEntry.create("LEA1234", "stolen vehicle", "high")])
    monitor = PlateMonitor("cam-synth", reader, watchlist=lambda: watchlist, segment_id="seg-1", min_box_px=50)
    truth_plates: dict[int, str] = {}
    reads = []
    hits = []
    for i in range(32):
        image, truth = scene.step()
        if i % 2:
            continue
        tracks = [Track(v.vehicle_id, v.label, 0.9, v.box) for v in truth.vehicles if v.visible]
        truth_plates.update({v.vehicle_id: normalise_plate_text(v.plate) for v in truth.vehicles})
        update = monitor.process(Frame("cam-synth", i, truth.ts_ms, image), tracks)
        reads += update.reads
        hits += update.hits
    assert reads, "no plate was voted"
    assert all(r.text == truth_plates[r.track_id] for r in reads)
    assert all(r.votes >= 2 for r in reads)
    target = [tid for tid, p in truth_plates.items() if p == "LEA1234"]
    assert any(r.track_id in target for r in reads)
    assert len(hits) == 1  # one vehicle, one incident, however many frames read it
    inc = hits[0].incident
    assert (inc.kind, inc.priority, inc.plate, inc.camera_id, inc.segment_id) == (
        IncidentKind.WATCHLIST,
        Priority.HIGH,
        "LEA1234",
        "cam-synth",
        "seg-1",
    )
    assert set(inc.evidence) == set(hits[0].evidence)
    crop = cv2.imdecode(np.frombuffer(hits[0].crop_jpeg, np.uint8), cv2.IMREAD_COLOR)
    frame = cv2.imdecode(np.frombuffer(hits[0].frame_jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert crop is not None and frame is not None and frame.shape[:2] == (cfg.height, cfg.width)
    assert crop.shape[0] < frame.shape[0]
