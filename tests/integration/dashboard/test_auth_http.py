"""Logins, roles, cookies and CSRF of the dashboard, over HTTP against ``python -m dashboard``.

The demo users of config/default.yaml (hashes in the config, passwords in
docs/dashboard.md); users, sessions and traffic updates in a throw-away SQLite file that
the test also opens directly to check what is stored.
"""

from __future__ import annotations

import http.client
import json
import re
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from archive.dashboard_db import DashboardDB
from config.settings import load_config
from dashboard import updates
from dashboard.process import DashboardProcess, cookie_header, login
from dashboard.users import UserDirectory

CFG = load_config()
DEMO = {"operator": "operator-demo", "warden1": "warden-demo-1", "admin": "admin-demo-1"}
OPERATOR_PAGES = ["/", "/cameras", "/incidents", "/charts", "/tickets", "/updates", "/system"]
OPERATOR_APIS = [
    "/api/v1/me",
    "/api/v1/tickets",
    "/api/v1/incidents",
    f"/camera/{CFG.cameras[0].id}/latest.jpg",
    f"/camera/{CFG.cameras[0].id}/stream.mjpg",
    "/evidence/" + "ab" * 32,
]
PUBLIC = ["/public", "/login", "/api/v1/traffic", "/api/v1/updates", "/healthz", "/metrics", "/assets/live.js"]


@pytest.fixture(scope="module")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('auth') / 'dash.db'}"


@pytest.fixture(scope="module")
def dash(redis_server: str, db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DashboardProcess]:
    log = tmp_path_factory.mktemp("authlog") / "dash.log"
    with DashboardProcess(redis_server, archive_url=db_url, log_path=log) as d:
        yield d


def request(
    base: str,
    method: str,
    path: str,
    cookie: str | None = None,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, list[str]], bytes]:
    """One HTTP request without following redirects -> ``(status, headers (lower-case, all values), body)``."""
    m = re.match(r"http://([^:/]+):(\d+)", base)
    assert m
    conn = http.client.HTTPConnection(m.group(1), int(m.group(2)), timeout=30)
    try:
        h = dict(headers or {})
        if cookie:
            h["Cookie"] = cookie
        conn.request(method, path, body=body, headers=h)
        resp = conn.getresponse()
        out: dict[str, list[str]] = {}
        for k, v in resp.getheaders():
            out.setdefault(k.lower(), []).append(v)
        return resp.status, out, resp.read()
    finally:
        conn.close()


def form_login(base: str, username: str, password: str) -> tuple[int, dict[str, list[str]], dict[str, str]]:
    """Log in with the form; returns the status, headers and the cookies set."""
    code, headers, page = request(base, "GET", "/login")
    assert code == 200
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.decode())
    assert csrf
    pre = {c.split("=", 1)[0]: c.split("=", 1)[1].split(";", 1)[0] for c in headers.get("set-cookie", [])}
    body = urllib.parse.urlencode({"username": username, "password": password, "csrf_token": csrf.group(1)}).encode()
    code, headers, _ = request(
        base, "POST", "/login", cookie_header(pre), body, {"Content-Type": "application/x-www-form-urlencoded"}
    )
    cookies = dict(pre)
    cookies.update({c.split("=", 1)[0]: c.split("=", 1)[1].split(";", 1)[0] for c in headers.get("set-cookie", [])})
    return code, headers, cookies


@pytest.fixture(scope="module")
def sessions(dash: DashboardProcess) -> dict[str, dict[str, str]]:
    return {u: login(dash.url, u, pw) for u, pw in DEMO.items()}


def test_anonymous_requests_are_sent_to_login_or_refused(dash: DashboardProcess) -> None:
    for path in [*OPERATOR_PAGES, "/warden", "/admin"]:
        code, headers, _ = request(dash.url, "GET", path, headers={"Accept": "text/html"})
        assert code == 302, path
        assert headers["location"][0] == "/login?next=" + path, headers["location"]
    for path in OPERATOR_APIS:
        code, headers, body = request(dash.url, "GET", path)
        assert code == 401, path
        assert (
            headers["content-type"][0].startswith("application/json") and json.loads(body)["error"] == "login required"
        )
    for path in PUBLIC:
        code, _, _ = request(dash.url, "GET", path)
        assert code in (200, 503), path  # 503: healthz with no camera online


def test_login_cookies_are_httponly_and_samesite_and_logout_ends_the_session(dash: DashboardProcess) -> None:
    code, headers, cookies = form_login(dash.url, "operator", DEMO["operator"])
    assert code == 303 and headers["location"][0] == "/"
    session = next(c for c in headers["set-cookie"] if c.startswith("sc_session="))
    assert "HttpOnly" in session and "SameSite=Lax" in session and "Path=/" in session
    csrf_cookie = next(c for c in headers["set-cookie"] if c.startswith("sc_csrf="))
    assert "SameSite=Strict" in csrf_cookie and "HttpOnly" not in csrf_cookie  # Dash's JavaScript sends it back
    me = cookie_header(cookies)
    code, _, body = request(dash.url, "GET", "/api/v1/me", me)
    assert code == 200 and json.loads(body) == {"username": "operator", "role": "operator", "zones": []}
    # Logging out is a state change: it needs the session's CSRF token.
    code, _, body = request(dash.url, "POST", "/logout", me, b"", {"Content-Type": "application/x-www-form-urlencoded"})
    assert code == 403 and "CSRF" in json.loads(body)["error"]
    form = urllib.parse.urlencode({"csrf_token": cookies["sc_csrf"]}).encode()
    code, headers, _ = request(
        dash.url, "POST", "/logout", me, form, {"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert code == 303 and headers["location"][0] == "/login"
    code, _, _ = request(dash.url, "GET", "/api/v1/me", me)
    assert code == 401  # the old cookie is worthless now


def test_wrong_passwords_are_refused_and_repeated_failures_lock_the_account(dash: DashboardProcess) -> None:
    code, _, cookies = form_login(dash.url, "warden2", "not-the-password")
    assert code == 401 and "sc_session" not in cookies
    code, _, _ = form_login(dash.url, "nobody", "whatever-password")
    assert code == 401
    for _ in range(CFG.dashboard.login_attempts - 1):
        assert form_login(dash.url, "warden2", "still-wrong")[0] == 401
    code, _, cookies = form_login(dash.url, "warden2", "warden-demo-2")  # right password, but locked for 15 minutes
    assert code == 401 and "sc_session" not in cookies
    assert form_login(dash.url, "warden1", DEMO["warden1"])[0] == 303  # other users are not affected


def test_login_form_needs_its_csrf_token(dash: DashboardProcess) -> None:
    body = urllib.parse.urlencode({"username": "operator", "password": DEMO["operator"]}).encode()
    code, _, page = request(
        dash.url, "POST", "/login", None, body, {"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert code == 400 and b"expired" in page


@pytest.mark.parametrize(
    ("user", "path", "code"),
    [
        ("warden1", "/", 403),
        ("warden1", "/tickets", 403),
        ("warden1", "/admin", 403),
        ("warden1", "/warden", 200),
        ("operator", "/warden", 403),
        ("operator", "/admin", 403),
        ("operator", "/tickets", 200),
        ("admin", "/admin", 200),
        ("admin", "/warden", 200),
        ("admin", "/", 200),
    ],
)
def test_pages_are_open_to_their_roles_only(
    dash: DashboardProcess, sessions: dict[str, dict[str, str]], user: str, path: str, code: int
) -> None:
    got, _, _ = request(dash.url, "GET", path, cookie_header(sessions[user]), headers={"Accept": "text/html"})
    assert got == code


@pytest.mark.parametrize(
    ("user", "path", "code"),
    [
        ("warden1", "/api/v1/tickets", 403),
        ("warden1", f"/camera/{CFG.cameras[0].id}/latest.jpg", 403),
        ("warden1", "/api/v1/warden/alerts", 200),
        ("operator", "/api/v1/tickets", 200),
    ],
)
def test_apis_are_open_to_their_roles_only(
    dash: DashboardProcess, sessions: dict[str, dict[str, str]], user: str, path: str, code: int
) -> None:
    got, headers, _ = request(dash.url, "GET", path, cookie_header(sessions[user]))
    assert got == code
    assert headers["content-type"][0].startswith("application/json")


def _charts_callback() -> bytes:
    outputs = [{"id": f"ch-{k}", "property": "figure"} for k in ("occupancy", "counted", "vehicles")]
    outputs.append({"id": "ch-note", "property": "children"})
    return json.dumps(
        {
            "output": "..ch-occupancy.figure...ch-counted.figure...ch-vehicles.figure...ch-note.children..",
            "outputs": outputs,
            "inputs": [
                {"id": "ch-tick", "property": "n_intervals", "value": 0},
                {"id": "ch-window", "property": "value", "value": "1h"},
                {"id": "ch-segments", "property": "value", "value": None},
            ],
            "changedPropIds": ["ch-window.value"],
            "state": [],
        }
    ).encode()


def test_dash_callbacks_check_the_role_and_the_csrf_token(
    dash: DashboardProcess, sessions: dict[str, dict[str, str]]
) -> None:
    path, body, ctype = "/_dash-update-component", _charts_callback(), {"Content-Type": "application/json"}
    code, _, _ = request(dash.url, "POST", path, None, body, ctype)
    assert code == 401  # anonymous
    op = sessions["operator"]
    code, _, resp = request(dash.url, "POST", path, cookie_header(op), body, ctype)
    assert code == 403 and b"CSRF" in resp  # logged in, but no token: a forged cross-site request looks like this
    code, _, resp = request(dash.url, "POST", path, cookie_header(op), body, {**ctype, "X-CSRF-Token": "forged"})
    assert code == 403
    code, _, _ = request(
        dash.url,
        "POST",
        path,
        cookie_header(sessions["warden1"]),
        body,
        {**ctype, "X-CSRF-Token": sessions["warden1"]["sc_csrf"]},
    )
    assert code == 403  # right token, wrong role
    code, _, resp = request(dash.url, "POST", path, cookie_header(op), body, {**ctype, "X-CSRF-Token": op["sc_csrf"]})
    assert code == 200, resp[:300]
    assert "ch-occupancy" in json.loads(resp)["response"]


def test_passwords_are_stored_hashed_and_admin_edits_end_sessions(dash: DashboardProcess, db_url: str) -> None:
    users = UserDirectory(CFG, DashboardDB(db_url))
    users.save("admin", "newwarden", "warden", "New Warden", ["gt-rd"], "correct horse battery")
    with users.db.engine.connect() as conn:
        stored = conn.execute(text("SELECT password_hash FROM dash_users WHERE username = 'newwarden'")).scalar_one()
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    cookies = login(dash.url, "newwarden", "correct horse battery")
    code, _, body = request(dash.url, "GET", "/api/v1/me", cookie_header(cookies))
    assert code == 200 and json.loads(body)["zones"] == ["gt-rd"]
    users.save("admin", "newwarden", "warden", "New Warden", ["ring-rd"])  # zones changed: log in again
    assert request(dash.url, "GET", "/api/v1/me", cookie_header(cookies))[0] == 401
    users.save("admin", "newwarden", "warden", "New Warden", ["ring-rd"], disabled=True)
    with pytest.raises(RuntimeError):
        login(dash.url, "newwarden", "correct horse battery")


def test_public_updates_api_lists_published_updates_only(dash: DashboardProcess, db_url: str) -> None:
    db = DashboardDB(db_url)
    pub = updates.save(
        CFG,
        db,
        None,
        "operator",
        updates.UpdateDraft("Saddar Road closed", "Procession until 18:00", "صدر روڈ بند", "", "saddar-rd", True),
    )
    draft = updates.save(CFG, db, None, "operator", updates.UpdateDraft("Draft only", "not public"))
    code, _, body = request(dash.url, "GET", "/api/v1/updates")
    assert code == 200
    doc: dict[str, Any] = json.loads(body)
    ids = [u["id"] for u in doc["updates"]]
    assert pub.update_id in ids and draft.update_id not in ids
    u = next(x for x in doc["updates"] if x["id"] == pub.update_id)
    assert set(u) == {"id", "title", "title_ur", "body", "body_ur", "segment_id", "segment", "published_at"}
    assert u["title_ur"] == "صدر روڈ بند" and u["segment"] == CFG.segment("saddar-rd").name
    assert request(dash.url, "GET", "/api/v1/updates?all=1")[0] == 400


def test_log_has_no_tracebacks(dash: DashboardProcess) -> None:
    assert dash.log_path is not None
    assert "Traceback" not in Path(dash.log_path).read_text()
