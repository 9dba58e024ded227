"""Fixtures for the blob store tests: each test runs against a real directory and a real S3 server
(moto's standalone server, a separate process on 127.0.0.1), both empty when the test starts."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

from blobstore import BlobStore, FileBlobStore, S3BlobStore

BUCKET = "trail-test-attachments"
SERVER_START_TIMEOUT = 30.0


@dataclass(frozen=True)
class Backend:
    store: BlobStore
    # Where the store writes an upload before it is stored: empty whenever no upload runs.
    temp_directory: Path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_answers(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while True:
        if server.poll() is not None:
            raise RuntimeError(f"the S3 server exited with {server.returncode} while starting")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except (urllib.error.URLError, ConnectionError):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the S3 server did not answer at {url}") from None
            time.sleep(0.05)


@pytest.fixture(scope="session")
def s3_environ() -> Iterator[dict[str, str]]:
    """The AWS variables of a running S3 server holding an empty bucket `BUCKET`."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        endpoint = f"http://127.0.0.1:{port}"
        _wait_until_answers(f"{endpoint}/moto-api/", server)
        environ = {
            "AWS_ENDPOINT_URL_S3": endpoint,
            "AWS_ACCESS_KEY_ID": "trail-test",
            "AWS_SECRET_ACCESS_KEY": "trail-test-secret",
            "AWS_REGION": "us-east-1",
        }
        boto3.client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id=environ["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=environ["AWS_SECRET_ACCESS_KEY"],
            region_name=environ["AWS_REGION"],
        ).create_bucket(Bucket=BUCKET)
        yield environ
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture(scope="session")
def s3_backend(s3_environ: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Backend:
    # One store for every test: making a boto3 client costs more than most tests here.
    spool = tmp_path_factory.mktemp("spool")
    store = S3BlobStore(f"s3://{BUCKET}/{uuid.uuid4().hex}/blobs", s3_environ, spool)
    return Backend(store, spool)


@pytest.fixture(params=["file", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "file":
        directory = tmp_path / "blobs"
        yield Backend(FileBlobStore(directory), directory / "tmp")
        return
    s3_backend: Backend = request.getfixturevalue("s3_backend")
    yield s3_backend
    for sha256, _ in list(s3_backend.store.iter_blobs()):
        s3_backend.store.delete(sha256)


@pytest.fixture
def store(backend: Backend) -> BlobStore:
    return backend.store
