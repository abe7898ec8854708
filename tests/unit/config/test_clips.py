"""Clip and recording settings: global defaults, per-camera overrides, errors that name the field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from config.settings import ConfigError, load_config
from tests.paths import REPO_ROOT

DEFAULT = REPO_ROOT / "config" / "default.yaml"


def _load(tmp_path: Path, edit: dict) -> object:
    raw = yaml.safe_load(DEFAULT.read_text(encoding="utf-8"))
    for k, v in edit.items():
        if k == "camera0":
            raw["cameras"][0].update(v)
        else:
            raw[k] = v
    p = tmp_path / "c.yaml"
    p.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return load_config(p)


def test_a_camera_overrides_the_global_clip_settings_key_by_key(tmp_path: Path) -> None:
    cfg = _load(tmp_path, {"clips": {"pre_s": 5, "fps": 8}, "camera0": {"clips": {"post_s": 6}}})
    a, b = cfg.clips_for(cfg.cameras[0]), cfg.clips_for(cfg.cameras[1])
    assert (a.pre_s, a.post_s, a.fps) == (5, 6, 8)
    assert (b.pre_s, b.post_s, b.fps) == (5, 4.0, 8)


def test_bad_clip_values_name_the_field(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"cameras\[0\]\.clips\.fps"):
        _load(tmp_path, {"camera0": {"clips": {"fps": 0}}})
    with pytest.raises(ConfigError, match=r"clips\.colour"):
        _load(tmp_path, {"clips": {"colour": 1}})


def test_recording_needs_a_retention(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="retention"):
        _load(tmp_path, {"recording": {"retention_days": 0}, "camera0": {"recording": {"enabled": True}}})
    cfg = _load(tmp_path, {"camera0": {"recording": {"enabled": True, "segment_s": 30}}})
    rc = cfg.recording_for(cfg.cameras[0])
    assert rc.enabled and rc.segment_s == 30 and not cfg.recording_for(cfg.cameras[1]).enabled


def test_s3_storage_needs_its_section(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="storage"):
        _load(tmp_path, {"storage": {"backend": "s3"}})
