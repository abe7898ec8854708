"""Access rules, callback role checks, redirects, passwords and sessions (SQLite, cheap argon2 parameters)."""

from __future__ import annotations

from pathlib import Path

import pytest
from argon2 import PasswordHasher

from archive.dashboard_db import DashboardDB
from config.settings import AppConfig, ConfigError, UserConfig, load_config
from dashboard.auth import ADMINS, OPERATORS, WARDENS, callback_roles, required_roles, safe_next, split_output_key
from dashboard.users import UserDirectory, UserError, csrf_ok, hash_password, verify_password
from tests.paths import REPO_ROOT

CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.mark.parametrize(
    ("path", "roles"),
    [
        ("/", OPERATORS),
        ("/tickets", OPERATORS),
        ("/camera/cam-1/stream.mjpg", OPERATORS),
        ("/evidence/abc", OPERATORS),
        ("/api/v1/tickets/ET-1/transition", OPERATORS),
        ("/api/v1/something-new", OPERATORS),  # closed unless listed
        ("/warden", WARDENS),
        ("/admin", ADMINS),
        ("/plates", OPERATORS),  # plate search: never wardens or the public
        ("/playback", OPERATORS),  # recordings: operators only
        ("/api/v1/plates", OPERATORS),
        ("/api/v1/admin/plate-searches", ADMINS),  # the search audit log
        ("/administrator", OPERATORS),  # prefixes match whole path segments
        ("/public", None),
        ("/publicity", OPERATORS),
        ("/api/v1/traffic", None),
        ("/api/v1/updates", None),
        ("/api/v1/sos", None),
        ("/api/v1/portal/lookup", None),
        ("/assets/live.js", None),
        ("/healthz", None),
        ("/metrics", None),
        ("/login", None),
    ],
)
def test_required_roles(path: str, roles: tuple[str, ...] | None) -> None:
    assert required_roles(path) == roles


def test_callback_roles_come_from_every_output() -> None:
    assert split_output_key("op-incidents.children") == ["op-incidents"]
    assert split_output_key('..a.b...{"id":["ALL"],"type":"wd-ack"}.n_clicks..') == [
        "a",
        {"id": ["ALL"], "type": "wd-ack"},
    ]
    assert callback_roles("pub-root.dir") is None
    assert callback_roles("..pub-root.dir...pub-title.children..") is None
    assert callback_roles(".._pages_content.children..._pages_store.data..") is None
    assert callback_roles('{"id":["ALL"],"type":"wd-ack"}.n_clicks') == ("warden", "admin")
    assert callback_roles("adm-result.children") == ("admin",)
    assert callback_roles("camera-select.value") == ("operator", "admin")  # unprefixed: operators
    # A public id cannot open an operator callback: every output must allow the role.
    assert callback_roles("..pub-title.children...op-incidents.children..") == ("operator", "admin")
    assert callback_roles("..wd-alerts.children...adm-result.children..") == ("admin",)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/tickets?state=issued", "/tickets?state=issued"),
        (None, "/"),
        ("https://evil.example/", "/"),
        ("//evil.example/x", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("/login?next=/", "/"),
    ],
)
def test_safe_next_only_allows_local_paths(target: str | None, expected: str) -> None:
    assert safe_next(target) == expected


def test_passwords_hash_and_verify_and_config_refuses_plain_text() -> None:
    h = hash_password("a long enough password", CHEAP)
    assert h.startswith("$argon2id$") and "a long enough" not in h
    assert verify_password(h, "a long enough password")
    assert not verify_password(h, "a long enough passworD")
    assert not verify_password("plain", "plain")
    with pytest.raises(UserError, match="too short"):
        hash_password("short", CHEAP)
    with pytest.raises(ValueError, match="never a plain password"):
        UserConfig(username="x", role="operator", password_hash="hunter2hunter2")
    assert csrf_ok("abc", "abc") and not csrf_ok("abc", "abd") and not csrf_ok("", "") and not csrf_ok("abc", None)


def _config(tmp_path: Path) -> AppConfig:
    cfg = load_config()
    users = (
        UserConfig(username="op", role="operator", password_hash=CHEAP.hash("operator password")),
        UserConfig(username="boss", role="admin", password_hash=CHEAP.hash("admin password")),
        UserConfig(username="w1", role="warden", password_hash=CHEAP.hash("warden password")),
    )
    wardens = tuple(w.model_copy(update={"username": "w1"}) for w in cfg.wardens[:1])
    return cfg.model_copy(update={"users": users, "wardens": wardens})


class Clock:
    def __init__(self) -> None:
        self.t = 1_700_000_000_000

    def __call__(self) -> int:
        return self.t


@pytest.fixture
def directory(tmp_path: Path) -> tuple[UserDirectory, Clock]:
    clock = Clock()
    return UserDirectory(_config(tmp_path), DashboardDB(f"sqlite:///{tmp_path / 'u.db'}"), clock, CHEAP), clock


def test_users_come_from_config_and_admin_edits_override_them(directory: tuple[UserDirectory, Clock]) -> None:
    users, _ = directory
    w1 = users.get("w1")
    assert w1 is not None and w1.source == "config" and w1.zones == load_config().wardens[0].segments
    assert users.authenticate("w1", "warden password") == w1
    users.save("boss", "w1", "warden", "Warden One", ["ring-rd"], "a new warden password")
    w1 = users.get("w1")
    assert w1 is not None and w1.source == "sql" and w1.zones == ("ring-rd",)
    assert users.authenticate("w1", "warden password") is None
    assert users.authenticate("w1", "a new warden password") is not None
    assert users.wardens_for("ring-rd") == ["w1"]
    with pytest.raises(UserError, match="unknown zone"):
        users.save("boss", "w2", "warden", zones=["atlantis"], password="a long password")
    with pytest.raises(UserError, match="only wardens"):
        users.save("boss", "o2", "operator", zones=["gt-rd"], password="a long password")
    with pytest.raises(UserError, match="needs a password"):
        users.save("boss", "o2", "operator")
    with pytest.raises(UserError, match="last enabled admin"):
        users.save("boss", "boss", "operator")
    with pytest.raises(UserError, match="username"):
        users.save("boss", "Bad Name", "operator", password="a long password")


def test_sessions_expire_end_on_logout_and_on_changes(directory: tuple[UserDirectory, Clock]) -> None:
    users, clock = directory
    op = users.authenticate("op", "operator password")
    assert op is not None
    token, sess = users.start_session(op)
    assert users.session(token) == sess and sess.token_hash not in token
    assert users.session("wrong") is None and users.session(None) is None
    users.end_session(token)
    assert users.session(token) is None
    token, _ = users.start_session(op)
    users.save("boss", "op", "operator", "Operator")  # any change ends the user's sessions
    assert users.session(token) is None
    token, _ = users.start_session(op)
    clock.t += users.cfg.dashboard.session_ttl_s * 1000 + 1
    assert users.session(token) is None


def test_failed_logins_lock_out_one_user_at_one_address(directory: tuple[UserDirectory, Clock]) -> None:
    users, clock = directory
    limit = users.cfg.dashboard.login_attempts
    for _ in range(limit):
        assert users.authenticate("op", "wrong", "10.0.0.1") is None
    assert users.authenticate("op", "operator password", "10.0.0.1") is None  # locked
    assert users.authenticate("op", "operator password", "10.0.0.2") is not None  # another address
    clock.t += 15 * 60 * 1000 + 1
    assert users.authenticate("op", "operator password", "10.0.0.1") is not None


def test_config_rejects_warden_zones_that_are_not_segments(tmp_path: Path) -> None:
    text = (REPO_ROOT / "config" / "default.yaml").read_text()
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        text.replace(
            "users:\n",
            'users:\n  - {username: w9, role: warden, zones: [atlantis], password_hash: "$argon2id$v=19$x"}\n',
            1,
        )
    )
    with pytest.raises(ConfigError, match="users.*zones: unknown segment 'atlantis'"):
        load_config(bad)
