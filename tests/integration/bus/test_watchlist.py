"""The Redis-backed watchlist against a real redis-server."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import redis

from bus.keys import WATCHLIST_CHANNEL, WATCHLIST_PLATES_KEY, WATCHLIST_VERSION_KEY
from bus.watchlist import RedisWatchlist, WatchlistCache, load_watchlist_file
from core.anpr import WatchlistEntry
from core.types import Priority
from tests.paths import REPO_ROOT


class FakeClock:
    """A settable clock (only time is faked; Redis is real)."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_add_remove_and_versions(redis_client: redis.Redis) -> None:
    wl = RedisWatchlist(redis_client, clock=lambda: 1_700_000_000_000)
    assert wl.version() == 0 and wl.entries() == []
    v1 = wl.add_plate("lea-1234", "stolen", "critical", note="from test")
    v2 = wl.add(WatchlistEntry.create("PRA 777", "wanted"))
    assert (v1, v2) == (1, 2)
    entries = wl.entries()
    assert [(e.plate, e.reason, e.priority) for e in entries] == [
        ("LEA1234", "stolen", Priority.CRITICAL),
        ("PRA777", "wanted", Priority.HIGH),
    ]
    version, snapshot = wl.snapshot()
    assert version == 2
    hit = snapshot.match("LEA1284")
    assert hit is not None and not hit.exact and hit.entry.plate == "LEA1234"
    assert wl.remove("LEA-1234") is True
    assert wl.version() == 3
    assert wl.remove("LEA1234") is False  # not listed: nothing changes
    assert wl.version() == 3
    assert [e.plate for e in wl.entries()] == ["PRA777"]
    with pytest.raises(ValueError):
        wl.add_plate("--", "stolen")
    assert wl.version() == 3


def test_load_yaml_and_csv_files(redis_client: redis.Redis, tmp_path: Path) -> None:
    wl = RedisWatchlist(redis_client)
    assert wl.seed(REPO_ROOT / "config" / "watchlist.yaml") is True
    shipped = {e.plate for e in load_watchlist_file(REPO_ROOT / "config" / "watchlist.yaml")}
    assert {e.plate for e in wl.entries()} == shipped
    assert wl.seed(REPO_ROOT / "config" / "watchlist.yaml") is False  # seeding happens once
    csv_file = tmp_path / "extra.csv"
    csv_file.write_text("plate,reason,priority,note\nABC 123,unpaid fines,low,\n", encoding="utf-8")
    wl.load_file(csv_file)
    assert {e.plate for e in wl.entries()} == shipped | {"ABC123"}
    wl.load_file(csv_file, replace=True)
    assert [e.plate for e in wl.entries()] == ["ABC123"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("plates: [{plate: AB12}]\n", encoding="utf-8")
    before = wl.version()
    with pytest.raises(ValueError, match="bad.yaml"):
        wl.load_file(bad)
    assert wl.version() == before
    txt = tmp_path / "list.txt"
    txt.write_text("LEA1234\n", encoding="utf-8")
    with pytest.raises(ValueError, match="watchlist files"):
        load_watchlist_file(txt)
    with pytest.raises(ValueError, match="missing.yaml"):
        load_watchlist_file(tmp_path / "missing.yaml")


def test_changes_are_announced(redis_client: redis.Redis) -> None:
    pubsub = redis_client.pubsub()
    pubsub.subscribe(WATCHLIST_CHANNEL)
    assert pubsub.get_message(timeout=2)["type"] == "subscribe"
    version = RedisWatchlist(redis_client).add_plate("BKA321", "unpaid fines", "medium")
    msg = pubsub.get_message(timeout=2)
    assert msg is not None and msg["type"] == "message" and int(msg["data"]) == version
    pubsub.close()


def test_cache_reloads_only_when_the_version_moves(redis_client: redis.Redis) -> None:
    store = RedisWatchlist(redis_client)
    store.add_plate("LEA1234", "stolen")
    clock = FakeClock()
    cache = WatchlistCache(store, poll_s=5.0, clock=clock)
    assert "LEA1234" in cache.get() and cache.reloads == 1
    other_worker = RedisWatchlist(redis.Redis.from_url(_url(redis_client)))
    other_worker.add_plate("PRK4242", "stolen", "high")
    assert "PRK4242" not in cache.get()  # within the poll interval: served from memory
    clock.t = 6.0
    assert "PRK4242" in cache.get() and cache.reloads == 2
    clock.t = 12.0
    cache.get()
    assert cache.reloads == 2  # version unchanged: no reload
    assert cache.version == store.version()


class SlowSnapshot(RedisWatchlist):
    """The real store, whose snapshot (index build) takes a while, as a 100,000-entry list does."""

    def __init__(self, client: redis.Redis) -> None:
        super().__init__(client)
        self.started = threading.Event()

    def snapshot(self):  # type: ignore[no-untyped-def]
        self.started.set()
        time.sleep(0.6)
        return super().snapshot()


def test_readers_keep_the_held_list_while_one_reload_runs(redis_client: redis.Redis) -> None:
    store = SlowSnapshot(redis_client)
    store.add_plate("LEA1234", "stolen")
    clock = FakeClock()
    cache = WatchlistCache(store, poll_s=1.0, clock=clock)
    assert "LEA1234" in cache.get()
    store.add_plate("PRK4242", "stolen")
    clock.t = 2.0
    store.started.clear()
    loader = threading.Thread(target=cache.get)
    loader.start()
    assert store.started.wait(5)
    t0 = time.perf_counter()
    held = cache.get()  # another plate read meanwhile: answered at once from the list held
    assert time.perf_counter() - t0 < 0.2
    assert "LEA1234" in held and "PRK4242" not in held
    loader.join(5)
    assert "PRK4242" in cache.get() and cache.reloads == 2


def test_malformed_entries_are_skipped(redis_client: redis.Redis) -> None:
    store = RedisWatchlist(redis_client)
    store.add_plate("LEA1234", "stolen")
    redis_client.hset(WATCHLIST_PLATES_KEY, "XYZ999", "{not json")
    redis_client.incr(WATCHLIST_VERSION_KEY)
    version, wl = store.snapshot()
    assert [e.plate for e in wl.entries()] == ["LEA1234"]
    assert store.malformed == 1 and version == 2


def test_cache_keeps_last_watchlist_when_redis_is_down(redis_client: redis.Redis) -> None:
    store = RedisWatchlist(redis_client)
    store.add_plate("LEA1234", "stolen")
    clock = FakeClock()
    cache = WatchlistCache(store, poll_s=1.0, clock=clock)
    assert "LEA1234" in cache.get()
    dead = redis.Redis(host="127.0.0.1", port=_free_port(), socket_connect_timeout=0.2)
    cache.store = RedisWatchlist(dead)
    clock.t = 5.0
    assert "LEA1234" in cache.get()
    assert cache.errors == 1


def _url(client: redis.Redis) -> str:
    kw = client.connection_pool.connection_kwargs
    return f"redis://{kw.get('host', '127.0.0.1')}:{kw['port']}/{kw.get('db', 0)}"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_expiry_is_stored_and_changes_are_audited(redis_client: redis.Redis, caplog: pytest.LogCaptureFixture) -> None:
    times = iter(range(1_700_000_000_000, 1_700_000_100_000, 1000))
    store = RedisWatchlist(redis_client, clock=lambda: next(times))
    with caplog.at_level("INFO", logger="bus.watchlist"):
        store.add_plate("LEA-1234", "stolen", "critical", expiry="2026-12-31", actor="admin")
        store.add_plate("LEA1234", "stolen (FIR 9)", "high", actor="admin2")
        store.add_plate("PRA777", "wanted", actor="admin")
        assert store.remove("PRA 777", actor="admin") is True
    rec = store.get("lea 1234")
    assert rec is not None and rec.updated_by == "admin2" and rec.updated_ms == 1_700_000_001_000
    assert rec.entry.expires_ms is None  # the change replaced the whole entry
    store.add_plate("LEA1234", "stolen", expiry="2026-12-31T12:00:00Z", actor="admin")
    version, wl = store.snapshot()
    entry = wl.get("LEA1234")
    assert entry is not None and entry.expires_ms == 1_798_718_400_000
    assert wl.match("LEA1234", 1_798_718_399_999) is not None and wl.match("LEA1234", 1_798_718_400_000) is None
    audit = store.audit()
    assert [(a.action, a.actor, a.plate) for a in audit] == [
        ("change", "admin", "LEA1234"),
        ("remove", "admin", "PRA777"),
        ("add", "admin", "PRA777"),
        ("change", "admin2", "LEA1234"),
        ("add", "admin", "LEA1234"),
    ]
    assert "expires 2027-01-01T00:00:00Z" in audit[-1].detail and audit[-1].ts_ms == 1_700_000_000_000
    assert [r.entry.plate for r in store.records()] == ["LEA1234"]
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "remove by admin" in logged and "LEA" not in logged and "PRA" not in logged  # never a plate in the logs
    redis_client.hset(WATCHLIST_PLATES_KEY, "ABC123", '{"reason": "x", "expires_ms": "soon"}')
    assert [r.entry.plate for r in store.records()] == ["LEA1234"]  # a malformed expiry is skipped
