"""Projects read model: `GET /projects` (q over name, key and description) and `/projects/{id}`.

`open_tickets` counts the project's tickets that are neither resolved nor closed; every ticket
event that moves a ticket across that line carries the status it left, so the count changes by
the event alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from psycopg import Connection, Cursor, sql
from psycopg.rows import DictRow

from domain.project import Project
from domain.ticket import Ticket
from domain.values import UNRESOLVED
from eventlog.reading import Recorded
from eventlog.topics import topics_of
from projections.base import ReadModel
from projections.bulk import fetch_by_ids, insert, upsert
from projections.paging import Page, check_limit, decode_cursor, page
from projections.users import like_pattern

PROJECTS_DDL = """
CREATE TABLE projects (
    id uuid PRIMARY KEY,
    seq bigint NOT NULL,
    name text NOT NULL,
    key text NOT NULL,
    description text,
    archived boolean NOT NULL,
    open_tickets integer NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz
)
"""

TICKETS_DDL = "CREATE TABLE project_tickets (ticket_id uuid PRIMARY KEY, project_id uuid NOT NULL)"

COLUMNS = (
    "id", "seq", "name", "key", "description", "archived", "open_tickets", "created_at",
    "updated_at",
)


class ProjectsProjection(ReadModel):
    name = "projects"
    revision = 1
    topics = topics_of(
        Project.Created, Project.Renamed, Project.Redescribed, Project.Archived,
        Ticket.Created, Ticket.StatusChanged,
    )
    # project_tickets: which project each ticket is in, as status changes do not say.
    tables = {"projects": PROJECTS_DDL, "project_tickets": TICKETS_DDL}
    indexes = ("CREATE UNIQUE INDEX projects_seq ON projects (seq)",)

    def apply(self, cur: Cursor[DictRow], events: Sequence[Recorded]) -> None:
        project_of = _ticket_projects(cur, events)
        new = {e.event.originator_id for e in events if isinstance(e.event, Project.Created)}
        touched = {e.event.originator_id for e in events if isinstance(e.event, Project.Event)}
        rows = fetch_by_ids(
            cur, "projects", "id", COLUMNS, (touched | set(project_of.values())) - new
        )
        for position, event in events:
            match event:
                case Project.Created():
                    rows[event.originator_id] = _created(position, event)
                case Project.Event():
                    _fold(rows[event.originator_id], event)
                case Ticket.Created(project_id=project_id):
                    rows[project_id]["open_tickets"] += 1
                case Ticket.StatusChanged(old_status=old, status=status):
                    delta = (status in UNRESOLVED) - (old in UNRESOLVED)
                    rows[project_of[event.originator_id]]["open_tickets"] += delta
        upsert(cur, "projects", ("id",), COLUMNS, list(rows.values()))


def _ticket_projects(cur: Cursor[DictRow], events: Sequence[Recorded]) -> dict[UUID, UUID]:
    """The project of every ticket in `events`; records the new tickets' projects."""
    created = {e.event.originator_id: e.event.project_id
               for e in events if isinstance(e.event, Ticket.Created)}
    insert(cur, "project_tickets", ("ticket_id", "project_id"),
           [{"ticket_id": t, "project_id": p} for t, p in created.items()])
    changed = {e.event.originator_id for e in events if isinstance(e.event, Ticket.StatusChanged)}
    known = fetch_by_ids(cur, "project_tickets", "ticket_id", ("ticket_id", "project_id"),
                         changed - created.keys())
    return created | {t: row["project_id"] for t, row in known.items()}


def _created(position: int, event: Project.Created) -> dict[str, Any]:
    return {
        "id": event.originator_id,
        "seq": position,
        "name": event.name,
        "key": event.key,
        "description": event.description,
        "archived": False,
        "open_tickets": 0,
        "created_at": event.timestamp,
        "updated_at": None,
    }


def _fold(row: dict[str, Any], event: Project.Event) -> None:
    match event:
        case Project.Renamed(name=name):
            row["name"] = name
        case Project.Redescribed(description=description):
            row["description"] = description
        case Project.Archived():
            row["archived"] = True
    row["updated_at"] = event.timestamp


class ProjectView(msgspec.Struct, frozen=True):
    id: UUID
    name: str
    key: str
    description: str | None
    archived: bool
    open_tickets: int
    created_at: datetime
    updated_at: datetime | None


class ProjectFilters(msgspec.Struct, frozen=True, kw_only=True):
    q: str | None = None
    """Case-insensitive substring of the name, the key or the description."""


_SELECT = sql.SQL(
    "SELECT id, seq, name, key, description, archived, open_tickets, created_at, updated_at "
    "FROM projects"
)


def view_of(project: Project, open_tickets: int) -> ProjectView:
    """The view of a project aggregate, as a command that changed it answers."""
    return ProjectView(
        id=project.id,
        name=project.name,
        key=project.key,
        description=project.description,
        archived=project.archived,
        open_tickets=open_tickets,
        created_at=project.created_on,
        updated_at=project.updated_at,
    )


def _view(row: DictRow) -> ProjectView:
    return msgspec.convert(row, ProjectView)


def get_project(conn: Connection[DictRow], project_id: UUID) -> ProjectView | None:
    row = conn.execute(_SELECT + sql.SQL(" WHERE id = %s"), (project_id,)).fetchone()
    return _view(row) if row else None


def list_projects(
    conn: Connection[DictRow],
    filters: ProjectFilters,
    limit: int = 25,
    cursor: str | None = None,
) -> Page[ProjectView]:
    """Projects in the order they were created."""
    check_limit(limit)
    after = decode_cursor(cursor, "projects", tuple[int])[0] if cursor is not None else 0
    query = _SELECT + sql.SQL(" WHERE seq > %s")
    params: list[Any] = [after]
    if filters.q:
        query += sql.SQL(" AND (name ILIKE %s OR key ILIKE %s OR description ILIKE %s)")
        params += [like_pattern(filters.q)] * 3
    query += sql.SQL(" ORDER BY seq LIMIT %s")
    rows = conn.execute(query, [*params, limit + 1]).fetchall()
    return page(rows, limit, "projects", lambda row: (row["seq"],), _view)
