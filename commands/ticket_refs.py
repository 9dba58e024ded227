"""What a ticket command reads of other aggregates: the parent and team a ticket refers to, the
tickets that block it, and the graphs (blocking, parents) it must not close a cycle in.

The rules themselves are the domain's (`domain.links`); this loads what they are given.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from commands.base import Service
from domain.errors import CycleNotAllowed, FieldError
from domain.links import Blocker, closes_blocking_cycle, closes_parent_cycle
from domain.project import Project
from domain.team import Team
from domain.ticket import Ticket
from domain.values import ticket_key

# Advisory-lock names (commands.serial) of the two graphs that must stay acyclic.
BLOCKING_GRAPH = "blocking links"
PARENT_GRAPH = "ticket parents"


class TicketReferences(Service):
    def _reference_errors(
        self, project_id: UUID, parent_id: UUID | None, team_id: UUID | None
    ) -> list[FieldError]:
        """A parent that is no ticket of the same project, a team that does not exist (422)."""
        errors = []
        if parent_id is not None:
            parent = self._find(Ticket, parent_id)
            if parent is None:
                errors.append(FieldError("parent_id", "no such ticket"))
            elif parent.project_id != project_id:
                errors.append(FieldError("parent_id", "must be a ticket of the same project"))
        if team_id is not None and self._find(Team, team_id) is None:
            errors.append(FieldError("team_id", "no such team"))
        return errors

    def _refuse_parent_cycle(self, child_id: UUID, parent_id: UUID) -> None:
        def parent_of(ticket_id: UUID) -> UUID | None:
            ticket = self._find(Ticket, ticket_id)
            return ticket.parent_id if ticket else None

        if closes_parent_cycle(child_id, parent_id, parent_of):
            raise CycleNotAllowed("the parent is this ticket or one of its subtasks")

    def _refuse_blocking_cycle(self, blocker_id: UUID, blocked_id: UUID) -> None:
        def blocks(ticket_id: UUID) -> Iterable[UUID]:
            ticket = self._find(Ticket, ticket_id)
            return ticket.blocked_ids if ticket else ()

        if closes_blocking_cycle(blocker_id, blocked_id, blocks):
            raise CycleNotAllowed("the other ticket already blocks this one, directly or not")

    def _blockers(self, ticket: Ticket) -> dict[UUID, Blocker]:
        """Each ticket that blocks `ticket`, with its key and its status now."""
        found: dict[UUID, Blocker] = {}
        keys: dict[UUID, str] = {}
        for blocker_id in ticket.blocker_ids:
            blocker = self._load(Ticket, blocker_id, "ticket")
            if blocker.project_id not in keys:
                keys[blocker.project_id] = self._load(Project, blocker.project_id, "project").key
            key = ticket_key(keys[blocker.project_id], blocker.number)
            found[blocker_id] = Blocker(key=key, status=blocker.status)
        return found
