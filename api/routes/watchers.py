"""Watching a ticket: start or stop watching it as the caller, and who watches it.

Watching is not a change of the ticket: no ticket event, no `version` change, no notification.
"""

from __future__ import annotations

from uuid import UUID

from litestar import Response, delete, get, put

from api.context import Context
from api.errors import problem_responses
from api.headers import TRAIL_POSITION, MinPosition
from api.reads import reading, waits_for
from api.responses import answer
from commands.messages import WatchTicket
from commands.permissions import Actor
from projections import notifications
from projections.paging import Page
from projections.users import UserRef

TAGS = ["notifications"]
READS = (notifications.NotificationsProjection.name,)


def _choose(context: Context, actor: Actor, ticket_uuid: UUID, watching: bool) -> Response[None]:
    command = WatchTicket(ticket_id=ticket_uuid, watching=watching)
    outcome = context.commands.watching.choose(actor, command)
    return answer(None, outcome.position, status_code=204)


@put(
    "/tickets/{ticket_id:str}/watchers/me",
    tags=TAGS,
    status_code=204,
    sync_to_thread=True,
    summary="Watch a ticket",
    description="The caller gets a notification for every later command on the ticket (but "
    "its own). Watching twice is watching.",
    response_headers=[TRAIL_POSITION],
    responses=problem_responses(401, 404),
)
def watch(ticket_uuid: UUID, context: Context, actor: Actor) -> Response[None]:
    return _choose(context, actor, ticket_uuid, True)


@delete(
    "/tickets/{ticket_id:str}/watchers/me",
    tags=TAGS,
    status_code=204,
    sync_to_thread=True,
    summary="Stop watching a ticket",
    description="Holds even for the reporter, an assignee or a commenter, until the caller "
    "watches again, comments again or is assigned again.",
    response_headers=[TRAIL_POSITION],
    responses=problem_responses(401, 404),
)
def unwatch(ticket_uuid: UUID, context: Context, actor: Actor) -> Response[None]:
    return _choose(context, actor, ticket_uuid, False)


@get(
    "/tickets/{ticket_id:str}/watchers",
    tags=TAGS,
    sync_to_thread=True,
    summary="Who watches a ticket",
    description="The active users who watch it and may see it, by name: the reporter, the "
    "assignees, the commenters and those who chose to watch, less those who chose not to.",
    responses=problem_responses(401, 404, 422, 503),
)
def list_watchers(
    ticket_uuid: UUID, context: Context, actor: Actor, min_position: MinPosition = None
) -> Page[UserRef]:
    context.commands.tickets.get(actor, ticket_uuid)
    with reading(context, READS, min_position) as conn:
        return Page(items=notifications.ticket_watchers(conn, ticket_uuid), next_cursor=None)


ROUTES = [watch, unwatch, list_watchers]
waits_for(READS, list_watchers)
