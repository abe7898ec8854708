"""Config loading: the demo city is valid; bad files name the file and the field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from config.settings import DEFAULT_CONFIG, ConfigError, load_config


def _write(tmp_path: Path, data: object) -> Path:
    p = tmp_path / "city.yaml"
    p.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data)
    return p


def _default() -> dict:
    return yaml.safe_load(DEFAULT_CONFIG.read_text())


def test_default_config_is_valid() -> None:
    cfg = load_config(DEFAULT_CONFIG)
    assert len(cfg.cameras) >= 4
    assert {c.segment for c in cfg.cameras} <= {s.id for s in cfg.segments}
    for cam in cfg.cameras:
        assert cam.lines, f"{cam.id} has no counting line"
        assert cam.zones, f"{cam.id} has no zone"
        lat, lon = cam.location
        assert 33.9 < lat < 34.1 and 71.4 < lon < 71.7, "demo cameras are in Peshawar"


def _set(d: dict, path: list, value: object) -> dict:
    node = d
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return d


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (["cameras", 1, "analysis_fps"], -3, "cameras[1].analysis_fps"),
        (["cameras", 0, "source", "url"], "x", "cameras[0].source"),
        (["cameras", 2, "source"], {"kind": "rtsp", "url": "not-a-url"}, "cameras[2].source.url"),
        (["cameras", 0, "colour"], "red", "cameras[0].colour"),
        (["cameras", 3, "segment"], "nowhere-rd", "nowhere-rd"),
        (["dashboard", "port"], 70000, "dashboard.port"),
        (["segments", 0, "congestion"], {"moderate": 0.5, "heavy": 0.3, "jammed": 0.6}, "segments[0].congestion"),
        (["cameras", 0, "location"], [134.0, 71.5], "cameras[0].location"),
        (["archive", "sightings_retention_days"], -1, "archive.sightings_retention_days"),
        (["archive", "sightings_retention_days"], "a month", "archive.sightings_retention_days"),
        (["archive", "purge_interval_s"], 0, "archive.purge_interval_s"),
    ],
)
def test_bad_field_is_named(tmp_path: Path, path: list, value: object, expected: str) -> None:
    p = _write(tmp_path, _set(_default(), path, value))
    with pytest.raises(ConfigError) as err:
        load_config(p)
    msg = str(err.value)
    assert str(p) in msg
    assert expected in msg


@pytest.mark.parametrize(
    ("text", "expected"),
    [("cameras: [\n", "not valid YAML"), ("- 1\n- 2\n", "top level must be a mapping")],
)
def test_unparseable_file(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        load_config(_write(tmp_path, text))


def test_missing_file_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="nope.yaml: config file not found"):
        load_config(tmp_path / "nope.yaml")


def test_duplicate_camera_id(tmp_path: Path) -> None:
    d = _default()
    d["cameras"].append(dict(d["cameras"][0]))
    with pytest.raises(ConfigError, match="duplicate id"):
        load_config(_write(tmp_path, d))
