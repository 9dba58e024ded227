"""The bare counterparts of bench/http.py: what the same server setup does without Trail.

One Litestar app under uvicorn (one worker), sync handlers in the thread pool, a psycopg pool of
the API's size, msgspec decoding the body and encoding the answer, one SQL statement per request:

  POST /bare/tickets        one INSERT … RETURNING into `bare_tickets` (for create and update)
  GET  /bare/tickets/{id}   one-row SELECT … WHERE id = $1 (for the single-ticket read)
  GET  /bare/tickets?project_id=…&status=open&limit=25
                            a 25-row page, SELECT … ORDER BY created_at DESC, id DESC LIMIT 25
                            (for the list read)

`bare_tickets` is seeded (`seed_bare_tickets`) with as many rows as Trail has tickets, spread
over the same project ids, with the ticket list's columns.
"""

from __future__ import annotations

import os
from datetime import date, datetime
from typing import Any
from uuid import UUID

import msgspec
import psycopg
from litestar import Litestar, get, post
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

TABLE = "bare_tickets"
POOL_MAX_SIZE = 16  # as the API's pool
COLUMNS = ("id, project_id, number, title, description, status, priority, type, tags, "
           "assignee_ids, reporter_id, due_date, created_at, updated_at, version")

DDL = f"""
CREATE TABLE {TABLE} (
    id bigserial PRIMARY KEY,
    project_id uuid NOT NULL,
    number integer NOT NULL DEFAULT 0,
    title text NOT NULL,
    description text,
    status text NOT NULL DEFAULT 'open',
    priority text NOT NULL DEFAULT 'medium',
    type text NOT NULL DEFAULT 'bug',
    tags text[] NOT NULL DEFAULT '{{}}',
    assignee_ids uuid[] NOT NULL DEFAULT '{{}}',
    reporter_id uuid,
    due_date date,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz,
    version integer NOT NULL DEFAULT 1
);
CREATE INDEX {TABLE}_list ON {TABLE} (project_id, status, created_at DESC, id DESC);
"""


def seed_bare_tickets(conn: psycopg.Connection[Any], rows: int, projects: list[str],
                      users: list[str]) -> None:
    """`rows` tickets over `projects`, 70 % open, 1-3 assignees among `users`; then ANALYZE."""
    conn.execute(
        f"INSERT INTO {TABLE} (project_id, number, title, description, status, priority, tags, "
        "assignee_ids, reporter_id, due_date, created_at) "
        "SELECT (%(p)s::uuid[])[1 + n %% cardinality(%(p)s::uuid[])], n, 'Seeded ticket ' || n, "
        "'seeded', CASE WHEN random() < 0.7 THEN 'open' ELSE 'in_progress' END, "
        "(ARRAY['low','medium','high','urgent'])[1 + n %% 4], ARRAY['backend'], "
        "(%(u)s::uuid[])[1:1 + n %% 3], (%(u)s::uuid[])[1], "
        "date '2031-01-01' + n %% 365, now() - n * interval '1 second' "
        "FROM generate_series(1, %(rows)s) AS n",
        {"p": projects, "u": users, "rows": rows},
    )
    conn.execute(f"ANALYZE {TABLE}")


class BareCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    project_id: UUID
    title: str
    description: str | None = None
    priority: str = "medium"
    tags: list[str] = msgspec.field(default_factory=list)
    assignee_ids: list[UUID] = msgspec.field(default_factory=list)


class BareTicket(msgspec.Struct):
    id: int
    project_id: UUID
    number: int
    title: str
    description: str | None
    status: str
    priority: str
    type: str
    tags: list[str]
    assignee_ids: list[UUID]
    reporter_id: UUID | None
    due_date: date | None
    created_at: datetime
    updated_at: datetime | None
    version: int


def create_app() -> Litestar:
    """uvicorn factory (`bench.baseline:create_app --factory`); BENCH_DATABASE_URL names the
    database."""
    pool: ConnectionPool[Any] = ConnectionPool(
        os.environ["BENCH_DATABASE_URL"], min_size=2, max_size=POOL_MAX_SIZE, open=True,
        kwargs={"autocommit": True, "row_factory": dict_row},
    )

    @post("/bare/tickets", sync_to_thread=True)
    def insert(data: BareCreate) -> dict[str, int]:
        with pool.connection() as conn:
            row = conn.execute(
                f"INSERT INTO {TABLE} (project_id, title, description, priority, tags, "
                "assignee_ids) VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
                (data.project_id, data.title, data.description, data.priority, data.tags,
                 data.assignee_ids),
                prepare=True,
            ).fetchone()
        assert row is not None
        return {"id": row["id"]}

    @get("/bare/tickets/{ticket_id:int}", sync_to_thread=True)
    def one(ticket_id: int) -> BareTicket:
        with pool.connection() as conn:
            row = conn.execute(f"SELECT {COLUMNS} FROM {TABLE} WHERE id = %s", (ticket_id,),
                               prepare=True).fetchone()
        assert row is not None
        return BareTicket(**row)

    @get("/bare/tickets", sync_to_thread=True)
    def page(project_id: UUID, status: str = "open", limit: int = 25) -> list[BareTicket]:
        with pool.connection() as conn:
            rows = conn.execute(
                f"SELECT {COLUMNS} FROM {TABLE} WHERE project_id = %s AND status = %s "
                "ORDER BY created_at DESC, id DESC LIMIT %s",
                (project_id, status, limit), prepare=True,
            ).fetchall()
        return [BareTicket(**row) for row in rows]

    return Litestar([insert, one, page], on_shutdown=[lambda: pool.close()])
