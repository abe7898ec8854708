"""Compatibility module: the synthetic scene's drawing is in :mod:`sim` now.

Vehicle classes are :mod:`sim.specs`, vehicle drawing :mod:`sim.look`, plates
:mod:`sim.plates`, the street :mod:`sim.background`, shared colour helpers :mod:`sim.paint`.
"""

from __future__ import annotations

from sim.background import render_background
from sim.look import GLASS, VehicleLook
from sim.paint import BGR, FONT, HAZE, HAZE_M, SHIFT, haze_factor
from sim.specs import SPECS, PartSpec, VehicleSpec

__all__ = [
    "BGR",
    "FONT",
    "GLASS",
    "HAZE",
    "HAZE_M",
    "SHIFT",
    "SPECS",
    "PartSpec",
    "VehicleLook",
    "VehicleSpec",
    "haze_factor",
    "render_background",
]
