"""What the API asks of the tickets model: one ticket, a filtered and sorted page of them, and
the same view built from an aggregate a command has just saved."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any, NamedTuple
from uuid import UUID

import msgspec
from psycopg import Connection, sql
from psycopg.rows import DictRow

from domain.links import Link
from domain.ticket import Ticket
from domain.values import Priority, Status, TicketType, ticket_key
from domain.visibility import Viewer
from projections.errors import InvalidQuery
from projections.paging import Page, check_limit, decode_cursor, page
from projections.tickets.visibility import visible_to
from projections.users import UserRef

FULL_TEXT_WORK_MEM = "32MB"


class TicketFilters(msgspec.Struct, frozen=True, kw_only=True):
    project_id: UUID | None = None
    status: Status | None = None
    priority: Priority | None = None
    type: TicketType | None = None
    tag: str | None = None
    assignee_id: UUID | None = None
    reporter_id: UUID | None = None
    q: str | None = None
    due_before: date | None = None
    """Tickets due strictly before this date."""
    parent_id: UUID | None = None
    """The subtasks of this ticket."""
    team_id: UUID | None = None
    sort: str = "-created_at"


class Progress(msgspec.Struct, frozen=True):
    """A parent's subtasks: how many, and how many of them are resolved or closed."""

    done: int
    total: int


class TicketView(msgspec.Struct, frozen=True):
    id: UUID
    key: str
    number: int
    project_id: UUID
    title: str
    description: str | None
    status: Status
    priority: Priority
    type: TicketType
    tags: list[str]
    due_date: date | None
    reporter_id: UUID
    reporter: UserRef
    assignee_ids: list[UUID]
    assignees: list[UserRef]
    attachment_ids: list[UUID]
    version: int
    created_at: datetime
    updated_at: datetime | None
    parent_id: UUID | None
    progress: Progress | None
    """Null for a ticket without subtasks."""
    team_id: UUID | None
    links: list[Link]


def view_of(
    ticket: Ticket,
    project_key: str,
    people: Mapping[UUID, UserRef],
    progress: Progress | None = None,
) -> TicketView:
    """The view of a ticket aggregate: what a command answers, and `?version=`/`?as_of=`.
    `people` names the reporter and the assignees (`users.refs`); `progress` is the read
    side's (`progress_of`): subtasks are other tickets, which the aggregate does not hold."""

    def ref(user_id: UUID) -> UserRef:
        return people.get(user_id) or UserRef(user_id, "")

    fields = msgspec.structs.asdict(msgspec.convert(ticket, _Fields, from_attributes=True))
    return TicketView(
        **fields,
        key=ticket_key(project_key, ticket.number),
        reporter=ref(ticket.reporter_id),
        assignees=[ref(a) for a in ticket.assignee_ids],
        progress=progress,
    )


class _Fields(msgspec.Struct, frozen=True):
    """What a view takes straight from the aggregate."""

    id: UUID
    number: int
    project_id: UUID
    title: str
    description: str | None
    status: Status
    priority: Priority
    type: TicketType
    tags: list[str]
    due_date: date | None
    reporter_id: UUID
    assignee_ids: list[UUID]
    attachment_ids: list[UUID]
    version: int
    created_at: datetime
    updated_at: datetime | None
    parent_id: UUID | None
    team_id: UUID | None
    links: list[Link]


class _Sort(NamedTuple):
    column: str
    descending: bool
    key_type: Any


SORTS: dict[str, _Sort] = {
    "created_at": _Sort("created_at", False, tuple[datetime, int]),
    "-created_at": _Sort("created_at", True, tuple[datetime, int]),
    "updated_at": _Sort("touched_at", False, tuple[datetime, int]),
    "-updated_at": _Sort("touched_at", True, tuple[datetime, int]),
    "priority": _Sort("priority_rank", False, tuple[int, int]),
    "due_date": _Sort("due_key", False, tuple[date, int]),
}

_PROGRESS = (
    "CASE WHEN children_total > 0 THEN json_build_object("
    "'done', children_done, 'total', children_total) END AS progress"
)

_VIEW_COLUMNS = sql.SQL(", ").join(
    [
        *(sql.Identifier(c) for c in (*_Fields.__struct_fields__, "seq", "touched_at",
                                      "priority_rank", "due_key")),
        sql.SQL("project_key || '-' || number AS key"),
        # Names come from the users model at read time, so a rename shows everywhere at once.
        sql.SQL(
            "json_build_object('id', reporter_id, 'name', coalesce("
            "(SELECT name FROM users WHERE users.id = reporter_id), '')) AS reporter"
        ),
        sql.SQL(
            "coalesce((SELECT json_agg(json_build_object('id', a.id, 'name', "
            "coalesce(u.name, '')) ORDER BY a.n) FROM unnest(assignee_ids) "
            "WITH ORDINALITY AS a(id, n) LEFT JOIN users u ON u.id = a.id), '[]') AS assignees"
        ),
        sql.SQL(_PROGRESS),
    ]
)


def _view(row: DictRow) -> TicketView:
    return msgspec.convert(row, TicketView)


def find_by_key(conn: Connection[DictRow], project_key: str, number: int) -> UUID | None:
    """The id of ticket `<project_key>-<number>` (`project_key` in capitals)."""
    row = conn.execute(
        "SELECT id FROM tickets WHERE project_key = %s AND number = %s", (project_key, number)
    ).fetchone()
    return row["id"] if row else None


def progress_of(conn: Connection[DictRow], ticket_id: UUID) -> Progress | None:
    """The ticket's progress over its subtasks; None without any (or for a ticket the model
    has not caught up with, which has none yet)."""
    row = conn.execute(f"SELECT {_PROGRESS} FROM tickets WHERE id = %s", (ticket_id,)).fetchone()
    return msgspec.convert(row["progress"], Progress) if row and row["progress"] else None


def get_ticket(conn: Connection[DictRow], ticket_id: UUID, viewer: Viewer) -> TicketView | None:
    """The ticket, or None when it does not exist or `viewer` may not see it."""
    clauses, params = visible_to(viewer)
    query = sql.SQL("SELECT {} FROM tickets WHERE id = %s").format(_VIEW_COLUMNS)
    for clause in clauses:
        query += sql.SQL(" AND ") + clause
    row = conn.execute(query, [ticket_id, *params]).fetchone()
    return _view(row) if row else None


def list_tickets(
    conn: Connection[DictRow],
    filters: TicketFilters,
    viewer: Viewer,
    limit: int = 25,
    cursor: str | None = None,
) -> Page[TicketView]:
    sort = SORTS.get(filters.sort)
    if sort is None:
        raise InvalidQuery("sort", f"must be one of {', '.join(SORTS)}")
    check_limit(limit)
    clauses, params = _filters(filters)
    visibility, visibility_params = visible_to(viewer)
    clauses += visibility
    params += visibility_params
    column = sql.Identifier(sort.column)
    if cursor is not None:
        key = decode_cursor(cursor, f"tickets:{filters.sort}", sort.key_type)
        operator = sql.SQL("<" if sort.descending else ">")
        clauses.append(sql.SQL("({}, seq) {} (%s, %s)").format(column, operator))
        params += list(key)
    direction = sql.SQL("DESC" if sort.descending else "ASC")
    query = sql.SQL("SELECT {} FROM tickets{} ORDER BY {} {}, seq {} LIMIT %s").format(
        _VIEW_COLUMNS, _where(clauses), column, direction, direction
    )
    rows = _fetch(conn, query, [*params, limit + 1], full_text=filters.q is not None)
    return page(rows, limit, f"tickets:{filters.sort}",
                lambda row: (row[sort.column], row["seq"]), _view)


def _fetch(
    conn: Connection[DictRow], query: sql.Composed, params: list[Any], *, full_text: bool
) -> list[DictRow]:
    if not full_text:
        return conn.execute(query, params).fetchall()
    with conn.transaction():
        # Common words match a good part of the table; in the default 4MB the bitmap of their
        # matches goes lossy and PostgreSQL rechecks whole pages (p99 520 ms instead of 96 ms
        # on 1M tickets). Local to this query's transaction.
        conn.execute(f"SET LOCAL work_mem = '{FULL_TEXT_WORK_MEM}'")
        # Never prepared: a generic plan cannot tell a common word from a rare one, and the
        # best plan differs by orders of magnitude (0.4 ms planned for the words, 200 ms not).
        return conn.execute(query, params, prepare=False).fetchall()


def _filters(f: TicketFilters) -> tuple[list[sql.Composable], list[Any]]:
    clauses: list[sql.Composable] = []
    params: list[Any] = []
    equal = {"project_id": f.project_id, "status": f.status, "priority": f.priority,
             "type": f.type, "reporter_id": f.reporter_id, "parent_id": f.parent_id,
             "team_id": f.team_id}
    for column, value in equal.items():
        if value is not None:
            clauses.append(sql.SQL("{} = %s").format(sql.Identifier(column)))
            params.append(value)
    if f.tag is not None:
        clauses.append(sql.SQL("tags @> ARRAY[%s]::text[]"))
        params.append(f.tag)
    if f.assignee_id is not None:
        clauses.append(sql.SQL("assignee_ids @> ARRAY[%s]::uuid[]"))
        params.append(f.assignee_id)
    if f.q is not None:
        clauses.append(sql.SQL("search @@ websearch_to_tsquery('english', %s)"))
        params.append(f.q)
    if f.due_before is not None:
        # due_key is due_date with NO_DUE_DATE for none: the same rows, and it is indexed.
        clauses.append(sql.SQL("due_key < %s"))
        params.append(f.due_before)
    return clauses, params


def _where(clauses: Iterable[sql.Composable]) -> sql.Composable:
    clauses = list(clauses)
    if not clauses:
        return sql.SQL("")
    return sql.SQL(" WHERE ") + sql.SQL(" AND ").join(clauses)
