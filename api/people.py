"""People and tickets as answers show them: embedded `{id, name}`, and ticket keys.

Names come from the users read model; a user it has not caught up with yet (registered a moment
ago) is named from the write side, so an answer never shows a blank name for a real user.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated
from uuid import UUID

from litestar.params import Parameter

from api.context import Context
from commands.errors import NotFound
from domain.ticket import Ticket
from domain.values import parse_ticket_key
from projections import tickets, users
from projections.tickets import TicketView
from projections.users import UserRef


def refs(context: Context, ids: Iterable[UUID]) -> dict[UUID, UserRef]:
    wanted = set(ids)
    with context.services.pool.connection() as conn:
        found = users.refs(conn, wanted)
    for user_id in wanted - found.keys():
        try:
            found[user_id] = UserRef(user_id, context.commands.accounts.user(user_id).name)
        except NotFound:
            continue
    return found


def ref(context: Context, user_id: UUID) -> UserRef:
    return refs(context, [user_id]).get(user_id) or UserRef(user_id, "")


def ticket_view(context: Context, ticket: Ticket) -> TicketView:
    """The view of a ticket aggregate (a command's answer, `?version=`, `?as_of=`). Its
    `progress` is the subtasks' as the read side has them now, whatever version is shown."""
    project_key = context.commands.projects.get(ticket.project_id).key
    people = refs(context, [ticket.reporter_id, *ticket.assignee_ids])
    with context.services.pool.connection() as conn:
        progress = tickets.progress_of(conn, ticket.id)
    return tickets.view_of(ticket, project_key, people, progress)


TicketRef = Annotated[
    str, Parameter(description="The ticket's id, or its key (`WEB-42`, any case).")
]


def provide_ticket_uuid(ticket_id: TicketRef, context: Context) -> UUID:
    """The id of the ticket a path names by id or by key; 404 for anything else."""
    try:
        return UUID(ticket_id)
    except ValueError:
        pass
    parsed = parse_ticket_key(ticket_id)
    if parsed is not None:
        found = context.commands.tickets.find_by_key(*parsed)
        if found is None:
            # Tickets made before ids followed from keys are known to the read model.
            with context.services.pool.connection() as conn:
                found = tickets.find_by_key(conn, *parsed)
        if found is not None:
            return found
    raise NotFound("no such ticket")
