"""People and tickets as answers show them: embedded `{id, name}`, and ticket keys.

The rules live in `projections.present`, shared with the web app; these bind them to the API's
pool and turn "no such ticket" into its 404.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated
from uuid import UUID

from litestar.params import Parameter

from api.context import Context
from commands.errors import NotFound
from domain.ticket import Ticket
from projections import present, tickets
from projections.tickets import TicketView
from projections.users import UserRef


def refs(context: Context, ids: Iterable[UUID]) -> dict[UUID, UserRef]:
    with context.services.pool.connection() as conn:
        return present.refs(conn, ids)


def ref(context: Context, user_id: UUID) -> UserRef:
    with context.services.pool.connection() as conn:
        return present.ref(conn, user_id)


def ticket_view(context: Context, ticket: Ticket, *, new: bool = False) -> TicketView:
    """The view of a ticket aggregate (a command's answer, `?version=`, `?as_of=`). Its
    `progress` is the subtasks' as the read side has them now, whatever version is shown; a
    ticket just created has no subtasks yet (a parent must exist first), so none is asked for."""
    with context.services.pool.connection() as conn:
        progress = None if new else tickets.progress_of(conn, ticket.id)
        return present.ticket_view(conn, ticket, progress)


TicketRef = Annotated[
    str, Parameter(description="The ticket's id, or its key (`WEB-42`, any case).")
]


def provide_ticket_uuid(ticket_id: TicketRef, context: Context) -> UUID:
    """The id of the ticket a path names by id or by key; 404 for anything else."""
    with context.services.pool.connection() as conn:
        found = present.find_ticket(conn, ticket_id)
    if found is None:
        raise NotFound("no such ticket")
    return found
