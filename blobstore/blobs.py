"""The values every backend shares: a stored blob's description, its key check, and the reader that
hands its bytes (or a range of them) to the HTTP layer."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol

CHUNK_SIZE = 64 * 1024

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class StoredBlob:
    sha256: str
    size: int
    content_type: str


@dataclass(frozen=True, slots=True)
class BlobStat:
    """A stored blob's size and the time (UTC) its bytes were last stored."""

    size: int
    modified_at: datetime


def check_sha256(sha256: str) -> str:
    """The key itself, once it is known to be a lowercase sha256 hex digest. Keys become file paths
    and object names, so anything else (`..`, slashes, upper case aliases) is refused here."""
    if not _SHA256_HEX.fullmatch(sha256):
        raise ValueError(f"not a lowercase sha256 hex digest: {sha256!r}")
    return sha256


def is_sha256(name: str) -> bool:
    return _SHA256_HEX.fullmatch(name) is not None


def check_range(start: int, stop: int | None) -> None:
    """`start` and `stop` are byte offsets, `stop` excluded, as in a slice. An HTTP range is never
    empty, so an empty one here is a caller's mistake."""
    if start < 0:
        raise ValueError(f"range start {start} is negative")
    if stop is not None and stop <= start:
        raise ValueError(f"range stop {stop} is not after its start {start}")


class Readable(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...

    def close(self) -> None: ...


class BlobReader:
    """A blob's bytes from an open source (a file, an S3 response body), stopping after `length`
    bytes when given. Iterate it for chunks (e.g. as a Litestar `Stream`) or `read()` it like a
    file; both block, so use it from a thread. It closes its source at the end of the iteration, on
    `close()` and when leaving a `with` block."""

    def __init__(self, source: Readable, length: int | None = None) -> None:
        self._source = source
        self._remaining = length
        self._closed = False

    def read(self, size: int = -1) -> bytes:
        if self._closed:
            raise ValueError("read from a closed BlobReader")
        if self._remaining is None:
            # An S3 body reads everything only when given no size at all.
            return self._source.read() if size < 0 else self._source.read(size)
        if size < 0 or size > self._remaining:
            size = self._remaining
        data = self._source.read(size) if size else b""
        self._remaining -= len(data)
        return data

    def __iter__(self) -> BlobReader:
        return self

    def __next__(self) -> bytes:
        chunk = b"" if self._closed else self.read(CHUNK_SIZE)
        if not chunk:
            self.close()
            raise StopIteration
        return chunk

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._source.close()

    def __enter__(self) -> BlobReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
