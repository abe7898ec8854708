"""The base of every configuration section, and the point types they share."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

#: ``(lat, lon)`` in degrees.
LatLon = tuple[float, float]
#: ``(x, y)`` in image pixels (y down).
PixelPoint = tuple[float, float]


class ConfigModel(BaseModel):
    """A configuration section: immutable, and an unknown key is an error (``extra="forbid"``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


__all__ = ["ConfigModel", "LatLon", "PixelPoint"]
