"""Command messages: what a caller asks the application to do, in the imperative."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import msgspec
from msgspec import UNSET, UnsetType

from domain.values import Priority, Role, Status, TicketType, UserStatus


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


class EditTicket(Command, frozen=True):
    """Only the fields sent change; `None` for description or due_date clears it."""

    ticket_id: UUID
    title: str | UnsetType = UNSET
    description: str | UnsetType | None = UNSET
    status: Status | UnsetType = UNSET
    priority: Priority | UnsetType = UNSET
    type: TicketType | UnsetType = UNSET
    tags: tuple[str, ...] | UnsetType = UNSET
    due_date: date | UnsetType | None = UNSET
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


class Outcome(msgspec.Struct, frozen=True):
    """What a command did: the id it acted on, the aggregate's new version, and the global
    position of the last event it recorded (the `Trail-Position` header)."""

    id: UUID
    version: int
    position: int
    recorded: int
