"""Clips from real frames: the synthetic camera and a real traffic video, through the ring, the encoder and a
real blob store, then recorded by the clips service; recording segments and their retention."""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

import pytest

from archive import Archive
from config.settings import AppConfig, CameraConfig, load_config
from core.types import ClipSaved, RecordingSegment
from ingest.clips.encode import decode_frames, probe_duration_s
from ingest.clips.recorder import ClipRecorder
from ingest.clips.recording import SegmentRecorder
from ingest.sources import open_source
from services.clips import ClipsService
from storage.disk import DiskStore

CFG = load_config()


class Events:
    def __init__(self) -> None:
        self.got: list[object] = []
        self.at: list[float] = []  # time.monotonic() of each event
        self.cv = threading.Condition()

    def __call__(self, events: object) -> None:
        with self.cv:
            self.got.extend(events)  # type: ignore[arg-type]
            self.at.extend(time.monotonic() for _ in events)  # type: ignore[attr-defined]
            self.cv.notify_all()

    def wait(self, n: int, timeout: float = 30.0) -> list[object]:
        with self.cv:
            assert self.cv.wait_for(lambda: len(self.got) >= n, timeout), f"{len(self.got)} of {n} events"
            return list(self.got)


def _camera(source: dict) -> CameraConfig:
    raw = {**CFG.cameras[0].model_dump(), "source": source}
    return CameraConfig.model_validate(raw)


def _run(cam: CameraConfig, rec: ClipRecorder, frames: int, moment_at: int) -> int:
    src = open_source(cam)
    src.open()
    moment = 0
    try:
        for i in range(frames):
            f = src.read()
            if i == moment_at:
                moment = f.ts_ms
                rec.request("violation", "v-test-1", moment)
            rec.add(f)
    finally:
        src.close()
    return moment


def _check_clip(clip: ClipSaved, store: DiskStore, want_s: float, tmp_path: Path) -> None:
    data = store.get(clip.key)
    assert data is not None and hashlib.sha256(data).hexdigest() == clip.sha256 and len(data) == clip.size
    assert clip.duration_s == pytest.approx(want_s, abs=0.35)
    p = tmp_path / "c.mp4"
    p.write_bytes(data)
    assert probe_duration_s(p) == pytest.approx(clip.duration_s, abs=0.2)
    frames = list(decode_frames(p))
    assert len(frames) == clip.frames and frames[0].shape[1] == clip.width <= 640


def test_clip_of_a_synthetic_camera(tmp_path: Path) -> None:
    cam = _camera({"kind": "synthetic", "seed": 3, "realtime": False, "fps": 10})
    store = DiskStore(tmp_path / "blobs")
    events = Events()
    cc = CFG.clips.model_copy(update={"pre_s": 2.0, "post_s": 2.0, "fps": 10, "max_width": 640})
    rec = ClipRecorder(cam.id, cc, store, events, clock=lambda: 0)
    moment = _run(cam, rec, frames=60, moment_at=25)
    (clip,) = events.wait(1)
    assert isinstance(clip, ClipSaved) and clip.owner_id == "v-test-1" and clip.ts_ms == moment
    _check_clip(clip, store, 4.0 + 0.1, tmp_path)
    st = rec.stats()
    assert st.written == 1 and st.failed == 0 and 0 < st.ring_bytes <= st.ring_max_bytes
    rec.flush()


def test_an_aborted_recorder_writes_and_publishes_nothing_more(tmp_path: Path) -> None:
    """A crash (the scenario runner's restart): open clips are dropped, the writer thread ends, no late event."""
    cam = _camera({"kind": "synthetic", "seed": 3, "realtime": False, "fps": 10})
    store = DiskStore(tmp_path / "blobs")
    events = Events()
    cc = CFG.clips.model_copy(update={"pre_s": 2.0, "post_s": 2.0, "fps": 10, "max_width": 320})
    rec = ClipRecorder(cam.id, cc, store, events, clock=lambda: 0)
    _run(cam, rec, frames=30, moment_at=25)  # the clip's window is still open
    rec.abort()
    assert not rec._thread.is_alive()  # noqa: SLF001
    time.sleep(0.3)
    assert events.got == [] and list(store.list("clips/")) == []


def test_clip_is_encoded_while_its_window_fills_and_stored_soon_after_it_closes(tmp_path: Path) -> None:
    """Frames at camera pace: the pre part is encoded at the request, the post part as it comes, so the clip is
    in the store well under a second after the window's last frame (the bar is post_s + 3 s)."""
    fps, pre_s, post_s = 10, 3.0, 1.5
    cam = _camera({"kind": "synthetic", "seed": 5, "realtime": False, "fps": fps})
    store = DiskStore(tmp_path / "blobs")
    events = Events()
    cc = CFG.clips.model_copy(update={"pre_s": pre_s, "post_s": post_s, "fps": fps, "max_width": 640})
    rec = ClipRecorder(cam.id, cc, store, events, clock=lambda: 0)
    src = open_source(cam)
    src.open()
    try:
        for _ in range(int(pre_s * fps) + 5):
            rec.add(src.read())
        moment = src.read()
        rec.request("violation", "v-pace", moment.ts_ms)
        rec.add(moment)
        window_closed = 0.0
        for i in range(int(post_s * fps) + 3):
            f = src.read()
            if i == int(post_s * fps) // 2:  # half-way through the post window: the pre part is in the file
                deadline = time.monotonic() + 5
                while rec.stats().open_frames < pre_s * fps and time.monotonic() < deadline:
                    time.sleep(0.02)
                assert rec.stats().open_frames >= pre_s * fps and rec.stats().written == 0
            t0 = time.monotonic()
            rec.add(f)
            if f.ts_ms >= moment.ts_ms + post_s * 1000 and not window_closed:
                window_closed = time.monotonic()
            assert time.monotonic() - t0 < 0.25, "add() must not wait for the encoder"
            time.sleep(max(0.0, 1 / fps - (time.monotonic() - t0)))
    finally:
        src.close()
    (clip,) = events.wait(1)
    after = events.at[0] - window_closed
    assert window_closed and clip.frames == pytest.approx((pre_s + post_s) * fps + 1, abs=1)
    assert after < 1.0, f"clip stored {after:.2f} s after its window closed"
    rec.flush()


def test_clip_of_a_real_traffic_video(tmp_path: Path, shared_data: Path) -> None:
    video = shared_data / "videos" / "intel_car-detection.mp4"
    if not video.is_file():
        pytest.skip(f"{video} missing")
    cam = _camera({"kind": "file", "path": str(video), "loop": False, "realtime": False})
    store = DiskStore(tmp_path / "blobs")
    events = Events()
    cc = CFG.clips.model_copy(update={"pre_s": 1.0, "post_s": 1.5, "fps": 10, "max_width": 640})
    rec = ClipRecorder(cam.id, cc, store, events, clock=lambda: 0)
    _run(cam, rec, frames=120, moment_at=40)
    (clip,) = events.wait(1)
    _check_clip(clip, store, 2.5 + 0.1, tmp_path)  # type: ignore[arg-type]
    rec.flush()


def test_clips_service_records_clips_and_segments_and_applies_retention(tmp_path: Path) -> None:
    store = DiskStore(tmp_path / "blobs")
    cfg: AppConfig = CFG.model_copy(
        update={"recording": CFG.recording.model_copy(update={"retention_days": 1.0, "retention_gb": 0.0})}
    )
    arc = Archive(f"sqlite:///{tmp_path / 'a.db'}", tmp_path / "ev", store=store)
    clock = [0]
    svc = ClipsService(cfg, bus=None, archive=arc, clock=lambda: clock[0])  # type: ignore[arg-type]
    cam = _camera({"kind": "synthetic", "seed": 1, "realtime": False, "fps": 10})
    events = Events()
    rc = cfg.recording.model_copy(update={"enabled": True, "segment_s": 5.0, "fps": 5, "max_width": 320})
    seg_rec = SegmentRecorder(cam.id, rc, store, events)
    src = open_source(cam)
    src.open()
    for _ in range(130):  # 13 s: two full segments and a partial one at flush
        seg_rec.add(src.read())
    src.close()
    seg_rec.flush()
    segs = [e for e in events.got if isinstance(e, RecordingSegment)]
    assert len(segs) == 3 and seg_rec.failed == 0 and seg_rec.dropped == 0
    assert segs[0].duration_s == pytest.approx(5.0, abs=0.3)
    for s in segs:
        assert svc.handle_one(s)
    assert not svc.handle_one(segs[0])  # replay: recorded once
    bogus = ClipSaved("violation", "v9", cam.id, 1, 1, 2, "clips/x/none.mp4", "0" * 64, 10, 1.0, 1, 2, 2)
    assert not svc.handle_one(bogus) and svc.missing == 1  # file not in the store: skipped, counted
    assert [s.key for s in arc.clips.segments(cam.id, segs[0].ts_ms, segs[-1].end_ts_ms)] == [s.key for s in segs]
    assert arc.clips.segment_at(cam.id, segs[1].ts_ms + 1000).key == segs[1].key
    clock[0] = segs[-1].end_ts_ms + 86_400_000 - 1  # a day later, all but the newest are past retention
    assert svc.purge() == 2 and store.exists(segs[-1].key) and not store.exists(segs[0].key)
    clock[0] += 1000
    assert svc.purge() == 1
    assert not any(store.exists(s.key) for s in segs) and arc.clips.segments(cam.id, 0, 2**62) == []
    arc.close()


def test_size_cap_deletes_the_oldest_segments_first(tmp_path: Path) -> None:
    store = DiskStore(tmp_path / "blobs")
    arc = Archive(f"sqlite:///{tmp_path / 'a.db'}", tmp_path / "ev", store=store)
    segs = []
    for i in range(5):
        key = f"recordings/c/2026-01-01/{i}.mp4"
        store.put(key, b"x" * 1000)
        segs.append(RecordingSegment("c", i * 1000, i * 1000 + 999, key, "0" * 64, 1000, 1.0, 5))
        arc.clips.add_segment(segs[-1])
    gone = arc.clips.expired_segments(None, max_total_bytes=2500)
    assert [s.key for s in gone] == [s.key for s in segs[:3]]
    arc.close()
