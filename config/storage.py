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


__all__ = [
    "ArchiveConfig",
    "RedisConfig",
]
