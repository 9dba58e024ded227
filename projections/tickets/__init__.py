"""Tickets read model: everything `GET /tickets` and `GET /tickets/{id}` answer, built for keyset
pages under every filter and sort of the API, and full-text search over title, description and
comment bodies.

    table        the table and its indexes
    projector    `TicketsProjection`: folds ticket events into rows, a batch at a time
    visibility   the SQL translation of `domain.visibility.may_see`
    queries      `TicketView`, `TicketFilters`, `get_ticket`, `list_tickets`, `view_of`
"""

from projections.tickets.projector import TicketsProjection
from projections.tickets.queries import (
    SORTS,
    TicketFilters,
    TicketView,
    find_by_key,
    get_ticket,
    list_tickets,
    view_of,
)

__all__ = [
    "SORTS",
    "TicketFilters",
    "TicketView",
    "TicketsProjection",
    "find_by_key",
    "get_ticket",
    "list_tickets",
    "view_of",
]
