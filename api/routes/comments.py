"""Comments on a ticket: add, list (oldest first), and rewrite one's own."""

from __future__ import annotations

from uuid import UUID

import msgspec
from litestar import Response, get, patch, post

from api.context import Context
from api.errors import problem_responses
from api.headers import LOCATION, TRAIL_POSITION, IfMatch, MinPosition, expected_version
from api.paging import Cursor, Limit
from api.people import ref
from api.reads import reading_ticket, waits_for
from api.responses import answer
from commands.base import Outcome
from commands.messages import CommentOnTicket, EditComment
from commands.permissions import Actor
from domain.ticket import Ticket
from projections import comments, tickets, users
from projections.comments import CommentView, view_of
from projections.paging import Page

TAGS = ["comments"]
# Visibility comes from the tickets model, the comments themselves from theirs.
READS = (tickets.TicketsProjection.name, comments.CommentsProjection.name,
         users.UsersProjection.name)


class CommentBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    body: str


def _comment_answer(
    context: Context, outcome: Outcome[Ticket], status_code: int = 200
) -> Response[CommentView]:
    """The comment as the command saved it in its ticket."""
    ticket = outcome.aggregate
    comment = ticket.comments[outcome.id]
    location = f"/tickets/{ticket.id}/comments/{outcome.id}" if status_code == 201 else None
    view = view_of(ticket.id, comment, ref(context, comment.author_id))
    return answer(view, outcome.position, status_code=status_code, location=location)


@post(
    "/tickets/{ticket_id:str}/comments",
    tags=TAGS,
    status_code=201,
    sync_to_thread=True,
    summary="Comment on a ticket",
    description="Anyone who may see the ticket may comment on it. body 1..20,000 characters.",
    response_headers=[LOCATION, TRAIL_POSITION],
    responses=problem_responses(400, 401, 404, 409, 412, 413, 415, 422),
)
def add_comment(
    ticket_uuid: UUID, data: CommentBody, context: Context, actor: Actor, if_match: IfMatch = None
) -> Response[CommentView]:
    command = CommentOnTicket(
        ticket_id=ticket_uuid, body=data.body, expected_version=expected_version(if_match)
    )
    return _comment_answer(context, context.commands.tickets.comment(actor, command), 201)


@get(
    "/tickets/{ticket_id:str}/comments",
    tags=TAGS,
    sync_to_thread=True,
    summary="A ticket's comments, oldest first",
    responses=problem_responses(401, 404, 422, 503),
)
def list_comments(
    ticket_uuid: UUID,
    context: Context,
    actor: Actor,
    limit: Limit = 25,
    cursor: Cursor = None,
    min_position: MinPosition = None,
) -> Page[CommentView]:
    with reading_ticket(context, READS, min_position, ticket_uuid, actor) as conn:
        return comments.list_comments(conn, ticket_uuid, limit, cursor)


@patch(
    "/tickets/{ticket_id:str}/comments/{comment_id:uuid}",
    tags=TAGS,
    sync_to_thread=True,
    summary="Rewrite a comment",
    description="Its author only: nobody else, admins included, may rewrite someone's words.",
    response_headers=[TRAIL_POSITION],
    responses=problem_responses(400, 401, 403, 404, 409, 412, 413, 415, 422),
)
def edit_comment(
    ticket_uuid: UUID,
    comment_id: UUID,
    data: CommentBody,
    context: Context,
    actor: Actor,
    if_match: IfMatch = None,
) -> Response[CommentView]:
    command = EditComment(
        ticket_id=ticket_uuid,
        comment_id=comment_id,
        body=data.body,
        expected_version=expected_version(if_match),
    )
    return _comment_answer(context, context.commands.tickets.edit_comment(actor, command))


ROUTES = [add_comment, list_comments, edit_comment]
waits_for(READS, list_comments)
