"""Two real ``python -m ingest.worker`` processes share cameras through Redis leases.

SIGKILL one: its cameras are re-owned (lease + online heartbeat from the survivor) well
within 15 s. SIGTERM the other: it stops its cameras, flushes its spool, releases its
leases and leaves the registry. No event id appears twice in the streams.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
import yaml

from bus.keys import WORKERS_INFO_KEY, lease_key
from bus.store import LiveStore
from core.clock import now_ms
from core.types import CameraState
from tests.paths import REPO_ROOT

CAMS = ["cam-a", "cam-b", "cam-c", "cam-d"]


def write_config(path: Path, spool_dir: Path, lease_ttl_s: float = 3.0) -> Path:
    cams = [
        {
            "id": cam,
            "name": cam,
            "location": [34.0, 71.5],
            "segment": "seg",
            "analysis_fps": 2,
            "source": {"kind": "synthetic", "seed": i, "width": 320, "height": 180, "fps": 4, "noise": 0},
            "detector": {"kind": "motion"},
            "lines": [{"id": "main", "a": [0, 120], "b": [320, 120]}],
            "zones": [{"id": "z", "polygon": [[0, 60], [320, 60], [320, 180], [0, 180]]}],
        }
        for i, cam in enumerate(CAMS)
    ]
    cfg = {
        "segments": [{"id": "seg", "name": "Seg", "path": [[34.0, 71.5], [34.01, 71.51]]}],
        "cameras": cams,
        "worker": {
            "heartbeat_s": 0.5,
            "lease_ttl_s": lease_ttl_s,
            "lease_tick_s": 0.5,
            "spool_dir": str(spool_dir),
            "frame_publish_fps": 1,
        },
    }
    path.write_text(yaml.safe_dump(cfg))
    return path


def wait_for(pred: Callable[[], bool], timeout: float, step: float = 0.2) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(step)
    return pred()


class Workers:
    def __init__(self, config: Path, url: str, log_dir: Path) -> None:
        self.config, self.url, self.log_dir = config, url, log_dir
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, worker_id: str) -> None:
        log = open(self.log_dir / f"{worker_id}.log", "wb")  # noqa: SIM115 - closed with the process
        self.procs[worker_id] = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ingest.worker",
                "--config",
                str(self.config),
                "--redis-url",
                self.url,
                "--worker-id",
                worker_id,
                "--log-level",
                "INFO",
            ],
            cwd=REPO_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )

    def log(self, worker_id: str) -> str:
        return (self.log_dir / f"{worker_id}.log").read_text(errors="replace")[-3000:]

    def close(self) -> None:
        for p in self.procs.values():
            if p.poll() is None:
                p.kill()
                p.wait()


@pytest.fixture
def workers(tmp_path: Path, redis_server: str, redis_client: redis.Redis) -> Iterator[Workers]:
    cfg = write_config(tmp_path / "cfg.yaml", tmp_path / "spool")
    w = Workers(cfg, redis_server, tmp_path)
    try:
        yield w
    finally:
        w.close()


def owners(client: redis.Redis) -> dict[str, str | None]:
    return {c: (v.decode() if (v := client.get(lease_key(c))) else None) for c in CAMS}


@pytest.mark.slow
def test_a_killed_workers_cameras_are_reowned_and_sigterm_drains(workers: Workers, redis_client: redis.Redis) -> None:
    store = LiveStore(redis_client)
    workers.start("wa")
    workers.start("wb")

    def spread() -> bool:
        o = owners(redis_client)
        return Counter(o.values()) == Counter({"wa": 2, "wb": 2})

    assert wait_for(spread, 40), f"cameras not spread: {owners(redis_client)}\n{workers.log('wa')}\n{workers.log('wb')}"

    def all_online() -> bool:
        # only this test's cameras: the session's Redis may hold other tests' late heartbeats
        st = store.camera_statuses()
        return all(c in st and st[c].state is CameraState.ONLINE for c in CAMS)

    assert wait_for(all_online, 30), f"not all online: {store.camera_statuses()}"

    orphans = [c for c, w in owners(redis_client).items() if w == "wa"]
    workers.procs["wa"].send_signal(signal.SIGKILL)
    killed_at_ms = now_ms()
    t0 = time.monotonic()

    def reowned() -> bool:
        st = store.camera_statuses()
        return all(
            owners(redis_client)[c] == "wb"
            and st[c].worker_id == "wb"
            and st[c].state is CameraState.ONLINE
            and st[c].last_frame_ts_ms > killed_at_ms
            for c in orphans
        )

    assert wait_for(reowned, 15), f"not re-owned in 15 s: {owners(redis_client)}\n{workers.log('wb')}"
    took = time.monotonic() - t0
    assert took < 15
    print(f"\ncameras re-owned {took:.1f} s after SIGKILL (lease ttl 3 s)")

    wb = workers.procs["wb"]
    wb.send_signal(signal.SIGTERM)
    assert wb.wait(20) == 0, workers.log("wb")
    assert owners(redis_client) == dict.fromkeys(CAMS), "leases released on SIGTERM"
    assert redis_client.hget(WORKERS_INFO_KEY, "wb") is None, "left the worker registry"
    st = store.camera_statuses()
    assert all(st[c].state is CameraState.OFFLINE and st[c].error == "worker stopped" for c in CAMS)
    log = workers.log("wb")
    assert "Traceback" not in log, log

    ids = [f[b"id"] for s in ("traffic.density", "traffic.crossing") for _, f in redis_client.xrange(s)]
    assert ids, "events were published"
    dup = [i for i, n in Counter(ids).items() if n > 1]
    assert not dup, f"{len(dup)} duplicated event id(s)"
