"""Compatibility module: the synthetic camera lives in :mod:`sim` now.

Re-exports :class:`~sim.scene.SyntheticScene`, :class:`~sim.truth.SceneTruth`,
:class:`~sim.truth.VehicleTruth` and :class:`~sim.source.SyntheticSource`; ``python -m
ingest.synthetic`` still runs the preview CLI (:mod:`sim.preview`). New code imports
from :mod:`sim`.
"""

from __future__ import annotations

from sim.preview import main as _preview_main
from sim.scene import SyntheticScene
from sim.source import SyntheticSource
from sim.traffic import Pending as _Pending
from sim.traffic import Vehicle as _Vehicle
from sim.truth import SceneTruth, VehicleTruth


def main(argv: list[str] | None = None) -> int:
    """``python -m ingest.synthetic``: the :mod:`sim.preview` CLI."""
    return _preview_main(argv, prog="python -m ingest.synthetic")


__all__ = ["SceneTruth", "SyntheticScene", "SyntheticSource", "VehicleTruth", "_Pending", "_Vehicle", "main"]

if __name__ == "__main__":
    raise SystemExit(main())
