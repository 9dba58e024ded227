"""The Ticket aggregate: the only place that decides how a ticket may change.

Its events live in `domain.ticket_events`; here they are known by their short names
(`Ticket.StatusChanged`), which is how the rest of Trail refers to them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import TYPE_CHECKING, TypeAlias
from uuid import UUID, uuid5

import msgspec
from msgspec import UNSET, UnsetType

from domain import ticket_events as events
from domain.errors import (
    AttachmentGone,
    CycleNotAllowed,
    FieldError,
    LinkNotAllowed,
    NotCommentAuthor,
    TicketBlocked,
    TransitionNotAllowed,
    UnknownAttachment,
    UnknownComment,
    UnknownLink,
    require,
)
from domain.links import Blocker, Link, LinkType
from domain.stamped import StampedAggregate
from domain.values import (
    DONE,
    WORKFLOW,
    Priority,
    Stamp,
    Status,
    TicketType,
    check_attachment,
    clean_comment,
    clean_description,
    clean_tags,
    clean_title,
)

# uuid5 namespace of ticket ids: a ticket's id follows from its project and number, so its key
# (`WEB-42`) finds it on the write side without a read model.
_TICKET_IDS = UUID("5b0e9c3e-2f53-4f7a-9b6e-7c1d2a4e8f10")


def ticket_id_for(project_id: UUID, number: int) -> UUID:
    return uuid5(_TICKET_IDS, f"{project_id}:{number}")


class TicketEdit(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A partial update: a field left out stays as it is; `None` clears `description`,
    `due_date`, `parent_id` or `team_id`. The API decodes request bodies straight into it."""

    title: str | UnsetType = UNSET
    description: str | UnsetType | None = UNSET
    status: Status | UnsetType = UNSET
    priority: Priority | UnsetType = UNSET
    type: TicketType | UnsetType = UNSET
    tags: list[str] | UnsetType = UNSET
    due_date: date | UnsetType | None = UNSET
    parent_id: UUID | UnsetType | None = UNSET
    team_id: UUID | UnsetType | None = UNSET


class Ticket(StampedAggregate):
    TOPIC = "trail.Ticket"

    # Each event under its short name (`Ticket.StatusChanged`); spelled as aliases for the
    # type checker, plain attributes at run time (the aggregate's metaclass reads those).
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

        if title is not UNSET and title != self.title:
            self._record(stamp, self.TitleChanged, old_title=self.title, title=title)
        # A blank description that was sent clears it, as `null` does.
        if description is not UNSET and description != self.description:
            self._record(stamp, self.DescriptionChanged,
                         old_description=self.description, description=description)
        if edit.status is not UNSET:
            self._record(stamp, self.StatusChanged, old_status=self.status, status=edit.status)
        if edit.priority is not UNSET and edit.priority != self.priority:
            self._record(stamp, self.PriorityChanged,
                         old_priority=self.priority, priority=edit.priority)
        if edit.type is not UNSET and edit.type != self.type:
            self._record(stamp, self.TypeChanged, old_type=self.type, type=edit.type)
        if tags is not UNSET and tags != self.tags:
            self._record(stamp, self.TagsChanged, old_tags=self.tags, tags=tags)
        if edit.due_date is not UNSET and edit.due_date != self.due_date:
            self._record(stamp, self.DueDateChanged,
                         old_due_date=self.due_date, due_date=edit.due_date)
        if edit.parent_id is not UNSET and edit.parent_id != self.parent_id:
            self._record(stamp, self.ParentChanged,
                         old_parent_id=self.parent_id, parent_id=edit.parent_id)
        if edit.team_id is not UNSET and edit.team_id != self.team_id:
            self._record(stamp, self.TeamChanged, old_team_id=self.team_id, team_id=edit.team_id)

    def _check_transition(self, status: Status) -> None:
        if status not in WORKFLOW[self.status]:
            raise TransitionNotAllowed(
                f"status cannot change from {self.status.value} to {status.value}"
            )

    def _check_unblocked(self, status: Status, blockers: Mapping[UUID, Blocker]) -> None:
        if status not in DONE:
            return
        missing = [b for b in self.blocker_ids if b not in blockers]
        if missing:
            raise ValueError(f"the statuses of blockers {missing} are needed to decide")
        unfinished = [blockers[b].key for b in self.blocker_ids
                      if blockers[b].status not in DONE]
        if unfinished:
            raise TicketBlocked(unfinished)

    @property
    def blocker_ids(self) -> tuple[UUID, ...]:
        """The tickets that block this one."""
        return tuple(link.ticket_id for link in self.links if link.type is LinkType.BLOCKED_BY)

    @property
    def blocked_ids(self) -> tuple[UUID, ...]:
        """The tickets this one blocks."""
        return tuple(link.ticket_id for link in self.links if link.type is LinkType.BLOCKS)

    def link(self, stamp: Stamp, link_id: UUID, type: LinkType, other_id: UUID) -> None:
        """Record this end of a new link; the other ticket records the inverse in the same
        command. A blocking link comes checked against cycles
        (`domain.links.closes_blocking_cycle`)."""
        if other_id == self.id:
            raise LinkNotAllowed("a ticket cannot be linked to itself")
        if any(link.ticket_id == other_id for link in self.links):
            raise LinkNotAllowed("these tickets are linked already")
        self._record(stamp, self.LinkAdded, link_id=link_id, type=type,
                     linked_ticket_id=other_id, old_links=self.links)

    def find_link(self, link_id: UUID) -> Link:
        for link in self.links:
            if link.id == link_id:
                return link
        raise UnknownLink(f"ticket has no link {link_id}")

    def unlink(self, stamp: Stamp, link_id: UUID) -> None:
        """Record the end of a link at this end; the other ticket records it at its own."""
        link = self.find_link(link_id)
        self._record(stamp, self.LinkRemoved, link_id=link.id, type=link.type,
                     linked_ticket_id=link.ticket_id, old_links=self.links)

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

    def add_attachment(
        self,
        stamp: Stamp,
        attachment_id: UUID,
        *,
        filename: str,
        content_type: str,
        size: int,
        sha256: str,
    ) -> None:
        """Attach a file whose bytes are already stored under `sha256`."""
        errors: list[FieldError] = []
        check_attachment(errors, filename, size, sha256)
        require(errors)
        self._record(
            stamp,
            self.AttachmentAdded,
            attachment_id=attachment_id,
            filename=filename,
            content_type=content_type,
            size=size,
            sha256=sha256,
            old_attachment_ids=self.attachment_ids,
            attachment_ids=(*self.attachment_ids, attachment_id),
        )

    def remove_attachment(self, stamp: Stamp, attachment_id: UUID) -> None:
        removed = self.attachment(attachment_id)
        self._record(
            stamp,
            self.AttachmentRemoved,
            attachment_id=attachment_id,
            filename=removed.filename,
            content_type=removed.content_type,
            size=removed.size,
            sha256=removed.sha256,
            old_attachment_ids=self.attachment_ids,
            attachment_ids=tuple(a for a in self.attachment_ids if a != attachment_id),
        )

    def attachment(self, attachment_id: UUID) -> events.Attachment:
        """A live attachment of this ticket."""
        found = self.attachments.get(attachment_id)
        if found is None:
            raise UnknownAttachment(f"ticket has no attachment {attachment_id}")
        if found.removed_at is not None:
            raise AttachmentGone("the attachment was removed")
        return found
