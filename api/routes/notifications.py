"""The caller's notifications: newest first, the unread count, and marking them read.

Marks are events (`domain.reading.ReadMark`): they survive any rebuild of the notifications
model, and a mark of every notification up to a position covers exactly what the caller could
have seen when it marked.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from anyio import to_thread
from litestar import Request, Response, get, post

from api.bodies import check_body
from api.context import Context
from api.errors import problem_responses
from api.headers import TRAIL_POSITION, MinPosition
from api.paging import Cursor, Limit
from api.reads import reading, waits_for
from api.responses import answer
from commands.errors import NotFound
from commands.messages import MarkAllNotificationsRead, MarkNotificationRead
from commands.permissions import Actor
from projections import notifications, tickets, users
from projections.notifications import NotificationView
from projections.paging import Page

TAGS = ["notifications"]
# Notifications are shown only while their ticket is visible, named by the users model.
READS = (notifications.NotificationsProjection.name, tickets.TicketsProjection.name,
         users.UsersProjection.name)


class UnreadCount(msgspec.Struct, frozen=True):
    count: int


class ReadAll(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    up_to_position: Annotated[int, msgspec.Meta(ge=0)] | None = None
    """Every notification up to this position; the head of the log when absent."""


@get(
    "/notifications",
    tags=TAGS,
    sync_to_thread=True,
    summary="The caller's notifications, newest first",
    description="One per command on a ticket the caller watches (not its own commands), while "
    "it may see the ticket. `unread=true` keeps the unread ones.",
    responses=problem_responses(401, 422, 503),
)
def list_notifications(
    context: Context,
    actor: Actor,
    unread: bool = False,
    limit: Limit = 25,
    cursor: Cursor = None,
    min_position: MinPosition = None,
) -> Page[NotificationView]:
    with reading(context, READS, min_position) as conn:
        return notifications.list_notifications(conn, actor, unread=unread, limit=limit,
                                                cursor=cursor)


@get(
    "/notifications/unread-count",
    tags=TAGS,
    sync_to_thread=True,
    summary="How many of the caller's notifications are unread",
    responses=problem_responses(401, 422, 503),
)
def count_unread(context: Context, actor: Actor, min_position: MinPosition = None) -> UnreadCount:
    with reading(context, READS, min_position) as conn:
        return UnreadCount(notifications.unread_count(conn, actor))


@post(
    "/notifications/{notification_id:uuid}/read",
    tags=TAGS,
    status_code=204,
    sync_to_thread=True,
    summary="Mark a notification read",
    description="Marking one already read changes nothing. Another user's notification is 404.",
    response_headers=[TRAIL_POSITION],
    responses=problem_responses(401, 404, 503),
)
def mark_read(
    notification_id: UUID, context: Context, actor: Actor, min_position: MinPosition = None
) -> Response[None]:
    with reading(context, READS, min_position) as conn:
        if notifications.owner(conn, notification_id) != actor.id:
            raise NotFound("no such notification")
    command = MarkNotificationRead(notification_id=notification_id)
    return answer(None, context.commands.read_marks.mark_read(actor, command), status_code=204)


@post(
    "/notifications/read-all",
    tags=TAGS,
    status_code=204,
    summary="Mark every notification read",
    description="Every notification of the caller up to `up_to_position` (a position, at most "
    "the head of the log; the head when absent). The body may be left out.",
    response_headers=[TRAIL_POSITION],
    responses=problem_responses(400, 401, 413, 415, 422),
)
async def mark_all_read(
    request: Request[Any, Any, Any], context: Context, actor: Actor
) -> Response[None]:
    body = ReadAll()
    if await request.body():
        await check_body(request, ReadAll)
        body = msgspec.json.decode(await request.body(), type=ReadAll)
    position = body.up_to_position
    if position is None:
        position = await to_thread.run_sync(context.commands.store.current_position)
    command = MarkAllNotificationsRead(up_to_position=position)
    outcome = await to_thread.run_sync(context.commands.read_marks.mark_all_read, actor, command)
    return answer(None, outcome.position, status_code=204)


ROUTES = [list_notifications, count_unread, mark_read, mark_all_read]
waits_for(READS, list_notifications, count_unread)
