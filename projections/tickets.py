"""Tickets read model: everything `GET /tickets` and `GET /tickets/{id}` answer, built for keyset
pages under every filter and sort of the API, and full-text search over title, description and
comment bodies.

Each sort is a pair (sort key, seq) where `seq` is the position of the ticket's creation: unique
and stable, so cursors never skip or repeat a row. A never-changed ticket sorts by its creation
time under `updated_at`, and a ticket without a due date sorts after every dated one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any, NamedTuple
from uuid import UUID

import msgspec
from psycopg import Connection, Cursor, sql
from psycopg.rows import DictRow

from domain.project import Project
from domain.ticket import TICKET_EVENTS, Ticket
from domain.values import PRIORITY_RANK, Priority, Role, Status, TicketType
from projections.base import ReadModel, Recorded, topics_of
from projections.bulk import fetch_by_ids, insert, upsert
from projections.errors import InvalidQuery
from projections.paging import Page, check_limit, decode_cursor, page

FULL_TEXT_WORK_MEM = "32MB"

# Dates sort before this one; a ticket without a due date takes it, and sorts last.
NO_DUE_DATE = date(9999, 12, 31)

_RANK = " ".join(f"WHEN '{p.value}' THEN {rank}" for p, rank in PRIORITY_RANK.items())

TICKETS_DDL = f"""
CREATE TABLE tickets (
    id uuid PRIMARY KEY,
    seq bigint NOT NULL,
    number integer NOT NULL,
    project_id uuid NOT NULL,
    project_key text NOT NULL,
    title text NOT NULL,
    description text,
    status text NOT NULL,
    priority text NOT NULL,
    type text NOT NULL,
    tags text[] NOT NULL,
    due_date date,
    reporter_id uuid NOT NULL,
    assignee_ids uuid[] NOT NULL,
    version integer NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz,
    comment_bodies jsonb NOT NULL,
    priority_rank smallint GENERATED ALWAYS AS (CASE priority {_RANK} END) STORED,
    touched_at timestamptz GENERATED ALWAYS AS (coalesce(updated_at, created_at)) STORED,
    due_key date GENERATED ALWAYS AS (coalesce(due_date, DATE '{NO_DUE_DATE}')) STORED,
    search tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english'::regconfig, title), 'A')
        || setweight(to_tsvector('english'::regconfig, coalesce(description, '')), 'B')
        || setweight(jsonb_to_tsvector('english'::regconfig, comment_bodies, '["string"]'), 'C')
    ) STORED
)
"""

PROJECTS_DDL = "CREATE TABLE ticket_projects (id uuid PRIMARY KEY, key text NOT NULL)"

INDEXES = (
    "CREATE INDEX tickets_created ON tickets (created_at, seq)",
    "CREATE INDEX tickets_touched ON tickets (touched_at, seq)",
    "CREATE INDEX tickets_priority ON tickets (priority_rank, seq)",
    "CREATE INDEX tickets_due ON tickets (due_key, seq)",
    "CREATE INDEX tickets_project_created ON tickets (project_id, created_at, seq)",
    "CREATE INDEX tickets_project_priority ON tickets (project_id, priority_rank, seq)",
    "CREATE INDEX tickets_reporter ON tickets (reporter_id, created_at, seq)",
    "CREATE INDEX tickets_assignees ON tickets USING gin (assignee_ids)",
    "CREATE INDEX tickets_tags ON tickets USING gin (tags)",
    # project_id inside the GIN (btree_gin): "these words in this project" is one index scan
    # instead of an AND of two bitmaps whose common-word half is huge (p50 12 ms -> 5 ms on 1M
    # tickets); queries on words alone use the same index.
    "CREATE INDEX tickets_search ON tickets USING gin (project_id, search)",
)

COLUMNS = (
    "id", "seq", "number", "project_id", "project_key", "title", "description", "status",
    "priority", "type", "tags", "due_date", "reporter_id", "assignee_ids", "version",
    "created_at", "updated_at", "comment_bodies",
)


class TicketsProjection(ReadModel):
    name = "tickets"
    revision = 3
    topics = topics_of(Project.Created, *TICKET_EVENTS)
    tables = {"tickets": TICKETS_DDL, "ticket_projects": PROJECTS_DDL}
    indexes = INDEXES
    extensions = ("btree_gin",)

    def apply(self, cur: Cursor[DictRow], events: Sequence[Recorded]) -> None:
        new_projects = {
            e.event.originator_id: e.event.key
            for e in events if isinstance(e.event, Project.Created)
        }
        insert(cur, "ticket_projects", ("id", "key"),
               [{"id": pid, "key": key} for pid, key in new_projects.items()])
        keys = _project_keys(cur, new_projects, events)
        rows = fetch_by_ids(cur, "tickets", "id", COLUMNS, _changed_ticket_ids(events))
        for position, event in events:
            match event:
                case Ticket.Created():
                    rows[event.originator_id] = _created(position, event, keys)
                case Ticket.Event():
                    _fold(rows[event.originator_id], event)
        upsert(cur, "tickets", ("id",), COLUMNS, list(rows.values()))


def _changed_ticket_ids(events: Sequence[Recorded]) -> set[UUID]:
    created = {e.event.originator_id for e in events if isinstance(e.event, Ticket.Created)}
    changed = {e.event.originator_id for e in events if isinstance(e.event, Ticket.Event)}
    return changed - created


def _project_keys(
    cur: Cursor[DictRow], new: dict[UUID, str], events: Sequence[Recorded]
) -> dict[UUID, str]:
    wanted = {e.event.project_id for e in events if isinstance(e.event, Ticket.Created)}
    known = fetch_by_ids(cur, "ticket_projects", "id", ("id", "key"), wanted - new.keys())
    return {**new, **{pid: row["key"] for pid, row in known.items()}}


def _created(position: int, event: Ticket.Created, keys: dict[UUID, str]) -> dict[str, Any]:
    return {
        "id": event.originator_id,
        "seq": position,
        "number": event.number,
        "project_id": event.project_id,
        "project_key": keys[event.project_id],
        "title": event.title,
        "description": event.description,
        "status": Status.OPEN,
        "priority": event.priority,
        "type": event.type,
        "tags": list(event.tags),
        "due_date": event.due_date,
        "reporter_id": event.reporter_id,
        "assignee_ids": list(event.assignee_ids),
        "version": event.originator_version,
        "created_at": event.timestamp,
        "updated_at": None,
        "comment_bodies": {},
    }


# The first this many characters of a ticket's comments are searchable (about a hundred long
# comments); the comments themselves are all kept, in the comments model.
SEARCHED_COMMENT_CHARS = 200_000


def _fold(row: dict[str, Any], event: Ticket.Event) -> None:
    match event:
        case Ticket.TitleChanged(title=title):
            row["title"] = title
        case Ticket.DescriptionChanged(description=description):
            row["description"] = description
        case Ticket.StatusChanged(status=status):
            row["status"] = status
        case Ticket.PriorityChanged(priority=priority):
            row["priority"] = priority
        case Ticket.TypeChanged(type=kind):
            row["type"] = kind
        case Ticket.TagsChanged(tags=tags):
            row["tags"] = list(tags)
        case Ticket.DueDateChanged(due_date=due_date):
            row["due_date"] = due_date
        case Ticket.AssigneesChanged(assignee_ids=assignee_ids):
            row["assignee_ids"] = list(assignee_ids)
        case Ticket.Commented(comment_id=cid, body=body) | Ticket.CommentEdited(
            comment_id=cid, body=body
        ):
            _index_comment(row["comment_bodies"], str(cid), body)
    row["version"] = event.originator_version
    row["updated_at"] = event.timestamp


def _index_comment(bodies: dict[str, str], comment_id: str, body: str) -> None:
    """Keep a comment's words searchable, up to a bound on all of the ticket's comments:
    PostgreSQL refuses a tsvector over 1 MB, and that refusal would stop the projection."""
    bodies.pop(comment_id, None)
    room = SEARCHED_COMMENT_CHARS - sum(len(b) for b in bodies.values())
    if room > 0:
        bodies[comment_id] = body[:room]


# --- queries ----------------------------------------------------------------------------------


class Viewer(msgspec.Struct, frozen=True):
    """Who is asking: a reporter sees only tickets it reported or is assigned to."""

    id: UUID
    role: Role

    @property
    def sees_all(self) -> bool:
        return self.role is not Role.REPORTER


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
    sort: str = "-created_at"


class TicketView(msgspec.Struct, frozen=True):
    id: UUID
    number: int
    project_id: UUID
    project_key: str
    title: str
    description: str | None
    status: Status
    priority: Priority
    type: TicketType
    tags: list[str]
    due_date: date | None
    reporter_id: UUID
    assignee_ids: list[UUID]
    version: int
    created_at: datetime
    updated_at: datetime | None


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

_VIEW_COLUMNS = sql.SQL(", ").join(
    sql.Identifier(c) for c in (*TicketView.__struct_fields__, "seq", "touched_at",
                                "priority_rank", "due_key")
)


def _view(row: DictRow) -> TicketView:
    return msgspec.convert(row, TicketView)


def get_ticket(conn: Connection[DictRow], ticket_id: UUID, viewer: Viewer) -> TicketView | None:
    """The ticket, or None when it does not exist or `viewer` may not see it."""
    where, params = _visibility(viewer)
    query = sql.SQL("SELECT {} FROM tickets WHERE id = %s").format(_VIEW_COLUMNS)
    if where:
        query += sql.SQL(" AND ") + where[0]
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
    visibility, visibility_params = _visibility(viewer)
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


def ticket_visible_to(conn: Connection[DictRow], ticket_id: UUID, user_id: UUID) -> bool:
    """Whether the user may see the ticket: admins and developers see all, reporters their own.

    The role comes from the users read model, so a role change shows up once it is projected.
    """
    row = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM tickets WHERE id = %(t)s AND (reporter_id = %(u)s"
        " OR assignee_ids @> ARRAY[%(u)s]::uuid[]))"
        " OR EXISTS (SELECT 1 FROM users WHERE id = %(u)s AND role <> 'reporter')"
        " AND EXISTS (SELECT 1 FROM tickets WHERE id = %(t)s) AS visible",
        {"t": ticket_id, "u": user_id},
    ).fetchone()
    return bool(row and row["visible"])


def _filters(f: TicketFilters) -> tuple[list[sql.Composable], list[Any]]:
    clauses: list[sql.Composable] = []
    params: list[Any] = []
    equal = {"project_id": f.project_id, "status": f.status, "priority": f.priority,
             "type": f.type, "reporter_id": f.reporter_id}
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


def _visibility(viewer: Viewer) -> tuple[list[sql.Composable], list[Any]]:
    if viewer.sees_all:
        return [], []
    return (
        [sql.SQL("(reporter_id = %s OR assignee_ids @> ARRAY[%s]::uuid[])")],
        [viewer.id, viewer.id],
    )


def _where(clauses: Iterable[sql.Composable]) -> sql.Composable:
    clauses = list(clauses)
    if not clauses:
        return sql.SQL("")
    return sql.SQL(" WHERE ") + sql.SQL(" AND ").join(clauses)
