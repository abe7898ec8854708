"""The S3 backend (boto3): blobs in one bucket of any S3-compatible server; presigned download links."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from config.blobstore import S3StoreConfig
from storage.base import BlobInfo, BlobNotFound, StorageError, check_key


class S3Store:
    """Blobs in ``bucket`` under ``prefix``.

    Args:
        cfg: Bucket, endpoint, region, prefix and the environment variables of the credentials.
        client: A boto3 S3 client (tests); None = one made from ``cfg``.
    """

    backend = "s3"

    def __init__(self, cfg: S3StoreConfig, client: Any = None) -> None:
        self.cfg = cfg
        self.bucket = cfg.bucket
        self.prefix = cfg.prefix
        self.client = client or self._client(cfg)
        if cfg.create_bucket:
            self._ensure_bucket()

    @staticmethod
    def _client(cfg: S3StoreConfig) -> Any:
        try:
            import boto3
            from botocore.config import Config
        except ImportError as e:  # pragma: no cover - boto3 is in requirements.txt
            raise StorageError("storage.backend s3 needs boto3 (pip install boto3)") from e
        return boto3.client(
            "s3",
            endpoint_url=cfg.endpoint_url,
            region_name=cfg.region,
            aws_access_key_id=os.environ.get(cfg.access_key_env) or None,
            aws_secret_access_key=os.environ.get(cfg.secret_key_env) or None,
            config=Config(
                signature_version="s3v4",
                retries={"max_attempts": 3, "mode": "standard"},
                # custom endpoints (MinIO, moto, Ceph) serve path-style URLs; AWS picks itself
                s3={"addressing_style": "path"} if cfg.endpoint_url else {},
            ),
        )

    def _ensure_bucket(self) -> None:
        from botocore.exceptions import ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError:
            try:
                self.client.create_bucket(Bucket=self.bucket)
            except ClientError as e:
                if "BucketAlreadyOwnedByYou" not in str(e):
                    raise StorageError(f"storage.s3.bucket {self.bucket!r}: cannot create: {e}") from e

    def _k(self, key: str) -> str:
        return self.prefix + check_key(key)

    def _call(self, what: str, fn: Any, **kw: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return fn(Bucket=self.bucket, **kw)
        except ClientError as e:
            code = str(e.response.get("Error", {}).get("Code", ""))
            if code in ("NoSuchKey", "404", "NotFound"):
                raise BlobNotFound(kw.get("Key", "")) from None
            raise StorageError(f"s3 {what} {kw.get('Key', '')!r} in bucket {self.bucket!r}: {e}") from e
        except BotoCoreError as e:
            raise StorageError(f"s3 {what} {kw.get('Key', '')!r}: {e}") from e

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        self._call("put", self.client.put_object, Key=self._k(key), Body=data, ContentType=content_type)

    def put_file(self, key: str, path: Path, content_type: str = "application/octet-stream") -> None:
        with open(path, "rb") as f:
            self._call("put", self.client.put_object, Key=self._k(key), Body=f, ContentType=content_type)

    def get(self, key: str) -> bytes | None:
        try:
            with self.open(key) as f:
                return f.read()
        except BlobNotFound:
            return None

    def open(self, key: str) -> BinaryIO:
        resp = self._call("get", self.client.get_object, Key=self._k(key))
        body: BinaryIO = resp["Body"]
        return body

    def exists(self, key: str) -> bool:
        return self.size(key) is not None

    def size(self, key: str) -> int | None:
        try:
            resp = self._call("head", self.client.head_object, Key=self._k(key))
        except BlobNotFound:
            return None
        return int(resp["ContentLength"])

    def delete(self, key: str) -> bool:
        if not self.exists(key):
            return False
        self._call("delete", self.client.delete_object, Key=self._k(key))
        return True

    def list(self, prefix: str = "") -> Iterator[BlobInfo]:
        token: str | None = None
        while True:
            kw: dict[str, Any] = {"Prefix": self.prefix + prefix}
            if token:
                kw["ContinuationToken"] = token
            resp = self._call("list", self.client.list_objects_v2, **kw)
            for o in resp.get("Contents", []):
                key = str(o["Key"])[len(self.prefix) :]
                yield BlobInfo(key, int(o["Size"]), int(o["LastModified"].timestamp() * 1000))
            if not resp.get("IsTruncated"):
                return
            token = resp.get("NextContinuationToken")

    def url(self, key: str, ttl_s: int) -> str:
        url: str = self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": self._k(key)}, ExpiresIn=int(ttl_s)
        )
        return url

    def local_path(self, key: str) -> Path | None:
        return None

    def origin(self) -> str:
        """Scheme and host the presigned links point at (the dashboard allows it as a media source)."""
        from urllib.parse import urlparse

        u = urlparse(self.url("probe", 60))
        return f"{u.scheme}://{u.netloc}"


__all__ = ["S3Store"]
