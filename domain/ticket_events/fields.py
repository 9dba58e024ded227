"""A ticket's creation and the changes of its fields (each carries the old value and the new)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.ticket_events.base import Changes, TicketEvent
from domain.values import Priority, Status, TicketType

if TYPE_CHECKING:
    from domain.ticket import Ticket


class Created(TicketEvent, Aggregate.Created):
    TOPIC = "trail.Ticket.Created"
    project_id: UUID
    number: int
    title: str
    description: str | None
    priority: Priority
    type: TicketType
    tags: tuple[str, ...]
    due_date: date | None
    reporter_id: UUID
    assignee_ids: tuple[UUID, ...]
    # Absent from tickets created before tickets had parents and teams: none.
    parent_id: UUID | None = None
    team_id: UUID | None = None

    def changes(self) -> Changes:
        return {
            "project_id": (None, self.project_id),
            "number": (None, self.number),
            "title": (None, self.title),
            "description": (None, self.description),
            "status": (None, Status.OPEN),
            "priority": (None, self.priority),
            "type": (None, self.type),
            "tags": (None, list(self.tags)),
            "due_date": (None, self.due_date),
            "reporter_id": (None, self.reporter_id),
            "assignee_ids": (None, list(self.assignee_ids)),
            "parent_id": (None, self.parent_id),
            "team_id": (None, self.team_id),
        }


class TitleChanged(TicketEvent):
    TOPIC = "trail.Ticket.TitleChanged"
    old_title: str
    title: str

    def changes(self) -> Changes:
        return {"title": (self.old_title, self.title)}

    def apply(self, ticket: Ticket) -> None:
        ticket.title = self.title


class DescriptionChanged(TicketEvent):
    TOPIC = "trail.Ticket.DescriptionChanged"
    old_description: str | None
    description: str | None

    def changes(self) -> Changes:
        return {"description": (self.old_description, self.description)}

    def apply(self, ticket: Ticket) -> None:
        ticket.description = self.description


class StatusChanged(TicketEvent):
    TOPIC = "trail.Ticket.StatusChanged"
    old_status: Status
    status: Status

    def changes(self) -> Changes:
        return {"status": (self.old_status, self.status)}

    def apply(self, ticket: Ticket) -> None:
        ticket.status = self.status


class PriorityChanged(TicketEvent):
    TOPIC = "trail.Ticket.PriorityChanged"
    old_priority: Priority
    priority: Priority

    def changes(self) -> Changes:
        return {"priority": (self.old_priority, self.priority)}

    def apply(self, ticket: Ticket) -> None:
        ticket.priority = self.priority


class TypeChanged(TicketEvent):
    TOPIC = "trail.Ticket.TypeChanged"
    old_type: TicketType
    type: TicketType

    def changes(self) -> Changes:
        return {"type": (self.old_type, self.type)}

    def apply(self, ticket: Ticket) -> None:
        ticket.type = self.type


class TagsChanged(TicketEvent):
    TOPIC = "trail.Ticket.TagsChanged"
    old_tags: tuple[str, ...]
    tags: tuple[str, ...]

    def changes(self) -> Changes:
        return {"tags": (list(self.old_tags), list(self.tags))}

    def apply(self, ticket: Ticket) -> None:
        ticket.tags = self.tags


class DueDateChanged(TicketEvent):
    TOPIC = "trail.Ticket.DueDateChanged"
    old_due_date: date | None
    due_date: date | None

    def changes(self) -> Changes:
        return {"due_date": (self.old_due_date, self.due_date)}

    def apply(self, ticket: Ticket) -> None:
        ticket.due_date = self.due_date


class AssigneesChanged(TicketEvent):
    TOPIC = "trail.Ticket.AssigneesChanged"
    old_assignee_ids: tuple[UUID, ...]
    assignee_ids: tuple[UUID, ...]
    added: tuple[UUID, ...]
    removed: tuple[UUID, ...]

    def changes(self) -> Changes:
        return {"assignee_ids": (list(self.old_assignee_ids), list(self.assignee_ids))}

    def apply(self, ticket: Ticket) -> None:
        ticket.assignee_ids = self.assignee_ids


class ParentChanged(TicketEvent):
    TOPIC = "trail.Ticket.ParentChanged"
    old_parent_id: UUID | None
    parent_id: UUID | None

    def changes(self) -> Changes:
        return {"parent_id": (self.old_parent_id, self.parent_id)}

    def apply(self, ticket: Ticket) -> None:
        ticket.parent_id = self.parent_id


class TeamChanged(TicketEvent):
    TOPIC = "trail.Ticket.TeamChanged"
    old_team_id: UUID | None
    team_id: UUID | None

    def changes(self) -> Changes:
        return {"team_id": (self.old_team_id, self.team_id)}

    def apply(self, ticket: Ticket) -> None:
        ticket.team_id = self.team_id
