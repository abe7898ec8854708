"""The one configuration model, loaded from YAML.

Every section is a pydantic model with ``extra="forbid"`` (:class:`config.base.ConfigModel`),
one module per section (``config/sources.py``, ``config/detector.py``, ``config/camera.py`` ...);
this module assembles them into :class:`AppConfig`, and :func:`load_config` turns validation
errors into messages that name the file and the dotted field path (``cameras[2].source.url``).
Every section model is re-exported here: ``from config.settings import CameraConfig`` works.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from config.base import ConfigModel, LatLon, PixelPoint
from config.blobstore import S3StoreConfig, StorageConfig
from config.calibration import CalibrationConfig, LaneCalibration, SpeedConfig
from config.camera import CameraConfig, LineConfig, ZoneConfig
from config.clips import CameraClips, CameraRecording, ClipsConfig, RecordingConfig
from config.detector import DetectorConfig
from config.enforcement import EvidenceConfig, FinesConfig, FineTier, OverdueStep
from config.notices import EmailConfig, NoticesConfig, OwnerRegisterConfig, SmsConfig
from config.notify import NOTIFY_TAGS, NotifyConfig
from config.portal import PaymentConfig, PortalConfig
from config.rules import CameraRules, FlowZone, OverspeedRule, RedLightRule, StoppingZone, WrongWayRule
from config.segments import CongestionThresholds, SegmentConfig
from config.signals import SignalConfig, SignalPhaseSpan
from config.sources import (
    SOURCE_TAGS,
    FileSource,
    SourceConfig,
    StreamSource,
    SyntheticRuleBreaker,
    SyntheticSource,
    SyntheticVehicleMix,
    WebcamSource,
)
from config.storage import ArchiveConfig, RedisConfig
from config.users import AlertsConfig, UserConfig, WardenConfig
from config.web import DashboardConfig, LiveConfig, MapConfig, SosConfig
from config.worker import WorkerConfig

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = REPO_ROOT / "config" / "default.yaml"


class AppConfig(ConfigModel):
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
    clips: ClipsConfig = ClipsConfig()
    recording: RecordingConfig = RecordingConfig()
    storage: StorageConfig = StorageConfig()
    sos: SosConfig = SosConfig()
    portal: PortalConfig = PortalConfig()
    notices: NoticesConfig = NoticesConfig()
    users: tuple[UserConfig, ...] = Field((), description="Dashboard logins (operator, warden, admin).")
    notify: NotifyConfig = NotifyConfig()

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
        for i, cam in enumerate(self.cameras):
            rec = cam.recording
            if rec is not None and rec.enabled and self.recording.retention_days == self.recording.retention_gb == 0:
                raise ValueError(f"cameras[{i}].recording: needs recording.retention_days or retention_gb")
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
        for i, d in enumerate(self.notify.destinations):
            for seg in d.filters.zones:
                if seg not in seg_ids:
                    raise ValueError(
                        f"notify.destinations[{i}].filters.zones: unknown segment {seg!r} (known: {', '.join(seg_ids)})"
                    )
        return self

    def signal(self, signal_id: str) -> SignalConfig:
        """The signal with this id.

        Raises:
            KeyError: no such signal.
        """
        for sig in self.signals:
            if sig.id == signal_id:
                return sig
        raise KeyError(signal_id)

    def camera(self, camera_id: str) -> CameraConfig:
        """The camera with this id.

        Raises:
            KeyError: no such camera.
        """
        for cam in self.cameras:
            if cam.id == camera_id:
                return cam
        raise KeyError(camera_id)

    def clips_for(self, camera: CameraConfig) -> ClipsConfig:
        """The camera's effective clip settings: the global ``clips:`` overlaid with ``cameras[i].clips``."""
        return self.clips.merged(camera.clips)

    def recording_for(self, camera: CameraConfig) -> RecordingConfig:
        """The camera's effective recording settings: the global ``recording:`` overlaid with its own."""
        return self.recording.merged(camera.recording)

    def segment(self, segment_id: str) -> SegmentConfig:
        """The road segment with this id.

        Raises:
            KeyError: no such segment.
        """
        for seg in self.segments:
            if seg.id == segment_id:
                return seg
        raise KeyError(segment_id)


def _unique(ids: list[str], where: str) -> None:
    """Raise when an id repeats.

    Raises:
        ValueError: ``<where>: duplicate id '<id>'``.
    """
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            raise ValueError(f"{where}: duplicate id {i!r}")
        seen.add(i)


class ConfigError(ValueError):
    """A configuration file that cannot be used; the message names the file and field."""


def _field_path(loc: tuple[object, ...]) -> str:
    """The dotted path a user wrote (``cameras[2].source.url``) from a pydantic error location.

    Source-union tags (:data:`config.sources.SOURCE_TAGS`) are dropped; ``<root>`` for an empty path.
    """
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif str(part) in SOURCE_TAGS or str(part) in NOTIFY_TAGS:
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
    "DEFAULT_CONFIG",
    "REPO_ROOT",
    "AlertsConfig",
    "AppConfig",
    "ArchiveConfig",
    "CalibrationConfig",
    "CameraClips",
    "CameraConfig",
    "CameraRecording",
    "ClipsConfig",
    "CameraRules",
    "ConfigError",
    "ConfigModel",
    "CongestionThresholds",
    "DashboardConfig",
    "DetectorConfig",
    "EmailConfig",
    "EvidenceConfig",
    "FileSource",
    "FineTier",
    "FinesConfig",
    "FlowZone",
    "LaneCalibration",
    "LatLon",
    "LineConfig",
    "LiveConfig",
    "MapConfig",
    "NoticesConfig",
    "OverdueStep",
    "NotifyConfig",
    "OverspeedRule",
    "PaymentConfig",
    "OwnerRegisterConfig",
    "PixelPoint",
    "PortalConfig",
    "RecordingConfig",
    "RedLightRule",
    "RedisConfig",
    "SegmentConfig",
    "S3StoreConfig",
    "SignalConfig",
    "SignalPhaseSpan",
    "SmsConfig",
    "SosConfig",
    "SourceConfig",
    "SpeedConfig",
    "StoppingZone",
    "StorageConfig",
    "StreamSource",
    "SyntheticRuleBreaker",
    "SyntheticSource",
    "SyntheticVehicleMix",
    "UserConfig",
    "WardenConfig",
    "WebcamSource",
    "WorkerConfig",
    "WrongWayRule",
    "ZoneConfig",
    "load_config",
    "resolve_path",
]
