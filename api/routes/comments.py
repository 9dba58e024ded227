"""Comments on a ticket: add, list (oldest first), and rewrite one's own."""

from __future__ import annotations

from uuid import UUID

import msgspec
from litestar import Response, get, patch, post

from api.consistency import wait_for_reads
from api.context import Context
from api.errors import problem_responses
from api.headers import (
    LOCATION,
    TRAIL_POSITION,
    IfMatch,
    MinPosition,
    expected_version,
    position_header,
)
from api.paging import Cursor, Limit
from api.routes.tickets import viewer
from api.views import CommentView, comment_view, converted
from commands.errors import NotFound
from commands.messages import CommentOnTicket, EditComment
from commands.permissions import Actor
from projections import comments, tickets

TAGS = ["comments"]
# Visibility comes from the tickets model, the comments themselves from theirs.
READS = (tickets.TicketsProjection.name, comments.CommentsProjection.name)


class CommentBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    body: str


class CommentPage(msgspec.Struct, frozen=True):
    items: list[CommentView]
    next_cursor: str | None


def _comment_response(
    context: Context, actor: Actor, ticket_id: UUID, comment_id: UUID, position: int,
    status_code: int = 200,
) -> Response[CommentView]:
    ticket = context.trail.ticket(actor, ticket_id)
    headers = position_header(position)
    if status_code == 201:
        headers["Location"] = f"/tickets/{ticket_id}/comments/{comment_id}"
    return Response(
        comment_view(ticket_id, ticket.comments[comment_id]),
        status_code=status_code,
        headers=headers,
    )


@post(
    "/tickets/{ticket_id:uuid}/comments",
    tags=TAGS,
    status_code=201,
    sync_to_thread=True,
    summary="Comment on a ticket",
    description="Anyone who may see the ticket may comment on it. body 1..20,000 characters.",
    response_headers=[LOCATION, TRAIL_POSITION],
    responses=problem_responses(400, 401, 404, 409, 412, 413, 415, 422),
)
def add_comment(
    ticket_id: UUID, data: CommentBody, context: Context, actor: Actor, if_match: IfMatch = None
) -> Response[CommentView]:
    outcome = context.trail.comment(
        actor,
        CommentOnTicket(
            ticket_id=ticket_id, body=data.body, expected_version=expected_version(if_match)
        ),
    )
    return _comment_response(context, actor, ticket_id, outcome.id, outcome.position, 201)


@get(
    "/tickets/{ticket_id:uuid}/comments",
    tags=TAGS,
    sync_to_thread=True,
    summary="A ticket's comments, oldest first",
    responses=problem_responses(401, 404, 422, 503),
)
def list_comments(
    ticket_id: UUID,
    context: Context,
    actor: Actor,
    limit: Limit = 25,
    cursor: Cursor = None,
    min_position: MinPosition = None,
) -> CommentPage:
    wait_for_reads(context, READS, min_position)
    with context.services.pool.connection() as conn:
        if tickets.get_ticket(conn, ticket_id, viewer(actor)) is None:
            raise NotFound("no such ticket")
        found = comments.list_comments(conn, ticket_id, limit, cursor)
    return CommentPage([converted(CommentView, c) for c in found.items], found.next_cursor)


@patch(
    "/tickets/{ticket_id:uuid}/comments/{comment_id:uuid}",
    tags=TAGS,
    sync_to_thread=True,
    summary="Rewrite a comment",
    description="Its author only: nobody else, admins included, may rewrite someone's words.",
    response_headers=[TRAIL_POSITION],
    responses=problem_responses(400, 401, 403, 404, 409, 412, 413, 415, 422),
)
def edit_comment(
    ticket_id: UUID,
    comment_id: UUID,
    data: CommentBody,
    context: Context,
    actor: Actor,
    if_match: IfMatch = None,
) -> Response[CommentView]:
    outcome = context.trail.edit_comment(
        actor,
        EditComment(
            ticket_id=ticket_id,
            comment_id=comment_id,
            body=data.body,
            expected_version=expected_version(if_match),
        ),
    )
    return _comment_response(context, actor, ticket_id, comment_id, outcome.position)


ROUTES = [add_comment, list_comments, edit_comment]
