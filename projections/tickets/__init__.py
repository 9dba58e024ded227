"""Tickets read model: everything `GET /tickets` and `GET /tickets/{id}` answer, built for keyset
pages under every filter and sort of the API, and full-text search over title, description and
comment bodies.

    table        the table and its indexes
    projector    `TicketsProjection`: folds ticket events into rows, a batch at a time
    progress     a parent's subtasks and how many are done, kept on the parent's row
    visibility   the SQL translation of `domain.visibility.may_see`
    queries      `TicketView`, `TicketFilters`, `get_ticket`, `list_tickets`, `view_of`
    links        `list_links`: a ticket's links with the other tickets as they are now
"""

from projections.tickets.links import LinkItem, list_links
from projections.tickets.projector import TicketsProjection
from projections.tickets.queries import (
    SORTS,
    Progress,
    TicketFilters,
    TicketView,
    find_by_key,
    get_ticket,
    list_tickets,
    progress_of,
    view_of,
)

__all__ = [
    "SORTS",
    "LinkItem",
    "Progress",
    "TicketFilters",
    "TicketView",
    "TicketsProjection",
    "find_by_key",
    "get_ticket",
    "list_links",
    "list_tickets",
    "progress_of",
    "view_of",
]
