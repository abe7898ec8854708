"""ingest.enforce.build: a camera's ``rules`` config becomes core.rules parameters, every field carried over."""

from __future__ import annotations

import pytest

from config.rules import CameraRules
from config.settings import load_config
from core.rules import (
    FlowZoneParams,
    OverspeedCheck,
    OverspeedParams,
    RedLightCheck,
    RedLightParams,
    RuleSet,
    StoppingCheck,
    StoppingZoneParams,
    WrongWayCheck,
    WrongWayParams,
)
from ingest.enforce.build import homography_of, rule_engine, rule_set

ZONE = [[0, 0], [100, 0], [100, 100]]


def test_every_field_of_every_rule_is_carried_over() -> None:
    rules = CameraRules.model_validate(
        {
            "overspeed": {"limit_kmh": 50, "tolerance_kmh": 7, "min_duration_s": 1.5},
            "wrong_way": {
                "road_axis": [[1, 2], [3, 4]],
                "zones": [{"id": "z", "polygon": ZONE, "flow": [[5, 6], [7, 8]]}],
                "min_distance_m": 9,
                "min_speed_kmh": 4,
            },
            "red_light": [
                {"signal": "s1", "stop_line": [[1, 1], [9, 1]], "direction": "forward", "amber_is_violation": True}
            ],
            "stopping": [{"id": "k", "polygon": ZONE, "max_stop_s": 12, "no_stopping": False, "stop_speed_kmh": 2}],
        }
    )
    assert rule_set(rules) == RuleSet(
        overspeed=OverspeedParams(50.0, 7.0, 1.5),
        wrong_way=WrongWayParams(
            ((1.0, 2.0), (3.0, 4.0)),
            (FlowZoneParams("z", ((0.0, 0.0), (100.0, 0.0), (100.0, 100.0)), ((5.0, 6.0), (7.0, 8.0))),),
            9.0,
            4.0,
        ),
        red_light=(RedLightParams("s1", ((1.0, 1.0), (9.0, 1.0)), "forward", True),),
        stopping=(StoppingZoneParams("k", ((0.0, 0.0), (100.0, 0.0), (100.0, 100.0)), 12.0, False, 2.0),),
    )


def test_the_config_defaults_reach_core() -> None:
    """Core's parameter types have no defaults of their own: the config's are the only ones."""
    assert rule_set(CameraRules()) == RuleSet(overspeed=OverspeedParams(None, 5.0, 0.5))
    assert rule_set(CameraRules.model_validate({"overspeed": None})) == RuleSet()


@pytest.mark.parametrize(
    ("camera_id", "kinds"),
    [
        ("cam-gt-firdous", {OverspeedCheck, WrongWayCheck, StoppingCheck}),
        ("cam-saddar-mall", {OverspeedCheck, WrongWayCheck, RedLightCheck}),
    ],
)
def test_demo_cameras_build_their_engines(camera_id: str, kinds: set[type]) -> None:
    cfg = load_config()
    cam = next(c for c in cfg.cameras if c.id == camera_id)
    seg = cfg.segment(cam.segment)
    eng = rule_engine(cam, seg.speed_limit_kmh, homography_of(cam), traffic_side=cfg.traffic_side)
    assert {type(r) for r in eng.rules} == kinds
    assert (eng.camera_id, eng.segment_id, eng.location) == (cam.id, cam.segment, cam.location)
    (over,) = (r for r in eng.rules if isinstance(r, OverspeedCheck))
    assert over.limit_kmh == seg.speed_limit_kmh  # no limit of its own: the segment's
