"""config.portal: the demo defaults, and bad portal/payment settings name the file and field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from config.settings import DEFAULT_CONFIG, ConfigError, load_config


def _cfg(tmp_path: Path, portal: dict) -> Path:
    raw = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    raw["portal"] = portal
    p = tmp_path / "c.yaml"
    p.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return p


def test_demo_portal() -> None:
    p = load_config(DEFAULT_CONFIG).portal
    assert p.payment.kind == "demo" and p.appeal_days == 14 and p.appeal_photo_max_bytes == 5 * 1024 * 1024


@pytest.mark.parametrize(
    ("portal", "words"),
    [
        ({"payment": {"kind": "hosted"}}, "pay_url"),
        ({"payment": {"secret": "short"}}, "portal.payment.secret"),
        ({"payment": {"kind": "paypal"}}, "portal.payment.kind"),
        ({"payment": {"name": "Bad Name"}}, "portal.payment.name"),
        ({"appeal_days": 0}, "portal.appeal_days"),
        ({"appel_days": 14}, "portal.appel_days"),
    ],
)
def test_bad_portal_config_names_the_field(tmp_path: Path, portal: dict, words: str) -> None:
    with pytest.raises(ConfigError) as e:
        load_config(_cfg(tmp_path, portal))
    assert words in str(e.value) and "c.yaml" in str(e.value)


def test_hosted_gateway(tmp_path: Path) -> None:
    cfg = load_config(
        _cfg(
            tmp_path,
            {"payment": {"kind": "hosted", "name": "bank", "pay_url": "https://pay.example/p", "secret": "x" * 32}},
        )
    )
    assert cfg.portal.payment.pay_url == "https://pay.example/p"
