"""The Ticket aggregate: the only place that decides how a ticket may change.

Every change event carries the value it replaced as well as the new one, so the log reads on its
own (for auditors and SQL) and history needs no replay to show `{field: {from, to}}`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.domain import Aggregate

from domain.errors import (
    FieldError,
    NotCommentAuthor,
    TransitionNotAllowed,
    UnknownComment,
    require,
)
from domain.stamped import StampedAggregate
from domain.values import (
    WORKFLOW,
    Priority,
    Stamp,
    Status,
    TicketType,
    clean_comment,
    clean_description,
    clean_tags,
    clean_title,
)

Changes = dict[str, tuple[Any, Any]]


class Comment(msgspec.Struct, frozen=True):
    id: UUID
    author_id: UUID
    body: str
    created_at: datetime
    edited_at: datetime | None = None


class Ticket(StampedAggregate):
    TOPIC = "trail.Ticket"

    class Event(Aggregate.Event):
        TOPIC = "trail.Ticket.Event"
        actor_id: UUID
        command_id: UUID

        def changes(self) -> Changes:
            """The ticket fields this event changed, as {field: (from, to)}."""
            return {}

    class Created(Event, Aggregate.Created):
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
            }

    class TitleChanged(Event):
        TOPIC = "trail.Ticket.TitleChanged"
        old_title: str
        title: str

        def changes(self) -> Changes:
            return {"title": (self.old_title, self.title)}

        def apply(self, ticket: Ticket) -> None:
            ticket.title = self.title

    class DescriptionChanged(Event):
        TOPIC = "trail.Ticket.DescriptionChanged"
        old_description: str | None
        description: str | None

        def changes(self) -> Changes:
            return {"description": (self.old_description, self.description)}

        def apply(self, ticket: Ticket) -> None:
            ticket.description = self.description

    class StatusChanged(Event):
        TOPIC = "trail.Ticket.StatusChanged"
        old_status: Status
        status: Status

        def changes(self) -> Changes:
            return {"status": (self.old_status, self.status)}

        def apply(self, ticket: Ticket) -> None:
            ticket.status = self.status

    class PriorityChanged(Event):
        TOPIC = "trail.Ticket.PriorityChanged"
        old_priority: Priority
        priority: Priority

        def changes(self) -> Changes:
            return {"priority": (self.old_priority, self.priority)}

        def apply(self, ticket: Ticket) -> None:
            ticket.priority = self.priority

    class TypeChanged(Event):
        TOPIC = "trail.Ticket.TypeChanged"
        old_type: TicketType
        type: TicketType

        def changes(self) -> Changes:
            return {"type": (self.old_type, self.type)}

        def apply(self, ticket: Ticket) -> None:
            ticket.type = self.type

    class TagsChanged(Event):
        TOPIC = "trail.Ticket.TagsChanged"
        old_tags: tuple[str, ...]
        tags: tuple[str, ...]

        def changes(self) -> Changes:
            return {"tags": (list(self.old_tags), list(self.tags))}

        def apply(self, ticket: Ticket) -> None:
            ticket.tags = self.tags

    class DueDateChanged(Event):
        TOPIC = "trail.Ticket.DueDateChanged"
        old_due_date: date | None
        due_date: date | None

        def changes(self) -> Changes:
            return {"due_date": (self.old_due_date, self.due_date)}

        def apply(self, ticket: Ticket) -> None:
            ticket.due_date = self.due_date

    class AssigneesChanged(Event):
        TOPIC = "trail.Ticket.AssigneesChanged"
        old_assignee_ids: tuple[UUID, ...]
        assignee_ids: tuple[UUID, ...]
        added: tuple[UUID, ...]
        removed: tuple[UUID, ...]

        def changes(self) -> Changes:
            return {"assignee_ids": (list(self.old_assignee_ids), list(self.assignee_ids))}

        def apply(self, ticket: Ticket) -> None:
            ticket.assignee_ids = self.assignee_ids

    class Commented(Event):
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

    class CommentEdited(Event):
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

    def __init__(
        self,
        *,
        actor_id: UUID,
        command_id: UUID,
        project_id: UUID,
        number: int,
        title: str,
        description: str | None,
        priority: Priority,
        type: TicketType,
        tags: tuple[str, ...],
        due_date: date | None,
        reporter_id: UUID,
        assignee_ids: tuple[UUID, ...],
    ) -> None:
        self.project_id = project_id
        self.number = number
        self.title = title
        self.description = description
        self.status = Status.OPEN
        self.priority = priority
        self.type = type
        self.tags = tags
        self.due_date = due_date
        self.reporter_id = reporter_id
        self.assignee_ids = assignee_ids
        self.comments: dict[UUID, Comment] = {}

    @classmethod
    def open(
        cls,
        stamp: Stamp,
        *,
        ticket_id: UUID,
        project_id: UUID,
        number: int,
        title: str,
        description: str | None = None,
        priority: Priority = Priority.MEDIUM,
        type: TicketType = TicketType.BUG,
        tags: Iterable[str] = (),
        due_date: date | None = None,
        assignee_ids: Iterable[UUID] = (),
    ) -> Ticket:
        errors: list[FieldError] = []
        clean = (
            clean_title(errors, title),
            clean_description(errors, description),
            clean_tags(errors, tuple(tags)),
        )
        require(errors)
        return cls._begin(
            cls.Created,
            stamp,
            ticket_id,
            project_id=project_id,
            number=number,
            title=clean[0],
            description=clean[1],
            priority=priority,
            type=type,
            tags=clean[2],
            due_date=due_date,
            reporter_id=stamp.actor_id,
            assignee_ids=tuple(dict.fromkeys(assignee_ids)),
        )


    @property
    def created_at(self) -> datetime:
        return self.created_on

    @property
    def updated_at(self) -> datetime | None:
        """Null until the first change after creation, as the contract says."""
        return self.modified_on if self.version > 1 else None

    def edit(
        self,
        stamp: Stamp,
        *,
        title: str | None = None,
        description: str | None = None,
        clear_description: bool = False,
        status: Status | None = None,
        priority: Priority | None = None,
        type: TicketType | None = None,
        tags: Iterable[str] | None = None,
        due_date: date | None = None,
        clear_due_date: bool = False,
    ) -> None:
        """Apply a partial update: every field is checked before anything is recorded.

        A field sent with its current value records nothing; a status sent with its current
        value is an illegal transition, as the workflow has no self-loops.
        """
        errors: list[FieldError] = []
        new_title = clean_title(errors, title) if title is not None else None
        new_description = (
            clean_description(errors, description) if description is not None else None
        )
        new_tags = clean_tags(errors, tuple(tags)) if tags is not None else None
        require(errors)
        if status is not None:
            self._check_transition(status)

        if new_title is not None and new_title != self.title:
            self._record(stamp, self.TitleChanged, old_title=self.title, title=new_title)
        # A blank description that was sent clears it, as `null` does.
        description_sent = clear_description or description is not None
        if description_sent and new_description != self.description:
            self._record(
                stamp,
                self.DescriptionChanged,
                old_description=self.description,
                description=new_description,
            )
        if status is not None:
            self._record(stamp, self.StatusChanged, old_status=self.status, status=status)
        if priority is not None and priority != self.priority:
            self._record(stamp, self.PriorityChanged, old_priority=self.priority, priority=priority)
        if type is not None and type != self.type:
            self._record(stamp, self.TypeChanged, old_type=self.type, type=type)
        if new_tags is not None and new_tags != self.tags:
            self._record(stamp, self.TagsChanged, old_tags=self.tags, tags=new_tags)
        if (clear_due_date or due_date is not None) and due_date != self.due_date:
            self._record(
                stamp, self.DueDateChanged, old_due_date=self.due_date, due_date=due_date
            )

    def _check_transition(self, status: Status) -> None:
        if status not in WORKFLOW[self.status]:
            raise TransitionNotAllowed(
                f"status cannot change from {self.status.value} to {status.value}"
            )

    def assign(self, stamp: Stamp, assignee_ids: Iterable[UUID]) -> None:
        """Replace the assignees. Always records an event: the contract makes every
        `PUT …/assignees` a change, even one that repeats the current list."""
        new = tuple(dict.fromkeys(assignee_ids))
        old = self.assignee_ids
        self._record(
            stamp,
            self.AssigneesChanged,
            old_assignee_ids=old,
            assignee_ids=new,
            added=tuple(a for a in new if a not in old),
            removed=tuple(a for a in old if a not in new),
        )

    def comment(self, stamp: Stamp, comment_id: UUID, body: str) -> None:
        errors: list[FieldError] = []
        text = clean_comment(errors, body)
        require(errors)
        self._record(stamp, self.Commented, comment_id=comment_id, body=text)

    def edit_comment(self, stamp: Stamp, comment_id: UUID, body: str) -> None:
        comment = self.comments.get(comment_id)
        if comment is None:
            raise UnknownComment(f"ticket has no comment {comment_id}")
        if comment.author_id != stamp.actor_id:
            raise NotCommentAuthor("only the author of a comment may edit it")
        errors: list[FieldError] = []
        text = clean_comment(errors, body)
        require(errors)
        if text != comment.body:
            self._record(
                stamp, self.CommentEdited, comment_id=comment_id, old_body=comment.body, body=text
            )

    def can_be_seen_by_reporter(self, user_id: UUID) -> bool:
        return user_id == self.reporter_id or user_id in self.assignee_ids


# Every kind of ticket event, for the projections that follow them all.
TICKET_EVENTS: tuple[type[Ticket.Event], ...] = (
    Ticket.Created,
    Ticket.TitleChanged,
    Ticket.DescriptionChanged,
    Ticket.StatusChanged,
    Ticket.PriorityChanged,
    Ticket.TypeChanged,
    Ticket.TagsChanged,
    Ticket.DueDateChanged,
    Ticket.AssigneesChanged,
    Ticket.Commented,
    Ticket.CommentEdited,
)
