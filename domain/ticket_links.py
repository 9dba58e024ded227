"""What a ticket does with links: record its end of one, drop it, and refuse to be done while
an unfinished ticket blocks it. The aggregate (`domain.ticket.Ticket`) takes these as a mixin."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from uuid import UUID

from domain import ticket_events as events
from domain.errors import LinkNotAllowed, TicketBlocked, UnknownLink
from domain.links import Blocker, Link, LinkType
from domain.values import DONE, Stamp, Status

if TYPE_CHECKING:
    from eventsourcing.domain import Aggregate


class TicketLinks:
    if TYPE_CHECKING:
        id: UUID

        def _record(
            self, stamp: Stamp, event_class: type[Aggregate.Event], **values: Any
        ) -> None: ...

        links: tuple[Link, ...]

    def _check_unblocked(self, status: Status, blockers: Mapping[UUID, Blocker]) -> None:
        if status not in DONE:
            return
        missing = [b for b in self.blocker_ids if b not in blockers]
        if missing:
            raise ValueError(f"the statuses of blockers {missing} are needed to decide")
        unfinished = [blockers[b].key for b in self.blocker_ids
                      if blockers[b].status not in DONE]
        if unfinished:
            raise TicketBlocked(unfinished)

    @property
    def blocker_ids(self) -> tuple[UUID, ...]:
        """The tickets that block this one."""
        return tuple(link.ticket_id for link in self.links if link.type is LinkType.BLOCKED_BY)

    @property
    def blocked_ids(self) -> tuple[UUID, ...]:
        """The tickets this one blocks."""
        return tuple(link.ticket_id for link in self.links if link.type is LinkType.BLOCKS)

    def link(self, stamp: Stamp, link_id: UUID, type: LinkType, other_id: UUID) -> None:
        """Record this end of a new link; the other ticket records the inverse in the same
        command. A blocking link comes checked against cycles
        (`domain.links.closes_blocking_cycle`)."""
        if other_id == self.id:
            raise LinkNotAllowed("a ticket cannot be linked to itself")
        if any(link.ticket_id == other_id for link in self.links):
            raise LinkNotAllowed("these tickets are linked already")
        self._record(stamp, events.LinkAdded, link_id=link_id, type=type,
                     linked_ticket_id=other_id, old_links=self.links)

    def find_link(self, link_id: UUID) -> Link:
        for link in self.links:
            if link.id == link_id:
                return link
        raise UnknownLink(f"ticket has no link {link_id}")

    def unlink(self, stamp: Stamp, link_id: UUID) -> None:
        """Record the end of a link at this end; the other ticket records it at its own."""
        link = self.find_link(link_id)
        self._record(stamp, events.LinkRemoved, link_id=link.id, type=link.type,
                     linked_ticket_id=link.ticket_id, old_links=self.links)
