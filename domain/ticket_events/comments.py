"""Comments on a ticket: written, and rewritten by their author."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

import msgspec

from domain.ticket_events.base import Changes, TicketEvent

if TYPE_CHECKING:
    from domain.ticket import Ticket


class Comment(msgspec.Struct, frozen=True):
    id: UUID
    author_id: UUID
    body: str
    created_at: datetime
    edited_at: datetime | None = None


class Commented(TicketEvent):
    TOPIC = "trail.Ticket.Commented"
    comment_id: UUID
    body: str

    def changes(self) -> Changes:
        return {"comment": (None, self.body)}

    def apply(self, ticket: Ticket) -> None:
        ticket.comments[self.comment_id] = Comment(
            id=self.comment_id,
            author_id=self.actor_id,
            body=self.body,
            created_at=self.timestamp,
        )


class CommentEdited(TicketEvent):
    TOPIC = "trail.Ticket.CommentEdited"
    comment_id: UUID
    old_body: str
    body: str

    def changes(self) -> Changes:
        return {"comment": (self.old_body, self.body)}

    def apply(self, ticket: Ticket) -> None:
        old = ticket.comments[self.comment_id]
        ticket.comments[self.comment_id] = msgspec.structs.replace(
            old, body=self.body, edited_at=self.timestamp
        )
