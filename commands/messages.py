"""Command messages: what a caller asks the application to do, in the imperative."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import msgspec
from msgspec import UNSET, UnsetType

from domain.ticket import TicketEdit
from domain.values import Priority, Role, TicketType, UserStatus


class Command(msgspec.Struct, frozen=True, kw_only=True):
    """Base of every command; `expected_version` carries `If-Match` where it applies."""


class RegisterUser(Command, frozen=True):
    name: str
    email: str
    password: str


class ChangeUser(Command, frozen=True):
    user_id: UUID
    name: str | UnsetType = UNSET
    role: Role | UnsetType = UNSET
    status: UserStatus | UnsetType = UNSET


class CreateProject(Command, frozen=True):
    name: str
    key: str | None = None
    description: str | None = None


class ReviseProject(Command, frozen=True):
    project_id: UUID
    name: str
    description: str | None = None


class ArchiveProject(Command, frozen=True):
    project_id: UUID


class CreateTicket(Command, frozen=True):
    project_id: UUID
    title: str
    description: str | None = None
    priority: Priority = Priority.MEDIUM
    type: TicketType = TicketType.BUG
    tags: tuple[str, ...] = ()
    due_date: date | None = None
    assignee_ids: tuple[UUID, ...] = ()

    def fields(self) -> dict[str, Any]:
        """The ticket's fields, as `Ticket.open` takes them."""
        return {
            "title": self.title,
            "description": self.description,
            "priority": self.priority,
            "type": self.type,
            "tags": self.tags,
            "due_date": self.due_date,
            "assignee_ids": self.assignee_ids,
        }


class EditTicket(TicketEdit, frozen=True, kw_only=True):
    """A partial update of a ticket (see `TicketEdit` for absent / null / value)."""

    ticket_id: UUID
    expected_version: int | None = None


class AssignTicket(Command, frozen=True):
    ticket_id: UUID
    user_ids: tuple[UUID, ...]
    expected_version: int | None = None


class CommentOnTicket(Command, frozen=True):
    ticket_id: UUID
    body: str
    expected_version: int | None = None


class EditComment(Command, frozen=True):
    ticket_id: UUID
    comment_id: UUID
    body: str
    expected_version: int | None = None


class AddAttachment(Command, frozen=True):
    """Attach a file; its bytes come as a stream beside the command. `filename` is the client's,
    cleaned before it is stored."""

    ticket_id: UUID
    filename: str
    expected_version: int | None = None


class RemoveAttachment(Command, frozen=True):
    ticket_id: UUID
    attachment_id: UUID
