"""A ticket's conversation: private to its reporter and its current assignees.

Anyone else, admins included, gets 404, as for a ticket it may not see. Whoever takes part now
reads the whole conversation, older messages included; an assignee removed from the ticket no
longer does.
"""

from __future__ import annotations

from uuid import UUID

import msgspec
from litestar import Response, get, post

from api.context import Context
from api.errors import invalid, problem_responses
from api.headers import LOCATION, TRAIL_POSITION, MinPosition
from api.paging import Cursor, Limit
from api.people import ref
from api.reads import reading, waits_for
from api.responses import answer
from commands.errors import NotFound
from commands.messages import PostMessage
from commands.permissions import Actor
from projections import conversations, users
from projections.conversations import MessageView, view_of
from projections.paging import Page

TAGS = ["conversations"]
READS = (conversations.ConversationsProjection.name, users.UsersProjection.name)


class MessageBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    body: str


@post(
    "/tickets/{ticket_id:str}/messages",
    tags=TAGS,
    status_code=201,
    sync_to_thread=True,
    summary="Post to a ticket's conversation",
    description="The ticket's reporter and current assignees only (404 for anyone else). "
    "body 1..4,000 characters. A message never changes the ticket.",
    response_headers=[LOCATION, TRAIL_POSITION],
    responses=problem_responses(400, 401, 404, 413, 415, 422),
)
def post_message(
    ticket_uuid: UUID, data: MessageBody, context: Context, actor: Actor
) -> Response[MessageView]:
    outcome = context.commands.conversations.post(actor, PostMessage(ticket_id=ticket_uuid,
                                                                     body=data.body))
    message = outcome.aggregate
    return answer(view_of(message, ref(context, message.author_id)), outcome.position,
                  status_code=201, location=f"/tickets/{ticket_uuid}/messages/{message.id}")


@get(
    "/tickets/{ticket_id:str}/messages",
    tags=TAGS,
    sync_to_thread=True,
    summary="A ticket's conversation, oldest first",
    description="`after` (a message id) answers the messages after that one. For the "
    "reporter and the current assignees only (404 for anyone else).",
    responses=problem_responses(401, 404, 422, 503),
)
def list_messages(
    ticket_uuid: UUID,
    context: Context,
    actor: Actor,
    after: UUID | None = None,
    limit: Limit = 25,
    cursor: Cursor = None,
    min_position: MinPosition = None,
) -> Page[MessageView]:
    context.commands.conversations.require_participant(actor, ticket_uuid)
    with reading(context, READS, min_position) as conn:
        after_seq = 0
        if after is not None and cursor is None:
            found = conversations.message_seq(conn, ticket_uuid, after)
            if found is None:
                raise invalid("after", "names no message of this conversation")
            after_seq = found
        return conversations.list_messages(conn, ticket_uuid, after_seq=after_seq, limit=limit,
                                           cursor=cursor)


@get(
    "/tickets/{ticket_id:str}/messages/{message_id:uuid}",
    tags=TAGS,
    sync_to_thread=True,
    summary="One message of a ticket's conversation",
    responses=problem_responses(401, 404, 422, 503),
)
def get_message(
    ticket_uuid: UUID, message_id: UUID, context: Context, actor: Actor,
    min_position: MinPosition = None,
) -> MessageView:
    context.commands.conversations.require_participant(actor, ticket_uuid)
    with reading(context, READS, min_position) as conn:
        seq = conversations.message_seq(conn, ticket_uuid, message_id)
        if seq is None:
            raise NotFound("no such message")
        return conversations.list_messages(conn, ticket_uuid, after_seq=seq - 1, limit=1).items[0]


ROUTES = [post_message, list_messages, get_message]
waits_for(READS, list_messages, get_message)
