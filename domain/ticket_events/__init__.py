"""The facts of a ticket's life. Each change event carries the value it replaced as well as the
new one, so the log reads on its own (for auditors and SQL) and history needs no replay to show
`{field: {from, to}}`; `changes()` names the ticket's own API fields.

The aggregate that these events build is `domain.ticket.Ticket`, which exposes each of them
under its short name (`Ticket.StatusChanged`).
"""

from domain.ticket_events.attachments import Attachment, AttachmentAdded, AttachmentRemoved
from domain.ticket_events.base import Changes, TicketEvent
from domain.ticket_events.comments import Comment, Commented, CommentEdited
from domain.ticket_events.fields import (
    AssigneesChanged,
    Created,
    DescriptionChanged,
    DueDateChanged,
    ParentChanged,
    PriorityChanged,
    StatusChanged,
    TagsChanged,
    TeamChanged,
    TitleChanged,
    TypeChanged,
)
from domain.ticket_events.links import LinkAdded, LinkRemoved

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

__all__ = [
    "TICKET_EVENTS",
    "AssigneesChanged",
    "Attachment",
    "AttachmentAdded",
    "AttachmentRemoved",
    "Changes",
    "Comment",
    "CommentEdited",
    "Commented",
    "Created",
    "DescriptionChanged",
    "DueDateChanged",
    "LinkAdded",
    "LinkRemoved",
    "ParentChanged",
    "PriorityChanged",
    "StatusChanged",
    "TagsChanged",
    "TeamChanged",
    "TicketEvent",
    "TitleChanged",
    "TypeChanged",
]
