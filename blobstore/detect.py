"""An attachment's type, told from its bytes alone: never from the client's claim or the file name.

The answer is one of ten types, or `UnsupportedType`:

- Binary formats, by the signature their specification puts at the start of the file:
  `image/png`, `image/jpeg`, `image/gif` (87a, 89a), `image/webp` (a RIFF file of form `WEBP`),
  `application/pdf`, `application/gzip` (deflate), and `application/zip` for every ZIP archive
  (Office documents, JARs and the like are ZIP files; the allowed list names the container, not what
  is inside).
- Otherwise the file must be text, judged on its first 8 KiB: UTF-8 (a leading BOM is allowed), with
  no control character other than tab, LF, FF and CR (no NUL, no other C0, no DEL, no C1). Of text:
  - markup and scripts are refused: text whose first non-blank character opens a tag (`<` then a
    letter, `!`, `?` or `/`: `<!doctype`, `<html`, `<svg`, `<?xml`, `<script`, `<iframe`…), text
    with `<script` or `<html` anywhere in its first 1 KiB (any case), and text starting with `#!`;
  - `application/json` when it starts with `{` or `[` and the whole file (bounded by the upload
    limit) is one strict JSON document (no `NaN` or `Infinity`);
  - `text/csv` when its first lines parse with one delimiter (comma, semicolon or tab) into at least
    two rows of the same number of columns, at least two;
  - `text/plain` otherwise.
Anything else (HTML, SVG, XML, executables, unknown binary) is refused. Only the JSON check reads
past the first 8 KiB; what follows them in a text file is not inspected, which is safe because every
attachment is served as a download with `X-Content-Type-Options: nosniff`.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from typing import BinaryIO, NoReturn

from blobstore.errors import UnsupportedType

HEAD_SIZE = 8 * 1024
MARKUP_SCAN_SIZE = 1024
CSV_SAMPLE_ROWS = 20

PNG = "image/png"
JPEG = "image/jpeg"
GIF = "image/gif"
WEBP = "image/webp"
PDF = "application/pdf"
ZIP = "application/zip"
GZIP = "application/gzip"
JSON = "application/json"
CSV = "text/csv"
TEXT = "text/plain"

ALLOWED_TYPES = frozenset({PNG, JPEG, GIF, WEBP, PDF, ZIP, GZIP, JSON, CSV, TEXT})

# An allow-list needs each format's exact signature, not a guess among thousands of formats: general
# signature databases (puremagic, libmagic) hold loose entries, such as any RIFF file (WAV, AVI) as
# WebP, that would let other formats in under an allowed type.
_SIGNATURES = (
    (re.compile(rb"\x89PNG\r\n\x1a\n"), PNG),
    (re.compile(rb"\xff\xd8\xff"), JPEG),
    (re.compile(rb"GIF8[79]a"), GIF),
    (re.compile(rb"RIFF.{4}WEBP", re.DOTALL), WEBP),
    (re.compile(rb"%PDF-"), PDF),
    (re.compile(rb"PK(\x03\x04|\x05\x06)"), ZIP),  # the first entry, or the end of an empty archive
    (re.compile(rb"\x1f\x8b\x08"), GZIP),
)

_UTF8_BOM = codecs.BOM_UTF8
_FORBIDDEN_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
_OPENS_TAG = re.compile(r"<[a-z!?/]", re.IGNORECASE)
_MARKUP_ANYWHERE = re.compile(r"<(script|html)", re.IGNORECASE)
_CSV_DELIMITERS = (",", ";", "\t")


def detect_content_type(blob: BinaryIO) -> str:
    """The type of the bytes of `blob`, a file open for reading, or `UnsupportedType`."""
    blob.seek(0)
    head = blob.read(HEAD_SIZE)
    binary_type = _binary_type(head)
    if binary_type is not None:
        return binary_type
    text = _text_head(head, complete=len(head) < HEAD_SIZE)
    _refuse_markup_and_scripts(text)
    if text.lstrip().startswith(("{", "[")):
        blob.seek(0)
        if _is_json_document(blob.read()):
            return JSON
    if _is_csv(text, complete=len(head) < HEAD_SIZE):
        return CSV
    return TEXT


def _binary_type(head: bytes) -> str | None:
    for signature, content_type in _SIGNATURES:
        if signature.match(head):
            return content_type
    return None


def _text_head(head: bytes, *, complete: bool) -> str:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        # A head cut in the middle of a character is fine: only a whole file must end on one.
        text = decoder.decode(head.removeprefix(_UTF8_BOM), final=complete)
    except UnicodeDecodeError:
        _refuse("binary data or text that is not UTF-8")
    control = _FORBIDDEN_CONTROLS.search(text)
    if control is not None:
        _refuse(f"control character U+{ord(control.group()):04X} in text")
    return text


def _refuse_markup_and_scripts(text: str) -> None:
    start = text.lstrip()
    if _OPENS_TAG.match(start) or _MARKUP_ANYWHERE.search(text[:MARKUP_SCAN_SIZE]):
        _refuse("markup (HTML, SVG, XML)")
    if start.startswith("#!"):
        _refuse("a script")


def _is_json_document(data: bytes) -> bool:
    try:
        document = json.loads(
            data.removeprefix(_UTF8_BOM).decode("utf-8"), parse_constant=_refuse_constant
        )
    except (UnicodeDecodeError, ValueError):
        return False
    return isinstance(document, dict | list)


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def _is_csv(text: str, *, complete: bool) -> bool:
    if not complete:
        # The last line of a cut head is partial and would miscount its columns.
        text = text[: text.rfind("\n") + 1]
    return any(_has_consistent_columns(text, delimiter) for delimiter in _CSV_DELIMITERS)


def _has_consistent_columns(text: str, delimiter: str) -> bool:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    widths: set[int] = set()
    rows = 0
    try:
        for row in reader:
            if not row:
                continue
            widths.add(len(row))
            rows += 1
            if len(widths) > 1 or rows >= CSV_SAMPLE_ROWS:
                break
    except csv.Error:
        return False
    return rows >= 2 and len(widths) == 1 and widths.pop() >= 2


def _refuse(reason: str) -> NoReturn:
    raise UnsupportedType(f"unsupported file type: {reason}")
