"""Blob stores for the storage tests: the disk backend, and the S3 backend against a real S3-compatible server.

The S3 server is moto's standalone server (``moto[server]``, requirements-dev.txt) started as a subprocess on a
free loopback port; without moto installed, or when it does not come up, the S3 cases skip and say why.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.blobstore import S3StoreConfig
from storage.base import BlobStore
from storage.disk import DiskStore
from storage.signing import UrlSigner


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a running moto S3 server (session-wide)."""
    if importlib.util.find_spec("moto") is None or importlib.util.find_spec("boto3") is None:
        pytest.skip("moto[server] / boto3 not installed (pip install -r requirements-dev.txt): S3 backend untested")
    port = _free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], stdout=out, stderr=out
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1).close()
            break
        except Exception:  # noqa: BLE001 - not up yet
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.skip(f"moto S3 server did not start: {log.read_text(errors='replace')[-500:]}")
            time.sleep(0.2)
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def s3_config(endpoint: str, bucket: str) -> S3StoreConfig:
    os.environ.setdefault("SAFECITY_TEST_S3_KEY", "testing")
    os.environ.setdefault("SAFECITY_TEST_S3_SECRET", "testing")
    return S3StoreConfig(
        bucket=bucket,
        endpoint_url=endpoint,
        access_key_env="SAFECITY_TEST_S3_KEY",
        secret_key_env="SAFECITY_TEST_S3_SECRET",
        create_bucket=True,
    )


_BUCKETS = iter(range(10**6))


@pytest.fixture(params=["disk", "s3"])
def blob_store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    """The same tests on each backend: a fresh directory, or a fresh bucket on the moto server."""
    if request.param == "disk":
        return DiskStore(tmp_path / "blobs", UrlSigner(b"k" * 32))
    from storage.s3 import S3Store

    endpoint = request.getfixturevalue("s3_endpoint")
    return S3Store(s3_config(endpoint, f"test-{os.getpid()}-{next(_BUCKETS)}"))
