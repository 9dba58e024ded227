"""What the API asks of the notifications model: a user's notifications (newest first), its
unread count, whose a notification is, the notifications of a range of positions (for the live
streams), and a ticket's watchers.

A notification stays visible only while its user may see the ticket: the list and the count
join the tickets model under its visibility filter (`projections.tickets.visibility`, the SQL
form of `domain.visibility.may_see`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from psycopg import Connection, sql
from psycopg.rows import DictRow

from domain.history import Change
from domain.values import Role
from domain.visibility import TicketAudience, Viewer, may_see
from domain.watching import Involvement, is_watcher
from projections.paging import Page, check_limit, decode_cursor, page
from projections.tickets.visibility import visible_to
from projections.users import UserRef


class NotificationView(msgspec.Struct, frozen=True):
    id: UUID
    ticket_id: UUID
    ticket_key: str
    ticket_title: str
    actor: UserRef
    summary: str
    changes: dict[str, Change]
    position: int
    created_at: datetime
    read_at: datetime | None


class Addressed(msgspec.Struct, frozen=True):
    """A notification and whom it is for."""

    user_id: UUID
    notification: NotificationView


_ACTOR = sql.SQL(
    "json_build_object('id', n.actor_id, 'name', coalesce("
    "(SELECT name FROM users WHERE users.id = n.actor_id), '')) AS actor"
)
_COLUMNS = sql.SQL(
    "n.id, n.user_id, n.ticket_id, n.ticket_key, {title} AS ticket_title, n.summary, n.changes, "
    "n.position, n.created_at, n.read_at, {actor}"
)
# Shown with the ticket's title as it is now.
_VISIBLE = _COLUMNS.format(title=sql.SQL("t.title"), actor=_ACTOR)
_AS_WRITTEN = _COLUMNS.format(title=sql.SQL("n.ticket_title"), actor=_ACTOR)


def _view(row: DictRow) -> NotificationView:
    return msgspec.convert(row, NotificationView)


def _visible_where(viewer: Viewer, unread: bool) -> tuple[sql.Composable, list[Any]]:
    clauses: list[sql.Composable] = [sql.SQL("n.user_id = %s")]
    params: list[Any] = [viewer.id]
    if unread:
        clauses.append(sql.SQL("n.read_at IS NULL"))
    visibility, visibility_params = visible_to(viewer)
    clauses += visibility
    return sql.SQL(" AND ").join(clauses), params + visibility_params


def list_notifications(
    conn: Connection[DictRow], viewer: Viewer, *, unread: bool = False, limit: int = 25,
    cursor: str | None = None,
) -> Page[NotificationView]:
    check_limit(limit)
    where, params = _visible_where(viewer, unread)
    if cursor is not None:
        position, after_id = decode_cursor(cursor, "notifications", tuple[int, UUID])
        where = sql.SQL("{} AND (n.position, n.id) < (%s, %s)").format(where)
        params += [position, after_id]
    query = sql.SQL(
        "SELECT {} FROM notifications n JOIN tickets t ON t.id = n.ticket_id WHERE {} "
        "ORDER BY n.position DESC, n.id DESC LIMIT %s"
    ).format(_VISIBLE, where)
    rows = conn.execute(query, [*params, limit + 1]).fetchall()
    return page(rows, limit, "notifications", lambda r: (r["position"], str(r["id"])), _view)


def unread_count(conn: Connection[DictRow], viewer: Viewer) -> int:
    where, params = _visible_where(viewer, unread=True)
    query = sql.SQL(
        "SELECT count(*) AS n FROM notifications n JOIN tickets t ON t.id = n.ticket_id "
        "WHERE {}"
    ).format(where)
    row = conn.execute(query, params).fetchone()
    return int(row["n"]) if row else 0


def owner(conn: Connection[DictRow], notification_id: UUID) -> UUID | None:
    row = conn.execute("SELECT user_id FROM notifications WHERE id = %s",
                       (notification_id,)).fetchone()
    return row["user_id"] if row else None


def notifications_between(conn: Connection[DictRow], after: int, upto: int) -> list[Addressed]:
    """Every notification of positions (after, upto], in position order, as written."""
    query = sql.SQL(
        "SELECT {} FROM notifications n WHERE n.position > %s AND n.position <= %s "
        "ORDER BY n.position, n.id"
    ).format(_AS_WRITTEN)
    rows = conn.execute(query, (after, upto)).fetchall()
    return [Addressed(row["user_id"], _view(row)) for row in rows]


def ticket_watchers(conn: Connection[DictRow], ticket_id: UUID) -> list[UserRef]:
    """The active users who watch the ticket and may see it, by name."""
    ticket = conn.execute(
        "SELECT project_id, reporter_id, assignee_ids, team_id FROM notification_tickets "
        "WHERE id = %s", (ticket_id,)).fetchone()
    if ticket is None:
        return []
    audience = TicketAudience(ticket["project_id"], ticket["reporter_id"],
                              tuple(ticket["assignee_ids"]), ticket["team_id"])
    rows = conn.execute(
        "SELECT user_id, commented, choice FROM ticket_watchers WHERE ticket_id = %s",
        (ticket_id,)).fetchall()
    involvements = {r["user_id"]: Involvement(r["commented"], r["choice"]) for r in rows}
    candidates = {audience.reporter_id, *audience.assignee_ids, *involvements}
    people = conn.execute(
        "SELECT id, name, role, team_ids FROM notification_users WHERE id = ANY(%s) AND active "
        "ORDER BY name, id", (list(candidates),)).fetchall()
    return [
        UserRef(p["id"], p["name"]) for p in people
        if is_watcher(p["id"], audience, involvements.get(p["id"]))
        and may_see(Viewer(id=p["id"], role=Role(p["role"]), team_ids=frozenset(p["team_ids"])),
                    audience)
    ]
