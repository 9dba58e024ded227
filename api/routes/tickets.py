"""Tickets: create, list, read (now, at a version, as of a moment), edit and assign."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from litestar import Response, get, patch, post, put
from litestar.params import Parameter

from api.context import Context
from api.errors import invalid, problem_responses
from api.headers import ETAG, LOCATION, TRAIL_POSITION, IfMatch, MinPosition, expected_version
from api.paging import Cursor, Limit
from api.people import refs, ticket_view
from api.reads import reading, waits_for
from api.responses import answer
from commands.base import Outcome
from commands.errors import NotFound
from commands.messages import AssignTicket, CreateTicket, EditTicket
from commands.permissions import Actor
from domain.history import HistoryEntry
from domain.ticket import Ticket
from domain.ticket_edit import TicketEdit
from domain.values import Priority, Status, TicketType
from eventlog import audit
from projections import tickets, users
from projections.paging import Page, check_limit, decode_cursor, page
from projections.tickets import TicketFilters, TicketView
from projections.users import UserRef

# The read models the list and the current ticket come from (`Trail-Min-Position`): the
# tickets, and the users who name their people.
READS = (tickets.TicketsProjection.name, users.UsersProjection.name)

TAGS = ["tickets"]


class TicketCreate(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A new ticket; it starts `open`, so `status` is not a field here."""

    project_id: UUID
    title: str
    description: str | None = None
    priority: Priority = Priority.MEDIUM
    type: TicketType = TicketType.BUG
    tags: list[str] = msgspec.field(default_factory=list)
    due_date: date | None = None
    assignee_ids: list[UUID] = msgspec.field(default_factory=list)
    parent_id: UUID | None = None
    team_id: UUID | None = None

    def command(self) -> CreateTicket:
        return CreateTicket(
            project_id=self.project_id,
            title=self.title,
            description=self.description,
            priority=self.priority,
            type=self.type,
            tags=tuple(self.tags),
            due_date=self.due_date,
            assignee_ids=tuple(self.assignee_ids),
            parent_id=self.parent_id,
            team_id=self.team_id,
        )


TicketSort = Literal[
    "created_at", "-created_at", "updated_at", "-updated_at", "priority", "due_date"
]


class HistoryItem(HistoryEntry, frozen=True):
    """A history entry with its actor named."""

    actor: UserRef


class Assignees(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    user_ids: list[UUID]


def _ticket_answer(
    context: Context, outcome: Outcome[Ticket], status_code: int = 200
) -> Response[TicketView]:
    """The ticket as the command saved it: its `ETag` is the version this command wrote."""
    location = f"/tickets/{outcome.id}" if status_code == 201 else None
    view = ticket_view(context, outcome.aggregate, new=status_code == 201)
    return answer(view, outcome.position,
                  status_code=status_code, location=location, version=outcome.version)


@post(
    "/tickets",
    tags=TAGS,
    status_code=201,
    sync_to_thread=True,
    summary="Create a ticket",
    description="It starts `open` at version 1 with `updated_at` null; sending `status` is "
    "422. An unknown `project_id`, or an assignee who is not an active developer or admin, "
    "is 422 naming the field; an archived project is 409. A reporter may not set assignees "
    "or `parent_id` (a ticket of the same project, else 422); `team_id` is set by developers, "
    "admins and that team's lead.",
    response_headers=[LOCATION, ETAG, TRAIL_POSITION],
    responses=problem_responses(400, 401, 403, 409, 413, 415, 422),
)
def create_ticket(data: TicketCreate, context: Context, actor: Actor) -> Response[TicketView]:
    return _ticket_answer(context, context.commands.tickets.create(actor, data.command()), 201)


@patch(
    "/tickets/{ticket_id:str}",
    tags=TAGS,
    sync_to_thread=True,
    summary="Edit a ticket",
    description="Only the fields sent change. Any other key (`assignee_ids`, `id`, `number`, "
    "…) is 422 naming it; an illegal status transition (including to the current status) is "
    "409, and so is resolving or closing a ticket that unfinished tickets block (`detail` "
    "names them) or a `parent_id` that closes a cycle; a reporter changing status, priority "
    "or `parent_id` is 403 (a team's lead works its team's tickets); `If-Match` naming an "
    "older version is 412.",
    response_headers=[ETAG, TRAIL_POSITION],
    responses=problem_responses(400, 401, 403, 404, 409, 412, 413, 415, 422),
)
def edit_ticket(
    ticket_uuid: UUID, data: TicketEdit, context: Context, actor: Actor, if_match: IfMatch = None
) -> Response[TicketView]:
    command = EditTicket(
        **msgspec.structs.asdict(data),
        ticket_id=ticket_uuid,
        expected_version=expected_version(if_match),
    )
    return _ticket_answer(context, context.commands.tickets.edit(actor, command))


@put(
    "/tickets/{ticket_id:str}/assignees",
    tags=TAGS,
    sync_to_thread=True,
    summary="Replace a ticket's assignees",
    description="The full new list, possibly empty. Every assignee must be an active "
    "developer or admin (else 422); a reporter may not assign (403).",
    response_headers=[ETAG, TRAIL_POSITION],
    responses=problem_responses(400, 401, 403, 404, 409, 412, 413, 415, 422),
)
def assign_ticket(
    ticket_uuid: UUID, data: Assignees, context: Context, actor: Actor, if_match: IfMatch = None
) -> Response[TicketView]:
    command = AssignTicket(
        ticket_id=ticket_uuid,
        user_ids=tuple(data.user_ids),
        expected_version=expected_version(if_match),
    )
    return _ticket_answer(context, context.commands.tickets.assign(actor, command))


@get(
    "/tickets",
    tags=TAGS,
    sync_to_thread=True,
    summary="List tickets",
    description="Filtered, sorted and keyset-paginated; a reporter sees only the tickets it "
    "reported or is assigned to, and those of its teams. `q` searches title, description and "
    "comments; `parent_id` lists a ticket's subtasks.",
    responses=problem_responses(401, 422, 503),
)
def list_tickets(
    context: Context,
    actor: Actor,
    project_id: UUID | None = None,
    status: Status | None = None,
    priority: Priority | None = None,
    ticket_type: Annotated[TicketType | None, Parameter(query="type")] = None,
    tag: Annotated[str | None, Parameter(max_length=40)] = None,
    assignee_id: UUID | None = None,
    reporter_id: UUID | None = None,
    q: Annotated[str | None, Parameter(max_length=200)] = None,
    due_before: date | None = None,
    parent_id: UUID | None = None,
    team_id: UUID | None = None,
    sort: TicketSort = "-created_at",
    limit: Limit = 25,
    cursor: Cursor = None,
    min_position: MinPosition = None,
) -> Page[TicketView]:
    filters = TicketFilters(
        project_id=project_id, status=status, priority=priority, type=ticket_type, tag=tag,
        assignee_id=assignee_id, reporter_id=reporter_id, q=q, due_before=due_before,
        parent_id=parent_id, team_id=team_id, sort=sort,
    )
    with reading(context, READS, min_position) as conn:
        return tickets.list_tickets(conn, filters, actor, limit, cursor)


@get(
    "/tickets/{ticket_id:str}",
    tags=TAGS,
    sync_to_thread=True,
    summary="Read a ticket, now or as it was",
    description="`?version=n` answers the ticket exactly as it was at that version (404 "
    "outside 1..current); `?as_of=<time>` as it was at that moment (404 before it existed). "
    "A ticket the caller may not see is 404.",
    response_headers=[ETAG],
    responses=problem_responses(401, 404, 422, 503),
)
def get_ticket(
    ticket_uuid: UUID,
    context: Context,
    actor: Actor,
    version: int | None = None,
    as_of: datetime | None = None,
    min_position: MinPosition = None,
) -> Response[TicketView]:
    if version is not None and as_of is not None:
        raise invalid("as_of", "send either version or as_of, not both")
    if version is not None:
        if version < 1:
            raise NotFound("no such version of this ticket")
        past = context.commands.tickets.get(actor, ticket_uuid, version=version)
        view = ticket_view(context, past)
    elif as_of is not None:
        view = _as_of(context, actor, ticket_uuid, as_of)
    else:
        with reading(context, READS, min_position) as conn:
            found = tickets.get_ticket(conn, ticket_uuid, actor)
        if found is None:
            raise NotFound("no such ticket")
        view = found
    return Response(view, headers={"ETag": f'"{view.version}"'})


def _as_of(context: Context, actor: Actor, ticket_uuid: UUID, moment: datetime) -> TicketView:
    # Whether the caller may see the ticket is a question about now, not about then.
    context.commands.tickets.get(actor, ticket_uuid)
    # A moment without an offset is read as UTC, the zone every time of this API is in.
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    with context.services.pool.connection() as conn:
        then = audit.ticket_as_of(conn, ticket_uuid, moment)
    if then is None:
        raise NotFound("the ticket did not exist at that moment")
    return ticket_view(context, then)


@get(
    "/tickets/{ticket_id:str}/history",
    tags=["audit"],
    sync_to_thread=True,
    summary="A ticket's history",
    description="Every event, oldest first, read from the event store: "
    "`{position, version, type, at, actor_id, changes: {field: {from, to}}}`. Exact as soon "
    "as a command has answered.",
    responses=problem_responses(401, 404, 422),
)
def ticket_history(
    ticket_uuid: UUID, context: Context, actor: Actor, limit: Limit = 25, cursor: Cursor = None
) -> Page[HistoryItem]:
    context.commands.tickets.get(actor, ticket_uuid)
    check_limit(limit)
    after = decode_cursor(cursor, "history", tuple[int])[0] if cursor is not None else 0
    with context.services.pool.connection() as conn:
        entries = audit.ticket_history(conn, ticket_uuid, after_version=after, limit=limit + 1)
    people = refs(context, {e.actor_id for e in entries})

    def item(entry: HistoryEntry) -> HistoryItem:
        actor_ref = people.get(entry.actor_id) or UserRef(entry.actor_id, "")
        return HistoryItem(**msgspec.structs.asdict(entry), actor=actor_ref)

    return page(entries, limit, "history", lambda entry: (entry.version,), item)


ROUTES = [create_ticket, list_tickets, get_ticket, edit_ticket, assign_ticket, ticket_history]
waits_for(READS, list_tickets, get_ticket)
