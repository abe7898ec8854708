"""Spool-and-replay against a real redis-server that is killed and restarted.

* the spool is durable, bounded (oldest dropped and counted), ordered, and its
  sequence numbers are never reused;
* events published while Redis is down wait in the spool and reach the streams in
  order when it is back, each exactly once;
* a re-send of events Redis already has (reply lost, process killed before the spool
  was trimmed) is filtered at the XADD by the producer's sequence number;
* a spool left by a process killed with SIGKILL is adopted and forwarded by another.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from bus.embedded import EmbeddedRedis, free_port, start_embedded_redis
from bus.keys import dedup_key
from bus.publisher import SpoolPublisher, adopt
from bus.schema import event_id
from bus.spool import Spool, SpoolLocked, orphaned_spools, spool_path
from tests.integration.bus.crossings import crossing
from tests.paths import REPO_ROOT


def stream_ids(client: redis.Redis, stream: str = "traffic.crossing") -> list[str]:
    return [f[b"id"].decode() for _, f in client.xrange(stream)]


def fail_fast(url: str) -> redis.Redis:
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2, retry=Retry(NoBackoff(), 0))


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    """A redis-server of this test only (it gets killed)."""
    server = start_embedded_redis(tmp_path / "redis", free_port())
    try:
        yield server
    finally:
        server.stop()


# --------------------------------------------------------------------------- spool alone


def test_spool_is_ordered_bounded_durable_and_never_reuses_sequence_numbers(tmp_path: Path) -> None:
    path = spool_path(tmp_path, "worker/1")
    assert path.name == "worker_1.spool"
    sp = Spool.open(path, max_events=5)
    producer = sp.producer_id
    last = sp.append([("s", f"e{i}", {"n": str(i)}) for i in range(3)])
    assert last == 3 and len(sp) == 3
    with pytest.raises(SpoolLocked):
        Spool.open(path)
    assert [e.event_id for e in sp.peek(10)] == ["e0", "e1", "e2"]
    assert sp.remove_through(2) == 2
    sp.append([("s", f"e{i}", {"n": str(i)}) for i in range(3, 8)])  # 6 queued > 5: the oldest goes
    assert len(sp) == 5 and sp.dropped == 1
    assert [e.event_id for e in sp.peek(10)] == ["e3", "e4", "e5", "e6", "e7"]
    sp.close()
    assert orphaned_spools(tmp_path) == [path]

    again = Spool.open(path, max_events=5)
    assert again.producer_id == producer, "the producer id is stable across reopen"
    assert again.dropped == 1 and len(again) == 5
    assert again.remove_through(100) == 5
    assert again.append([("s", "e8", {})]) == 9, "sequence numbers continue after the rows are gone"
    assert again.peek(1)[0].fields == {}
    again.close()


# --------------------------------------------------------------------------- with Redis


def test_open_can_wait_for_a_predecessor_to_let_go(tmp_path: Path) -> None:
    path = spool_path(tmp_path, "w")
    held = Spool.open(path)
    t0 = time.monotonic()
    with pytest.raises(SpoolLocked):
        Spool.open(path, wait_s=0.3)
    assert time.monotonic() - t0 >= 0.3
    threading.Timer(0.3, held.close).start()
    again = Spool.open(path, wait_s=10.0)  # opens once the other closes, well before the 10 s
    assert time.monotonic() - t0 < 5.0
    again.close()


def test_events_spooled_during_an_outage_are_replayed_in_order_exactly_once(
    own_redis: EmbeddedRedis, tmp_path: Path
) -> None:
    port, data_dir = own_redis.port, own_redis.data_dir
    client = fail_fast(own_redis.url)
    pub = SpoolPublisher(client, Spool.open(tmp_path / "w.spool"), retry_initial_s=0.05, retry_max_s=0.3).start()
    try:
        pub.publish([crossing(i) for i in range(20)])
        assert pub.flush(5)
        os.kill(own_redis.pid, signal.SIGKILL)  # Redis dies without a goodbye
        t0 = time.monotonic()
        for i in range(20, 60):
            pub.publish([crossing(i)])
        assert time.monotonic() - t0 < 1.0, "publishing never waits for Redis"
        deadline = time.monotonic() + 5
        while pub.redis_ok and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not pub.redis_ok and pub.backlog == 40 and pub.stats().last_error

        restarted = start_embedded_redis(data_dir, port)  # same port and AOF: clients reconnect by themselves
        try:
            assert pub.flush(10), f"backlog left: {pub.backlog}"
            ids = stream_ids(client)
            assert ids == [event_id(crossing(i)) for i in range(60)], "all events, in order, once each"
            assert pub.stats().redis_ok and pub.forwarded == 60
        finally:
            pub.stop(1)
            restarted.stop()
    finally:
        client.close()


def test_a_resend_of_events_redis_already_has_is_filtered(redis_client: redis.Redis) -> None:
    spool = Spool.memory()
    pub = SpoolPublisher(redis_client, spool)
    pub.publish([crossing(i) for i in range(10)])

    def crash(seq: int) -> int:  # the process "dies" after XADD, before trimming its spool
        raise OSError("killed")

    spool.remove_through = crash  # type: ignore[method-assign]
    with pytest.raises(OSError):
        pub.forward_once()
    assert len(stream_ids(redis_client)) == 10 and len(spool) == 10
    del spool.remove_through  # the restarted process replays the whole spool
    pub.publish([crossing(i) for i in range(10, 12)])
    assert pub.forward_once() == 12
    ids = stream_ids(redis_client)
    assert ids == [event_id(crossing(i)) for i in range(12)]
    assert pub.duplicates_skipped == 10 and pub.forwarded == 2
    ttl = redis_client.pttl(dedup_key("traffic.crossing", spool.producer_id))
    assert ttl > 0, "the dedup record expires on its own"


def test_spool_of_a_killed_process_is_adopted(redis_client: redis.Redis, tmp_path: Path) -> None:
    spool_dir = tmp_path / "spool"
    code = textwrap.dedent(
        f"""
        import sys, time
        sys.path.insert(0, {str(REPO_ROOT)!r})
        from bus.spool import Spool
        from bus.schema import encode, event_id, stream_of
        from tests.integration.bus.crossings import crossing
        sp = Spool.open({str(spool_path(spool_dir, "dead-worker"))!r})
        sp.append([(stream_of(c), event_id(c), encode(c)) for c in (crossing(i, "cam-z") for i in range(25))])
        print("ready", flush=True)
        time.sleep(60)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=REPO_ROOT)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        assert orphaned_spools(spool_dir) == [], "a live process's spool is not an orphan"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    (orphan,) = orphaned_spools(spool_dir)
    left = adopt(redis_client, Spool.open(orphan), maxlen=1000, timeout=5)
    assert left == 0 and not orphan.exists(), "a drained orphan is removed"
    assert stream_ids(redis_client) == [event_id(crossing(i, "cam-z")) for i in range(25)]
