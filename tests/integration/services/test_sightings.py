"""Sightings service on a real Redis and SQLite / PostgreSQL: plate.read -> rows, crops, idempotency, retention."""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
import redis
from sqlalchemy import select

from archive import Archive
from archive.models import PlateIndexRecord
from bus.evidence import EvidenceStore
from bus.streams import EventBus
from config.settings import DEFAULT_CONFIG, load_config
from core.clock import now_ms
from core.sightings import PlateQuery
from core.types import PlateRead
from services import sightings as svc
from tests.pgdb import throwaway_pg_database

CFG = load_config(DEFAULT_CONFIG)
CAM = CFG.cameras[0].id
DAY = 86_400_000


def crop_jpeg(seed: int) -> bytes:
    img = np.full((40, 120, 3), 200, np.uint8)
    cv2.putText(img, f"LEA {seed}", (5, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (0, 0, 0), 2)
    ok, buf = cv2.imencode(".jpg", img)
    assert ok
    return buf.tobytes()


def read(plate: str, ts_ms: int, crop: str | None = None, track: int = 7) -> PlateRead:
    return PlateRead(CAM, track, ts_ms, plate, 0.91, (10.0, 20.0, 120.0, 80.0), 3, crop)


def cfg_with(days: float, interval_s: float = 3600, evidence_dir: Path | None = None):  # type: ignore[no-untyped-def]
    update: dict[str, object] = {"sightings_retention_days": days, "purge_interval_s": interval_s}
    if evidence_dir is not None:
        update["evidence_dir"] = evidence_dir
    return CFG.model_copy(update={"archive": CFG.archive.model_copy(update=update)})


@pytest.fixture(params=["sqlite", "postgresql"])
def arc(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Archive]:
    if request.param == "sqlite":
        a = Archive(f"sqlite:///{tmp_path / 'a.db'}", tmp_path / "evidence")
        yield a
        a.close()
        return
    with throwaway_pg_database("safecity_sightings") as url:
        a = Archive(url, tmp_path / "evidence")
        yield a
        a.close()


def run_service(cfg, redis_client: redis.Redis, url: str, until) -> None:  # type: ignore[no-untyped-def]
    """The real consumer loop (``services.sightings.run``) in a thread until ``until()`` holds (10 s at most)."""
    stop = threading.Event()
    args = argparse.Namespace(archive_url=url, consumer="t1")
    t = threading.Thread(target=svc.run, args=(cfg, EventBus(redis_client), stop, args), daemon=True)
    t.start()
    deadline = time.monotonic() + 10
    try:
        while time.monotonic() < deadline and not until():
            time.sleep(0.05)
    finally:
        stop.set()
        t.join(10)
    assert not t.is_alive()


def test_a_published_plate_read_becomes_a_sighting_row_with_its_crop(
    redis_client: redis.Redis, tmp_path: Path, arc: Archive
) -> None:
    bus, ev = EventBus(redis_client), EvidenceStore(redis_client)
    data = crop_jpeg(1)
    sha = ev.put(data)
    t = now_ms()
    bus.publish(read("LEA1234", t, sha))
    bus.publish(read("LEA1234", t, sha))  # the same event again (a replay): one row
    run_service(cfg_with(30, evidence_dir=arc.evidence_dir), redis_client, arc.url, lambda: arc.sightings.count() >= 1)
    rows = arc.sightings.search(PlateQuery("LEA1234"))
    assert len(rows) == 1
    r = rows[0]
    assert (r.plate, r.camera_id, r.ts_ms, r.track_id, r.votes, r.distance) == ("LEA1234", CAM, t, 7, 3, 0)
    assert r.confidence == pytest.approx(0.91)
    assert r.crop_sha256 == sha
    path = arc.evidence_path(sha)
    assert path is not None and path.read_bytes() == data
    assert redis_client.xpending("plate.read", svc.GROUP)["pending"] == 0  # acknowledged


def test_unreadable_crops_are_counted_and_the_sighting_kept(redis_client: redis.Redis, arc: Archive) -> None:
    bus, ev = EventBus(redis_client), EvidenceStore(redis_client)
    s = svc.SightingsService(CFG, bus, ev, arc)
    not_an_image = ev.put(b"this is not a jpeg")
    expired = "ab" * 32  # never stored
    t = now_ms()
    assert s.handle_one(read("PSB777", t, not_an_image), "e1")
    assert s.handle_one(read("PSB777", t + 1, expired), "e2")
    assert s.handle_one(read("PSB777", t + 2, None), "e3")  # no crop at all: not unreadable
    assert not s.handle_one(read("PSB777", t + 2, None), "e3")
    assert (s.crops_unreadable, s.archived, s.duplicates) == (2, 3, 1)
    assert [r.crop_sha256 for r in arc.sightings.search(PlateQuery("PSB777"))] == [None, None, None]


@pytest.mark.parametrize(
    ("days", "ages_days", "kept"),
    [
        (30, [0, 29, 31, 400], [0, 29]),
        (1, [0, 0.5, 1.5], [0, 0.5]),
        (0, [0, 31, 4000], [0, 31, 4000]),  # 0 = keep forever
    ],
)
def test_retention_purges_sightings_older_than_n_days(
    redis_client: redis.Redis, arc: Archive, days: float, ages_days: list[float], kept: list[float]
) -> None:
    now = 1_800_000_000_000
    ev = EvidenceStore(redis_client)
    s = svc.SightingsService(cfg_with(days), EventBus(redis_client), ev, arc, clock=lambda: now)
    for i, age in enumerate(ages_days):
        s.handle_one(read("KHI5555", int(now - age * DAY), ev.put(crop_jpeg(i)), track=i), f"e{i}")
    s.purge()
    left = sorted((now - r.ts_ms) / DAY for r in arc.sightings.search(PlateQuery("KHI5555")))
    assert left == pytest.approx(sorted(kept))
    assert s.purged == len(ages_days) - len(kept)


def test_purge_deletes_crops_nothing_else_uses(redis_client: redis.Redis, arc: Archive) -> None:
    now = 1_800_000_000_000
    ev = EvidenceStore(redis_client)
    s = svc.SightingsService(cfg_with(10), EventBus(redis_client), ev, arc, clock=lambda: now)
    only_old, shared = ev.put(crop_jpeg(1)), ev.put(crop_jpeg(2))
    s.handle_one(read("ISB1010", now - 20 * DAY, only_old, 1), "old1")
    s.handle_one(read("ISB1010", now - 20 * DAY, shared, 2), "old2")
    s.handle_one(read("ISB1010", now - DAY, shared, 3), "new")
    s.handle_one(read("PSB2020", now - 20 * DAY, None, 4), "old3")
    assert s.purge() == 3
    assert arc.evidence_path(only_old) is None
    assert arc.evidence_path(shared) is not None  # still used by the newer sighting
    with arc.session() as sess:  # a plate whose every sighting is gone leaves the search index
        assert sess.scalars(select(PlateIndexRecord.plate)).all() == ["ISB1010"]
    s.handle_one(read("PSB2020", now, None, 5), "again")  # seen again: searchable again
    assert [r.track_id for r in arc.sightings.search(PlateQuery("PSB2020"))] == [5]


def test_the_service_loop_purges_on_its_tick(redis_client: redis.Redis, arc: Archive) -> None:
    bus, ev = EventBus(redis_client), EvidenceStore(redis_client)
    t = now_ms()
    bus.publish(read("MNX4242", t - 5 * DAY, ev.put(crop_jpeg(5)), 1))
    bus.publish(read("MNX4242", t, ev.put(crop_jpeg(6)), 2))

    def only_fresh_left() -> bool:
        rows = arc.sightings.search(PlateQuery("MNX4242"))
        return [r.track_id for r in rows] == [2]

    run_service(cfg_with(2, interval_s=1, evidence_dir=arc.evidence_dir), redis_client, arc.url, only_fresh_left)
    assert only_fresh_left()


def test_fuzzy_search_with_filters_on_both_databases(arc: Archive) -> None:
    t = now_ms()
    for i, (plate, cam) in enumerate([("LEA1234", CAM), ("LEA1284", CAM), ("LEB1234", "cam-x"), ("PRK4242", CAM)]):
        arc.sightings.add(PlateRead(cam, i, t + i, plate, 0.9, (0.0, 0.0, 10.0, 10.0), 2, None), f"e{i}")
    got = [(r.plate, r.distance) for r in arc.sightings.search(PlateQuery("LEA1234"))]
    assert got[0] == ("LEA1234", 0) and set(got[1:]) == {("LEA1284", 1), ("LEB1234", 1)}
    assert [r.plate for r in arc.sightings.search(PlateQuery("LEA1234", camera_id="cam-x"))] == ["LEB1234"]
    assert [r.plate for r in arc.sightings.search(PlateQuery("LEA1234", from_ms=t + 1, to_ms=t + 1))] == ["LEA1284"]
    assert arc.sightings.search(PlateQuery("ZZZ9999")) == []
