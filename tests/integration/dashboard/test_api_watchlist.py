"""The watchlist JSON API against ``python -m dashboard`` and a real Redis: roles, bad input, audit,
and changes reaching a running worker's :class:`bus.watchlist.WatchlistCache` within 5 s.

Users, sessions and logins are the dashboard's own (demo users of config/default.yaml, a
throw-away SQLite file); the cache polls Redis every 2 s as the workers' does.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from bus.keys import WATCHLIST_AUDIT_KEY, WATCHLIST_PLATES_KEY, WATCHLIST_VERSION_KEY
from bus.watchlist import RedisWatchlist, WatchlistCache
from dashboard.process import DashboardProcess, cookie_header, login

DEMO = {"operator": "operator-demo", "warden1": "warden-demo-1", "admin": "admin-demo-1"}


@pytest.fixture(scope="module")
def dash(redis_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DashboardProcess]:
    tmp = tmp_path_factory.mktemp("wlapi")
    with DashboardProcess(redis_server, archive_url=f"sqlite:///{tmp / 'dash.db'}", log_path=tmp / "dash.log") as d:
        yield d


@pytest.fixture(scope="module")
def sessions(dash: DashboardProcess) -> dict[str, dict[str, str]]:
    return {u: login(dash.url, u, pw) for u, pw in DEMO.items()}


@pytest.fixture
def rc(redis_server: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_server)
    client.delete(WATCHLIST_PLATES_KEY, WATCHLIST_VERSION_KEY, WATCHLIST_AUDIT_KEY)
    yield client
    client.delete(WATCHLIST_PLATES_KEY, WATCHLIST_VERSION_KEY, WATCHLIST_AUDIT_KEY)
    client.close()


def call(
    dash: DashboardProcess,
    method: str,
    path: str,
    cookies: dict[str, str] | None = None,
    body: Any = None,
    raw: bytes | None = None,
    content_type: str = "application/json",
) -> tuple[int, dict[str, Any]]:
    headers = {"Content-Type": content_type}
    if cookies:
        headers["Cookie"] = cookie_header(cookies)
        headers["X-CSRF-Token"] = cookies["sc_csrf"]
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(dash.url + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_only_admins_may_use_it(dash: DashboardProcess, sessions: dict[str, dict[str, str]], rc: redis.Redis) -> None:
    entry = {"plate": "LEA-1234", "reason": "stolen"}
    for method, path, body in (
        ("GET", "/api/v1/watchlist", None),
        ("POST", "/api/v1/watchlist", entry),
        ("DELETE", "/api/v1/watchlist/LEA1234", None),
        ("GET", "/api/v1/watchlist/audit", None),
    ):
        code, res = call(dash, method, path, None, body)
        assert code == 401 and res["error"] == "login required", (method, path)
        for user in ("operator", "warden1"):
            code, res = call(dash, method, path, sessions[user], body)
            assert code == 403 and "may not" in res["error"], (user, method, path)
    assert rc.hlen(WATCHLIST_PLATES_KEY) == 0


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"reason": "stolen"}, "plate", "enter a plate"),
        ({"plate": "L", "reason": "stolen"}, "plate", "2-10 letters"),
        ({"plate": "LEA-1234-5678-90", "reason": "stolen"}, "plate", "2-10 letters"),
        ({"plate": "LEA<1234>", "reason": "stolen"}, "plate", "only letters, digits"),
        ({"plate": 1234, "reason": "stolen"}, "plate", "enter a plate"),
        ({"plate": "LEA1234"}, "reason", "say why"),
        ({"plate": "LEA1234", "reason": "x" * 201}, "reason", "at most 200"),
        ({"plate": "LEA1234", "reason": "stolen", "priority": "urgent"}, "priority", "one of low, medium"),
        ({"plate": "LEA1234", "reason": "stolen", "priority": 3}, "priority", "one of"),
        ({"plate": "LEA1234", "reason": "stolen", "expiry": "next week"}, "expiry", "not an ISO date"),
        ({"plate": "LEA1234", "reason": "stolen", "expiry": "2020-01-01"}, "expiry", "already past"),
        ({"plate": "LEA1234", "reason": "stolen", "expiry": 1700000000000}, "expiry", "ISO date"),
        ({"plate": "LEA1234", "reason": "stolen", "note": ["a"]}, "note", "text"),
    ],
)
def test_bad_entries_get_400_naming_the_field(
    dash: DashboardProcess, sessions: dict[str, dict[str, str]], rc: redis.Redis, body: dict, field: str, words: str
) -> None:
    code, res = call(dash, "POST", "/api/v1/watchlist", sessions["admin"], body)
    assert code == 400 and res["status"] == 400, res
    assert words in res["fields"][field] and field in res["error"], res
    assert rc.hlen(WATCHLIST_PLATES_KEY) == 0 and rc.get(WATCHLIST_VERSION_KEY) is None


@pytest.mark.parametrize(
    ("method", "path", "raw", "ctype", "status", "words"),
    [
        ("POST", "/api/v1/watchlist", b"{bad", "application/json", 400, "JSON object"),
        ("POST", "/api/v1/watchlist", b"[1]", "application/json", 400, "JSON object"),
        ("POST", "/api/v1/watchlist", b"plate=LEA1234", "text/plain", 415, "send JSON"),
        (
            "POST",
            "/api/v1/watchlist",
            b'{"plate":"LEA1","reason":"x","colour":"red"}',
            "application/json",
            400,
            "unknown field",
        ),
        ("GET", "/api/v1/watchlist?plate=%3Cscript%3E", None, "application/json", 400, "plate:"),
        ("GET", "/api/v1/watchlist?plate=", None, "application/json", 400, "plate:"),
        ("GET", "/api/v1/watchlist?colour=red", None, "application/json", 400, "unknown query"),
        ("GET", "/api/v1/watchlist?plate=LEA1234", None, "application/json", 404, "not on the watchlist"),
        ("DELETE", "/api/v1/watchlist/L", None, "application/json", 400, "2-10 letters"),
        ("DELETE", "/api/v1/watchlist", None, "application/json", 400, "which plate"),
        ("DELETE", "/api/v1/watchlist/LEA1234", None, "application/json", 404, "not on the watchlist"),
        ("GET", "/api/v1/watchlist/audit?limit=0", None, "application/json", 400, "limit"),
    ],
)
def test_malformed_requests_say_why(
    dash: DashboardProcess,
    sessions: dict[str, dict[str, str]],
    rc: redis.Redis,
    method: str,
    path: str,
    raw: bytes | None,
    ctype: str,
    status: int,
    words: str,
) -> None:
    code, res = call(dash, method, path, sessions["admin"], raw=raw, content_type=ctype)
    assert code == status and words in res["error"], res


def test_add_change_list_remove_and_audit(
    dash: DashboardProcess, sessions: dict[str, dict[str, str]], rc: redis.Redis
) -> None:
    admin = sessions["admin"]
    code, res = call(
        dash, "POST", "/api/v1/watchlist", admin, {"plate": "lea-1234", "reason": "stolen", "expiry": "2099-12-31"}
    )
    assert code == 201 and res["entry"]["plate"] == "LEA1234" and res["entry"]["expires"] == "2100-01-01T00:00:00Z"
    code, res = call(
        dash, "POST", "/api/v1/watchlist", admin, {"plate": "LEA 1234", "reason": "stolen", "priority": "critical"}
    )
    assert code == 200 and res["entry"]["priority"] == "critical" and res["entry"]["expires_ms"] is None
    code, res = call(dash, "GET", "/api/v1/watchlist", admin)
    assert code == 200 and [e["plate"] for e in res["entries"]] == ["LEA1234"] and res["version"] == 2
    assert res["entries"][0]["updated_by"] == "admin" and res["entries"][0]["expired"] is False
    code, res = call(dash, "GET", "/api/v1/watchlist?plate=LEA-1234", admin)
    assert code == 200 and res["reason"] == "stolen"
    code, res = call(dash, "DELETE", "/api/v1/watchlist/LEA-1234", admin)
    assert code == 200 and res == {"removed": "LEA1234", "version": 3}
    code, res = call(dash, "GET", "/api/v1/watchlist/audit", admin)
    assert [(c["action"], c["actor"], c["plate"]) for c in res["changes"]] == [
        ("remove", "admin", "LEA1234"),
        ("change", "admin", "LEA1234"),
        ("add", "admin", "LEA1234"),
    ]
    log = Path(dash.log_path).read_text(errors="replace") if dash.log_path else ""
    assert "watchlist: remove by admin" in log  # the change is logged (INFO) ...
    assert "LEA1234" not in log and "LEA-1234" not in log  # ... and never its plate


class CacheWatcher(threading.Thread):
    """A worker's view: calls ``WatchlistCache.get()`` every 50 ms and notes when a plate matches."""

    def __init__(self, cache: WatchlistCache, plate: str) -> None:
        super().__init__(daemon=True)
        self.cache, self.plate = cache, plate
        self.stop = threading.Event()
        self.matching = False
        self.changes: list[tuple[float, bool]] = []

    def run(self) -> None:
        while not self.stop.is_set():
            now = self.cache.get().match(self.plate) is not None
            if now != self.matching:
                self.matching = now
                self.changes.append((time.monotonic(), now))
            self.stop.wait(0.05)

    def wait_for(self, state: bool, timeout: float) -> float | None:
        """Monotonic time at which the match state became ``state``, or None after ``timeout``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            hit = next((t for t, s in reversed(self.changes) if s == state), None)
            if hit is not None and self.matching == state:
                return hit
            time.sleep(0.02)
        return None


def test_a_running_cache_sees_api_changes_within_5_s(
    dash: DashboardProcess, sessions: dict[str, dict[str, str]], rc: redis.Redis, redis_server: str
) -> None:
    worker_client = redis.Redis.from_url(redis_server)
    cache = WatchlistCache(RedisWatchlist(worker_client), poll_s=2.0)
    watcher = CacheWatcher(cache, "PRK4242")
    watcher.start()
    try:
        time.sleep(2.5)  # the cache has loaded (empty) and is polling
        assert not watcher.matching
        t0 = time.monotonic()
        code, _ = call(dash, "POST", "/api/v1/watchlist", sessions["admin"], {"plate": "PRK 4242", "reason": "stolen"})
        assert code == 201
        seen = watcher.wait_for(True, 6.0)
        assert seen is not None and seen - t0 <= 5.0, f"added entry not matched within 5 s ({watcher.changes})"
        t1 = time.monotonic()
        code, _ = call(dash, "DELETE", "/api/v1/watchlist/PRK4242", sessions["admin"])
        assert code == 200
        gone = watcher.wait_for(False, 6.0)
        assert gone is not None and gone - t1 <= 5.0, f"removed entry still matched after 5 s ({watcher.changes})"
        assert cache.reloads >= 3 and cache.errors == 0
    finally:
        watcher.stop.set()
        watcher.join(5)
        worker_client.close()
