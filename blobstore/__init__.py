"""The bytes of ticket attachments, content-addressed: each blob is stored once under the sha256
of its bytes, whoever uploads it and however often.

This package owns the bytes only: storing an upload within a byte limit, telling its type from the
bytes (`blobstore.detect`), cleaning its filename (`blobstore.filenames`), reading it back whole or
by range, deleting it, and listing what is stored for a sweep. The facts (which ticket has which
attachment, its name, who added or removed it) are ticket events in the database; the bytes are
written before their event. A backup of Trail is therefore the database plus the blob store:
the `blobs` directory under `TRAIL_DATA_DIR` by default (its `tmp/` may be left out), or the bucket
prefix of `TRAIL_BLOB_URL`. Take the database first: every attachment it names then has its bytes
in a later copy of the store.

The package depends on nothing else in Trail.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

from blobstore.blobs import BlobReader, BlobStat, StoredBlob
from blobstore.errors import (
    BlobNotFound,
    BlobStoreError,
    BlobTooLarge,
    FilenameTooLong,
    UnsupportedType,
)
from blobstore.files import FileBlobStore
from blobstore.s3 import S3BlobStore

__all__ = [
    "BlobNotFound",
    "BlobReader",
    "BlobStat",
    "BlobStore",
    "BlobStoreError",
    "BlobTooLarge",
    "FileBlobStore",
    "FilenameTooLong",
    "S3BlobStore",
    "StoredBlob",
    "UnsupportedType",
    "open_blob_store",
]


class BlobStore(Protocol):
    """Where attachment bytes live. Every method blocks: call them from a worker thread in async
    code. Keys are lowercase sha256 hex digests; any other key is a `ValueError`."""

    def put(self, chunks: Iterable[bytes], max_bytes: int) -> StoredBlob:
        """Stores the bytes of `chunks` and describes them. `BlobTooLarge` as soon as more than
        `max_bytes` arrived, `UnsupportedType` when the bytes are not an allowed type; then nothing
        is stored. Bytes already stored are kept once, their modified time set to now."""
        ...

    def open(self, sha256: str, start: int = 0, stop: int | None = None) -> BlobReader:
        """The blob's bytes from offset `start` to `stop` (excluded; the end when None), fewer when
        the blob ends first. `BlobNotFound` when no such blob is stored."""
        ...

    def exists(self, sha256: str) -> bool: ...

    def stat(self, sha256: str) -> BlobStat | None:
        """The blob's size and last store time; None when no such blob is stored. A sweep reads
        it again just before deleting, as `put` may have stored the bytes again meanwhile."""
        ...

    def delete(self, sha256: str) -> None:
        """Removes the blob; nothing happens when it is not there."""
        ...

    def iter_blobs(self) -> Iterator[tuple[str, datetime]]:
        """Every stored blob's sha256 and the time (UTC) its bytes were last stored, for a sweep."""
        ...


def open_blob_store(
    url: str | None, data_dir: Path, environ: Mapping[str, str] | None = None
) -> BlobStore:
    """The store `TRAIL_BLOB_URL` names: unset (None or empty) for `data_dir/blobs`,
    `file:///path` for a directory, `s3://bucket/prefix` for S3-compatible storage configured by the
    AWS variables of `environ` (the process's environment when None)."""
    if not url:
        return FileBlobStore(data_dir / "blobs")
    parts = urlsplit(url)
    if parts.scheme == "s3" and parts.netloc:
        return S3BlobStore(url, environ)
    if parts.scheme == "file" and parts.netloc in ("", "localhost") and parts.path.startswith("/"):
        return FileBlobStore(Path(unquote(parts.path)))
    raise ValueError(
        f"TRAIL_BLOB_URL must be s3://bucket/prefix or file:///absolute/path, not {url!r}"
    )
