"""An attachment's filename: cleaned once when it is stored, and quoted safely when it is served.

The stored name is a bare name: no directories (`/` or `\\`, a Windows drive letter), no characters
that control terminals or reorder what a reader sees (C0, DEL, C1, line and paragraph separators,
bidi marks, embeddings, overrides and isolates, so `a\u202egnp.exe` cannot pose as `aexe.png`), no
leading dots (no hidden files, no `..`) and no surrounding blanks. It is NFC-normalised so that one
name has one spelling.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from blobstore.errors import FilenameTooLong

MAX_FILENAME_LENGTH = 255
DEFAULT_FILENAME = "file"

_INVISIBLE_CONTROLS = re.compile(
    "[\x00-\x1f\x7f-\x9f"
    "\u061c\u200e\u200f"  # Arabic letter mark, left-to-right and right-to-left marks
    "\u2028\u2029"  # line and paragraph separators
    "\u202a-\u202e"  # bidi embeddings and overrides
    "\u2066-\u2069]"  # bidi isolates
)
_DRIVE = re.compile(r"^[A-Za-z]:")
_LEADING_DOTS_AND_BLANKS = re.compile(r"^[\s.]+")
# Printable ASCII fits a quoted-string, but for `"` and `\`, and `%` that some browsers decode.
_UNSAFE_IN_FALLBACK = re.compile(r'[^\x20-\x7e]|["\\%]')


def clean_filename(raw: str) -> str:
    """The name to store for a client's `raw` filename; `FilenameTooLong` past 255 characters."""
    name = _INVISIBLE_CONTROLS.sub("", unicodedata.normalize("NFC", raw))
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _DRIVE.sub("", name)
    name = _LEADING_DOTS_AND_BLANKS.sub("", name).rstrip()
    if not name:
        return DEFAULT_FILENAME
    if len(name) > MAX_FILENAME_LENGTH:
        raise FilenameTooLong(len(name), MAX_FILENAME_LENGTH)
    return name


def content_disposition(filename: str) -> str:
    """A `Content-Disposition` value that makes browsers download the file under `filename`
    (RFC 6266): an ASCII `filename` for old clients, the exact name in `filename*` (RFC 5987)."""
    decomposed = unicodedata.normalize("NFKD", filename)
    # `é` becomes `e` once its combining accent is dropped; what has no ASCII form becomes `_`.
    unaccented = "".join(c for c in decomposed if not unicodedata.combining(c))
    fallback = _UNSAFE_IN_FALLBACK.sub("_", unaccented).strip() or DEFAULT_FILENAME
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
