"""Per-camera enforcement stage of the worker: speeds, rules, evidence, plates.

A :class:`CameraEnforcer` runs after the vision pipeline on every analysed frame:

1. ground speed per track (:class:`core.speed.SpeedEstimator`, from the camera's
   calibration) and the mean speed for the density report;
2. the camera's rules (:class:`core.rules.RuleEngine`) with the signal phases
   (schedule from the config, or the ``signal.state`` stream a controller writes);
3. evidence: a ring buffer of recent frames; for each violation the frames before, at
   and after the moment (``evidence.frames``, ``evidence.spacing_s`` apart) and a plate
   (or vehicle) crop are JPEG-encoded once and put in Redis by SHA-256
   (:class:`bus.evidence.EvidenceStore`); the violation is published once the frame
   after the moment exists and the plate was read (or ``evidence.hold_s`` passed, or
   the track ended), carrying the SHA-256 of each file;
4. plates: when the ANPR modules (:mod:`vision.plates`) are installed, a background
   thread reads the violator's plate from its largest view (never blocking analysis);
   with ``evidence.read_plates: all`` every vehicle is read once, for the watch list;
5. sightings: every finished plate read is returned as a :class:`core.types.PlateRead`
   (the vehicle's voted plate, its votes, the crop's evidence id), which the worker
   publishes on ``plate.read`` for ``services.sightings`` (:mod:`~ingest.enforce.sightings`).

Crash safety: pending violations (evidence stored, not yet published) and a checkpoint
of the rule engine (vehicles in view, what they were already reported for) are kept
in Redis (:class:`bus.rulestate.RuleStateStore`); a restarted worker publishes the
pending ones and re-links the vehicles still in view, so nothing is lost and nothing
is reported twice. Violation ids are idempotent in any case (the ticketing service
makes one ticket per id).

The package, one idea per module: :mod:`~ingest.enforce.build` (signals, homography and
speed parameters from the config), :mod:`~ingest.enforce.images` (JPEG, crops),
:mod:`~ingest.enforce.plates` (the background plate reader), :mod:`~ingest.enforce.sightings`
(plate votes and sightings), :mod:`~ingest.enforce.pending`
(violations waiting for evidence), :mod:`~ingest.enforce.camera` (the per-camera
enforcer) and :mod:`~ingest.enforce.factory` (one per process: watchlist, plate reader).
"""

from ingest.enforce.build import build_signals, homography_of, speed_params
from ingest.enforce.camera import (
    CHECKPOINT_EVERY_MS,
    MAX_WAIT_S,
    MIN_PLATE_BOX_H,
    SIGNAL_POLL_S,
    CameraEnforcer,
)
from ingest.enforce.factory import enforcer_factory, watchlist_cache
from ingest.enforce.images import crop, encode_jpeg
from ingest.enforce.pending import Pending
from ingest.enforce.plates import PlateResult, PlateWorker

__all__ = [
    "CHECKPOINT_EVERY_MS",
    "MAX_WAIT_S",
    "MIN_PLATE_BOX_H",
    "SIGNAL_POLL_S",
    "CameraEnforcer",
    "Pending",
    "PlateResult",
    "PlateWorker",
    "build_signals",
    "crop",
    "encode_jpeg",
    "enforcer_factory",
    "homography_of",
    "speed_params",
    "watchlist_cache",
]
