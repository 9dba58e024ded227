"""How a ticket is named and changed from outside: its id, and a partial update."""

from __future__ import annotations

from datetime import date
from uuid import UUID, uuid5

import msgspec
from msgspec import UNSET, UnsetType

from domain.values import Priority, Status, TicketType

# uuid5 namespace of ticket ids: a ticket's id follows from its project and number, so its key
# (`WEB-42`) finds it on the write side without a read model.
_TICKET_IDS = UUID("5b0e9c3e-2f53-4f7a-9b6e-7c1d2a4e8f10")


def ticket_id_for(project_id: UUID, number: int) -> UUID:
    return uuid5(_TICKET_IDS, f"{project_id}:{number}")


class TicketEdit(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A partial update: a field left out stays as it is; `None` clears `description`,
    `due_date`, `parent_id` or `team_id`. The API decodes request bodies straight into it."""

    title: str | UnsetType = UNSET
    description: str | UnsetType | None = UNSET
    status: Status | UnsetType = UNSET
    priority: Priority | UnsetType = UNSET
    type: TicketType | UnsetType = UNSET
    tags: list[str] | UnsetType = UNSET
    due_date: date | UnsetType | None = UNSET
    parent_id: UUID | UnsetType | None = UNSET
    team_id: UUID | UnsetType | None = UNSET
