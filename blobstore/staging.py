"""An upload on its way in: written to a temporary file while it is hashed and counted, refused the
moment it passes its limit, typed from its bytes, and removed unless a backend moved it into place.

The body is never held in memory: at most one chunk at a time (and, for a JSON candidate, the file
once more to parse it, bounded by the same limit)."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from blobstore.blobs import StoredBlob
from blobstore.detect import detect_content_type
from blobstore.errors import BlobTooLarge

TEMP_PREFIX = ".upload-"


@dataclass(frozen=True, slots=True)
class StagedBlob:
    path: Path
    blob: StoredBlob


@contextmanager
def staged(chunks: Iterable[bytes], max_bytes: int, directory: Path | None) -> Iterator[StagedBlob]:
    """Writes `chunks` to a new file in `directory` (the system's temporary directory when None)
    and yields it with its sha256, size and type. `BlobTooLarge` once more than `max_bytes` arrived,
    `UnsupportedType` for a refused type. The file is gone afterwards unless it was moved away."""
    if max_bytes < 0:
        raise ValueError(f"max_bytes {max_bytes} is negative")
    descriptor, name = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=directory)
    path = Path(name)
    try:
        digest = hashlib.sha256()
        size = 0
        with os.fdopen(descriptor, "wb") as file:
            for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise BlobTooLarge(max_bytes)
                digest.update(chunk)
                file.write(chunk)
        with path.open("rb") as file:
            content_type = detect_content_type(file)
        yield StagedBlob(path, StoredBlob(digest.hexdigest(), size, content_type))
    finally:
        path.unlink(missing_ok=True)
