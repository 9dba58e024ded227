"""Links to other tickets: each end records its own event, with the type seen from there."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from domain.links import Link, LinkType
from domain.ticket_events.base import Changes, TicketEvent

if TYPE_CHECKING:
    from domain.ticket import Ticket


class _LinkEvent(TicketEvent):
    """A link added to or removed from this ticket, as this end sees it (`type`, and the ticket
    at the other end), with the ticket's links before: the other end records the same link
    under the same `link_id`, in the same command."""

    TOPIC = "trail.Ticket.LinkEvent"
    link_id: UUID
    type: LinkType
    linked_ticket_id: UUID
    old_links: tuple[Link, ...]

    def links(self) -> tuple[Link, ...]:
        """The ticket's links after this event."""
        raise NotImplementedError

    def changes(self) -> Changes:
        return {"links": (list(self.old_links), list(self.links()))}

    def apply(self, ticket: Ticket) -> None:
        ticket.links = self.links()


class LinkAdded(_LinkEvent):
    TOPIC = "trail.Ticket.LinkAdded"

    def links(self) -> tuple[Link, ...]:
        link = Link(self.link_id, self.type, self.linked_ticket_id, self.timestamp)
        return (*self.old_links, link)


class LinkRemoved(_LinkEvent):
    TOPIC = "trail.Ticket.LinkRemoved"

    def links(self) -> tuple[Link, ...]:
        return tuple(link for link in self.old_links if link.id != self.link_id)
