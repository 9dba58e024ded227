"""Reading a `multipart/form-data` upload as it arrives: the `file` part's bytes are handed on
chunk by chunk (to the blob store, which hashes, counts and types them), never held whole, and
the body is refused the moment it passes its limit.

The form is parsed in a worker thread (the blob store blocks); each chunk of the body is fetched
from the event loop as the parser asks for it (`body_reader`). Uploads get threads of their own
(`upload_slots`), so slow uploads can never take every thread the other requests run on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import TypeAlias

from anyio import CapacityLimiter, fail_after, from_thread
from litestar.datastructures import State
from litestar.exceptions import InternalServerException
from multipart import MultipartError, MultipartSegment, PushMultipartParser, parse_options_header

from api.errors import Problem, invalid

FILE_PART = "file"
FORM_TYPE = "multipart/form-data"
# Room in a body for what is not the file's bytes: boundaries, part headers, small fields.
FORM_ALLOWANCE = 64 * 1024
UPLOADS_AT_ONCE = 8
# A client that sends nothing for this long gives its upload thread back.
STALL_TIMEOUT = 30.0

# A part's headers, a chunk of its bytes, or None at its end.
ParserEvent: TypeAlias = "MultipartSegment | bytes | None"


def form_boundary(content_type: str | None) -> str:
    """The boundary of a `multipart/form-data` body; 415 for any other kind of body."""
    media_type, options = parse_options_header(content_type or "")
    if media_type != FORM_TYPE:
        raise Problem(415, "send the file as multipart/form-data, in a part named `file`",
                      kind="unsupported-media-type")
    boundary = options.get("boundary", "")
    if not 1 <= len(boundary) <= 70:
        raise Problem(400, "the multipart/form-data body has no valid boundary", kind="malformed")
    return str(boundary)


def too_large(max_file_bytes: int) -> Problem:
    return Problem(413, f"the file is larger than {max_file_bytes:,} bytes",
                   kind="upload-too-large")


def refuse_oversized(content_length: int | None, max_file_bytes: int) -> None:
    """413 at once for a body announced larger than any file within the limit can make."""
    if content_length is not None and content_length > max_file_bytes + FORM_ALLOWANCE:
        raise too_large(max_file_bytes)


def upload_slots(state: State) -> CapacityLimiter:
    """The threads uploads run on (made on first use: a limiter belongs to the event loop)."""
    slots: CapacityLimiter | None = state.get("upload_slots")
    if slots is None:
        slots = state["upload_slots"] = CapacityLimiter(UPLOADS_AT_ONCE)
    return slots


def body_reader(stream: AsyncIterator[bytes]) -> Callable[[], bytes]:
    """A blocking `read()` for a worker thread: the body's next chunk, b"" at its end."""

    async def next_chunk() -> bytes:
        try:
            with fail_after(STALL_TIMEOUT):
                return await anext(stream, b"")
        except InternalServerException:
            # How Litestar reports a client that went away in the middle of its body.
            raise Problem(400, "the upload was cut short", kind="malformed") from None
        except TimeoutError:
            raise Problem(408, f"nothing of the upload arrived for {STALL_TIMEOUT:g} s",
                          kind="request-timeout") from None

    return lambda: from_thread.run(next_chunk)


class UploadForm:
    """A form read from `read`, whose `file` part holds at most `max_file_bytes`."""

    def __init__(self, read: Callable[[], bytes], boundary: str, max_file_bytes: int) -> None:
        self._read = read
        self._max_file_bytes = max_file_bytes
        self._parser = PushMultipartParser(boundary, max_segment_count=32)
        self._received = 0
        self._other_bytes = 0
        self._events = self._parse()

    def file(self) -> FilePart:
        """The `file` part: its filename now, its bytes as they arrive. 422 naming `file`
        when the form has none."""
        for event in self._events:
            if isinstance(event, MultipartSegment) and event.name == FILE_PART:
                return FilePart(event.filename or "", self._file_chunks())
            self._skip(event)
        raise invalid(FILE_PART, "is required: send the file as the form part named `file`")

    def _file_chunks(self) -> Iterator[bytes]:
        """The file's bytes, then the rest of the form, read and checked before the caller
        takes the file: a form that goes wrong after the file leaves nothing stored."""
        for event in self._events:
            if event is None:
                break
            if isinstance(event, bytes):
                yield event
        for event in self._events:
            if isinstance(event, MultipartSegment) and event.name == FILE_PART:
                raise invalid(FILE_PART, "send one file per request")
            self._skip(event)

    def _skip(self, event: ParserEvent) -> None:
        """Another part's bytes are read and dropped, within the form's allowance."""
        if isinstance(event, bytes):
            self._other_bytes += len(event)
            if self._other_bytes > FORM_ALLOWANCE:
                raise Problem(413, f"the form's parts other than `file` hold more than "
                              f"{FORM_ALLOWANCE:,} bytes", kind="upload-too-large")

    def _parse(self) -> Iterator[ParserEvent]:
        while True:
            chunk = self._read()
            self._received += len(chunk)
            if self._received > self._max_file_bytes + FORM_ALLOWANCE:
                raise too_large(self._max_file_bytes)
            try:
                yield from self._parser.parse(chunk)
            except MultipartError as error:
                raise Problem(400, f"the multipart body is malformed: {error}",
                              kind="malformed") from None
            if not chunk:
                return


class FilePart:
    def __init__(self, filename: str, chunks: Iterator[bytes]) -> None:
        self.filename = filename
        self.chunks = chunks

    def __repr__(self) -> str:
        return f"FilePart({self.filename!r})"
