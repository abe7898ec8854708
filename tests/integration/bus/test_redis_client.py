"""Redis Sentinel and Redis Cluster by URL, with real servers on loopback.

* Sentinel (``redis+sentinel://``): a master, a replica and a sentinel. The master is
  SIGKILLed; the sentinel promotes the replica; the spool publisher, connected only
  through the URL, delivers the events published during the fail-over to the new master,
  each exactly once.
* Cluster (``redis+cluster://``): three masters. The durable publisher (its Lua script
  and dedup key share the stream's hash slot), camera leases, consumer groups with dead
  letters and the live store all work across slots.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from bus.embedded import client_for_url, find_redis_server, free_port
from bus.leases import LeaseBoard, LeaseKeeper
from bus.publisher import SpoolPublisher
from bus.schema import event_id
from bus.spool import Spool
from bus.store import LiveStore
from bus.streams import EventBus
from core.types import CameraState, CameraStatus, DensityReport, Direction, LineCrossing

SERVER = find_redis_server()


def crossing(i: int) -> LineCrossing:
    return LineCrossing("cam-a", "main", i, "car", Direction.FORWARD, 1_700_000_000_000 + i)


def wait_for(pred: Callable[[], bool], timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with contextlib.suppress(redis.RedisError, OSError):
            if pred():
                return True
        time.sleep(0.1)
    return False


class Servers:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.procs: dict[int, subprocess.Popen[bytes]] = {}

    def start(self, port: int, *args: str) -> None:
        d = self.root / str(port)
        d.mkdir(parents=True, exist_ok=True)
        self.procs[port] = subprocess.Popen(
            [
                SERVER,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(d),
                "--logfile",
                str(d / "log"),
                *args,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        assert wait_for(lambda: redis.Redis(port=port, socket_timeout=1).ping(), 10), f"redis on {port} not up"

    def start_sentinel(self, port: int, conf: str) -> None:
        d = self.root / str(port)
        d.mkdir(parents=True, exist_ok=True)
        (d / "sentinel.conf").write_text(conf)
        self.procs[port] = subprocess.Popen(
            [SERVER, str(d / "sentinel.conf"), "--sentinel"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        assert wait_for(lambda: redis.Redis(port=port, socket_timeout=1).ping(), 10), "sentinel not up"

    def kill(self, port: int) -> None:
        self.procs[port].send_signal(signal.SIGKILL)
        self.procs[port].wait()

    def close(self) -> None:
        for p in self.procs.values():
            if p.poll() is None:
                p.kill()
                p.wait()


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Servers]:
    s = Servers(tmp_path)
    try:
        yield s
    finally:
        s.close()


def test_sentinel_failover_by_url_loses_and_duplicates_nothing(servers: Servers) -> None:
    master, replica, sentinel = free_port(), free_port(), free_port()
    servers.start(master)
    servers.start(replica, "--replicaof", "127.0.0.1", str(master))
    servers.start_sentinel(
        sentinel,
        f"port {sentinel}\nbind 127.0.0.1\nsentinel monitor city 127.0.0.1 {master} 1\n"
        "sentinel down-after-milliseconds city 800\nsentinel failover-timeout city 4000\n",
    )
    client = client_for_url(f"redis+sentinel://127.0.0.1:{sentinel}/city/0", socket_timeout=2, retries=0)
    pub = SpoolPublisher(client, Spool.memory(), retry_initial_s=0.1, retry_max_s=0.5).start()
    try:
        pub.publish([crossing(i) for i in range(20)])
        assert pub.flush(10)
        assert wait_for(lambda: client.wait(1, 1000) == 1, 20), "the replica has the first events"
        servers.kill(master)
        for i in range(20, 50):
            pub.publish([crossing(i)])
            time.sleep(0.02)
        sentinel_client = redis.Redis(port=sentinel, socket_timeout=2)
        assert wait_for(lambda: int(sentinel_client.sentinel_get_master_addr_by_name("city")[1]) == replica, 20), (
            "the sentinel promoted the replica"
        )
        assert pub.flush(20), f"{pub.backlog} event(s) not delivered after the fail-over: {pub.last_error}"
        new_master = redis.Redis(port=replica)
        ids = [f[b"id"].decode() for _, f in new_master.xrange("traffic.crossing")]
        assert ids == [event_id(crossing(i)) for i in range(50)], "every event, in order, once"
    finally:
        pub.stop(0)


def cluster_ports(n: int) -> list[int]:
    """Ports p whose cluster bus port p + 10000 is free too (free_port() may return ports above 55535)."""
    import random
    import socket

    out: list[int] = []
    rng = random.Random()
    while len(out) < n:
        p = rng.randint(20000, 50000)
        if p in out:
            continue
        try:
            for port in (p, p + 10000):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", port))
        except OSError:
            continue
        out.append(p)
    return out


@pytest.fixture
def cluster(servers: Servers) -> str:
    if shutil.which("redis-cli") is None:
        pytest.skip("redis-cli not available: cannot create a Redis Cluster")
    ports = cluster_ports(3)
    for p in ports:
        servers.start(
            p, "--cluster-enabled", "yes", "--cluster-config-file", f"nodes-{p}.conf", "--cluster-node-timeout", "2000"
        )
    out = subprocess.run(
        [
            "redis-cli",
            "--cluster",
            "create",
            *[f"127.0.0.1:{p}" for p in ports],
            "--cluster-replicas",
            "0",
            "--cluster-yes",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    c = redis.Redis(port=ports[0])
    assert wait_for(lambda: c.cluster("info")["cluster_state"] == "ok", 20), "cluster not ok"
    return f"redis+cluster://127.0.0.1:{ports[0]},127.0.0.1:{ports[1]}"


def test_cluster_by_url_runs_publisher_leases_groups_and_live_state(cluster: str) -> None:
    client = client_for_url(cluster, socket_timeout=5)
    assert type(client).__name__ == "RedisCluster"

    # durable publisher: two streams on different slots, a re-send filtered
    spool = Spool.memory()
    pub = SpoolPublisher(client, spool)
    density = DensityReport("cam-a", "seg", 1_700_000_000_000, 1.0, 0.1)
    pub.publish([crossing(0), density, crossing(1)])
    real_remove = spool.remove_through
    spool.remove_through = lambda seq: (_ for _ in ()).throw(OSError("killed"))  # type: ignore[method-assign]
    with pytest.raises(OSError):
        pub.forward_once()
    spool.remove_through = real_remove  # type: ignore[method-assign]
    assert pub.forward_once() == 3 and pub.duplicates_skipped == 3
    assert [f[b"id"].decode() for _, f in client.xrange("traffic.crossing")] == [
        event_id(crossing(0)),
        event_id(crossing(1)),
    ]
    assert client.xlen("traffic.density") == 1

    # consumer group with a dead letter
    bus = EventBus(client)
    bus.ensure_group("traffic.crossing", "g", "0")
    client.xadd("traffic.crossing", {"junk": "1"})
    got = bus.read_group("g", "c1", ["traffic.crossing"], block_ms=10)
    assert len(got) == 2 and bus.dead_lettered["traffic.crossing"] == 1
    bus.ack("g", got)
    assert bus.pending_count("traffic.crossing", "g") == 0

    # leases: two workers spread five cameras
    cams = [f"cam-{i}" for i in range(5)]
    running: dict[str, str] = {}
    keepers = [
        LeaseKeeper(
            LeaseBoard(client, w, ttl_s=2.0),
            cams,
            lambda c, w=w: running.__setitem__(c, w),
            lambda c: running.pop(c),
            tick_s=0.2,
        )
        for w in ("w1", "w2")
    ]
    for _ in range(6):
        for k in keepers:
            k.tick()
    assert sorted(len(k.held) for k in keepers) == [2, 3] and len(running) == 5

    # live state (hash writes plus change hints)
    store = LiveStore(client)
    store.put_camera_status(CameraStatus("cam-a", CameraState.ONLINE, 1, worker_id="w1"))
    store.put_frame("cam-a", b"\xff\xd8jpeg", 1)
    assert store.camera_statuses()["cam-a"].worker_id == "w1" and store.get_frame("cam-a") == (b"\xff\xd8jpeg", 1)
    store.remove_camera("cam-a")
    assert store.camera_status("cam-a") is None
    client.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX only")
def test_bad_urls_fail_with_clear_errors() -> None:
    with pytest.raises(ValueError, match="service name"):
        client_for_url("redis+sentinel://127.0.0.1:26379")
    with pytest.raises(ValueError, match="bad port"):
        client_for_url("redis+cluster://127.0.0.1:notaport")
