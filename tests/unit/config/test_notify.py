"""The ``notify:`` config section: destinations by kind, filters, errors naming file and field."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import pytest
import yaml

from config.notify import IncidentKindName, PriorityName, WebhookDestination
from config.settings import DEFAULT_CONFIG, ConfigError, load_config
from core.types import IncidentKind, Priority


def write(tmp_path: Path, notify: object) -> Path:
    raw = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    raw["notify"] = notify
    p = tmp_path / "city.yaml"
    p.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return p


def test_demo_config_pushes_to_wardens_only() -> None:
    cfg = load_config(DEFAULT_CONFIG)
    assert [(d.name, d.kind) for d in cfg.notify.destinations] == [("warden-phones", "webpush")]
    assert cfg.notify.enabled and not cfg.notify.push_allow_http


def test_every_kind_of_destination(tmp_path: Path) -> None:
    cfg = load_config(
        write(
            tmp_path,
            {
                "destinations": [
                    {
                        "name": "hook",
                        "kind": "webhook",
                        "url": "https://ops.example.org/h",
                        "secret_env": "HOOK_KEY",
                        "filters": {"zones": ["gt-rd"], "kinds": ["congestion", "sos"], "min_severity": "high"},
                    },
                    {"name": "ha", "kind": "mqtt", "host": "127.0.0.1"},
                    {
                        "name": "duty",
                        "kind": "email",
                        "host": "smtp.example.org",
                        "sender": "a@example.org",
                        "to": ["b@example.org"],
                        "filters": {"escalated_only": True},
                    },
                    {"name": "phones", "kind": "webpush"},
                ],
                "retry": {"max_attempts": 3, "first_delay_s": 1, "max_delay_s": 10},
            },
        )
    )
    hook, ha, duty, phones = cfg.notify.destinations
    assert hook.filters.zones == ("gt-rd",) and hook.filters.kinds == ("congestion", "sos")
    assert ha.port == 1883 and ha.qos == 1 and ha.topic_prefix == "safecity/alerts"
    assert duty.security == "starttls" and duty.filters.escalated_only
    assert phones.control_room and cfg.notify.retry.max_attempts == 3


def test_webhook_secret_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOOK_KEY", "k1")
    assert WebhookDestination(name="h", kind="webhook", url="http://x", secret_env="HOOK_KEY").resolved_secret() == "k1"
    assert WebhookDestination(name="h", kind="webhook", url="http://x", secret="k2").resolved_secret() == "k2"


@pytest.mark.parametrize(
    ("notify", "words"),
    [
        ({"destinations": [{"name": "x", "kind": "pager"}]}, "notify.destinations[0]"),
        ({"destinations": [{"name": "x", "kind": "webhook", "url": "ftp://a"}]}, "notify.destinations[0].url"),
        ({"destinations": [{"name": "x", "kind": "webhook"}]}, "notify.destinations[0].url: Field required"),
        (
            {"destinations": [{"name": "x", "kind": "webpush", "filters": {"zones": ["mars"]}}]},
            "notify.destinations[0].filters.zones: unknown segment 'mars'",
        ),
        (
            {"destinations": [{"name": "x", "kind": "webpush", "filters": {"kinds": ["parking"]}}]},
            "notify.destinations[0].filters.kinds[0]",
        ),
        (
            {"destinations": [{"name": "x", "kind": "webpush", "filters": {"min_severity": "urgent"}}]},
            "notify.destinations[0].filters.min_severity",
        ),
        ({"destinations": [{"name": "x", "kind": "webpush", "filter": {}}]}, "notify.destinations[0].filter: Extra"),
        (
            {"destinations": [{"name": "x", "kind": "webpush"}, {"name": "x", "kind": "webpush"}]},
            "duplicate destination 'x'",
        ),
        (
            {"destinations": [{"name": "x", "kind": "mqtt", "host": "h", "topic_prefix": "a/#"}]},
            "notify.destinations[0].topic_prefix",
        ),
        (
            {"destinations": [{"name": "x", "kind": "email", "host": "h", "sender": "a@b", "to": ["nobody"]}]},
            "not an e-mail address",
        ),
        (
            {"destinations": [{"name": "x", "kind": "webhook", "url": "http://a", "secret": "s", "secret_env": "E"}]},
            "not both",
        ),
        ({"retry": {"first_delay_s": 10, "max_delay_s": 1}}, "notify.retry"),
        ({"vapid": {"subject": "someone"}}, "notify.vapid.subject"),
        ({"colour": "red"}, "notify.colour"),
    ],
)
def test_errors_name_file_and_field(tmp_path: Path, notify: object, words: str) -> None:
    path = write(tmp_path, notify)
    with pytest.raises(ConfigError) as e:
        load_config(path)
    assert str(path) in str(e.value) and words in str(e.value)


def test_config_names_are_the_core_enums() -> None:
    assert set(get_args(IncidentKindName)) == {k.value for k in IncidentKind}
    assert set(get_args(PriorityName)) == {p.value for p in Priority}
