"""Compatibility module: the synthetic scene's camera geometry is :mod:`sim.camera` now."""

from __future__ import annotations

from sim.camera import (
    NEAR_PLANE_M,
    CameraModel,
    RoadLayout,
    SceneGeometry,
    camera_for,
    clip_near,
    default_calibration,
    default_camera,
    default_geometry,
)

__all__ = [
    "NEAR_PLANE_M",
    "CameraModel",
    "RoadLayout",
    "SceneGeometry",
    "camera_for",
    "clip_near",
    "default_calibration",
    "default_camera",
    "default_geometry",
]
