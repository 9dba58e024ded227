"""Comments read model: `GET /tickets/{id}/comments`, oldest first, and single comments.

The API checks that the caller may see the ticket before asking for its comments.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from psycopg import Connection, Cursor
from psycopg.rows import DictRow

from domain.ticket import Ticket
from domain.ticket_events import Comment
from eventlog.reading import Recorded
from eventlog.topics import topics_of
from projections.base import ReadModel
from projections.bulk import fetch_by_ids, upsert
from projections.paging import Page, check_limit, decode_cursor, page
from projections.users import UserRef

COMMENTS_DDL = """
CREATE TABLE comments (
    id uuid PRIMARY KEY,
    ticket_id uuid NOT NULL,
    seq bigint NOT NULL,
    author_id uuid NOT NULL,
    body text NOT NULL,
    created_at timestamptz NOT NULL,
    edited_at timestamptz
)
"""

COLUMNS = ("id", "ticket_id", "seq", "author_id", "body", "created_at", "edited_at")


class CommentsProjection(ReadModel):
    name = "comments"
    revision = 1
    topics = topics_of(Ticket.Commented, Ticket.CommentEdited)
    tables = {"comments": COMMENTS_DDL}
    indexes = ("CREATE INDEX comments_ticket ON comments (ticket_id, seq)",)

    def apply(self, cur: Cursor[DictRow], events: Sequence[Recorded]) -> None:
        new = {e.event.comment_id for e in events if isinstance(e.event, Ticket.Commented)}
        edited = {e.event.comment_id for e in events if isinstance(e.event, Ticket.CommentEdited)}
        rows = fetch_by_ids(cur, "comments", "id", COLUMNS, edited - new)
        for position, event in events:
            match event:
                case Ticket.Commented():
                    rows[event.comment_id] = _commented(position, event)
                case Ticket.CommentEdited(comment_id=cid, body=body, timestamp=at):
                    rows[cid].update(body=body, edited_at=at)
        upsert(cur, "comments", ("id",), COLUMNS, list(rows.values()))


def _commented(position: int, event: Ticket.Commented) -> dict[str, Any]:
    return {
        "id": event.comment_id,
        "ticket_id": event.originator_id,
        "seq": position,
        "author_id": event.actor_id,
        "body": event.body,
        "created_at": event.timestamp,
        "edited_at": None,
    }


class CommentView(msgspec.Struct, frozen=True):
    id: UUID
    ticket_id: UUID
    author_id: UUID
    author: UserRef
    body: str
    created_at: datetime
    edited_at: datetime | None


_SELECT = (
    "SELECT id, ticket_id, seq, author_id, body, created_at, edited_at, "
    "json_build_object('id', author_id, 'name', coalesce("
    "(SELECT name FROM users WHERE users.id = author_id), '')) AS author FROM comments"
)


def view_of(ticket_id: UUID, comment: Comment, author: UserRef) -> CommentView:
    """The view of a comment in a ticket aggregate, as a command that made it answers."""
    return CommentView(
        id=comment.id,
        ticket_id=ticket_id,
        author_id=comment.author_id,
        author=author,
        body=comment.body,
        created_at=comment.created_at,
        edited_at=comment.edited_at,
    )


def _view(row: DictRow) -> CommentView:
    return msgspec.convert(row, CommentView)


def get_comment(
    conn: Connection[DictRow], ticket_id: UUID, comment_id: UUID
) -> CommentView | None:
    row = conn.execute(
        f"{_SELECT} WHERE id = %s AND ticket_id = %s", (comment_id, ticket_id)
    ).fetchone()
    return _view(row) if row else None


def list_comments(
    conn: Connection[DictRow], ticket_id: UUID, limit: int = 25, cursor: str | None = None
) -> Page[CommentView]:
    """The ticket's comments in the order they were made."""
    check_limit(limit)
    after = decode_cursor(cursor, "comments", tuple[int])[0] if cursor is not None else 0
    rows = conn.execute(
        f"{_SELECT} WHERE ticket_id = %s AND seq > %s ORDER BY seq LIMIT %s",
        (ticket_id, after, limit + 1),
    ).fetchall()
    return page(rows, limit, "comments", lambda row: (row["seq"],), _view)
