"""Attachments read model: a ticket's attachments (`GET /tickets/{id}/attachments`, oldest first,
removed ones left out), the ticket an attachment id belongs to (removed ones too), and which
attachments use a blob, for the sweep of attachment bytes.

The API checks that the caller may see the ticket before answering about its attachments.
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
from domain.ticket_events import Attachment
from eventlog.reading import Recorded
from eventlog.topics import topics_of
from projections.base import ReadModel
from projections.bulk import fetch_by_ids, upsert
from projections.paging import Page, check_limit, decode_cursor, page
from projections.users import UserRef

ATTACHMENTS_DDL = """
CREATE TABLE attachments (
    id uuid PRIMARY KEY,
    ticket_id uuid NOT NULL,
    seq bigint NOT NULL,
    filename text NOT NULL,
    content_type text NOT NULL,
    size bigint NOT NULL,
    sha256 text NOT NULL,
    uploaded_by uuid NOT NULL,
    created_at timestamptz NOT NULL,
    removed_at timestamptz
)
"""

COLUMNS = (
    "id", "ticket_id", "seq", "filename", "content_type", "size", "sha256", "uploaded_by",
    "created_at", "removed_at",
)


class AttachmentsProjection(ReadModel):
    name = "attachments"
    revision = 1
    topics = topics_of(Ticket.AttachmentAdded, Ticket.AttachmentRemoved)
    tables = {"attachments": ATTACHMENTS_DDL}
    indexes = (
        "CREATE INDEX attachments_ticket ON attachments (ticket_id, seq) "
        "WHERE removed_at IS NULL",
        "CREATE INDEX attachments_blob ON attachments (sha256)",
    )

    def apply(self, cur: Cursor[DictRow], events: Sequence[Recorded]) -> None:
        new = {e.event.attachment_id for e in events
               if isinstance(e.event, Ticket.AttachmentAdded)}
        removed = {e.event.attachment_id for e in events
                   if isinstance(e.event, Ticket.AttachmentRemoved)}
        rows = fetch_by_ids(cur, "attachments", "id", COLUMNS, removed - new)
        for position, event in events:
            match event:
                case Ticket.AttachmentAdded():
                    rows[event.attachment_id] = _added(position, event)
                case Ticket.AttachmentRemoved(attachment_id=attachment_id, timestamp=at):
                    rows[attachment_id]["removed_at"] = at
        upsert(cur, "attachments", ("id",), COLUMNS, list(rows.values()))


def _added(position: int, event: Ticket.AttachmentAdded) -> dict[str, Any]:
    return {
        "id": event.attachment_id,
        "ticket_id": event.originator_id,
        "seq": position,
        "filename": event.filename,
        "content_type": event.content_type,
        "size": event.size,
        "sha256": event.sha256,
        "uploaded_by": event.actor_id,
        "created_at": event.timestamp,
        "removed_at": None,
    }


class AttachmentView(msgspec.Struct, frozen=True):
    id: UUID
    ticket_id: UUID
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: UUID
    uploader: UserRef
    created_at: datetime


class BlobUse(msgspec.Struct, frozen=True):
    """How the attachments that share one blob stand: whether any is live, and when the last
    of them was removed."""

    live: bool
    last_removed_at: datetime | None


def view_of(ticket_id: UUID, attachment: Attachment, uploader: UserRef) -> AttachmentView:
    """The view of an attachment in a ticket aggregate, as the command that added it answers."""
    return AttachmentView(
        id=attachment.id,
        ticket_id=ticket_id,
        filename=attachment.filename,
        content_type=attachment.content_type,
        size=attachment.size,
        sha256=attachment.sha256,
        uploaded_by=attachment.uploaded_by,
        uploader=uploader,
        created_at=attachment.created_at,
    )


_SELECT_VIEW = (
    "SELECT id, ticket_id, seq, filename, content_type, size, sha256, uploaded_by, created_at, "
    "json_build_object('id', uploaded_by, 'name', coalesce("
    "(SELECT name FROM users WHERE users.id = uploaded_by), '')) AS uploader FROM attachments"
)


def ticket_of(conn: Connection[DictRow], attachment_id: UUID) -> UUID | None:
    """The ticket the attachment was added to, removed or not."""
    row = conn.execute(
        "SELECT ticket_id FROM attachments WHERE id = %s", (attachment_id,)
    ).fetchone()
    return row["ticket_id"] if row else None


def list_attachments(
    conn: Connection[DictRow], ticket_id: UUID, limit: int = 25, cursor: str | None = None
) -> Page[AttachmentView]:
    """The ticket's live attachments in the order they were added."""
    check_limit(limit)
    after = decode_cursor(cursor, "attachments", tuple[int])[0] if cursor is not None else 0
    rows = conn.execute(
        f"{_SELECT_VIEW} WHERE ticket_id = %s AND removed_at IS NULL AND seq > %s "
        "ORDER BY seq LIMIT %s",
        (ticket_id, after, limit + 1),
    ).fetchall()
    return page(rows, limit, "attachments", lambda row: (row["seq"],),
                lambda row: msgspec.convert(row, AttachmentView))


def blob_uses(conn: Connection[DictRow], sha256s: Sequence[str]) -> dict[str, BlobUse]:
    """For each of `sha256s` that any attachment uses (live or removed), how they stand."""
    rows = conn.execute(
        "SELECT sha256, bool_or(removed_at IS NULL) AS live, max(removed_at) AS last_removed_at "
        "FROM attachments WHERE sha256 = ANY(%s) GROUP BY sha256",
        (list(sha256s),),
    ).fetchall()
    return {
        row["sha256"]: BlobUse(live=row["live"], last_removed_at=row["last_removed_at"])
        for row in rows
    }
