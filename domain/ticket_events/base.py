"""What every ticket event is: who did it, in which command, and which fields it changed."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

Changes = dict[str, tuple[Any, Any]]


class TicketEvent(Aggregate.Event):
    TOPIC = "trail.Ticket.Event"
    actor_id: UUID
    command_id: UUID

    def changes(self) -> Changes:
        """The ticket fields this event changed, as {field: (from, to)}."""
        return {}
