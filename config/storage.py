"""Where data lives: Redis (live state, streams) and the SQL archive with its evidence files."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from config.base import ConfigModel


class RedisConfig(ConfigModel):
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


class ArchiveConfig(ConfigModel):
    url: str | None = Field(None, description="SQLAlchemy URL; None = $ARCHIVE_URL, else sqlite:///var/archive.db.")
    evidence_dir: Path = Field(Path("var/evidence"), description="Content-addressed evidence files.")
    sightings_retention_days: float = Field(
        30,
        ge=0,
        le=3650,
        description="Plate sightings (personal data) older than this are purged with their crops; 0 = keep forever.",
    )
    purge_interval_s: float = Field(
        3600, ge=1, le=86_400, description="How often the sightings service purges expired sightings."
    )


__all__ = [
    "ArchiveConfig",
    "RedisConfig",
]
