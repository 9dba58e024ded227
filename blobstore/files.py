"""Blobs as files in a directory: `ab/cd/abcd…` by sha256, the two levels keeping directories small.

A blob is written to `tmp/` (same filesystem), flushed to disk and renamed into place, then its
directory is flushed too: a reader sees a whole blob or none, and a blob that was reported stored
survives a crash. `tmp/` holds only uploads in progress (or cut short by a crash): it can be
emptied while no upload runs, and a backup can leave it out. Directories are 0700 and files 0600,
readable by the Trail user alone."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

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

DIRECTORY_MODE = 0o700
TEMP_DIRECTORY = "tmp"

_FANOUT_NAME = re.compile(r"[0-9a-f]{2}")


class FileBlobStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._temp = directory / TEMP_DIRECTORY
        for path in (directory, self._temp):
            path.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"FileBlobStore({str(self.directory)!r})"

    def put(self, chunks: Iterable[bytes], max_bytes: int) -> StoredBlob:
        with staged(chunks, max_bytes, self._temp) as upload:
            path = self._path(upload.blob.sha256)
            # mkdir(parents=True) would give the intermediate level the default mode, not 0700.
            for directory in (path.parent.parent, path.parent):
                directory.mkdir(mode=DIRECTORY_MODE, exist_ok=True)
            _flush_to_disk(upload.path)
            # Same bytes, same name: replacing a copy already there keeps one, freshly modified.
            os.replace(upload.path, path)
            _flush_to_disk(path.parent)
            return upload.blob

    def open(self, sha256: str, start: int = 0, stop: int | None = None) -> BlobReader:
        check_range(start, stop)
        try:
            file = self._path(sha256).open("rb")
        except FileNotFoundError:
            raise BlobNotFound(sha256) from None
        file.seek(start)
        return BlobReader(file, None if stop is None else stop - start)

    def exists(self, sha256: str) -> bool:
        return self._path(sha256).is_file()

    def stat(self, sha256: str) -> BlobStat | None:
        try:
            found = self._path(sha256).stat()
        except FileNotFoundError:
            return None
        return BlobStat(found.st_size, datetime.fromtimestamp(found.st_mtime, UTC))

    def delete(self, sha256: str) -> None:
        self._path(sha256).unlink(missing_ok=True)

    def iter_blobs(self) -> Iterator[tuple[str, datetime]]:
        for first in _subdirectories(self.directory):
            for second in _subdirectories(first):
                prefix = first.name + second.name
                for entry in os.scandir(second):
                    if not (is_sha256(entry.name) and entry.name.startswith(prefix)):
                        continue
                    try:
                        modified = entry.stat().st_mtime
                    except FileNotFoundError:
                        continue  # deleted since it was listed
                    yield entry.name, datetime.fromtimestamp(modified, UTC)

    def _path(self, sha256: str) -> Path:
        check_sha256(sha256)
        return self.directory / sha256[:2] / sha256[2:4] / sha256


def _subdirectories(directory: Path) -> Iterator[Path]:
    for entry in sorted(os.scandir(directory), key=lambda entry: entry.name):
        if _FANOUT_NAME.fullmatch(entry.name) and entry.is_dir():
            yield Path(entry.path)


def _flush_to_disk(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
