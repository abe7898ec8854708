"""Bad input at the worker level: an unreachable camera is shown offline and retried;
a corrupt or ended file does not crash the worker."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from bus.embedded import free_port
from bus.store import LiveStore
from bus.streams import EventBus
from config.settings import CameraConfig, FileSource, StreamSource, WorkerConfig
from core.types import CameraState
from ingest.worker import CameraRunner


def _camera(source: object, cam_id: str = "cam-test") -> CameraConfig:
    return CameraConfig(
        id=cam_id,
        name="Test",
        location=(34.0, 71.5),
        segment="seg",
        source=source,  # type: ignore[arg-type]
        analysis_fps=5,
        lines=({"id": "l", "a": (0, 100), "b": (320, 100)},),  # type: ignore[arg-type]
        zones=({"id": "z", "polygon": ((0, 0), (320, 0), (320, 240), (0, 240))},),  # type: ignore[arg-type]
    )


def _wait(pred, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.1)
    return False


def test_unreachable_camera_is_offline_and_retried(redis_client) -> None:  # type: ignore[no-untyped-def]
    url = f"http://127.0.0.1:{free_port()}/video.mjpg"  # nothing listens there
    cam = _camera(StreamSource(kind="http", url=url))
    cfg = WorkerConfig(heartbeat_s=0.2, reconnect_initial_s=0.1, reconnect_max_s=0.4)
    store = LiveStore(redis_client)
    runner = CameraRunner(cam, cfg, EventBus(redis_client), store, worker_id="t")
    runner.start()
    try:
        assert _wait(lambda: cam.id in store.camera_statuses(), 10)
        assert _wait(lambda: runner.capture.stats().failures >= 3, 15), "the camera is retried"
        st = store.camera_statuses()[cam.id]
        assert st.state is CameraState.OFFLINE
        assert st.error, "the offline status says why"
        assert runner.alive, "the worker keeps running for a broken camera"
    finally:
        runner.stop()


def test_corrupt_file_does_not_crash_worker(redis_client, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import cv2

    path = tmp_path / "clip.avi"
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (320, 240))
    rng = np.random.default_rng(0)
    for i in range(40):
        img = np.full((240, 320, 3), 90, np.uint8)
        cv2.rectangle(img, (10 + 6 * i, 80), (50 + 6 * i, 120), (0, 0, 255), -1)
        w.write(img + rng.integers(0, 3, img.shape, dtype=np.uint8))
    w.release()
    data = bytearray(path.read_bytes())
    cut = len(data) * 2 // 3
    data[cut : cut + 4000] = bytes(4000)  # wipe a stretch in the middle
    path.write_bytes(bytes(data[: len(data) - 3000]))  # and truncate the end

    cam = _camera(FileSource(path=path, loop=False, realtime=False), "cam-file")
    store = LiveStore(redis_client)
    runner = CameraRunner(cam, WorkerConfig(heartbeat_s=0.2), EventBus(redis_client), store, worker_id="t")
    runner.start()
    runner.join(timeout=60)
    assert not runner.alive, "the camera thread ends when the file ends"
    runner.stop()
    st = store.camera_statuses()[cam.id]
    assert runner.frames_analysed > 5
    assert st.frames_in < 40 or st.frames_corrupt > 0
