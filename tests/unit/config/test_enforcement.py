"""Enforcement sections of the config: defaults, references, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from config.settings import DEFAULT_CONFIG, ConfigError, LaneCalibration, load_config


def _cfg(tmp_path: Path, edit) -> Path:
    d = yaml.safe_load(DEFAULT_CONFIG.read_text())
    edit(d)
    p = tmp_path / "c.yaml"
    p.write_text(yaml.safe_dump(d, allow_unicode=True))
    return p


def test_demo_has_an_enforcement_setup() -> None:
    cfg = load_config(DEFAULT_CONFIG)
    assert all(c.rules.overspeed is not None and c.ground_calibration() is not None for c in cfg.cameras)
    assert any(c.rules.red_light for c in cfg.cameras) and any(c.rules.stopping for c in cfg.cameras)
    assert cfg.traffic_side == "left" and cfg.fines.overspeed_pkr > 0 and cfg.wardens


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (lambda d: d["cameras"][2]["rules"]["red_light"][0].update(signal="nope"), "unknown signal 'nope'"),
        (lambda d: d["wardens"][0].update(segments=["moon-rd"]), "unknown segment 'moon-rd'"),
        (lambda d: d["cameras"][0].pop("calibration"), "wrong_way needs a calibration"),
        (lambda d: d.update(fines={"overspeed_pkr": -5}), "fines.overspeed_pkr"),
        (lambda d: d.update(watchlist_file="config/nope.yaml"), "watchlist file not found"),
        (lambda d: d.update(watchlist_file="config/default.txt"), "watchlist files are"),
        (lambda d: d.update(watchlist=[{"plate": "LEA1234"}]), "watchlist"),  # the old inline list is gone
        (lambda d: d.update(traffic_side="middle"), "traffic_side"),
        (lambda d: d["signals"][0].update(cycle=[]), "cycle"),
        (lambda d: d["cameras"][0]["rules"].update(speeding={}), "speeding"),
    ],
)
def test_bad_enforcement_config_names_the_field(tmp_path: Path, edit, words: str) -> None:
    with pytest.raises(ConfigError, match=words.replace("(", r"\(")):
        load_config(_cfg(tmp_path, edit))


def test_lane_calibration_is_a_homography_calibration() -> None:
    lc = LaneCalibration(
        near_left=(100, 500), near_right=(300, 500), far_right=(220, 200), far_left=(180, 200), width_m=3.5, length_m=40
    )
    cal = lc.as_calibration()
    assert cal.ground_points_m[2] == (3.5, 40.0) and len(cal.image_points) == 4


def test_watchlist_file_seeds_redis(tmp_path: Path) -> None:
    assert load_config(DEFAULT_CONFIG).watchlist_file == Path("config/watchlist.yaml")
    csv = tmp_path / "wl.csv"
    csv.write_text("plate,reason\nLEA1234,stolen\n")
    assert load_config(_cfg(tmp_path, lambda d: d.update(watchlist_file=str(csv)))).watchlist_file == csv
    assert load_config(_cfg(tmp_path, lambda d: d.update(watchlist_file=None))).watchlist_file is None


def test_notices_and_overdue_config_errors_name_the_field() -> None:
    import pydantic

    from config.enforcement import FinesConfig, OverdueStep
    from config.notices import NoticesConfig, OwnerRegisterConfig, SmsConfig

    with pytest.raises(pydantic.ValidationError, match="same after_days"):
        FinesConfig(overdue_surcharge=(OverdueStep(after_days=3, percent=5), OverdueStep(after_days=3, percent=9)))
    with pytest.raises(pydantic.ValidationError, match="url: kind http"):
        OwnerRegisterConfig(kind="http")
    with pytest.raises(pydantic.ValidationError, match="url: mode http"):
        SmsConfig(mode="http", url="ftp://x")
    with pytest.raises(pydantic.ValidationError, match="extra"):
        NoticesConfig(bogus=1)  # type: ignore[call-arg]
    assert NoticesConfig().email.mode == "folder" and NoticesConfig().sms.mode == "folder"  # demo-safe
