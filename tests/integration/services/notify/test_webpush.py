"""Issue #16's Done line: a warden's Web Push subscription, registered through the dashboard's API
after a real login, receives a congestion alert for the warden's zone, decrypted at a local push
endpoint with the subscription's private key, within a few seconds.

Everything is real and separate, as ``make run`` runs it: the dashboard, ``services.incidents``
and ``services.notify`` are subprocesses on the session's Redis and one SQLite archive; the
congestion incident is published on ``incident.raised`` the way the aggregator does; the push
endpoint is an HTTP server in a thread that checks the VAPID signature and decrypts (http_ece).
A second browser whose push service answers 410 Gone loses its subscription and the delivery is
undelivered with that reason.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml

from bus.notify import NotifyState
from bus.streams import EventBus
from config.settings import DEFAULT_CONFIG, REPO_ROOT
from core.types import Incident, IncidentKind, Priority
from dashboard.process import DashboardProcess, cookie_header, login
from tests.integration.services.notify.receivers import Browser, HttpReceiver, check_vapid, wait_for

WARDEN = ("warden1", "warden-demo-1")  # config/default.yaml: warden1 answers for university-rd
OPERATOR = ("operator", "operator-demo")


def _config(tmp: Path, archive_url: str) -> Path:
    raw = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    raw["archive"]["url"] = archive_url
    raw["notify"] = {
        "destinations": [{"name": "warden-phones", "kind": "webpush", "control_room": False}],
        "push_allow_http": True,  # the local push endpoint below is plain http on loopback
        "poll_s": 0.1,
        "retry": {"max_attempts": 5, "first_delay_s": 0.2, "max_delay_s": 1},
        "vapid": {"private_key_file": str(tmp / "vapid.pem")},
    }
    path = tmp / "city.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def _service(module: str, cfg: Path, redis_url: str, archive_url: str, log: Path) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", module, "--config", str(cfg), "--redis-url", redis_url, "--archive-url", archive_url]
    return subprocess.Popen(argv, cwd=REPO_ROOT, stdout=log.open("wb"), stderr=subprocess.STDOUT)


@pytest.fixture
def system(redis_client: redis.Redis, redis_server: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    archive_url = f"sqlite:///{tmp_path / 'archive.db'}"
    cfg = _config(tmp_path, archive_url)
    procs = [
        _service("services.notify", cfg, redis_server, archive_url, tmp_path / "notify.log"),
        _service("services.incidents", cfg, redis_server, archive_url, tmp_path / "incidents.log"),
    ]
    dash = DashboardProcess(redis_server, cfg, archive_url=archive_url, log_path=tmp_path / "dashboard.log")
    try:
        dash.start()
        state = NotifyState(redis_client)
        wait_for(lambda: state.public_key() and _groups(redis_client) >= {"notifier", "incidents"}, 30)
        yield {"url": dash.url, "bus": EventBus(redis_client), "key": state.public_key(), "logs": tmp_path}
    finally:
        dash.stop()
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def _groups(client: redis.Redis) -> set[str]:
    out: set[str] = set()
    for stream in ("alert.warden", "incident.raised"):
        with contextlib.suppress(redis.ResponseError):
            out |= {
                g["name"].decode() if isinstance(g["name"], bytes) else g["name"] for g in client.xinfo_groups(stream)
            }
    return out


def _call(url: str, cookies: dict[str, str], method: str = "GET", body: Any = None) -> tuple[int, Any]:
    headers = {"Cookie": cookie_header(cookies), "Accept": "application/json"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers |= {"Content-Type": "application/json", "X-CSRF-Token": cookies["sc_csrf"]}
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_warden_phone_gets_the_congestion_alert(system: dict[str, Any]) -> None:
    endpoint = HttpReceiver(status=lambda r: 410 if r.path.startswith("/gone/") else 201).start()
    try:
        phone = Browser(endpoint.url + "/push/warden1-phone")
        stale = Browser(endpoint.url + "/gone/old-tablet")
        me = login(system["url"], *WARDEN)
        status, body = _call(system["url"] + "/api/v1/me/push-key", me)
        assert status == 200 and body["public_key"] == system["key"]
        status, body = _call(system["url"] + "/api/v1/me/push-subscriptions", me, "POST", phone.subscription())
        assert status == 201 and body["created"], body
        assert _call(system["url"] + "/api/v1/me/push-subscriptions", me, "POST", stale.subscription())[0] == 201
        status, body = _call(system["url"] + "/api/v1/me/push-subscriptions", me, "POST", {"endpoint": "ftp://x"})
        assert status == 422 and "endpoint" in body["error"]

        raised = time.monotonic()
        system["bus"].publish(
            Incident(
                incident_id="congestion-university-rd-test",
                kind=IncidentKind.CONGESTION,
                priority=Priority.HIGH,
                ts_ms=int(time.time() * 1000),
                camera_id="cam-university-rd",
                segment_id="university-rd",
                summary="Jammed on University Road",
            )
        )
        wait_for(lambda: [r for r in endpoint.got if r.path.startswith("/push/")], 10)
        latency = time.monotonic() - raised
        (rec,) = endpoint.got
        msg = phone.decrypt(rec)
        claims = check_vapid(rec, system["key"], endpoint.url)
        assert (msg["type"], msg["kind"], msg["zone"], msg["priority"]) == (
            "safecity.alert",
            "congestion",
            "university-rd",
            "high",
        )
        assert msg["incident_id"] == "congestion-university-rd-test" and msg["wardens"] == ["warden1"]
        assert msg["title"].startswith("[HIGH] congestion - University Road") and msg["url"] == "/warden"
        assert msg["body"] == "Jammed on University Road" and int(rec.headers["ttl"]) == 3600
        assert claims["sub"] == "mailto:control-room@example.org"
        print(f"incident.raised -> decrypted push at the warden's endpoint: {latency:.2f} s")
        assert latency < 5.0

        op = login(system["url"], *OPERATOR)
        states = wait_for(lambda: _deliveries(system["url"], op, 2), 10)
        assert states == {("delivered", ""), ("undelivered", "push service: subscription gone (HTTP 410)")}
        status, body = _call(system["url"] + "/api/v1/me/push-subscriptions", me)
        assert status == 200 and len(body["subscriptions"]) == 1  # the gone one was removed
    finally:
        endpoint.stop()


def _deliveries(url: str, op: dict[str, str], n: int) -> set[tuple[str, str]] | None:
    """``(state, reason)`` of the deliveries once ``n`` of them are finished (operator API)."""
    status, body = _call(url + "/api/v1/notify/deliveries", op)
    assert status == 200, body
    done = [d for d in body["deliveries"] if d["state"] in ("delivered", "undelivered")]
    return {(d["state"], d["last_error"]) for d in done} if len(done) >= n else None
