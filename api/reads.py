"""Reading the read models: a pooled connection, after waiting for `Trail-Min-Position`."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Sequence
from typing import Any, cast
from uuid import UUID

from anyio import to_thread
from litestar import Request
from litestar.handlers import HTTPRouteHandler
from psycopg import Connection
from psycopg.rows import DictRow

from api.context import Context
from api.errors import FieldIssue, InvalidInput, Problem
from api.headers import MIN_POSITION_HEADER
from api.waiting import caller
from commands.errors import NotFound
from domain.visibility import Viewer
from projections import tickets
from projections.positions import Source


def position_source(context: Context) -> Source:
    """The API's pool, as `projections.positions` takes it: that module names a pool of
    tuple-row connections but gives each cursor its own row factory, so any pool serves."""
    return cast(Source, context.services.pool)


_POSITION = re.compile(r"^[0-9]{1,18}$")
# A route handler's `opt` key naming the read models it reads (`waits_for`).
READS_OPT = "reads"


def waits_for(names: Sequence[str], *handlers: HTTPRouteHandler) -> None:
    """Declare that `handlers` read the models `names`: a GET of theirs with
    `Trail-Min-Position` then waits on the event loop, before it takes a thread
    (`wait_before`)."""
    for handler in handlers:
        handler.opt[READS_OPT] = tuple(names)


async def wait_before(request: Request[Any, Any, Any], context: Context) -> None:
    """For a GET with `Trail-Min-Position` of a handler that declared its models: the wait,
    holding no thread and no connection while it lasts (the API's threads are few: waiters
    held them all once, and every other request queued behind them). Other handlers wait in
    `wait_for_reads`, as before."""
    names = request.route_handler.opt.get(READS_OPT)
    raw = request.headers.get(MIN_POSITION_HEADER)
    value = (raw or "").strip()
    if request.method != "GET" or not names or not _POSITION.match(value):
        return  # absent, or a malformed value: the parameter's 422, from Litestar
    position = int(value)
    waits = context.waits
    waits.start()
    if await waits.wait_async(caller.get(), names, position, 0):
        return
    await to_thread.run_sync(_check_head, context, position)
    timeout = context.services.settings.min_position_timeout
    if not await waits.wait_async(caller.get(), names, position, timeout):
        raise _not_reached(position, timeout)


def _check_head(context: Context, position: int) -> None:
    head = context.commands.store.current_position()
    if position > head:
        raise InvalidInput([FieldIssue(
            MIN_POSITION_HEADER,
            f"is beyond the last recorded event ({head}): no command has answered it",
        )])


def _not_reached(position: int, timeout: float) -> Problem:
    return Problem(
        503,
        f"the read models have not reached position {position} within {timeout:g} s",
        kind="not-caught-up",
        headers={"Retry-After": "1"},
    )


def wait_for_reads(context: Context, names: Sequence[str], position: int | None) -> None:
    """Return once the read models `names` have processed `position`; 503 after the bound.

    A position beyond the last recorded event cannot come from a committed command: 422 at
    once, naming the header (API.md's precise rules). The wait holds no pooled connection
    (`api.waiting`), and each caller may have only a few requests waiting (429 past that).
    """
    if position is None:
        return
    timeout = context.services.settings.min_position_timeout
    waits = context.waits
    if waits.reached(names, position):
        return
    _check_head(context, position)
    if not waits.wait(caller.get(), names, position, timeout):
        raise _not_reached(position, timeout)


@contextlib.contextmanager
def reading(
    context: Context, names: Sequence[str], min_position: int | None = None
) -> Iterator[Connection[DictRow]]:
    """A connection to query the read models `names` once they have reached `min_position`."""
    wait_for_reads(context, names, min_position)
    with context.services.pool.connection() as conn:
        yield conn


@contextlib.contextmanager
def reading_ticket(
    context: Context, names: Sequence[str], min_position: int | None, ticket_id: UUID,
    viewer: Viewer,
) -> Iterator[Connection[DictRow]]:
    """`reading`, for what belongs to one ticket: 404 unless `viewer` may see the ticket."""
    with reading(context, names, min_position) as conn:
        if tickets.get_ticket(conn, ticket_id, viewer) is None:
            raise NotFound("no such ticket")
        yield conn
