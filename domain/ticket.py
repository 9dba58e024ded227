"""The Ticket aggregate: the only place that decides how a ticket may change.

Its events live in `domain.ticket_events`; here they are known by their short names
(`Ticket.StatusChanged`), which is how the rest of Trail refers to them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import TYPE_CHECKING, TypeAlias
from uuid import UUID

from msgspec import UNSET

from domain import ticket_events as events
from domain.errors import (
    CycleNotAllowed,
    FieldError,
    NotCommentAuthor,
    TransitionNotAllowed,
    UnknownComment,
    require,
)
from domain.links import Blocker, Link
from domain.stamped import StampedAggregate
from domain.ticket_attachments import TicketAttachments
from domain.ticket_edit import TicketEdit
from domain.ticket_links import TicketLinks
from domain.values import (
    WORKFLOW,
    Priority,
    Stamp,
    Status,
    TicketType,
    clean_assignees,
    clean_comment,
    clean_description,
    clean_tags,
    clean_title,
)

# The event that records a change of each field a partial update may send.
_FIELD_EVENTS: dict[str, type[events.TicketEvent]] = {
    "title": events.TitleChanged,
    "description": events.DescriptionChanged,
    "status": events.StatusChanged,
    "priority": events.PriorityChanged,
    "type": events.TypeChanged,
    "tags": events.TagsChanged,
    "due_date": events.DueDateChanged,
    "parent_id": events.ParentChanged,
    "team_id": events.TeamChanged,
}


class Ticket(TicketLinks, TicketAttachments, StampedAggregate):
    TOPIC = "trail.Ticket"

    # Each event under its short name (`Ticket.StatusChanged`); spelled as aliases for the
    # type checker, plain attributes at run time (the aggregate's metaclass reads those, and
    # registers their topics).
    if TYPE_CHECKING:
        Event: TypeAlias = events.TicketEvent
        Created: TypeAlias = events.Created
        TitleChanged: TypeAlias = events.TitleChanged
        DescriptionChanged: TypeAlias = events.DescriptionChanged
        StatusChanged: TypeAlias = events.StatusChanged
        PriorityChanged: TypeAlias = events.PriorityChanged
        TypeChanged: TypeAlias = events.TypeChanged
        TagsChanged: TypeAlias = events.TagsChanged
        DueDateChanged: TypeAlias = events.DueDateChanged
        AssigneesChanged: TypeAlias = events.AssigneesChanged
        Commented: TypeAlias = events.Commented
        CommentEdited: TypeAlias = events.CommentEdited
        ParentChanged: TypeAlias = events.ParentChanged
        TeamChanged: TypeAlias = events.TeamChanged
        LinkAdded: TypeAlias = events.LinkAdded
        LinkRemoved: TypeAlias = events.LinkRemoved
        AttachmentAdded: TypeAlias = events.AttachmentAdded
        AttachmentRemoved: TypeAlias = events.AttachmentRemoved
    else:
        Event = events.TicketEvent
        Created = events.Created
        TitleChanged = events.TitleChanged
        DescriptionChanged = events.DescriptionChanged
        StatusChanged = events.StatusChanged
        PriorityChanged = events.PriorityChanged
        TypeChanged = events.TypeChanged
        TagsChanged = events.TagsChanged
        DueDateChanged = events.DueDateChanged
        AssigneesChanged = events.AssigneesChanged
        Commented = events.Commented
        CommentEdited = events.CommentEdited
        ParentChanged = events.ParentChanged
        TeamChanged = events.TeamChanged
        LinkAdded = events.LinkAdded
        LinkRemoved = events.LinkRemoved
        AttachmentAdded = events.AttachmentAdded
        AttachmentRemoved = events.AttachmentRemoved

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
        parent_id: UUID | None = None,
        team_id: UUID | None = None,
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
        self.comments: dict[UUID, events.Comment] = {}
        self.parent_id = parent_id
        self.team_id = team_id
        self.links: tuple[Link, ...] = ()
        # Every attachment ever added, removed ones included; the live ones in order of adding.
        self.attachments: dict[UUID, events.Attachment] = {}
        self.attachment_ids: tuple[UUID, ...] = ()

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
        parent_id: UUID | None = None,
        team_id: UUID | None = None,
    ) -> Ticket:
        """A new ticket, `open`. Its parent, if any, is a ticket that exists already (checked by
        the caller), so no cycle can pass through a ticket that does not exist yet."""
        errors: list[FieldError] = []
        clean = (
            clean_title(errors, title),
            clean_description(errors, description),
            clean_tags(errors, tuple(tags)),
        )
        assignees = clean_assignees(errors, "assignee_ids", assignee_ids)
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
            assignee_ids=assignees,
            parent_id=parent_id,
            team_id=team_id,
        )

    def edit(
        self, stamp: Stamp, edit: TicketEdit, blockers: Mapping[UUID, Blocker] | None = None
    ) -> None:
        """Apply a partial update: every field is checked before anything is recorded.

        A field sent with its current value records nothing; a status sent with its current
        value is an illegal transition, as the workflow has no self-loops. Resolving or closing
        needs `blockers`: each ticket that blocks this one, as it is now. A parent other than
        the ticket itself comes checked against cycles (`domain.links.closes_parent_cycle`).
        """
        errors: list[FieldError] = []
        title = UNSET if edit.title is UNSET else clean_title(errors, edit.title)
        description = (
            UNSET if edit.description is UNSET else clean_description(errors, edit.description)
        )
        tags = UNSET if edit.tags is UNSET else clean_tags(errors, tuple(edit.tags))
        require(errors)
        if edit.status is not UNSET:
            self._check_transition(edit.status)
            self._check_unblocked(edit.status, blockers or {})
        if edit.parent_id == self.id:
            raise CycleNotAllowed("a ticket cannot be its own parent")

        proposed = {
            "title": title, "description": description, "status": edit.status,
            "priority": edit.priority, "type": edit.type, "tags": tags,
            "due_date": edit.due_date, "parent_id": edit.parent_id, "team_id": edit.team_id,
        }
        for field, value in proposed.items():
            # A blank description that was sent clears it, as `null` does; a status is always
            # a change (the workflow has no self-loops, checked above).
            if value is not UNSET and (field == "status" or value != getattr(self, field)):
                old = getattr(self, field)
                self._record(stamp, _FIELD_EVENTS[field], **{f"old_{field}": old, field: value})

    def _check_transition(self, status: Status) -> None:
        if status not in WORKFLOW[self.status]:
            raise TransitionNotAllowed(
                f"status cannot change from {self.status.value} to {status.value}"
            )

    def assign(self, stamp: Stamp, assignee_ids: Iterable[UUID]) -> None:
        """Replace the assignees. Always records an event: the contract makes every
        `PUT …/assignees` a change, even one that repeats the current list."""
        errors: list[FieldError] = []
        new = clean_assignees(errors, "user_ids", assignee_ids)
        require(errors)
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

