"""Outgoing email and its delivery state, for admins."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from litestar import Response, get, post

from api.context import Context
from api.errors import problem_responses
from api.headers import TRAIL_POSITION, MinPosition
from api.paging import Cursor, Limit
from api.reads import reading, waits_for
from api.responses import Accepted, answer
from commands.errors import NotFound
from commands.permissions import Actor, require_admin
from projections.outbox import Outbox, rows
from projections.outbox.rows import EmailItem
from projections.paging import Page

TAGS = ["admin"]
READS = (Outbox.name,)


@get(
    "/admin/emails",
    tags=TAGS,
    sync_to_thread=True,
    summary="Outgoing emails and their delivery state (admin)",
    description="Newest first. `pending` covers emails waiting for their first or next try.",
    responses=problem_responses(401, 403, 422, 503),
)
def list_emails(
    context: Context,
    actor: Actor,
    status: Literal["pending", "sent", "failed"] | None = None,
    ticket_id: UUID | None = None,
    limit: Limit = 25,
    cursor: Cursor = None,
    min_position: MinPosition = None,
) -> Page[EmailItem]:
    require_admin(actor)
    with reading(context, READS, min_position) as conn:
        return rows.list_emails(conn, status, ticket_id, limit, cursor)


@post(
    "/admin/emails/{email_id:uuid}/retry",
    tags=TAGS,
    status_code=202,
    sync_to_thread=True,
    summary="Send a failed email again (admin)",
    description="It is tried again now with a fresh set of attempts. A sent email stays sent.",
    response_headers=[TRAIL_POSITION],
    responses=problem_responses(401, 403, 404),
)
def retry_email(email_id: UUID, context: Context, actor: Actor) -> Response[Accepted]:
    require_admin(actor)
    with context.services.pool.connection() as conn:
        if not rows.retry_email(conn, email_id):
            raise NotFound("no such email")
    # No event is recorded; the head of the log keeps "every command answers Trail-Position".
    return answer(Accepted("the email is queued to be sent again"),
                  context.commands.store.current_position(), status_code=202)


ROUTES = [list_emails, retry_email]
waits_for(READS, list_emails)
