"""The synthetic road's vehicles and how they interact: car following and sideways moves.

A :class:`Vehicle` lives on the ground plane (metres: ``x`` across the road, ``y``
along it) and moves ``direction`` (+1 away from the camera, -1 toward it). The
functions here act on the list of all vehicles on the road:

* :func:`leaders`: each vehicle's nearest laterally overlapping vehicle ahead and the
  bumper-to-bumper gap to it (the input of car following);
* :func:`idm`: the Intelligent Driver Model's acceleration;
* :func:`move_laterally`: lane-changing vehicles move sideways, never into another one;
* :func:`lane_gap`: whether a vehicle can move to a lateral position now.

Arrivals, entry, desired speeds, lane-change decisions and the scripted rule-breakers
are the scene's (:class:`sim.scene.SyntheticScene`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from config.settings import SyntheticRuleBreaker
from sim.look import VehicleLook
from sim.specs import VehicleSpec

#: Smallest bumper-to-bumper distance the no-overlap constraint keeps (metres).
HARD_GAP_M = 0.3


@dataclass(eq=False)
class Vehicle:
    """One simulated vehicle's state.

    Attributes:
        vid: Stable id (1, 2, ... in order of appearance).
        spec: Its class.
        look: How it is drawn (colours, plate).
        lane: Lane it drives in (or is changing to).
        x: Lateral position of its centre (m).
        y: Position of its centre along the road (m).
        v: Speed (m/s, along ``direction``).
        direction: +1 away from the camera, -1 toward it.
        v0_factor: Its desired speed relative to its class's.
        rule: Scripted rule it breaks, or None.
        fixed_speed: Desired speed overriding the traffic model's (m/s), or None.
        stop_y: Where a stalled vehicle stops, or None.
        stop_s: How long it stays stopped.
        stop_until: Scene time it starts again once stopped, or None.
        x_target: Lateral position it moves toward.
        last_change_t: Scene time of its last lane change.
        prev_x: ``x`` at the previous frame.
        prev_y: ``y`` at the previous frame.
        next_decision_t: Scene time of its next lane-change decision.
        aggressive: Shorter headway, harder acceleration, quicker lane changes.
    """

    vid: int
    spec: VehicleSpec
    look: VehicleLook
    lane: int
    x: float
    y: float
    v: float
    direction: int
    v0_factor: float
    rule: str | None = None
    fixed_speed: float | None = None
    stop_y: float | None = None
    stop_s: float = 0.0
    stop_until: float | None = None
    x_target: float = 0.0
    last_change_t: float = -1e9
    prev_x: float = 0.0
    prev_y: float = 0.0
    next_decision_t: float = 0.0
    aggressive: bool = False

    @property
    def hl(self) -> float:
        """Half length (m)."""
        return self.spec.length / 2

    @property
    def hw(self) -> float:
        """Half width (m)."""
        return self.spec.width / 2


@dataclass
class Pending:
    """An arrival waiting off-screen for its lane's entry to be free."""

    label: str
    rule: SyntheticRuleBreaker | None = None
    direction: int = 0  # 0 = the lane's own direction


def leaders(vs: list[Vehicle]) -> tuple[np.ndarray, np.ndarray]:
    """Per vehicle: index of the nearest laterally overlapping vehicle ahead (-1 none), and the gap."""
    n = len(vs)
    if n == 0:
        return np.zeros(0, int), np.zeros(0)
    X = np.fromiter((v.x for v in vs), float, n)
    Y = np.fromiter((v.y for v in vs), float, n)
    HW = np.fromiter((v.hw for v in vs), float, n)
    HL = np.fromiter((v.hl for v in vs), float, n)
    D = np.fromiter((v.direction for v in vs), float, n)
    lat = np.abs(X[:, None] - X[None, :]) < (HW[:, None] + HW[None, :] + 0.25)
    ahead = (Y[None, :] - Y[:, None]) * D[:, None]
    gap = ahead - HL[:, None] - HL[None, :]
    mask = lat & (ahead > 0)
    np.fill_diagonal(mask, False)
    g = np.where(mask, gap, np.inf)
    idx = np.argmin(g, axis=1)
    best = g[np.arange(n), idx]
    idx = np.where(np.isfinite(best), idx, -1)
    return idx, best


def idm(v: Vehicle, v0: float, s: float, v_lead: float) -> float:
    """Intelligent Driver Model acceleration (m/s^2).

    Args:
        v: The vehicle.
        v0: Its desired speed (m/s).
        s: Gap to the obstacle ahead (m; ``inf`` on a free road).
        v_lead: Speed of the obstacle along ``v``'s direction (m/s).
    """
    spec = v.spec
    a_max, b = spec.accel * (1.6 if v.aggressive else 1.0), 2.5
    headway = spec.headway_s * (0.5 if v.aggressive else 1.0)
    free = 1.0 - (v.v / max(v0, 0.1)) ** 4
    if not math.isfinite(s):
        acc = a_max * free
    else:
        dv = v.v - v_lead
        s_star = spec.min_gap + max(0.0, v.v * headway + v.v * dv / (2 * math.sqrt(a_max * b)))
        acc = a_max * (free - (s_star / max(s, 0.05)) ** 2)
    return max(-9.0, min(acc, a_max))


def move_laterally(vs: list[Vehicle], dt: float) -> None:
    """Move lane-changing vehicles sideways, never into another vehicle (they wait instead)."""
    for v in vs:
        d = v.x_target - v.x
        if not d:
            continue
        step = v.spec.lateral_speed * dt
        x = v.x_target if abs(d) <= step else v.x + math.copysign(step, d)
        if not any(
            o is not v
            and abs(x - o.x) < v.hw + o.hw + 0.1
            and abs(v.y - o.y) < v.hl + o.hl + HARD_GAP_M
            and abs(v.x - o.x) >= abs(x - o.x)  # only moves that bring them closer
            for o in vs
        ):
            v.x = x


def lane_gap(vs: list[Vehicle], v: Vehicle, x: float) -> tuple[bool, float]:
    """Whether ``v`` can move to lateral position ``x`` now, and the free gap ahead there."""
    ahead_gap = math.inf
    for o in vs:
        if o is v or abs(o.x - x) >= o.hw + v.hw + 0.25:
            continue
        d = (o.y - v.y) * v.direction
        g = abs(o.y - v.y) - o.hl - v.hl
        if d > 0:
            if o.direction != v.direction:
                return False, 0.0  # oncoming traffic in that lane
            if g < v.spec.min_gap + 1.0 + 0.5 * v.v:
                return False, 0.0
            ahead_gap = min(ahead_gap, g)
        else:
            need = v.spec.min_gap + 1.0 + (o.v * 1.0 if o.direction == v.direction else 0.0)
            if g < need:
                return False, 0.0
    return True, ahead_gap


__all__ = ["HARD_GAP_M", "Pending", "Vehicle", "idm", "lane_gap", "leaders", "move_laterally"]
