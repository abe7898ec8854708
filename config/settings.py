"""The one configuration model, loaded from YAML.

Every section is a pydantic model with ``extra="forbid"`` so a typo is an error,
and :func:`load_config` turns validation errors into messages that name the file
and the dotted field path (``cameras[2].source.url``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

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
    realtime: bool = Field(
        True, description="Pace frames at fps like a live camera; False renders as fast as possible."
    )
    duration_s: float | None = Field(
        None, gt=0, description="End after this many seconds of scene time; None runs forever."
    )
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


SourceConfig = Annotated[SyntheticSource | FileSource | StreamSource | WebcamSource, Field(discriminator="kind")]


# --------------------------------------------------------------------------- vision


class DetectorConfig(_Model):
    """Which detector a camera runs."""

    kind: Literal["motion", "yolo"] = "motion"
    weights: Path | None = Field(None, description="YOLO weights (.pt/.onnx/OpenVINO dir); None = the shipped model.")
    conf: float = Field(0.3, gt=0, lt=1)
    iou: float = Field(0.5, gt=0, lt=1)
    agnostic_nms: bool = Field(
        True,
        description="yolo: one box per vehicle: non-maximum suppression across classes (a vehicle scored as both "
        "car and truck keeps its best box only, instead of being counted and tracked twice); false = per class, "
        "as ultralytics predicts by default.",
    )
    imgsz: int | None = Field(
        None,
        ge=64,
        le=2048,
        description="yolo: inference size (longest side, pixels); None = the size the model was trained at "
        "(512 for the shipped model; 640 for a model that does not say).",
    )
    tiles: tuple[Annotated[int, Field(ge=1, le=8)], Annotated[int, Field(ge=1, le=8)]] | None = Field(
        None,
        description="yolo: tiled inference for wide views with small, far vehicles: [columns, rows] of overlapping "
        "tiles, each run at the model's size, merged with the whole-frame pass (tile_full_frame) by NMS; "
        "None = the whole frame only. Costs about columns x rows + 1 passes per frame (bench.detector --tiles).",
    )
    tile_overlap: float = Field(
        0.2, ge=0, lt=0.9, description="yolo with tiles: fraction of a tile shared with its neighbour."
    )
    tile_full_frame: bool = Field(
        True,
        description="yolo with tiles: also run the whole frame (vehicles larger than a tile, close to the camera).",
    )
    device: str = Field(
        "cpu",
        description="yolo inference device: cpu, or gpu / cuda (optionally cuda:N / gpu.N): OpenVINO's GPU plugin, "
        "onnxruntime's CUDA provider (onnxruntime-gpu), torch's CUDA for runtime ultralytics.",
    )
    min_area_px: int = Field(150, ge=1, description="Motion detector: smallest blob area kept.")

    @field_validator("device")
    @classmethod
    def _device_name(cls, v: str) -> str:
        import re

        if not re.fullmatch(r"cpu|(gpu|cuda)([:.]\d+)?", v.strip().lower()):
            raise ValueError(f"unknown device {v!r} (expected cpu, gpu or cuda, optionally with an index: cuda:1)")
        return v.strip().lower()

    runtime: Literal["auto", "openvino", "onnxruntime", "ultralytics"] = Field(
        "auto",
        description="yolo: inference runtime. auto = the fastest of OpenVINO and onnxruntime, measured at start-up; "
        "ultralytics = the reference (PyTorch) predictor. A .pt is exported to ONNX once, into var/cache/detector.",
    )
    threads: int = Field(
        0,
        ge=0,
        le=256,
        description="yolo: inference threads per camera; 0 = chosen at start-up (1, or all cores if clearly faster).",
    )
    precision: Literal["auto", "int8", "bf16", "f32"] = Field(
        "auto",
        description="yolo on OpenVINO/onnxruntime: auto = the fastest available: on OpenVINO the int8 model quantized "
        "from these weights (<stem>_int8_openvino_model/ beside them, made by python -m models.quantize) when there "
        "is one, else bf16; int8 = that model (an error when missing); bf16 = the float model at the runtime's "
        "default (bf16 on CPUs with AMX/AVX512-BF16, else f32; onnxruntime: f32); f32 = full precision.",
    )
    motion_gate: bool = Field(
        True,
        description="yolo: run the detector only on frames where the motion detector sees change (tracks are carried "
        "over the others).",
    )
    share: bool = Field(
        True,
        description="yolo on OpenVINO/onnxruntime: cameras of one worker with the same detector settings share one "
        "loaded model; frames they need detected at the same moment go through it as one batch.",
    )
    max_batch: int = Field(8, ge=1, le=64, description="yolo with share: most frames run through the model at once.")
    gate_refresh_frames: int = Field(
        10,
        ge=1,
        le=100_000,
        description="yolo with motion_gate: run the detector at least every this many analysed frames.",
    )


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


# --------------------------------------------------------------------------- speed, rules, incidents


class LaneCalibration(_Model):
    """Speed calibration from one lane: its four painted corners in the image and its size.

    The near/far edges of a lane of known width and length are the four points of a
    homography (the same mapping as :class:`CalibrationConfig`, with the lane's
    near-left corner as the ground origin, ``y`` along the lane).
    """

    near_left: PixelPoint
    near_right: PixelPoint
    far_right: PixelPoint
    far_left: PixelPoint
    width_m: float = Field(3.5, gt=0.5, le=10, description="Lane width, metres.")
    length_m: float = Field(gt=1, le=500, description="Length of the marked stretch, metres.")

    def as_calibration(self) -> CalibrationConfig:
        """The equivalent 4-point calibration."""
        w, ln = self.width_m, self.length_m
        return CalibrationConfig(
            image_points=(self.near_left, self.near_right, self.far_right, self.far_left),
            ground_points_m=((0.0, 0.0), (w, 0.0), (w, ln), (0.0, ln)),
        )


class SpeedConfig(_Model):
    """Per-track speed from the calibration: smoothing window and plausibility bounds."""

    window_s: float = Field(1.5, gt=0.2, le=10, description="Positions from this much recent time are fitted.")
    min_span_s: float = Field(0.6, gt=0, le=10, description="No speed until a track spans this much time.")
    min_samples: int = Field(4, ge=2, le=200, description="No speed from fewer positions than this.")
    max_kmh: float = Field(200.0, gt=10, le=400, description="Faster is implausible: reported as unknown.")
    max_accel_mps2: float = Field(15.0, gt=0, le=100, description="A jump needing more than this restarts the fit.")
    edge_margin_px: float = Field(
        3.0, ge=0, le=100, description="Boxes this close to the image edge are clipped: not used."
    )
    max_m_per_px: float = Field(
        0.5, gt=0, le=100, description="Positions where a pixel spans more road than this are too coarse: not used."
    )


class OverspeedRule(_Model):
    """Over-speed: the smoothed speed stays above limit + tolerance for ``min_duration_s``."""

    limit_kmh: float | None = Field(None, gt=0, le=200, description="None = the segment's speed limit.")
    tolerance_kmh: float = Field(5.0, ge=0, le=50, description="Enforcement margin above the limit.")
    min_duration_s: float = Field(0.5, ge=0, le=10)


class FlowZone(_Model):
    """A zone (e.g. a one-way street or a lane) where traffic may only move along ``flow``."""

    id: str
    polygon: tuple[PixelPoint, ...] = Field(min_length=3)
    flow: tuple[PixelPoint, PixelPoint] = Field(
        description="Two image points: legal travel is from the first to the second."
    )


class WrongWayRule(_Model):
    """Wrong-way driving.

    ``road_axis`` is the road's centre line in the image, from the near end to the far
    end; with ``traffic_side: left`` (Pakistan, the default) vehicles left of it must move
    away from the camera and vehicles right of it toward it (reversed for right-hand
    traffic). ``zones`` add one-way areas with their own legal direction.
    """

    road_axis: tuple[PixelPoint, PixelPoint] | None = None
    zones: tuple[FlowZone, ...] = ()
    min_distance_m: float = Field(6.0, gt=0, le=200, description="Distance driven against the flow before it counts.")
    min_speed_kmh: float = Field(5.0, ge=0, le=100, description="Slower movement (jitter, manoeuvres) is ignored.")

    @model_validator(mode="after")
    def _something(self) -> WrongWayRule:
        if self.road_axis is None and not self.zones:
            raise ValueError("give a road_axis or at least one zone")
        return self


class RedLightRule(_Model):
    """Crossing a stop line in the controlled direction while the signal is red."""

    signal: str = Field(description="Id of a signal in `signals`.")
    stop_line: tuple[PixelPoint, PixelPoint]
    direction: Literal["forward", "backward"] = Field(
        description="Crossing direction the signal controls (forward = from the left of a->b to its right on screen)."
    )
    amber_is_violation: bool = False


class StoppingZone(_Model):
    """A stalled vehicle / no-stopping zone: a vehicle stopped longer than ``max_stop_s``.

    Always raises a ``stalled`` incident for the operator; with ``no_stopping`` it is
    also a violation (an e-ticket).
    """

    id: str
    polygon: tuple[PixelPoint, ...] = Field(min_length=3)
    max_stop_s: float = Field(30.0, gt=0, le=3600)
    no_stopping: bool = True
    stop_speed_kmh: float = Field(3.0, gt=0, le=20, description="Below this a vehicle counts as stopped.")


class CameraRules(_Model):
    """What each camera enforces (all optional; over-speed on by default where calibrated)."""

    overspeed: OverspeedRule | None = OverspeedRule()
    wrong_way: WrongWayRule | None = None
    red_light: tuple[RedLightRule, ...] = ()
    stopping: tuple[StoppingZone, ...] = ()


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
    lane_calibration: LaneCalibration | None = Field(
        None, description="Alternative to `calibration`: one lane's corners and its width/length."
    )
    speed: SpeedConfig = SpeedConfig()
    rules: CameraRules = CameraRules()

    @model_validator(mode="after")
    def _ground_rules_need_calibration(self) -> CameraConfig:
        if self.rules.wrong_way is not None and self.calibration is None and self.lane_calibration is None:
            raise ValueError("rules.wrong_way needs a calibration (calibration or lane_calibration)")
        return self

    def ground_calibration(self) -> CalibrationConfig | None:
        """Pixel -> metres calibration: ``calibration``, else ``lane_calibration``, else None."""
        if self.calibration is not None:
            return self.calibration
        return self.lane_calibration.as_calibration() if self.lane_calibration is not None else None

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
    smooth_s: float = Field(20.0, ge=0, le=600, description="Occupancy and speed are averaged over this window first.")

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
    url: str | None = Field(
        None,
        description="redis://, rediss://, redis+sentinel:// or redis+cluster:// URL; None (and REDIS_URL unset) "
        "starts an embedded redis-server.",
    )
    stream_maxlen: int = Field(100_000, ge=100, description="Approximate cap (MAXLEN ~) on every stream.")
    data_dir: Path = Field(Path("var/redis"), description="Data dir of the embedded server.")
    wait_replicas: int = Field(
        0,
        ge=0,
        le=10,
        description="Replicas that must acknowledge spooled events before the worker forgets them (Sentinel).",
    )


class WorkerConfig(_Model):
    heartbeat_s: float = Field(1.0, gt=0, le=30)
    density_interval_s: float = Field(1.0, gt=0, le=60)
    jpeg_quality: int = Field(70, ge=10, le=100)
    frame_publish_fps: float = Field(5.0, gt=0, le=30, description="Max rate of the latest-frame key per camera.")
    reconnect_initial_s: float = Field(0.5, gt=0)
    reconnect_max_s: float = Field(
        4.0, gt=0, description="Largest reconnect delay: a camera is back at most this long after its stream returns."
    )
    stall_timeout_s: float = Field(
        2.5, gt=0, le=60, description="A live camera without a frame this long is shown offline and reopened."
    )
    lease_ttl_s: float = Field(
        8.0, ge=1, le=120, description="Camera lease lifetime: a dead worker's cameras are taken over after this."
    )
    lease_tick_s: float = Field(
        1.0, gt=0, le=30, description="Lease renewal and rebalancing period (< lease_ttl_s / 2)."
    )
    spool_dir: Path = Field(
        Path("var/spool"), description="Local on-disk event spool (events wait here while Redis is down)."
    )
    spool_max_events: int = Field(
        1_000_000, ge=1000, description="Spool bound; beyond it the oldest events are dropped and counted."
    )
    spool_sync: Literal["off", "normal", "full"] = Field(
        "normal", description="normal: survives a process kill; full: fsync per append, survives power loss."
    )

    @model_validator(mode="after")
    def _lease_timing(self) -> WorkerConfig:
        if self.lease_tick_s * 2 >= self.lease_ttl_s:
            raise ValueError("lease_tick_s must be less than half of lease_ttl_s")
        return self


class MapConfig(_Model):
    center: LatLon = (34.0, 71.55)
    zoom: int = Field(13, ge=1, le=20)
    tile_url: str | None = Field(None, description="XYZ tile URL; None draws local GeoJSON roads only.")
    tile_attribution: str = ""
    roads_geojson: Path = Field(Path("config/peshawar_roads.geojson"))


class LiveConfig(_Model):
    """The websocket push server (``python -m dashboard.live``)."""

    host: str = "127.0.0.1"
    port: int = Field(8765, ge=1, le=65535)
    url: str | None = Field(
        None, description="Websocket URL browsers use (behind a proxy); None = ws://<page host>:<port>/ws."
    )
    allowed_origins: tuple[str, ...] = Field(
        (), description="Extra page origins allowed to open websockets (the dashboard's own is always allowed)."
    )
    coalesce_ms: int = Field(500, ge=50, le=10_000, description="Camera/segment status batches at most this often.")


class DashboardConfig(_Model):
    host: str = "127.0.0.1"
    port: int = Field(8050, ge=1, le=65535)
    refresh_ms: int = Field(1000, ge=100, le=60_000)
    map: MapConfig = MapConfig()
    live: LiveConfig = LiveConfig()
    session_ttl_s: int = Field(43_200, ge=60, le=30 * 86_400, description="Login sessions end this long after login.")
    secure_cookies: bool = Field(False, description="Mark cookies Secure (set True when served over HTTPS).")
    login_attempts: int = Field(5, ge=1, le=1000, description="Failed logins per user and address per 15 minutes.")


class UserConfig(_Model):
    """A person who logs in to the dashboard. Admin edits in SQL override these entries.

    ``password_hash`` is an argon2id (or bcrypt) hash, never a password:
    ``python -m dashboard.users hash`` makes one.
    """

    username: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")
    role: Literal["operator", "warden", "admin"]
    password_hash: str = Field(description="argon2id or bcrypt hash; plain passwords are refused.")
    name: str = ""
    zones: tuple[str, ...] = Field((), description="Warden: road segment ids they answer for.")

    @field_validator("password_hash")
    @classmethod
    def _hashed(cls, v: str) -> str:
        if not v.startswith(("$argon2id$", "$argon2i$", "$2b$", "$2a$", "$2y$")):
            raise ValueError(
                "must be an argon2id or bcrypt hash (python -m dashboard.users hash), never a plain password"
            )
        return v


class SignalPhaseSpan(_Model):
    phase: Literal["green", "amber", "red"]
    duration_s: float = Field(gt=0, le=600)


class SignalConfig(_Model):
    """A traffic signal (one junction approach).

    ``source: schedule``: the phase follows ``cycle``; at UTC time ``t`` (seconds since
    1970) the cycle position is ``(t - offset_s) mod cycle length``.
    ``source: stream``: the phase comes from ``signal.state`` events a controller
    integration writes; unknown (no red-light tickets) when none is newer than ``stale_s``.
    """

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str = ""
    source: Literal["schedule", "stream"] = "schedule"
    cycle: tuple[SignalPhaseSpan, ...] = Field(
        (
            SignalPhaseSpan(phase="green", duration_s=30),
            SignalPhaseSpan(phase="amber", duration_s=3),
            SignalPhaseSpan(phase="red", duration_s=27),
        ),
        min_length=1,
    )
    offset_s: float = 0.0
    stale_s: float = Field(300.0, gt=0, description="Stream source: a state older than this is no longer trusted.")


class FineTier(_Model):
    over_kmh: float = Field(gt=0, description="Applies when the speed is this much above the limit or more.")
    amount_pkr: int = Field(gt=0)


class FinesConfig(_Model):
    """Fine schedule in Pakistani rupees (PKR)."""

    overspeed_pkr: int = Field(1500, gt=0)
    overspeed_tiers: tuple[FineTier, ...] = (
        FineTier(over_kmh=20, amount_pkr=2500),
        FineTier(over_kmh=40, amount_pkr=5000),
    )
    wrong_way_pkr: int = Field(2000, gt=0)
    red_light_pkr: int = Field(1000, gt=0)
    no_stopping_pkr: int = Field(500, gt=0)
    due_days: int = Field(30, ge=1, le=365, description="Days to pay after approval.")


class WardenConfig(_Model):
    """A traffic warden and the road segments (zones) they answer for."""

    username: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    name: str
    segments: tuple[str, ...] = ()


class AlertsConfig(_Model):
    escalate_after_s: float = Field(
        120.0, gt=0, le=86_400, description="Unacknowledged alerts go to the control room after this."
    )
    control_room: str = Field("control-room", description="Name of the control-room push channel/role.")


class ArchiveConfig(_Model):
    url: str | None = Field(None, description="SQLAlchemy URL; None = $ARCHIVE_URL, else sqlite:///var/archive.db.")
    evidence_dir: Path = Field(Path("var/evidence"), description="Content-addressed evidence files.")


class EvidenceConfig(_Model):
    """Evidence captured by the worker for each violation."""

    frames: int = Field(3, ge=2, le=3, description="Frames around the moment (before, at, after).")
    spacing_s: float = Field(0.6, gt=0, le=5, description="Time between the evidence frames.")
    hold_s: float = Field(
        3.0, ge=0, le=30, description="Wait this long (or until the track ends) for a better plate read."
    )
    buffer_s: float = Field(3.0, gt=0, le=30, description="Recent frames kept per camera.")
    redis_ttl_s: int = Field(
        86_400, ge=60, description="Evidence blobs wait this long in Redis for the ticketing service."
    )
    jpeg_quality: int = Field(90, ge=50, le=100)
    read_plates: Literal["off", "violators", "all"] = Field(
        "violators",
        description="Read plates (ANPR, when installed) of violators only, of every vehicle (watch list), or none.",
    )


class SosConfig(_Model):
    rate_limit: int = Field(3, ge=1, le=1000, description="SOS reports allowed per client per window.")
    rate_window_s: float = Field(600.0, gt=0)
    max_text_chars: int = Field(500, ge=10, le=5000)
    service_radius_km: float = Field(
        60.0, gt=0, description="Reports farther than this from the map centre are refused."
    )


class AppConfig(_Model):
    """The whole system's configuration."""

    city: str = "Peshawar"
    redis: RedisConfig = RedisConfig()
    worker: WorkerConfig = WorkerConfig()
    dashboard: DashboardConfig = DashboardConfig()
    segments: tuple[SegmentConfig, ...] = Field(min_length=1)
    cameras: tuple[CameraConfig, ...] = Field(min_length=1)
    traffic_side: Literal["left", "right"] = Field(
        "left", description="Side of the road traffic keeps to (Pakistan: left)."
    )
    signals: tuple[SignalConfig, ...] = ()
    fines: FinesConfig = FinesConfig()
    wardens: tuple[WardenConfig, ...] = ()
    alerts: AlertsConfig = AlertsConfig()
    watchlist_file: Path | None = Field(
        Path("config/watchlist.yaml"),
        description="YAML/CSV list of watch-listed plates (reason, priority) that seeds the Redis watchlist "
        "(bus/watchlist.py) on first start; edits then happen in Redis. Relative to the repository root; "
        "null = start with an empty watchlist.",
    )
    archive: ArchiveConfig = ArchiveConfig()
    evidence: EvidenceConfig = EvidenceConfig()
    sos: SosConfig = SosConfig()
    users: tuple[UserConfig, ...] = Field((), description="Dashboard logins (operator, warden, admin).")

    @field_validator("watchlist_file")
    @classmethod
    def _watchlist_file(cls, v: Path | None) -> Path | None:
        if v is None:
            return v
        if v.suffix.lower() not in (".yaml", ".yml", ".json", ".csv"):
            raise ValueError(f"watchlist files are .yaml, .yml, .json or .csv, got {v.name!r}")
        if not resolve_path(v).is_file():
            raise ValueError(f"watchlist file not found: {resolve_path(v)}")
        return v

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
        sig_ids = [s.id for s in self.signals]
        _unique(sig_ids, "signals")
        for i, cam in enumerate(self.cameras):
            for j, rl in enumerate(cam.rules.red_light):
                if rl.signal not in sig_ids:
                    raise ValueError(
                        f"cameras[{i}].rules.red_light[{j}].signal: unknown signal {rl.signal!r} (known: {', '.join(sig_ids) or 'none'})"
                    )
            _unique([z.id for z in cam.rules.stopping], f"cameras[{i}].rules.stopping")
        _unique([w.username for w in self.wardens], "wardens")
        for i, w in enumerate(self.wardens):
            for seg in w.segments:
                if seg not in seg_ids:
                    raise ValueError(f"wardens[{i}].segments: unknown segment {seg!r}")
        _unique([u.username for u in self.users], "users")
        for i, u in enumerate(self.users):
            for seg in u.zones:
                if seg not in seg_ids:
                    raise ValueError(f"users[{i}].zones: unknown segment {seg!r}")
        return self

    def signal(self, signal_id: str) -> SignalConfig:
        for sig in self.signals:
            if sig.id == signal_id:
                return sig
        raise KeyError(signal_id)

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
            name = str(part)
            out += ("." if out else "") + (name if name.isprintable() and name.strip() else repr(name))
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
    "AlertsConfig",
    "AppConfig",
    "ArchiveConfig",
    "CameraConfig",
    "CameraRules",
    "EvidenceConfig",
    "FinesConfig",
    "LaneCalibration",
    "OverspeedRule",
    "RedLightRule",
    "SignalConfig",
    "SosConfig",
    "SpeedConfig",
    "StoppingZone",
    "WardenConfig",
    "WrongWayRule",
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
