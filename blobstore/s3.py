"""Blobs as objects in S3-compatible storage (AWS S3, MinIO, Ceph, …): `s3://bucket/prefix` holds
`prefix/<sha256>`, each with its detected `Content-Type`.

The endpoint, credentials and region come from the usual AWS variables: `AWS_ENDPOINT_URL_S3` or
`AWS_ENDPOINT_URL` (unset for AWS itself), `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`
(`AWS_SESSION_TOKEN`), `AWS_REGION` or `AWS_DEFAULT_REGION`; without keys, boto3's own chain
(shared files, instance roles) applies. An upload is spooled to a local temporary file first, to
hash, count and type it, then streamed from there (in parts past 8 MiB).

The bucket must exist. The keys need `s3:ListBucket` on it (without it S3 answers 403, not 404, for
a missing object) and `s3:GetObject`, `s3:PutObject` and `s3:DeleteObject` on the prefix."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from blobstore.blobs import (
    BlobReader,
    BlobStat,
    StoredBlob,
    check_range,
    check_sha256,
    is_sha256,
)
from blobstore.errors import BlobNotFound
from blobstore.staging import staged

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import GetObjectRequestTypeDef

_MISSING = frozenset({"404", "NoSuchKey", "NotFound"})


class S3BlobStore:
    def __init__(
        self,
        url: str,
        environ: Mapping[str, str] | None = None,
        spool_directory: Path | None = None,
    ) -> None:
        """`url` is `s3://bucket` or `s3://bucket/prefix`; `environ` defaults to the process's
        environment; uploads are spooled in `spool_directory` (the system's temporary directory
        when None)."""
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise ValueError(f"not an S3 URL of the form s3://bucket/prefix: {url!r}")
        self.bucket = parts.netloc
        prefix = parts.path.strip("/")
        self._prefix = f"{prefix}/" if prefix else ""
        self._spool = spool_directory
        self._client = _client(os.environ if environ is None else environ)

    def __repr__(self) -> str:
        return f"S3BlobStore('s3://{self.bucket}/{self._prefix}')"

    def put(self, chunks: Iterable[bytes], max_bytes: int) -> StoredBlob:
        with staged(chunks, max_bytes, self._spool) as upload:
            key = self._key(upload.blob.sha256)
            if not self._refresh(key, upload.blob.content_type):
                with upload.path.open("rb") as file:
                    self._client.upload_fileobj(
                        file, self.bucket, key, ExtraArgs={"ContentType": upload.blob.content_type}
                    )
            return upload.blob

    def open(self, sha256: str, start: int = 0, stop: int | None = None) -> BlobReader:
        check_range(start, stop)
        request: GetObjectRequestTypeDef = {"Bucket": self.bucket, "Key": self._key(sha256)}
        if start or stop is not None:
            request["Range"] = f"bytes={start}-{'' if stop is None else stop - 1}"
        try:
            answer = self._client.get_object(**request)
        except ClientError as error:
            code = _error_code(error)
            if code in _MISSING:
                raise BlobNotFound(sha256) from None
            if code == "InvalidRange":
                # Starts at or past the end: no bytes, as reading a file from there gives.
                return BlobReader(_Empty())
            raise
        return BlobReader(answer["Body"])

    def exists(self, sha256: str) -> bool:
        return self.stat(sha256) is not None

    def stat(self, sha256: str) -> BlobStat | None:
        try:
            head = self._client.head_object(Bucket=self.bucket, Key=self._key(sha256))
        except ClientError as error:
            if _error_code(error) in _MISSING:
                return None
            raise
        return BlobStat(head["ContentLength"], head["LastModified"].astimezone(UTC))

    def delete(self, sha256: str) -> None:
        self._client.delete_object(Bucket=self.bucket, Key=self._key(sha256))

    def iter_blobs(self) -> Iterator[tuple[str, datetime]]:
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self._prefix
        )
        for page in pages:
            for listed in page.get("Contents", []):
                name = listed["Key"].removeprefix(self._prefix)
                if is_sha256(name):
                    yield name, listed["LastModified"].astimezone(UTC)

    def _refresh(self, key: str, content_type: str) -> bool:
        """Whether the object is already there, its modified time then set to now. A sweep reads
        that time as the upload time: bytes left over from an abandoned upload and stored again now
        must not be swept before the new upload's event commits. A copy onto itself on the server
        is the one way S3 offers to touch an object."""
        try:
            self._client.copy_object(
                Bucket=self.bucket,
                Key=key,
                CopySource={"Bucket": self.bucket, "Key": key},
                MetadataDirective="REPLACE",
                ContentType=content_type,
            )
        except ClientError as error:
            if _error_code(error) in _MISSING:
                return False
            raise
        return True

    def _key(self, sha256: str) -> str:
        return self._prefix + check_sha256(sha256)


def _client(environ: Mapping[str, str]) -> S3Client:
    endpoint = environ.get("AWS_ENDPOINT_URL_S3") or environ.get("AWS_ENDPOINT_URL") or None
    session = boto3.session.Session(
        aws_access_key_id=environ.get("AWS_ACCESS_KEY_ID") or None,
        aws_secret_access_key=environ.get("AWS_SECRET_ACCESS_KEY") or None,
        aws_session_token=environ.get("AWS_SESSION_TOKEN") or None,
        region_name=environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or "us-east-1",
    )
    config = Config(
        retries={"mode": "standard"},
        # S3-compatible servers answer on one host: path-style URLs, not bucket subdomains.
        s3={"addressing_style": "path" if endpoint else "auto"},
        # Checksums only where S3 requires them: not every S3-compatible server knows the newer
        # ones boto3 adds by default.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    return session.client("s3", endpoint_url=endpoint, config=config)


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


class _Empty:
    def read(self, size: int = -1, /) -> bytes:
        return b""

    def close(self) -> None:
        pass
