"""What can go wrong with an attachment's bytes or name, each answered differently by the API."""

from __future__ import annotations


class BlobStoreError(Exception):
    """Base of every error this package raises on purpose."""


class BlobTooLarge(BlobStoreError):
    """The body passed its byte limit; nothing was stored (413)."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(f"the file is larger than {max_bytes} bytes")
        self.max_bytes = max_bytes


class UnsupportedType(BlobStoreError):
    """The bytes are not one of the allowed types; nothing was stored (415)."""


class BlobNotFound(BlobStoreError):
    """No blob is stored under this sha256."""

    def __init__(self, sha256: str) -> None:
        super().__init__(f"no blob {sha256}")
        self.sha256 = sha256


class FilenameTooLong(BlobStoreError):
    """The cleaned filename is longer than the limit (422)."""

    def __init__(self, length: int, limit: int) -> None:
        super().__init__(f"the filename has {length} characters, more than {limit}")
        self.length = length
        self.limit = limit
