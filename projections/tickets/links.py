"""`GET /tickets/{id}/links`: a ticket's links as seen from it, each with the other ticket's key,
title and status as they are now (read from the other ticket's row, not copied into the link)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec
from psycopg import Connection, sql
from psycopg.rows import DictRow

from domain.links import LinkType
from domain.values import Status
from domain.visibility import Viewer
from projections.tickets.visibility import visible_to


class LinkedTicket(msgspec.Struct, frozen=True):
    id: UUID
    key: str
    title: str
    status: Status


class LinkItem(msgspec.Struct, frozen=True):
    id: UUID
    type: LinkType
    ticket: LinkedTicket
    created_at: datetime


def list_links(conn: Connection[DictRow], ticket_id: UUID, viewer: Viewer) -> list[LinkItem]:
    """The links of `ticket_id` (whose visibility the caller has checked), oldest first; a link
    to a ticket `viewer` may not see is left out, as that ticket would be anywhere else."""
    clauses, params = visible_to(viewer)
    query: sql.Composable = sql.SQL(
        "SELECT l.id, l.type, l.created_at, json_build_object('id', tickets.id, "
        "'key', tickets.project_key || '-' || tickets.number, 'title', tickets.title, "
        "'status', tickets.status) AS ticket "
        "FROM jsonb_to_recordset((SELECT links FROM tickets WHERE id = %s)) "
        "AS l(id uuid, type text, ticket_id uuid, created_at timestamptz) "
        "JOIN tickets ON tickets.id = l.ticket_id"
    )
    # The visibility clauses name the other ticket's columns, which only `tickets` has here.
    for number, clause in enumerate(clauses):
        query += sql.SQL(" WHERE " if number == 0 else " AND ") + clause
    query += sql.SQL(" ORDER BY l.created_at, l.id")
    rows = conn.execute(query, [ticket_id, *params]).fetchall()
    return [msgspec.convert(row, LinkItem) for row in rows]
