"""Camera sources against real media and a real HTTP MJPEG server.

Video files come from ../shared/data/videos (real third-party clips; skipped when absent).
The MJPEG server is :class:`ingest.mjpeg_server.MjpegServer` on a free local port.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from config.settings import CameraConfig
from core.clock import now_ms
from core.types import CameraState, Frame
from ingest.mjpeg_server import MjpegServer, VideoFileFeed
from ingest.sources import (
    CameraCapture,
    FileSource,
    SourceEnded,
    SourceError,
    StreamSource,
    WebcamSource,
    open_source,
    redact_url,
)
from sim.source import SyntheticSource
from tests.paths import SHARED_DATA

DATA = SHARED_DATA
VIDEOS = DATA / "videos"
BGS = VIDEOS / "bgslibrary_video.avi"  # 640x360, 30 fps, 374 frames
INTEL = VIDEOS / "intel_car-detection.mp4"  # 768x432, 12.5 fps, 377 frames


def need(path: Path) -> Path:
    if not path.is_file():
        pytest.skip(f"test video not available: {path}")
    return path


def wait_for(pred: Callable[[], bool], timeout: float, step: float = 0.05) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(step)
    return pred()


def read_all(src: FileSource) -> list[Frame]:
    frames = []
    with pytest.raises(SourceEnded):
        while True:
            frames.append(src.read())
    return frames


def write_mjpg_avi(path: Path, n: int = 30, size: tuple[int, int] = (160, 120)) -> None:
    """A small MJPG AVI whose frame k has mean brightness ~ 8k (so frames can be told apart)."""
    w = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 10, size)
    for k in range(n):
        img = np.full((size[1], size[0], 3), 8 * k, np.uint8)
        cv2.putText(img, str(k), (40, 80), cv2.FONT_HERSHEY_SIMPLEX, 2, (255, 255, 255), 3)
        w.write(img)
    w.release()


# --------------------------------------------------------------------------- files


def test_batch_file_reads_every_frame_with_file_time_stamps() -> None:
    src = FileSource("cam-f", need(BGS), loop=False, realtime=False, wall_ms=lambda: 1_000_000)
    assert not src.is_live
    src.open()
    frames = read_all(src)
    assert len(frames) == 374 == src.frame_count
    assert [f.index for f in frames] == list(range(374))
    assert src.nominal_fps == pytest.approx(30.0)
    assert frames[0].ts_ms == 1_000_000
    assert frames[300].ts_ms == 1_000_000 + 10_000  # index * 1000 / fps: speeds stay right
    assert all(f.image.shape == (360, 640, 3) for f in frames[::50])
    assert src.corrupt == 0
    src.close()
    # Reading it again gives the same pixels (really decoding the file).
    again = FileSource("cam-f", BGS)
    again.open()
    assert np.array_equal(again.read().image, frames[0].image)
    again.close()


def test_truncated_file_does_not_crash_and_ends(tmp_path: Path) -> None:
    data = need(INTEL).read_bytes()
    cut = tmp_path / "truncated.mp4"
    cut.write_bytes(data[: len(data) // 2])
    src = FileSource("cam-t", cut)
    try:
        src.open()
    except SourceError as e:  # some containers cannot even be opened when cut: that is fine too
        assert str(cut) in str(e)
        return
    frames = read_all(src)
    assert 0 < len(frames) < 377
    assert src.missing > 0  # the early end is reported


def test_corrupt_frames_are_skipped_and_counted(tmp_path: Path) -> None:
    good = tmp_path / "good.avi"
    write_mjpg_avi(good)
    data = bytearray(good.read_bytes())
    soi = [i for i in range(len(data) - 2) if data[i : i + 3] == b"\xff\xd8\xff"]
    assert len(soi) == 30
    for k in (10, 11, 20):  # wipe the start of three JPEG frames
        data[soi[k] : soi[k] + 400] = bytes(400)
    bad = tmp_path / "bad.avi"
    bad.write_bytes(bytes(data))
    src = FileSource("cam-c", bad)
    src.open()
    frames = read_all(src)
    assert len(frames) == 27
    assert src.corrupt == 3
    brightness = [int(f.image.mean()) for f in frames]
    assert brightness == sorted(brightness)  # order kept, no frame repeated


@pytest.mark.parametrize("content", [None, b"", b"this is not a video", b"\x00" * 4096])
def test_unusable_file_raises_source_error_naming_the_path(tmp_path: Path, content: bytes | None) -> None:
    path = tmp_path / "cam.mp4"
    if content is not None:
        path.write_bytes(content)
    src = FileSource("cam-x", path)
    with pytest.raises(SourceError) as err:
        src.open()
    assert str(path) in str(err.value)
    if content is None:
        assert "not found" in str(err.value)


def test_looping_file_restarts_and_keeps_counting(tmp_path: Path) -> None:
    path = tmp_path / "loop.avi"
    write_mjpg_avi(path, n=12)
    src = FileSource("cam-l", path, loop=True, realtime=False)
    src.open()
    frames = [src.read() for _ in range(30)]
    assert [f.index for f in frames] == list(range(30))
    assert src.loops == 2
    assert np.array_equal(frames[0].image, frames[12].image)
    assert frames[29].ts_ms > frames[0].ts_ms


def test_realtime_file_is_paced_like_a_live_camera() -> None:
    src = FileSource("cam-r", need(BGS), loop=True, realtime=True)
    assert src.is_live
    src.open()
    t0 = time.monotonic()
    frames = [src.read() for _ in range(10)]
    elapsed = time.monotonic() - t0
    assert elapsed >= 9 / 30 - 0.02  # 30 fps
    now = now_ms()
    assert abs(frames[-1].ts_ms - now) < 1000  # wall-clock capture times
    src.close()


# --------------------------------------------------------------------------- factory


def _camera(source: dict[str, object]) -> CameraConfig:
    return CameraConfig.model_validate(
        {"id": "cam-1", "name": "c", "location": (34.0, 71.5), "segment": "s", "source": source}
    )


def test_open_source_builds_the_configured_kind() -> None:
    assert isinstance(open_source(_camera({"kind": "file", "path": str(BGS), "realtime": False})), FileSource)
    s = open_source(_camera({"kind": "http", "url": "http://127.0.0.1:9/video.mjpg"}))
    assert isinstance(s, StreamSource) and s.is_live
    assert isinstance(open_source(_camera({"kind": "rtsp", "url": "rtsp://u:p@10.0.0.1/s"})), StreamSource)
    assert isinstance(open_source(_camera({"kind": "webcam", "index": 3})), WebcamSource)
    syn = open_source(_camera({"kind": "synthetic", "seed": 2, "realtime": False}))
    assert isinstance(syn, SyntheticSource) and syn.camera_id == "cam-1" and not syn.is_live


def test_unreachable_stream_error_hides_the_password() -> None:
    src = StreamSource("cam-s", "rtsp://admin:secret@127.0.0.1:9/stream", open_timeout_s=1.0)
    with pytest.raises(SourceError) as err:
        src.open()
    assert "secret" not in str(err.value) and "admin:***@" in str(err.value)
    assert redact_url("http://host/x") == "http://host/x"


# --------------------------------------------------------------------------- capture thread


def test_capture_of_a_batch_file_loses_no_frame_with_a_slow_consumer() -> None:
    src = FileSource("cam-b", need(BGS), realtime=False)
    cap = CameraCapture(src, buffer=2)
    cap.start()
    got = []
    try:
        while True:
            f = cap.get(timeout=5.0)
            if f is None:
                break
            got.append(f.index)
            if len(got) < 20:
                time.sleep(0.01)  # slower than the reader at first: it must wait, not drop
    finally:
        cap.stop()
    assert got == list(range(374))
    st = cap.stats()
    assert cap.ended and st.state == CameraState.ENDED
    assert st.frames_in == 374 and st.frames_skipped == 0 and st.frames_corrupt == 0


def test_capture_of_a_live_source_drops_oldest_and_counts_them() -> None:
    src = FileSource("cam-d", need(BGS), loop=True, realtime=True)  # 30 fps "live" camera
    cap = CameraCapture(src, buffer=2)
    cap.start()
    taken = []
    try:
        for _ in range(4):
            f = cap.get(timeout=3.0)
            assert f is not None
            taken.append(f.index)
            time.sleep(0.25)  # a slow consumer: ~7 frames arrive meanwhile
        st = cap.stats()
    finally:
        cap.stop(timeout=2.0)
    assert taken == sorted(taken) and taken[-1] - taken[0] >= 15  # always the newest, so big jumps
    assert st.state == CameraState.ONLINE
    assert st.frames_skipped >= 10
    assert st.frames_in >= len(taken) + st.frames_skipped  # everything read is taken, dropped or pending
    assert st.frames_in - len(taken) - st.frames_skipped <= 2
    assert 15 < st.fps_in < 45


@pytest.fixture
def mjpeg_server() -> Iterator[MjpegServer]:
    feed = VideoFileFeed(need(BGS))
    server = MjpegServer(feed, fps=20.0).start()
    yield server
    server.stop()
    feed.close()


def test_capture_goes_offline_when_the_server_dies_and_recovers(mjpeg_server: MjpegServer) -> None:
    src = StreamSource("cam-h", mjpeg_server.url, open_timeout_s=2.0, read_timeout_s=2.0)
    cap = CameraCapture(src, buffer=2, reconnect_initial_s=0.2, reconnect_max_s=1.0, stall_timeout_s=3.0)
    cap.start()
    try:
        assert wait_for(lambda: cap.stats().state == CameraState.ONLINE, 5.0)
        first = cap.get(timeout=2.0)
        assert first is not None and first.image.shape == (360, 640, 3)
        assert wait_for(lambda: cap.stats().frames_in >= 10, 3.0)

        mjpeg_server.go_down()  # cut connections and refuse new ones
        assert wait_for(lambda: cap.stats().state == CameraState.OFFLINE, 4.0)
        st = cap.stats()
        assert st.error and "video.mjpg" in st.error
        n_before = st.frames_in
        time.sleep(0.6)  # several failed reconnects while down
        assert cap.stats().state == CameraState.OFFLINE and cap.stats().frames_in == n_before

        mjpeg_server.come_back()
        assert wait_for(lambda: cap.stats().state == CameraState.ONLINE, 4.0)
        st = cap.stats()
        assert st.reconnects >= 1 and st.error == ""
        assert wait_for(lambda: cap.stats().frames_in > n_before + 5, 3.0)
        assert cap.get(timeout=2.0) is not None
    finally:
        cap.stop(timeout=3.0)
    assert cap.stats().state == CameraState.OFFLINE  # stopped


def test_stall_watchdog_reopens_a_silent_stream(mjpeg_server: MjpegServer) -> None:
    src = StreamSource("cam-w", mjpeg_server.url, open_timeout_s=2.0, read_timeout_s=1.5)
    cap = CameraCapture(src, buffer=2, reconnect_initial_s=0.2, reconnect_max_s=1.0, stall_timeout_s=0.6)
    cap.start()
    try:
        assert wait_for(lambda: cap.stats().state == CameraState.ONLINE, 5.0)
        mjpeg_server.set_stalled(True)  # connection stays open, no frames
        # The watchdog (0.6 s) notices before the stream's own read timeout (1.5 s) fires.
        assert wait_for(lambda: "stalled: no frame for" in cap.stats().error, 3.0)
        assert cap.stats().state == CameraState.OFFLINE
        mjpeg_server.set_stalled(False)
        assert wait_for(lambda: cap.stats().state == CameraState.ONLINE and cap.stats().reconnects >= 1, 5.0)
    finally:
        cap.stop(timeout=3.0)


def test_capture_retries_a_camera_that_never_opens() -> None:
    src = FileSource("cam-m", "/nonexistent/cam.mp4")
    cap = CameraCapture(src, reconnect_initial_s=0.05, reconnect_max_s=0.1)
    cap.start()
    try:
        assert wait_for(lambda: cap.stats().state == CameraState.OFFLINE, 2.0)
        assert "/nonexistent/cam.mp4" in cap.stats().error
        assert cap.get(timeout=0.2) is None and not cap.ended
    finally:
        t0 = time.monotonic()
        cap.stop(timeout=2.0)
        assert time.monotonic() - t0 < 1.0  # stop interrupts the backoff wait
