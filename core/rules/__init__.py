"""Traffic rules: tracks + speeds + zones + signal phase + time -> violations and incidents.

Pure logic (numpy only). One :class:`RuleEngine` per camera is fed every analysed
frame: the frame's tracks, their :class:`core.speed.Motion` (ground position and
smoothed speed) and the plates read so far. Each rule is a small class that looks at
one vehicle at a time and returns a :class:`Finding`; the engine turns findings into
:class:`core.types.Violation` (an e-ticket) and/or :class:`core.types.Incident` (for
the operator and wardens) **at most once per vehicle and kind**.

Rules:

* :class:`OverspeedCheck`: smoothed speed above limit + tolerance for ``min_duration_s``.
* :class:`WrongWayCheck`: driven ``min_distance_m`` against the legal direction, which
  comes from a one-way zone's ``flow`` or from the road axis and the side of the road
  traffic keeps to (left in Pakistan: left of the centre line moves away from the camera).
* :class:`RedLightCheck`: crossing a stop line in the controlled direction while the
  signal (schedule or controller stream, :mod:`core.signals`) shows red.
* :class:`StoppingCheck`: stopped in a zone longer than ``max_stop_s`` (stalled vehicle
  incident; a violation too in a no-stopping zone).
* watch-listed plate: an incident as soon as a vehicle's plate reading matches.

Vehicle identity. Ids are made from the vehicle's *first* track id and the time that
track was first seen, so violation ids are idempotent (replays give the same id). A
track that breaks up (ByteTrack loses a fast or occluded vehicle and starts a new id)
is re-linked to the vehicle it continues when it appears where that vehicle was
predicted to be (ground position + velocity), so one vehicle never gets two tickets of
one kind. :meth:`RuleEngine.checkpoint` / :meth:`RuleEngine.restore` carry this state
over a worker restart: the vehicles in view when the old worker stopped are re-linked
to the new worker's tracks, and what they were already fined for stays fired.

A vehicle that stops tends to vanish from a background-subtraction detector (it
becomes background). While a vehicle is stopped in a stopping zone the engine keeps a
small image patch of it (:class:`PatchProbe`); if its track is lost, the vehicle is
*held* as long as the patch still matches the image at that place, so the time in the
zone keeps counting.

Modules:

* :mod:`core.rules.vehicle`: :class:`VehicleState` and how a frame's track updates it.
* :mod:`core.rules.base`: :class:`Rule`, :class:`Finding`, :class:`RuleContext`, :class:`RuleOutput`.
* :mod:`core.rules.ids`: :func:`violation_id`, :func:`incident_id_for`.
* :mod:`core.rules.records`: a finding -> :class:`~core.types.Violation` / :class:`~core.types.Incident`.
* :mod:`core.rules.probe`: :class:`PatchProbe`.
* :mod:`core.rules.overspeed`, :mod:`core.rules.wrong_way`, :mod:`core.rules.red_light`,
  :mod:`core.rules.stopping`: one check each.
* :mod:`core.rules.watchlisted`: the watch-listed plate check.
* :mod:`core.rules.relink`: :class:`RelinkParams`, which lost vehicle a new track continues.
* :mod:`core.rules.checkpoint`: vehicles to JSON-able data and back (worker restarts).
* :mod:`core.rules.params`: :class:`RuleSet` and one plain parameter type per rule (the worker
  fills them from the config: :func:`ingest.enforce.build.rule_set`).
* :mod:`core.rules.build`: :func:`build_rules` (a :class:`RuleSet` -> rule objects).
* :mod:`core.rules.engine`: :class:`RuleEngine`, which ties them together.

This package re-exports the public names of all of them.
"""

from __future__ import annotations

from core.rules.base import INCIDENT_PRIORITY, Finding, Rule, RuleContext, RuleOutput
from core.rules.build import build_rules
from core.rules.engine import RuleEngine
from core.rules.ids import incident_id_for, stable_id, violation_id
from core.rules.overspeed import OverspeedCheck
from core.rules.params import (
    FlowZoneParams,
    OverspeedParams,
    RedLightParams,
    RuleSet,
    StoppingZoneParams,
    WrongWayParams,
)
from core.rules.probe import PatchProbe
from core.rules.records import SUMMARY as SUMMARY
from core.rules.red_light import RedLightCheck
from core.rules.relink import RelinkParams
from core.rules.stopping import StoppingCheck
from core.rules.vehicle import TRAIL_LEN as TRAIL_LEN
from core.rules.vehicle import VehicleState
from core.rules.watchlisted import WatchlistSource as WatchlistSource
from core.rules.wrong_way import WRONG_WAY_MAX_STEP_RATIO as WRONG_WAY_MAX_STEP_RATIO
from core.rules.wrong_way import WRONG_WAY_MIN_SPAN_MS as WRONG_WAY_MIN_SPAN_MS
from core.rules.wrong_way import WRONG_WAY_MIN_STEPS as WRONG_WAY_MIN_STEPS
from core.rules.wrong_way import WRONG_WAY_STEADY_SHARE as WRONG_WAY_STEADY_SHARE
from core.rules.wrong_way import WRONG_WAY_STILL_M as WRONG_WAY_STILL_M
from core.rules.wrong_way import WrongWayCheck

__all__ = [
    "INCIDENT_PRIORITY",
    "Finding",
    "FlowZoneParams",
    "OverspeedCheck",
    "OverspeedParams",
    "PatchProbe",
    "RedLightCheck",
    "RedLightParams",
    "RelinkParams",
    "Rule",
    "RuleContext",
    "RuleEngine",
    "RuleOutput",
    "RuleSet",
    "StoppingCheck",
    "StoppingZoneParams",
    "VehicleState",
    "WrongWayCheck",
    "WrongWayParams",
    "build_rules",
    "incident_id_for",
    "stable_id",
    "violation_id",
]
