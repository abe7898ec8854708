"""The one configuration model, loaded from YAML.

Every section is a pydantic model with ``extra="forbid"`` so a typo is an error,
and :func:`load_config` turns validation errors into messages that name the file
and the dotted field path (``cameras[2].source.url``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from core.types import LABELS

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = REPO_ROOT / "config" / "default.yaml"

LatLon = tuple[float, float]
PixelPoint = tuple[float, float]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------- sources


class SyntheticVehicleMix(_Model):
    """Share of each vehicle class in synthetic traffic (normalised at use)."""

    car: float = Field(0.55, ge=0)
    motorcycle: float = Field(0.15, ge=0)
    rickshaw: float = Field(0.1, ge=0)
    van: float = Field(0.07, ge=0)
    bus: float = Field(0.06, ge=0)
    truck: float = Field(0.07, ge=0)


class SyntheticRuleBreaker(_Model):
    """One scripted vehicle that breaks a rule at a given time (seconds from start)."""

    at_s: float = Field(ge=0, description="Seconds after the source starts when the vehicle enters.")
    kind: Literal["speeder", "wrong_way", "red_light", "stalled"]
    label: str = "car"
    plate: str | None = Field(None, description="Plate text; random when omitted.")
    speed_kmh: float | None = Field(None, gt=0, le=250)
    lane: int | None = Field(None, ge=0)
    stop_s: float = Field(30.0, gt=0, description="How long a stalled vehicle stays stopped.")


class SyntheticSource(_Model):
    """A rendered road scene with vehicles carrying Pakistani number plates."""

    kind: Literal["synthetic"] = "synthetic"
    seed: int = 0
    width: int = Field(960, ge=160, le=3840)
    height: int = Field(540, ge=120, le=2160)
    fps: float = Field(10.0, gt=0, le=60)
    realtime: bool = Field(True, description="Pace frames at fps like a live camera; False renders as fast as possible.")
    duration_s: float | None = Field(None, gt=0, description="End after this many seconds of scene time; None runs forever.")
    lanes_per_direction: int = Field(2, ge=1, le=4)
    lane_width_m: float = Field(3.5, gt=1, le=6)
    road_length_m: float = Field(80.0, gt=10, le=500, description="Length of road visible in the image.")
    vehicles_per_minute: float = Field(30.0, ge=0, le=600, description="Mean arrival rate, both directions together.")
    speed_kmh: float = Field(45.0, gt=0, le=200, description="Mean free-flow speed.")
    speed_jitter: float = Field(0.15, ge=0, le=1, description="Relative spread of vehicle speeds.")
    congestion_period_s: float | None = Field(
        None, gt=0, description="Period of congestion waves (traffic slows and thickens); None = steady."
    )
    vehicle_mix: SyntheticVehicleMix = SyntheticVehicleMix()
    rule_breakers: tuple[SyntheticRuleBreaker, ...] = ()
    noise: float = Field(2.0, ge=0, le=30, description="Std-dev of per-pixel sensor noise (0-255 scale).")


class FileSource(_Model):
    """A video file: looped at native fps as if live, or read once as fast as possible."""

    kind: Literal["file"] = "file"
    path: Path
    loop: bool = True
    realtime: bool = True


class StreamSource(_Model):
    """A network stream OpenCV can open: rtsp://, http(s):// (MJPEG) ..."""

    kind: Literal["rtsp", "http"]
    url: str

    @field_validator("url")
    @classmethod
    def _scheme(cls, v: str) -> str:
        if "://" not in v:
            raise ValueError("must be a URL such as rtsp://host/stream or http://host/video.mjpg")
        return v


class WebcamSource(_Model):
    kind: Literal["webcam"] = "webcam"
    index: int = Field(0, ge=0)


SourceConfig = Annotated[
    Union[SyntheticSource, FileSource, StreamSource, WebcamSource], Field(discriminator="kind")
]


# --------------------------------------------------------------------------- vision


class DetectorConfig(_Model):
    """Which detector a camera runs."""

    kind: Literal["motion", "yolo"] = "motion"
    weights: Path | None = Field(None, description="YOLO weights (.pt/.onnx/OpenVINO dir); None = the shipped model.")
    conf: float = Field(0.3, gt=0, lt=1)
    iou: float = Field(0.5, gt=0, lt=1)
    imgsz: int = Field(640, ge=64, le=2048)
    min_area_px: int = Field(150, ge=1, description="Motion detector: smallest blob area kept.")


class LineConfig(_Model):
    """A counting line in image pixels, from point ``a`` to point ``b``.

    ``forward`` is a crossing from the left of a->b to its right (image coordinates,
    y down); ``forward_name``/``backward_name`` label the directions for people.
    """

    id: str
    a: PixelPoint
    b: PixelPoint
    forward_name: str = "forward"
    backward_name: str = "backward"


class ZoneConfig(_Model):
    """A polygon in image pixels over which occupancy is measured."""

    id: str
    polygon: tuple[PixelPoint, ...] = Field(min_length=3)


class CalibrationConfig(_Model):
    """Pixel -> ground (metres) mapping: 4+ image points and their ground positions."""

    image_points: tuple[PixelPoint, ...] = Field(min_length=4)
    ground_points_m: tuple[PixelPoint, ...] = Field(min_length=4)

    @model_validator(mode="after")
    def _same_length(self) -> CalibrationConfig:
        if len(self.image_points) != len(self.ground_points_m):
            raise ValueError("image_points and ground_points_m must have the same number of points")
        return self


class CameraConfig(_Model):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str
    location: LatLon = Field(description="(lat, lon) of the camera.")
    segment: str = Field(description="Id of the road segment this camera watches.")
    source: SourceConfig
    analysis_fps: float = Field(5.0, gt=0, le=60)
    detector: DetectorConfig = DetectorConfig()
    lines: tuple[LineConfig, ...] = ()
    zones: tuple[ZoneConfig, ...] = ()
    calibration: CalibrationConfig | None = None
    enabled: bool = True

    @field_validator("location")
    @classmethod
    def _latlon(cls, v: LatLon) -> LatLon:
        lat, lon = v
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise ValueError("must be (lat, lon) in degrees")
        return v


class CongestionThresholds(_Model):
    """Occupancy (0-1) at which a segment enters each level; hysteresis applied on the way down."""

    moderate: float = Field(0.15, ge=0, le=1)
    heavy: float = Field(0.3, ge=0, le=1)
    jammed: float = Field(0.5, ge=0, le=1)
    hysteresis: float = Field(0.05, ge=0, le=0.5)
    min_dwell_s: float = Field(10.0, ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> CongestionThresholds:
        if not (self.moderate < self.heavy < self.jammed):
            raise ValueError("thresholds must rise: moderate < heavy < jammed")
        return self


class SegmentConfig(_Model):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str
    name_ur: str | None = Field(None, description="Urdu name for the public page.")
    path: tuple[LatLon, ...] = Field(min_length=2, description="Polyline (lat, lon) along the road.")
    speed_limit_kmh: float = Field(60.0, gt=0, le=200)
    congestion: CongestionThresholds = CongestionThresholds()


# --------------------------------------------------------------------------- services


class RedisConfig(_Model):
    url: str | None = Field(None, description="redis:// URL; None (and REDIS_URL unset) starts an embedded redis-server.")
    stream_maxlen: int = Field(100_000, ge=100, description="Approximate cap (MAXLEN ~) on every stream.")
    data_dir: Path = Field(Path("var/redis"), description="Data dir of the embedded server.")


class WorkerConfig(_Model):
    heartbeat_s: float = Field(1.0, gt=0, le=30)
    density_interval_s: float = Field(1.0, gt=0, le=60)
    jpeg_quality: int = Field(70, ge=10, le=100)
    frame_publish_fps: float = Field(5.0, gt=0, le=30, description="Max rate of the latest-frame key per camera.")
    reconnect_initial_s: float = Field(0.5, gt=0)
    reconnect_max_s: float = Field(30.0, gt=0)


class MapConfig(_Model):
    center: LatLon = (34.0, 71.55)
    zoom: int = Field(13, ge=1, le=20)
    tile_url: str | None = Field(None, description="XYZ tile URL; None draws local GeoJSON roads only.")
    tile_attribution: str = ""
    roads_geojson: Path = Field(Path("config/peshawar_roads.geojson"))


class DashboardConfig(_Model):
    host: str = "127.0.0.1"
    port: int = Field(8050, ge=1, le=65535)
    refresh_ms: int = Field(1000, ge=100, le=60_000)
    map: MapConfig = MapConfig()


class AppConfig(_Model):
    """The whole system's configuration."""

    city: str = "Peshawar"
    redis: RedisConfig = RedisConfig()
    worker: WorkerConfig = WorkerConfig()
    dashboard: DashboardConfig = DashboardConfig()
    segments: tuple[SegmentConfig, ...] = Field(min_length=1)
    cameras: tuple[CameraConfig, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _references(self) -> AppConfig:
        seg_ids = [s.id for s in self.segments]
        _unique(seg_ids, "segments")
        _unique([c.id for c in self.cameras], "cameras")
        for i, cam in enumerate(self.cameras):
            if cam.segment not in seg_ids:
                raise ValueError(f"cameras[{i}].segment: unknown segment {cam.segment!r} (known: {', '.join(seg_ids)})")
            _unique([ln.id for ln in cam.lines], f"cameras[{i}].lines")
            _unique([z.id for z in cam.zones], f"cameras[{i}].zones")
        return self

    def camera(self, camera_id: str) -> CameraConfig:
        for cam in self.cameras:
            if cam.id == camera_id:
                return cam
        raise KeyError(camera_id)

    def segment(self, segment_id: str) -> SegmentConfig:
        for seg in self.segments:
            if seg.id == segment_id:
                return seg
        raise KeyError(segment_id)


def _unique(ids: list[str], where: str) -> None:
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            raise ValueError(f"{where}: duplicate id {i!r}")
        seen.add(i)


class ConfigError(ValueError):
    """A configuration file that cannot be used; the message names the file and field."""


def _field_path(loc: tuple[object, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif str(part) in {"SyntheticSource", "FileSource", "StreamSource", "WebcamSource"} or str(part) in {
            "synthetic",
            "file",
            "rtsp",
            "http",
            "webcam",
        }:
            continue  # discriminated-union tag, not a field the user wrote
        else:
            out += ("." if out else "") + str(part)
    return out or "<root>"


def load_config(path: str | os.PathLike[str] | None = None) -> AppConfig:
    """Load and validate a YAML config.

    Args:
        path: YAML file; defaults to ``$SAFECITY_CONFIG`` or ``config/default.yaml``.

    Returns:
        The validated configuration. Relative paths inside it are resolved
        against the repository root.

    Raises:
        ConfigError: naming the file and each bad field.
    """
    p = Path(path or os.environ.get("SAFECITY_CONFIG") or DEFAULT_CONFIG)
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise ConfigError(f"{p}: config file not found") from e
    except yaml.YAMLError as e:
        raise ConfigError(f"{p}: not valid YAML: {e}") from e
    if not isinstance(raw, dict):
        raise ConfigError(f"{p}: top level must be a mapping of sections, got {type(raw).__name__}")
    try:
        return AppConfig.model_validate(raw)
    except ValidationError as e:
        lines = [f"{p}: invalid configuration ({e.error_count()} error(s)):"]
        for err in e.errors():
            lines.append(f"  {_field_path(tuple(err['loc']))}: {err['msg']}")
        raise ConfigError("\n".join(lines)) from None


def resolve_path(p: Path) -> Path:
    """Resolve a config path relative to the repository root."""
    return p if p.is_absolute() else REPO_ROOT / p


__all__ = [
    "LABELS",
    "AppConfig",
    "CameraConfig",
    "ConfigError",
    "DetectorConfig",
    "FileSource",
    "LineConfig",
    "SegmentConfig",
    "StreamSource",
    "SyntheticSource",
    "WebcamSource",
    "ZoneConfig",
    "load_config",
    "resolve_path",
]
