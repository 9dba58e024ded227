"""Serving an attachment's bytes: whole or one range of them (RFC 9110 §14), revalidated by
their sha256 as the entity tag, and streamed from the blob store a chunk at a time.

Every download is an `attachment` with `nosniff` and a sandboxing CSP: a browser saves the file
instead of rendering it as a page of this origin, whatever the bytes hold.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import NamedTuple

from anyio import CancelScope, to_thread

from api.errors import Problem
from blobstore import BlobReader
from blobstore.filenames import content_disposition
from domain.ticket_events import Attachment

CHUNK_SIZE = 64 * 1024
# One range-spec of RFC 9110 §14.1.1: `first-last`, `first-` or `-suffix`. Nineteen digits keep
# every offset an int64, as far past any file as can matter.
_RANGE_SPEC = re.compile(
    r"(?:(?P<first>[0-9]{1,19})-(?P<last>[0-9]{0,19})|-(?P<suffix>[0-9]{1,19}))"
)


class ByteRange(NamedTuple):
    start: int
    stop: int
    """Excluded, as in a slice."""

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.stop - 1}/{size}"


def entity_tag(attachment: Attachment) -> str:
    return f'"{attachment.sha256}"'


def download_headers(attachment: Attachment) -> dict[str, str]:
    return {
        "ETag": entity_tag(attachment),
        "Accept-Ranges": "bytes",
        "Content-Disposition": content_disposition(attachment.filename),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox; frame-ancestors 'none'",
        # Private, and revalidated each time: removing it or losing sight of its ticket must
        # take effect at once (the ETag makes revalidation cheap).
        "Cache-Control": "private, no-cache",
    }


def not_modified(if_none_match: str | None, etag: str) -> bool:
    """Whether `If-None-Match` names this representation (weak comparison, RFC 9110 §13.1.2)."""
    if if_none_match is None:
        return False
    tags = (tag.strip() for tag in if_none_match.split(","))
    return any(tag == "*" or tag.removeprefix("W/") == etag for tag in tags)


def requested_range(
    range_header: str | None, if_range: str | None, etag: str, size: int
) -> ByteRange | None:
    """The bytes to send: None for the whole file, or the first satisfiable range asked for.

    A Range this server cannot parse is ignored (RFC 9110 §14.2), and so is one whose
    `If-Range` names another representation; a Range none of whose ranges fits in the file
    is 416.
    """
    if range_header is None or (if_range is not None and if_range.strip() != etag):
        return None
    unit, _, specs = range_header.partition("=")
    matches = [_RANGE_SPEC.fullmatch(spec.strip()) for spec in specs.split(",")]
    if unit.strip().lower() != "bytes" or not all(matches):
        return None
    try:
        ranges = [_byte_range(match, size) for match in matches if match is not None]
    except _InvalidRange:
        return None
    satisfiable = [found for found in ranges if found is not None]
    if not satisfiable:
        raise Problem(416, f"no range asked for lies within the file's {size:,} bytes",
                      kind="range-not-satisfiable", headers={"Content-Range": f"bytes */{size}"})
    return satisfiable[0]


class _InvalidRange(ValueError):
    """A range whose last byte comes before its first: the whole header is ignored."""


def _byte_range(spec: re.Match[str], size: int) -> ByteRange | None:
    """The bytes one range-spec asks for; None when they lie past the end of the file."""
    if spec["suffix"] is not None:
        suffix = int(spec["suffix"])
        return ByteRange(max(0, size - suffix), size) if suffix and size else None
    first = int(spec["first"])
    last = int(spec["last"]) if spec["last"] else size - 1
    if spec["last"] and last < first:
        raise _InvalidRange(spec.group())
    return ByteRange(first, min(last, size - 1) + 1) if first < size else None


async def streamed(reader: BlobReader) -> AsyncIterator[bytes]:
    """The reader's bytes, read in a worker thread; the reader is closed however the response
    ends (a client that goes away cancels the stream)."""
    try:
        while chunk := await to_thread.run_sync(reader.read, CHUNK_SIZE):
            yield chunk
    finally:
        with CancelScope(shield=True):
            await to_thread.run_sync(reader.close)
