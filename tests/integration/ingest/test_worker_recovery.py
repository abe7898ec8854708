"""Short versions of the ``bench.faults`` scenarios, on one camera runner in this process.

A real MJPEG server feeds a live HTTP camera; the runner publishes through a durable
spool to a real redis-server. The stream server is cut and restored (the camera is back
within 5 s), it stalls (the watchdog notices and counts it), and Redis is SIGKILLed and
restarted (every event the runner produced reaches the streams exactly once).
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bus.embedded import EmbeddedRedis, client_for_url, free_port, start_embedded_redis
from bus.publisher import SpoolPublisher
from bus.spool import Spool
from bus.store import LiveStore
from bus.streams import EventBus
from config.settings import CameraConfig, StreamSource, SyntheticSource, WorkerConfig
from core.clock import now_ms
from core.types import CameraState
from ingest.mjpeg_server import MjpegServer, SyntheticFeed
from ingest.worker import CameraRunner


def wait_for(pred: Callable[[], bool], timeout: float, step: float = 0.05) -> float | None:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        try:
            if pred():
                return time.monotonic() - t0
        except Exception:  # noqa: BLE001 - Redis may be down while we poll
            pass
        time.sleep(step)
    return None


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[tuple[MjpegServer, EmbeddedRedis, CameraRunner, Path]]:
    server = MjpegServer(SyntheticFeed(SyntheticSource(seed=5, width=320, height=180, fps=8, realtime=False)), fps=8)
    server.start()
    redis_srv = start_embedded_redis(tmp_path / "redis", free_port())
    client = client_for_url(redis_srv.url, socket_timeout=2, retries=0)
    cam = CameraConfig(
        id="cam-live",
        name="Live",
        location=(34.0, 71.5),
        segment="seg",
        source=StreamSource(kind="http", url=server.url),
        analysis_fps=4,
        zones=({"id": "z", "polygon": ((0, 40), (320, 40), (320, 180), (0, 180))},),  # type: ignore[arg-type]
    )
    cfg = WorkerConfig(
        heartbeat_s=0.3, density_interval_s=0.5, reconnect_initial_s=0.2, reconnect_max_s=1.0, stall_timeout_s=1.5
    )
    ledger = tmp_path / "ledger"
    pub = SpoolPublisher(
        client, Spool.open(tmp_path / "w.spool", ledger=ledger), retry_initial_s=0.1, retry_max_s=0.5
    ).start()
    runner = CameraRunner(cam, cfg, EventBus(client), LiveStore(client), "w-test", publisher=pub)
    runner.start()
    try:
        yield server, redis_srv, runner, ledger
    finally:
        runner.stop(timeout=3)
        pub.stop(2)
        server.stop()
        redis_srv.stop()


def test_camera_cut_stall_and_redis_restart(rig: tuple[MjpegServer, EmbeddedRedis, CameraRunner, Path]) -> None:
    server, redis_srv, runner, ledger = rig
    store = runner.store

    def status():  # type: ignore[no-untyped-def]
        return store.camera_status("cam-live")

    assert wait_for(lambda: status().state is CameraState.ONLINE, 20), "camera online"

    # stream cut and restored: offline at once, back within 5 s of the stream's return
    server.go_down()
    assert wait_for(lambda: status().state is CameraState.OFFLINE, 5), "cut seen"
    time.sleep(1.5)
    server.come_back()
    back_ms = now_ms()
    took = wait_for(lambda: status().state is CameraState.ONLINE and status().last_frame_ts_ms > back_ms, 5)
    assert took is not None, "camera not back within 5 s of its stream"
    assert status().reconnects_1h >= 1

    # stall: connection open, no frames -> offline as stalled, reopened, counted
    server.set_stalled(True)
    assert wait_for(lambda: "stall" in status().error, 4), "stall not detected"
    server.set_stalled(False)
    assert wait_for(lambda: status().state is CameraState.ONLINE and status().stalls >= 1, 8)

    # Redis SIGKILLed for 2 s: events spool, then replay exactly once
    port, data_dir = redis_srv.port, redis_srv.data_dir
    os.kill(redis_srv.pid, signal.SIGKILL)
    redis_srv._process.wait()
    time.sleep(2.0)
    assert runner.alive, "analysis goes on while Redis is down"
    assert runner.publisher.backlog > 0, "events wait in the spool"
    restarted = start_embedded_redis(data_dir, port)
    try:
        assert runner.publisher.flush(10), "spool replayed"
        time.sleep(0.8)  # a few more events after the restart
        assert runner.publisher.flush(5)
        sent = {ln.split()[0] for ln in ledger.read_text().splitlines()}
        client = runner.bus.client
        ids = [f[b"id"].decode() for s in ("traffic.density", "traffic.crossing") for _, f in client.xrange(s)]
        assert sent and set(ids) == sent, f"lost {len(sent - set(ids))}"
        assert not [i for i, n in Counter(ids).items() if n > 1], "duplicates"
        assert wait_for(lambda: status().state is CameraState.ONLINE and status().spool_backlog == 0, 5)
    finally:
        restarted.stop()
