"""Where evidence files, clips and recordings are kept: local disk (default) or an S3-compatible store."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from config.base import ConfigModel


class S3StoreConfig(ConfigModel):
    """An S3-compatible bucket (AWS S3, MinIO, Ceph RGW, moto ...)."""

    bucket: str = Field(min_length=3, max_length=63, pattern=r"^[a-z0-9][a-z0-9.-]+[a-z0-9]$")
    endpoint_url: str | None = Field(None, description="e.g. http://minio:9000; None = AWS S3 of `region`.")
    region: str = "us-east-1"
    prefix: str = Field("", description="Key prefix inside the bucket, e.g. `safecity/`.", pattern=r"^([\w.-]+/)*$")
    access_key_env: str = Field("AWS_ACCESS_KEY_ID", description="Environment variable holding the access key.")
    secret_key_env: str = Field("AWS_SECRET_ACCESS_KEY", description="Environment variable holding the secret key.")
    create_bucket: bool = Field(False, description="Create the bucket at start when it is missing (dev, tests).")


class StorageConfig(ConfigModel):
    """The one blob store that workers, services and the dashboard share (``storage/``).

    ``backend: disk`` keeps files under ``dir`` (default: ``archive.evidence_dir``, today's layout);
    ``backend: s3`` puts them in ``s3.bucket`` so several worker machines and the dashboard share one store.
    """

    backend: Literal["disk", "s3"] = "disk"
    dir: Path | None = Field(None, description="disk: root directory; None = archive.evidence_dir.")
    s3: S3StoreConfig | None = None
    url_ttl_s: int = Field(300, ge=10, le=3600, description="Lifetime of an operator's download/playback link.")
    signing_key_env: str = Field(
        "SAFECITY_MEDIA_KEY",
        description="disk: environment variable with the HMAC key of download links; unset = a random key kept "
        "in var/media.key (shared by the processes of one machine).",
    )

    @model_validator(mode="after")
    def _s3_needs_bucket(self) -> StorageConfig:
        if self.backend == "s3" and self.s3 is None:
            raise ValueError("backend s3 needs an `s3:` section with at least `bucket`")
        return self


__all__ = ["S3StoreConfig", "StorageConfig"]
