"""Pages and opaque keyset cursors shared by every list query.

A cursor is base64url(JSON [kind, *sort key]) of the last row of a page: the next page starts
strictly after that key, so rows that arrive meanwhile never shift or repeat a page. `kind`
names the ordering the cursor belongs to; a cursor from another list or sort is refused.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, Generic, TypeVar

import msgspec

from projections.errors import InvalidQuery

T = TypeVar("T")

MAX_LIMIT = 100


class Page(msgspec.Struct, Generic[T], frozen=True):
    items: list[T]
    next_cursor: str | None


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidQuery("limit", f"must be between 1 and {MAX_LIMIT}")
    return limit


def encode_cursor(kind: str, key: tuple[Any, ...]) -> str:
    raw = msgspec.json.encode([kind, *key])
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str, kind: str, key_type: Any) -> Any:
    """The sort key in `cursor`, converted to `key_type` (a tuple type); InvalidQuery otherwise."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        decoded = msgspec.json.decode(raw)
    except (binascii.Error, ValueError, msgspec.DecodeError):
        raise InvalidQuery("cursor", "is not a cursor this API issued") from None
    if not isinstance(decoded, list) or not decoded or decoded[0] != kind:
        raise InvalidQuery("cursor", "belongs to another list or sort order")
    try:
        return msgspec.convert(decoded[1:], type=key_type)
    except msgspec.ValidationError:
        raise InvalidQuery("cursor", "is not a cursor this API issued") from None


def page(rows: list[Any], limit: int, kind: str, key_of: Any, item_of: Any) -> Page[Any]:
    """A page from `limit + 1` fetched rows: the extra row only says whether more follow."""
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = encode_cursor(kind, key_of(rows[-1])) if more else None
    return Page(items=[item_of(row) for row in rows], next_cursor=cursor)
