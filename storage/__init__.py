"""One blob store for evidence files, clips and recordings, shared by workers, services and the dashboard.

:class:`~storage.base.BlobStore` is the interface (put / get / open / exists / delete / url / list);
:class:`~storage.disk.DiskStore` keeps files under a directory (default, today's evidence layout) and
:class:`~storage.s3.S3Store` in an S3-compatible bucket (boto3), so several machines share one store.
Download links are short-lived: an HMAC-signed ``/media/<key>?exp=&sig=`` URL that the dashboard serves
to operators only (disk, :mod:`storage.signing`), or a presigned S3 URL (s3) that only operator pages
ever receive. :func:`~storage.factory.open_store` builds the configured one.
"""

from storage.base import BlobInfo, BlobNotFound, BlobStore, StorageError, check_key
from storage.factory import open_store

__all__ = ["BlobInfo", "BlobNotFound", "BlobStore", "StorageError", "check_key", "open_store"]
