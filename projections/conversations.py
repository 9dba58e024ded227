"""Conversations read model: `GET /tickets/{id}/messages`, oldest first.

The API checks that the caller takes part in the ticket's conversation before asking for its
messages (`commands.conversations`); nothing here decides who may read them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import msgspec
from psycopg import Connection, Cursor
from psycopg.rows import DictRow

from domain.conversation import Message
from eventlog.reading import Recorded
from eventlog.topics import topics_of
from projections.base import ReadModel
from projections.bulk import insert
from projections.paging import Page, check_limit, decode_cursor, page
from projections.users import UserRef

MESSAGES_DDL = """
CREATE TABLE messages (
    id uuid PRIMARY KEY,
    ticket_id uuid NOT NULL,
    seq bigint NOT NULL,
    author_id uuid NOT NULL,
    body text NOT NULL,
    created_at timestamptz NOT NULL
)
"""

COLUMNS = ("id", "ticket_id", "seq", "author_id", "body", "created_at")


class ConversationsProjection(ReadModel):
    name = "conversations"
    revision = 1
    topics = topics_of(Message.Posted)
    tables = {"messages": MESSAGES_DDL}
    indexes = ("CREATE INDEX messages_by_ticket ON messages (ticket_id, seq)",)

    def apply(self, cur: Cursor[DictRow], events: Sequence[Recorded]) -> None:
        insert(cur, "messages", COLUMNS, [
            {"id": e.originator_id, "ticket_id": e.ticket_id, "seq": position,
             "author_id": e.actor_id, "body": e.body, "created_at": e.timestamp}
            for position, e in events if isinstance(e, Message.Posted)
        ])


class MessageView(msgspec.Struct, frozen=True):
    id: UUID
    ticket_id: UUID
    author: UserRef
    body: str
    created_at: datetime


def view_of(message: Message, author: UserRef) -> MessageView:
    """The view of a message aggregate (a post's answer, a live frame)."""
    return MessageView(id=message.id, ticket_id=message.ticket_id, author=author,
                       body=message.body, created_at=message.created_at)


def posted_view(event: Message.Posted, author: UserRef) -> MessageView:
    return MessageView(id=event.originator_id, ticket_id=event.ticket_id, author=author,
                       body=event.body, created_at=event.timestamp)


_SELECT = (
    "SELECT id, ticket_id, seq, body, created_at, json_build_object('id', author_id, 'name', "
    "coalesce((SELECT name FROM users WHERE users.id = author_id), '')) AS author FROM messages"
)


def message_seq(conn: Connection[DictRow], ticket_id: UUID, message_id: UUID) -> int | None:
    """Where message `message_id` is in the ticket's conversation; None if it is not in it."""
    row = conn.execute("SELECT seq FROM messages WHERE id = %s AND ticket_id = %s",
                       (message_id, ticket_id)).fetchone()
    return int(row["seq"]) if row else None


def list_messages(
    conn: Connection[DictRow], ticket_id: UUID, *, after_seq: int = 0, limit: int = 25,
    cursor: str | None = None,
) -> Page[MessageView]:
    """The conversation in the order it was written, after `after_seq` (or the cursor)."""
    check_limit(limit)
    if cursor is not None:
        after_seq = decode_cursor(cursor, "messages", tuple[int])[0]
    rows = conn.execute(
        f"{_SELECT} WHERE ticket_id = %s AND seq > %s ORDER BY seq LIMIT %s",
        (ticket_id, after_seq, limit + 1),
    ).fetchall()
    return page(rows, limit, "messages", lambda row: (row["seq"],),
                lambda row: msgspec.convert(row, MessageView))
