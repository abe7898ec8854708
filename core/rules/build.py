"""The rule objects a camera's :class:`~core.rules.params.RuleSet` asks for."""

from __future__ import annotations

from core.geometry import Homography
from core.rules.base import Rule
from core.rules.overspeed import OverspeedCheck
from core.rules.params import RuleSet
from core.rules.red_light import RedLightCheck
from core.rules.stopping import StoppingCheck
from core.rules.wrong_way import WrongWayCheck


def build_rules(
    rules: RuleSet, speed_limit_kmh: float, homography: Homography | None, traffic_side: str = "left"
) -> list[Rule]:
    """The rule objects a camera's rules ask for.

    Over-speed and wrong-way need a calibration: without one over-speed is skipped
    (no speeds), and a configured wrong-way rule is an error.

    Raises:
        ValueError: wrong-way configured without a calibration, or a degenerate direction.
    """
    out: list[Rule] = []
    if rules.overspeed is not None and homography is not None:
        o = rules.overspeed
        out.append(OverspeedCheck(o.limit_kmh or speed_limit_kmh, o.tolerance_kmh, o.min_duration_s))
    if rules.wrong_way is not None:
        if homography is None:
            raise ValueError("the wrong-way rule needs a calibration (calibration or lane_calibration)")
        out.append(WrongWayCheck(rules.wrong_way, homography, traffic_side))
    out.extend(RedLightCheck(r, i) for i, r in enumerate(rules.red_light))
    out.extend(StoppingCheck(z) for z in rules.stopping)
    return out
