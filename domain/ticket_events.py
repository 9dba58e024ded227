"""The facts of a ticket's life. Each change event carries the value it replaced as well as the
new one, so the log reads on its own (for auditors and SQL) and history needs no replay to show
`{field: {from, to}}`; `changes()` names the ticket's own API fields.

The aggregate that these events build is `domain.ticket.Ticket`, which exposes each of them
under its short name (`Ticket.StatusChanged`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

import msgspec
from eventsourcing.domain import Aggregate

from domain.links import Link, LinkType
from domain.values import Priority, Status, TicketType

if TYPE_CHECKING:
    from domain.ticket import Ticket

Changes = dict[str, tuple[Any, Any]]


class Comment(msgspec.Struct, frozen=True):
    id: UUID
    author_id: UUID
    body: str
    created_at: datetime
    edited_at: datetime | None = None


class Attachment(msgspec.Struct, frozen=True):
    """A file attached to a ticket: its bytes are kept elsewhere, under `sha256`."""

    id: UUID
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: UUID
    created_at: datetime
    removed_at: datetime | None = None


class TicketEvent(Aggregate.Event):
    TOPIC = "trail.Ticket.Event"
    actor_id: UUID
    command_id: UUID

    def changes(self) -> Changes:
        """The ticket fields this event changed, as {field: (from, to)}."""
        return {}


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


class AttachmentAdded(TicketEvent):
    TOPIC = "trail.Ticket.AttachmentAdded"
    attachment_id: UUID
    filename: str
    content_type: str
    size: int
    sha256: str
    old_attachment_ids: tuple[UUID, ...]
    attachment_ids: tuple[UUID, ...]

    def changes(self) -> Changes:
        return {"attachment_ids": (list(self.old_attachment_ids), list(self.attachment_ids))}

    def apply(self, ticket: Ticket) -> None:
        ticket.attachments[self.attachment_id] = Attachment(
            id=self.attachment_id,
            filename=self.filename,
            content_type=self.content_type,
            size=self.size,
            sha256=self.sha256,
            uploaded_by=self.actor_id,
            created_at=self.timestamp,
        )
        ticket.attachment_ids = self.attachment_ids


class AttachmentRemoved(TicketEvent):
    """Carries what was removed, so the log says which file went without looking back."""

    TOPIC = "trail.Ticket.AttachmentRemoved"
    attachment_id: UUID
    filename: str
    content_type: str
    size: int
    sha256: str
    old_attachment_ids: tuple[UUID, ...]
    attachment_ids: tuple[UUID, ...]

    def changes(self) -> Changes:
        return {"attachment_ids": (list(self.old_attachment_ids), list(self.attachment_ids))}

    def apply(self, ticket: Ticket) -> None:
        removed = ticket.attachments[self.attachment_id]
        ticket.attachments[self.attachment_id] = msgspec.structs.replace(
            removed, removed_at=self.timestamp
        )
        ticket.attachment_ids = self.attachment_ids


# Every kind of ticket event, for the followers that read them all.
TICKET_EVENTS: tuple[type[TicketEvent], ...] = (
    Created,
    TitleChanged,
    DescriptionChanged,
    StatusChanged,
    PriorityChanged,
    TypeChanged,
    TagsChanged,
    DueDateChanged,
    AssigneesChanged,
    Commented,
    CommentEdited,
    ParentChanged,
    TeamChanged,
    LinkAdded,
    LinkRemoved,
    AttachmentAdded,
    AttachmentRemoved,
)
