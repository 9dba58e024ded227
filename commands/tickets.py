"""Tickets: create, edit, assign, comment. Each command loads the ticket once, checks that the
caller may see it (404 otherwise) and may do this (403), decides, and saves; the answer is built
from the aggregate as saved, so its version is the one this command wrote."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate
from msgspec import UNSET

from commands.base import Outcome, Trail
from commands.errors import Conflict, NotFound, VersionMismatch
from commands.messages import AssignTicket, CommentOnTicket, CreateTicket, EditComment, EditTicket
from commands.numbering import TicketNumbers
from commands.permissions import (
    Actor,
    require_team_change,
    require_ticket_worker,
    require_visible,
)
from commands.serial import exclusively
from commands.ticket_refs import PARENT_GRAPH, TicketReferences
from domain.errors import FieldError, require
from domain.project import Project
from domain.ticket import Ticket
from domain.ticket_edit import ticket_id_for
from domain.user import User
from domain.values import ASSIGNEES_MAX, DONE, Stamp, clean_assignees
from eventlog.reading import fold

Change = Callable[[Ticket, Stamp], None]


class Tickets(TicketReferences):
    def __init__(
        self,
        store: Trail,
        numbers: TicketNumbers,
        *,
        clock: Callable[[], datetime],
        new_id: Callable[[], UUID],
    ) -> None:
        super().__init__(store, clock=clock, new_id=new_id)
        self.numbers = numbers

    def create(self, actor: Actor, command: CreateTicket) -> Outcome[Ticket]:
        if command.parent_id is not None:
            require_ticket_worker(actor, "parent_id")
        if command.team_id is not None:
            require_team_change(actor, None, command.team_id)
        # The project and the assignees in one read of the log (no more of them than the
        # bound lets through: a longer list is refused without loading any).
        wanted = list(dict.fromkeys([command.project_id, *command.assignee_ids]))
        found = self._find_each(Aggregate, wanted[: ASSIGNEES_MAX + 2])
        project = found.get(command.project_id)
        errors: list[FieldError] = []
        if not isinstance(project, Project):
            project = None
            errors.append(FieldError("project_id", "no such project"))
        if command.assignee_ids:
            require_ticket_worker(actor, "assignees", command.team_id)
            errors += self._assignee_errors("assignee_ids", command.assignee_ids, found)
        errors += self._reference_errors(command.project_id, command.parent_id, command.team_id)
        require(errors)
        assert project is not None
        stamp = self._stamp(actor.id)
        # Every field (422) before the project's state (409), and both before a number is
        # spent on the ticket.
        Ticket.open(stamp, ticket_id=project.id, project_id=project.id, number=0,
                    **command.fields())
        project.accept_tickets()
        number = self.numbers.next(project.id)
        ticket = Ticket.open(stamp, ticket_id=ticket_id_for(project.id, number),
                             project_id=project.id, number=number, **command.fields())
        return self._save(ticket)

    def find_by_key(self, project_key: str, number: int) -> UUID | None:
        """The id of ticket `<project_key>-<number>`, from the write side; None if it was made
        before ids followed from keys (the read model knows those) or does not exist."""
        project_id = self._claim_holder("project-key", project_key)
        if project_id is None:
            return None
        ticket_id = ticket_id_for(project_id, number)
        return ticket_id if self._find(Ticket, ticket_id) is not None else None

    def get(self, actor: Actor, ticket_id: UUID, version: int | None = None) -> Ticket:
        """The ticket now, or exactly as it was at `version`. Who may see it is decided by the
        ticket as it is now, whichever version is asked for."""
        current = self._load(Ticket, ticket_id, "ticket")
        require_visible(actor, current)
        if version is None or version == current.version:
            return current
        if not 1 <= version < current.version:
            raise NotFound("no such version of the ticket")
        past: Aggregate = self.store.repository.get(ticket_id, version=version,
                                                    projector_func=fold)
        assert isinstance(past, Ticket)
        return past

    def edit(self, actor: Actor, command: EditTicket) -> Outcome[Ticket]:
        def change(ticket: Ticket, stamp: Stamp) -> None:
            # Checked once the ticket is visible: a hidden ticket answers "not found" first.
            _authorize_edit(actor, ticket, command)
            parent_id = None if command.parent_id is UNSET else command.parent_id
            team_id = None if command.team_id is UNSET else command.team_id
            require(self._reference_errors(ticket.project_id, parent_id, team_id))
            if parent_id is not None and parent_id != ticket.parent_id:
                self._refuse_parent_cycle(ticket.id, parent_id)
            blocking = command.status in DONE and ticket.blocker_ids
            ticket.edit(stamp, command, self._blockers(ticket) if blocking else None)

        # Parents are decided one at a time: two changes could otherwise close a cycle that
        # neither sees.
        serial: contextlib.AbstractContextManager[None] = contextlib.nullcontext()
        if command.parent_id not in (UNSET, None):
            serial = exclusively(self.store.datastore, PARENT_GRAPH)
        with serial:
            return self._change(actor, command.ticket_id, command.expected_version, change)

    def assign(self, actor: Actor, command: AssignTicket) -> Outcome[Ticket]:
        def change(ticket: Ticket, stamp: Stamp) -> None:
            require_ticket_worker(actor, "assignees", ticket.team_id)
            require(self._assignee_errors("user_ids", command.user_ids))
            ticket.assign(stamp, command.user_ids)

        return self._change(actor, command.ticket_id, command.expected_version, change)

    def comment(self, actor: Actor, command: CommentOnTicket) -> Outcome[Ticket]:
        comment_id = self.new_id()

        def change(ticket: Ticket, stamp: Stamp) -> None:
            ticket.comment(stamp, comment_id, command.body)

        return self._change(actor, command.ticket_id, command.expected_version, change,
                            made=comment_id)

    def edit_comment(self, actor: Actor, command: EditComment) -> Outcome[Ticket]:
        def change(ticket: Ticket, stamp: Stamp) -> None:
            ticket.edit_comment(stamp, command.comment_id, command.body)

        return self._change(actor, command.ticket_id, command.expected_version, change,
                            made=command.comment_id)

    def change(
        self,
        actor: Actor,
        ticket_id: UUID,
        expected_version: int | None,
        change: Change,
        made: UUID | None = None,
    ) -> Outcome[Ticket]:
        """What every ticket command does, for the services that change tickets too
        (attachments): load, check visibility and `If-Match`, decide, refuse an archived
        project's ticket, save, and retry on a concurrent write."""
        return self._change(actor, ticket_id, expected_version, change, made)

    def _change(
        self,
        actor: Actor,
        ticket_id: UUID,
        expected_version: int | None,
        change: Change,
        made: UUID | None = None,
    ) -> Outcome[Ticket]:
        def attempt() -> Outcome[Ticket]:
            ticket = self._load(Ticket, ticket_id, "ticket")
            require_visible(actor, ticket)
            if expected_version is not None and ticket.version != expected_version:
                raise VersionMismatch(expected_version, ticket.version)
            change(ticket, self._stamp(actor.id))
            if ticket.pending_events:
                self._load(Project, ticket.project_id, "project").accept_tickets()
            return self._save(ticket, made=made)

        try:
            return self._retrying(attempt, "ticket")
        except Conflict:
            if expected_version is not None:
                actual = self._load(Ticket, ticket_id, "ticket").version
                raise VersionMismatch(expected_version, actual) from None
            raise

    def _assignee_errors(
        self, field: str, user_ids: Sequence[UUID], found: Mapping[UUID, Aggregate] | None = None
    ) -> list[FieldError]:
        # Bounded and deduplicated before any user is loaded: 5,000 copies of one id cost one
        # load, and a list past the bound costs none.
        errors: list[FieldError] = []
        unique = clean_assignees(errors, field, user_ids)
        if errors:
            return errors
        users = self._find_each(User, unique) if found is None else found
        for user_id in unique:
            user = users.get(user_id)
            if not isinstance(user, User) or not user.can_be_assigned:
                return [FieldError(field, f"{user_id} is not an active developer or admin")]
        return []


def _authorize_edit(actor: Actor, ticket: Ticket, command: EditTicket) -> None:
    """Title, description, type, tags and due date: anyone who sees the ticket. Status, priority:
    developers, admins and the lead of the ticket's team. Parent: developers and admins. Team:
    see `require_team_change`."""
    if command.status is not UNSET:
        require_ticket_worker(actor, "status", ticket.team_id)
    if command.priority is not UNSET:
        require_ticket_worker(actor, "priority", ticket.team_id)
    if command.parent_id is not UNSET:
        require_ticket_worker(actor, "parent_id")
    if command.team_id is not UNSET:
        require_team_change(actor, ticket.team_id, command.team_id)
