"""Command messages: what a caller asks the application to do, in the imperative."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import msgspec
from msgspec import UNSET, UnsetType

from domain.links import LinkType
from domain.ticket_edit import TicketEdit
from domain.values import EmailPreference, Priority, Role, TicketType, UserStatus


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


class ChoosePreferences(Command, frozen=True):
    email: EmailPreference


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
    parent_id: UUID | None = None
    team_id: UUID | None = None

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
            "parent_id": self.parent_id,
            "team_id": self.team_id,
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


class WatchTicket(Command, frozen=True):
    """Start (`watching`) or stop watching a ticket, as the caller."""

    ticket_id: UUID
    watching: bool


class PostMessage(Command, frozen=True):
    ticket_id: UUID
    body: str


class MarkNotificationRead(Command, frozen=True):
    notification_id: UUID


class MarkAllNotificationsRead(Command, frozen=True):
    up_to_position: int


class IssueApiToken(Command, frozen=True):
    name: str
    expires_in_days: int | None = None


class CreateWebhook(Command, frozen=True):
    url: str
    event_types: tuple[str, ...]
    project_id: UUID | None = None


class ChangeWebhook(Command, frozen=True):
    """Only what is given changes (None: leave as it is)."""

    webhook_id: UUID
    url: str | None = None
    event_types: tuple[str, ...] | None = None
    active: bool | None = None


class ReplayWebhook(Command, frozen=True):
    webhook_id: UUID
    after_position: int


class LinkTickets(Command, frozen=True):
    """Link `ticket_id` to `other_id`; `type` as seen from `ticket_id`."""

    ticket_id: UUID
    type: LinkType
    other_id: UUID
    expected_version: int | None = None


class UnlinkTickets(Command, frozen=True):
    ticket_id: UUID
    link_id: UUID
    expected_version: int | None = None


class CreateTeam(Command, frozen=True):
    name: str
    lead_id: UUID | None = None


class ChangeTeam(Command, frozen=True):
    """`lead_id`: absent keeps the lead, None leaves the team without one."""

    team_id: UUID
    name: str | UnsetType = UNSET
    lead_id: UUID | UnsetType | None = UNSET


class SetTeamMembers(Command, frozen=True):
    team_id: UUID
    user_ids: tuple[UUID, ...]


class AddAttachment(Command, frozen=True):
    """Attach a file; its bytes come as a stream beside the command. `filename` is the client's,
    cleaned before it is stored."""

    ticket_id: UUID
    filename: str
    expected_version: int | None = None


class RemoveAttachment(Command, frozen=True):
    ticket_id: UUID
    attachment_id: UUID
