"""`?limit=` and `?cursor=` as every list takes them."""

from __future__ import annotations

from typing import Annotated

from litestar.params import Parameter

Limit = Annotated[
    int, Parameter(ge=1, le=100, description="Page size, 1..100.")
]
Cursor = Annotated[
    str | None,
    Parameter(
        required=False,
        max_length=1000,
        description="Opaque: the `next_cursor` of the previous page.",
    ),
]
