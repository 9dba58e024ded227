"""What the live streams send, prepared once per event for every stream of the process.

An `EventSlot` is one event of the log with its frames already encoded (the WebSocket `event` or
`message` frame, the SSE data); a `NotificationSlot` is the notifications the notifications
model wrote for a range of positions, each with its encoded frame. Streams only decide who gets
which (`api.live.session`), never encode.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from domain.conversation import Message
from domain.ticket import Ticket
from domain.visibility import TicketAudience
from eventlog.audit import LogEntry
from eventlog.feed import FeedEntry
from projections.conversations import MessageView, posted_view
from projections.notifications import Addressed, NotificationView
from projections.users import UserRef

_encode = msgspec.json.Encoder().encode


class EventFrame(msgspec.Struct, frozen=True, tag_field="type", tag="event"):
    position: int
    event_type: str
    ticket_id: UUID | None
    at: datetime
    data: dict[str, Any]


class MessageFrame(msgspec.Struct, frozen=True, tag_field="type", tag="message"):
    message: MessageView


class NotificationFrame(msgspec.Struct, frozen=True, tag_field="type", tag="notification"):
    notification: NotificationView


class ErrorFrame(msgspec.Struct, frozen=True, tag_field="type", tag="error"):
    detail: str


@dataclass(slots=True)
class EventSlot:
    position: int
    event: Any
    entry: LogEntry
    ticket_id: UUID | None
    """The ticket of a ticket event or of a message."""
    audience: TicketAudience | None
    """The ticket's audience when the slot was made: used if the cache has let it go."""
    sse: str
    frame: str | None = None
    """The WebSocket frame: `event` for a ticket event, `message` for a message."""
    seq: int = 0

    @property
    def is_ticket_event(self) -> bool:
        return isinstance(self.event, Ticket.Event)

    @property
    def is_message(self) -> bool:
        return isinstance(self.event, Message.Posted)


@dataclass(slots=True)
class Notice:
    user_id: UUID
    ticket_id: UUID
    position: int
    frame: str


@dataclass(slots=True)
class NotificationSlot:
    position: int
    """The notifications model's position: every notification up to it is in this slot or
    an earlier one."""
    notices: list[Notice] = field(default_factory=list)
    seq: int = 0


def event_slot(
    item: FeedEntry, audiences: Mapping[UUID, TicketAudience], authors: Mapping[UUID, UserRef]
) -> EventSlot:
    entry, event = item.entry, item.event
    ticket_id = entry.ticket_id if isinstance(event, Ticket.Event | Message.Posted) else None
    slot = EventSlot(
        position=item.position, event=event, entry=entry, ticket_id=ticket_id,
        audience=audiences.get(ticket_id) if ticket_id else None,
        sse=_encode(entry).decode(),
    )
    if isinstance(event, Ticket.Event):
        slot.frame = _encode(EventFrame(entry.position, entry.type, ticket_id, entry.at,
                                        entry.data)).decode()
    elif isinstance(event, Message.Posted):
        author = authors.get(event.actor_id) or UserRef(event.actor_id, "")
        slot.frame = _encode(MessageFrame(posted_view(event, author))).decode()
    return slot


def notification_slot(position: int, rows: Iterable[Addressed]) -> NotificationSlot:
    return NotificationSlot(position, [
        Notice(row.user_id, row.notification.ticket_id, row.notification.position,
               _encode(NotificationFrame(row.notification)).decode())
        for row in rows
    ])


def message_authors(items: Iterable[FeedEntry]) -> set[UUID]:
    return {i.event.actor_id for i in items if isinstance(i.event, Message.Posted)}


def ticket_ids(items: Iterable[FeedEntry]) -> set[UUID]:
    return {i.entry.ticket_id for i in items
            if isinstance(i.event, Ticket.Event | Message.Posted) and i.entry.ticket_id}


def encode(frame: Any) -> str:
    return _encode(frame).decode()


def error_frame(detail: str) -> str:
    return encode(ErrorFrame(detail))
