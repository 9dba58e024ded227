"""Read-your-writes on an eventually consistent read side: `Trail-Min-Position`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from api.context import Context
from api.errors import Problem
from projections.positions import Source, wait_for_position


def position_source(context: Context) -> Source:
    """The API's pool, as `projections.positions` takes it: that module names a pool of
    tuple-row connections but gives each cursor its own row factory, so any pool serves."""
    return cast(Source, context.services.pool)


def wait_for_reads(context: Context, names: Sequence[str], position: int | None) -> None:
    """Return once the read models `names` have processed `position`; 503 after the bound.

    A position beyond the last recorded event is waited for like any other, as the contract
    says: another client's write may reach it within the bound.
    """
    if position is None:
        return
    timeout = context.services.settings.min_position_timeout
    source = position_source(context)
    if not wait_for_position(source, names, position, timeout):
        raise Problem(
            503,
            f"the read models have not reached position {position} within {timeout:g} s",
            kind="not-caught-up",
            headers={"Retry-After": "1"},
        )
