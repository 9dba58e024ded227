"""Links between tickets: add and remove. A link is one fact recorded on both tickets (each with
the type seen from its end), saved in one atomic write of the two, so a reader never finds one
end without the other. Developers and admins link tickets."""

from __future__ import annotations

import contextlib
from uuid import UUID

from commands.base import Outcome
from commands.errors import VersionMismatch
from commands.messages import LinkTickets, UnlinkTickets
from commands.permissions import Actor, require_ticket_worker, require_visible
from commands.serial import exclusively
from commands.ticket_refs import BLOCKING_GRAPH, TicketReferences
from domain.errors import FieldError, require
from domain.links import BLOCKING, LinkType
from domain.project import Project
from domain.ticket import Ticket
from domain.visibility import may_see


class Links(TicketReferences):
    def add(self, actor: Actor, command: LinkTickets) -> Outcome[Ticket]:
        """The outcome's id is the new link's."""
        link_id = self.new_id()

        def attempt() -> Outcome[Ticket]:
            ticket = self._subject(actor, command.ticket_id, command.expected_version)
            other = self._find(Ticket, command.other_id)
            if other is None or not may_see(actor, other):
                require([FieldError("ticket_id", "no such ticket")])
            assert other is not None
            stamp = self._stamp(actor.id)
            ticket.link(stamp, link_id, command.type, other.id)
            if command.type in BLOCKING:
                blocker, blocked = (
                    (ticket, other) if command.type is LinkType.BLOCKS else (other, ticket)
                )
                self._refuse_blocking_cycle(blocker.id, blocked.id)
            other.link(stamp, link_id, command.type.inverse, ticket.id)
            self._accepting(ticket, other)
            return self._save(ticket, other, made=link_id)

        # Blocking links are decided one at a time: two of them could otherwise close a cycle
        # that neither sees.
        serial: contextlib.AbstractContextManager[None] = contextlib.nullcontext()
        if command.type in BLOCKING:
            serial = exclusively(self.store.datastore, BLOCKING_GRAPH)
        with serial:
            return self._retrying(attempt, "ticket")

    def remove(self, actor: Actor, command: UnlinkTickets) -> Outcome[Ticket]:
        def attempt() -> Outcome[Ticket]:
            ticket = self._subject(actor, command.ticket_id, command.expected_version)
            link = ticket.find_link(command.link_id)
            other = self._load(Ticket, link.ticket_id, "ticket")
            stamp = self._stamp(actor.id)
            ticket.unlink(stamp, link.id)
            other.unlink(stamp, link.id)
            self._accepting(ticket, other)
            return self._save(ticket, other, made=link.id)

        return self._retrying(attempt, "ticket")

    def _subject(self, actor: Actor, ticket_id: UUID, expected_version: int | None) -> Ticket:
        """The ticket in the path: visible (else 404), workable (else 403), at the version the
        caller expects (else 412)."""
        ticket = self._load(Ticket, ticket_id, "ticket")
        require_visible(actor, ticket)
        require_ticket_worker(actor, "links")
        if expected_version is not None and ticket.version != expected_version:
            raise VersionMismatch(expected_version, ticket.version)
        return ticket

    def _accepting(self, *tickets: Ticket) -> None:
        """An archived project's tickets take no changes, links included."""
        for project_id in {t.project_id for t in tickets}:
            self._load(Project, project_id, "project").accept_tickets()
