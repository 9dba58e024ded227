"""Reading the read models: a pooled connection, after waiting for `Trail-Min-Position`."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import cast

from psycopg import Connection
from psycopg.rows import DictRow

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
    if not wait_for_position(position_source(context), names, position, timeout):
        raise Problem(
            503,
            f"the read models have not reached position {position} within {timeout:g} s",
            kind="not-caught-up",
            headers={"Retry-After": "1"},
        )


@contextlib.contextmanager
def reading(
    context: Context, names: Sequence[str], min_position: int | None = None
) -> Iterator[Connection[DictRow]]:
    """A connection to query the read models `names` once they have reached `min_position`."""
    wait_for_reads(context, names, min_position)
    with context.services.pool.connection() as conn:
        yield conn
