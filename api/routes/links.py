"""Links between tickets: add (developers and admins), list, remove from either end."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec
from litestar import Response, delete, get, post

from api.context import Context
from api.errors import problem_responses
from api.headers import ETAG, LOCATION, TRAIL_POSITION, IfMatch, MinPosition, expected_version
from api.reads import reading_ticket, waits_for
from api.responses import answer
from commands.messages import LinkTickets, UnlinkTickets
from commands.permissions import Actor
from domain.links import LinkType
from projections import tickets

TAGS = ["links"]
READS = (tickets.TicketsProjection.name,)


class LinkCreate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    type: LinkType
    ticket_id: UUID


class LinkView(msgspec.Struct, frozen=True):
    """A link as the ticket in the path sees it."""

    id: UUID
    type: LinkType
    ticket_id: UUID
    created_at: datetime


class Links(msgspec.Struct, frozen=True):
    items: list[tickets.LinkItem]


@post(
    "/tickets/{ticket_id:str}/links",
    tags=TAGS,
    status_code=201,
    sync_to_thread=True,
    summary="Link two tickets (developers and admins)",
    description="`type` as seen from this ticket; the other ticket shows the inverse "
    "(`blocks` / `blocked_by`, `duplicates` / `duplicated_by`, `relates_to`). Both tickets "
    "record the link (version, history, emails). A link to itself, between tickets already "
    "linked (any type, either end), or a blocking link that would close a cycle is 409; an "
    "unknown `ticket_id` is 422. `ETag` is this ticket's version after the link.",
    response_headers=[LOCATION, ETAG, TRAIL_POSITION],
    responses=problem_responses(400, 401, 403, 404, 409, 412, 413, 415, 422),
)
def add_link(
    ticket_uuid: UUID, data: LinkCreate, context: Context, actor: Actor, if_match: IfMatch = None
) -> Response[LinkView]:
    command = LinkTickets(ticket_id=ticket_uuid, type=data.type, other_id=data.ticket_id,
                          expected_version=expected_version(if_match))
    outcome = context.commands.links.add(actor, command)
    link = outcome.aggregate.find_link(outcome.id)
    view = LinkView(id=link.id, type=link.type, ticket_id=link.ticket_id,
                    created_at=link.created_at)
    return answer(view, outcome.position, status_code=201, version=outcome.version,
                  location=f"/tickets/{ticket_uuid}/links/{link.id}")


@get(
    "/tickets/{ticket_id:str}/links",
    tags=TAGS,
    sync_to_thread=True,
    summary="A ticket's links",
    description="Oldest first, `type` as seen from this ticket, with the other ticket's key, "
    "title and status as they are now. Links to tickets the caller may not see are left out.",
    responses=problem_responses(401, 404, 422, 503),
)
def list_links(
    ticket_uuid: UUID, context: Context, actor: Actor, min_position: MinPosition = None
) -> Links:
    with reading_ticket(context, READS, min_position, ticket_uuid, actor) as conn:
        return Links(items=tickets.list_links(conn, ticket_uuid, actor))


@delete(
    "/tickets/{ticket_id:str}/links/{link_id:uuid}",
    tags=TAGS,
    status_code=204,
    sync_to_thread=True,
    summary="Remove a link (developers and admins)",
    description="From either end: it is gone from both tickets, each recording it.",
    response_headers=[ETAG, TRAIL_POSITION],
    responses=problem_responses(401, 403, 404, 409, 412),
)
def remove_link(
    ticket_uuid: UUID, link_id: UUID, context: Context, actor: Actor, if_match: IfMatch = None
) -> Response[None]:
    command = UnlinkTickets(ticket_id=ticket_uuid, link_id=link_id,
                            expected_version=expected_version(if_match))
    outcome = context.commands.links.remove(actor, command)
    return answer(None, outcome.position, status_code=204, version=outcome.version)


ROUTES = [add_link, list_links, remove_link]
waits_for(READS, list_links)
