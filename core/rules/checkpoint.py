"""Checkpoints: a vehicle as JSON-able data and back, so that a restarted worker continues.

The vehicles in view when the old worker stopped are re-linked to the new worker's
tracks (:mod:`core.rules.relink`), and what they were already fined for stays fired.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.rules.probe import PatchProbe
from core.rules.vehicle import VehicleState
from core.types import Point


def vehicle_checkpoint(v: VehicleState, probe: PatchProbe | None) -> dict[str, Any]:
    """One vehicle of :meth:`core.rules.engine.RuleEngine.checkpoint`, as JSON-able data.

    Args:
        v: The vehicle.
        probe: The engine's patch probe (a held vehicle keeps its patch), if any.
    """
    return {
        "key_track_id": v.key_track_id,
        "first_ts_ms": v.first_ts_ms,
        "track_id": v.track_id,
        "label": v.label,
        "last_ts_ms": v.last_ts_ms,
        "box": list(v.box),
        "ground": _as_list(v.anchor or v.ground),
        "anchor_ts_ms": v.anchor_ts_ms if v.anchor is not None else v.last_ts_ms,
        "velocity": list(v.velocity) if v.velocity is not None else None,
        "fired": sorted(v.fired),
        "plate": v.plate,
        "plate_confidence": v.plate_confidence,
        "stopped": {k: st["since"] for k, st in v.scratch.items() if k.startswith("stopping:") and st.get("since")},
        "patch": probe.export(v.key) if (probe is not None and v.held) else None,
    }


def vehicle_from_checkpoint(d: Mapping[str, Any], probe: PatchProbe | None) -> VehicleState:
    """A vehicle back from :func:`vehicle_checkpoint`, without a live track (``restored``).

    A held vehicle's patch is loaded into ``probe`` and the vehicle stays held.

    Args:
        d: The vehicle's checkpoint data.
        probe: The engine's patch probe, if any.

    Raises:
        KeyError: a required field is missing.
        TypeError: a field has the wrong type.
        ValueError: a field has a bad value.
    """
    v = VehicleState(
        key_track_id=int(d["key_track_id"]),
        first_ts_ms=int(d["first_ts_ms"]),
        track_id=-1,
        label=str(d["label"]),
        last_ts_ms=int(d["last_ts_ms"]),
        box=tuple(float(x) for x in d["box"]),  # type: ignore[arg-type]
        ground=tuple(float(x) for x in d["ground"]) if d.get("ground") else None,  # type: ignore[arg-type]
        velocity=tuple(float(x) for x in d["velocity"]) if d.get("velocity") else None,  # type: ignore[arg-type]
        fired={str(k) for k in d.get("fired") or ()},
        plate=d.get("plate"),
        plate_confidence=float(d.get("plate_confidence") or 0.0),
        restored=True,
    )
    if v.ground is not None:
        v.anchor, v.anchor_ts_ms = v.ground, int(d.get("anchor_ts_ms") or v.last_ts_ms)
    for k, since in (d.get("stopped") or {}).items():
        v.scratch[str(k)] = {"since": int(since)}
    if d.get("patch") and probe is not None and probe.load(v.key, d["patch"]):
        v.held = True  # a stopped vehicle the detector no longer sees: keep timing it
    return v


def _as_list(p: Point | None) -> list[float] | None:
    return None if p is None else [float(p[0]), float(p[1])]
