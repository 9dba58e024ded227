"""Response bodies: what the contract shows of users, projects, tickets and comments.

Each view is built either from a read-model row (queries) or from the aggregate a command just
saved (command answers, `?version=`/`?as_of=`), and both paths give the same shape.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

import msgspec

from domain.project import Project
from domain.ticket import Comment, Ticket
from domain.user import User
from domain.values import Priority, Role, Status, TicketType, UserStatus


class UserView(msgspec.Struct, frozen=True):
    id: UUID
    name: str
    email: str
    role: Role
    status: UserStatus
    created_at: datetime
    updated_at: datetime | None


class ProjectView(msgspec.Struct, frozen=True):
    id: UUID
    name: str
    key: str
    description: str | None
    archived: bool
    open_tickets: int
    created_at: datetime
    updated_at: datetime | None


class TicketView(msgspec.Struct, frozen=True):
    id: UUID
    number: int
    project_id: UUID
    title: str
    description: str | None
    status: Status
    priority: Priority
    type: TicketType
    tags: list[str]
    due_date: date | None
    reporter_id: UUID
    assignee_ids: list[UUID]
    version: int
    created_at: datetime
    updated_at: datetime | None


class CommentView(msgspec.Struct, frozen=True):
    id: UUID
    ticket_id: UUID
    author_id: UUID
    body: str
    created_at: datetime
    edited_at: datetime | None


class Accepted(msgspec.Struct, frozen=True):
    """A 202: the work is queued, not done."""

    detail: str


def _updated_at(version: int, modified_on: datetime) -> datetime | None:
    # The contract's rule for tickets, applied to users and projects alike: null until the
    # first change after creation.
    return modified_on if version > 1 else None


def user_view(user: User) -> UserView:
    return UserView(
        id=user.id,
        name=user.name,
        email=user.email,
        role=user.role,
        status=user.status,
        created_at=user.created_on,
        updated_at=_updated_at(user.version, user.modified_on),
    )


def project_view(project: Project, open_tickets: int) -> ProjectView:
    return ProjectView(
        id=project.id,
        name=project.name,
        key=project.key,
        description=project.description,
        archived=project.archived,
        open_tickets=open_tickets,
        created_at=project.created_on,
        updated_at=_updated_at(project.version, project.modified_on),
    )


def ticket_view(ticket: Ticket) -> TicketView:
    return TicketView(
        id=ticket.id,
        number=ticket.number,
        project_id=ticket.project_id,
        title=ticket.title,
        description=ticket.description,
        status=ticket.status,
        priority=ticket.priority,
        type=ticket.type,
        tags=list(ticket.tags),
        due_date=ticket.due_date,
        reporter_id=ticket.reporter_id,
        assignee_ids=list(ticket.assignee_ids),
        version=ticket.version,
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
    )


def comment_view(ticket_id: UUID, comment: Comment) -> CommentView:
    return CommentView(
        id=comment.id,
        ticket_id=ticket_id,
        author_id=comment.author_id,
        body=comment.body,
        created_at=comment.created_at,
        edited_at=comment.edited_at,
    )


def converted(view: type[msgspec.Struct], source: object) -> Any:
    """A view from what a read-model query returns; fields the view does not show (such as a
    ticket's `project_key`) are left out."""
    return msgspec.convert(source, view, from_attributes=True)
