"""The contract's headers: `Trail-Position`, `Trail-Min-Position`, `ETag`/`If-Match`, `Location`."""

from __future__ import annotations

import re
from typing import Annotated

from litestar.datastructures import ResponseHeader
from litestar.params import Parameter

from api.errors import Problem

MIN_POSITION_HEADER = "Trail-Min-Position"

MinPosition = Annotated[
    int | None,
    Parameter(
        header=MIN_POSITION_HEADER,
        required=False,
        ge=0,
        description="Wait (at most 5 s, then 503) until the read models have processed this "
        "position: pass the `Trail-Position` of a write to read it back. A position beyond "
        "the last recorded event is 422.",
    ),
]

IfMatch = Annotated[
    str | None,
    Parameter(
        header="If-Match",
        required=False,
        description='`"<version>"` from the ticket\'s `ETag`: 412 if the ticket has moved on.',
    ),
]

TRAIL_POSITION = ResponseHeader(
    name="Trail-Position",
    documentation_only=True,
    description="Global position of the last event this command recorded.",
)
ETAG = ResponseHeader(
    name="ETag", documentation_only=True, description='The ticket\'s version: `"<version>"`.'
)
LOCATION = ResponseHeader(
    name="Location", documentation_only=True, description="Path of the created resource."
)

_ENTITY_TAG = re.compile(r'^(W/)?"(?P<version>[0-9]{1,18})"$')


def expected_version(if_match: str | None) -> int | None:
    """The version `If-Match` names; None when absent or `*` (any version will do).

    A value that names no version cannot match any ticket, so it fails as a mismatch would.
    """
    if if_match is None or if_match.strip() == "*":
        return None
    match = _ENTITY_TAG.match(if_match.strip())
    if match is None:
        raise Problem(412, 'If-Match must be "<version>" as sent in the ETag header',
                      kind="version-mismatch")
    return int(match.group("version"))
