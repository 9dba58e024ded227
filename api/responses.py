"""Answers to commands: the view of what the command saved, with the contract's headers."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec
from litestar import Response

T = TypeVar("T")


class Accepted(msgspec.Struct, frozen=True):
    """A 202: the work is queued, not done."""

    detail: str


def answer(
    body: T,
    position: int,
    *,
    status_code: int = 200,
    location: str | None = None,
    version: int | None = None,
) -> Response[T]:
    """`body` with `Trail-Position` (the position of the command's last event), and `Location`
    for something created, `ETag` for a ticket."""
    headers: dict[str, Any] = {"Trail-Position": str(position)}
    if location is not None:
        headers["Location"] = location
    if version is not None:
        headers["ETag"] = f'"{version}"'
    return Response(body, status_code=status_code, headers=headers)
