"""A ticket's history, as `/history` reads it (decoded from the event store), next to what a
history read model would cost (precomputed rows, one index range scan).

    uv run python bench/history.py

Seeds 200 tickets of 19 events each (create, then status changes and comments) in a fresh
database `trail_bench_history` on --server-url, fills a `bench_history` table with the very rows
a model would hold (`domain.history.history_entry` of each event), then reads a page of 25
entries for random tickets both ways, alternating, and prints p50/p99 per read:

  log      eventlog.audit.ticket_history: the ticket's events from the event store, decoded
  model    SELECT of the precomputed rows, decoded to HistoryEntry
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from uuid import UUID

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import msgspec  # noqa: E402
import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402
from psycopg.rows import DictRow, dict_row  # noqa: E402
from psycopg.types.json import Jsonb  # noqa: E402

from commands.base import Trail  # noqa: E402
from commands.messages import (  # noqa: E402
    CommentOnTicket,
    CreateProject,
    CreateTicket,
    EditTicket,
    RegisterUser,
)
from commands.services import build_commands  # noqa: E402
from domain.history import HistoryEntry, history_entry  # noqa: E402
from domain.values import Status  # noqa: E402
from eventlog import audit  # noqa: E402
from eventlog.reading import aggregate_events  # noqa: E402
from runtime.embedded import postgres_env  # noqa: E402
from runtime.migrate import migrate  # noqa: E402

DATABASE = "trail_bench_history"


def seed(url: str, tickets: int) -> list[UUID]:
    app = build_commands(Trail(postgres_env(url)))
    try:
        admin = app.accounts.actor(app.accounts.register(RegisterUser(
            name="Bench Admin", email="admin@bench.example", password="bench password 1")).id)
        project = app.projects.create(admin, CreateProject(name="History bench")).id
        ids = []
        for i in range(tickets):
            ticket = app.tickets.create(admin, CreateTicket(project_id=project, title=f"t{i}")).id
            for j in range(9):
                status = Status.IN_PROGRESS if j % 2 == 0 else Status.OPEN
                app.tickets.edit(admin, EditTicket(ticket_id=ticket, status=status))
                app.tickets.comment(admin, CommentOnTicket(ticket_id=ticket, body=f"c{j}"))
            ids.append(ticket)
        return ids
    finally:
        app.close()


def precompute(conn: psycopg.Connection[DictRow], ids: list[UUID]) -> None:
    conn.execute(
        "CREATE TABLE bench_history (ticket_id uuid, version integer, position bigint, "
        "type text, at timestamptz, actor_id uuid, changes jsonb, PRIMARY KEY (ticket_id, version))"
    )
    with conn.cursor() as cur:
        for ticket_id in ids:
            for position, event in aggregate_events(conn, ticket_id):
                entry = history_entry(position, event)
                cur.execute(
                    "INSERT INTO bench_history VALUES (%s, %s, %s, %s, %s, %s, %s)",
                    (ticket_id, entry.version, entry.position, entry.type, entry.at,
                     entry.actor_id, Jsonb(msgspec.to_builtins(entry.changes))),
                )
    conn.execute("ANALYZE bench_history")


def model_history(conn: psycopg.Connection[DictRow], ticket_id: UUID) -> list[HistoryEntry]:
    rows = conn.execute(
        "SELECT position, version, type, at, actor_id, changes FROM bench_history "
        "WHERE ticket_id = %s AND version > 0 ORDER BY version LIMIT 26",
        (ticket_id,),
    ).fetchall()
    return [msgspec.convert(row, HistoryEntry) for row in rows]


def timed(read: Callable[[UUID], object], ids: list[UUID], n: int) -> list[float]:
    times = []
    for _ in range(n):
        ticket = random.choice(ids)
        started = time.perf_counter()
        read(ticket)
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--tickets", type=int, default=200)
    parser.add_argument("--reads", type=int, default=3000)
    args = parser.parse_args()
    with psycopg.connect(args.server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(DATABASE)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))
    url = args.server_url.rsplit("/", 1)[0] + f"/{DATABASE}"
    migrate(url)
    ids = seed(url, args.tickets)
    with psycopg.connect(url, row_factory=dict_row, autocommit=True) as conn:
        precompute(conn, ids)
        readers = {
            "log": lambda t: audit.ticket_history(conn, t, 0, 26),
            "model": lambda t: model_history(conn, t),
        }
        results: dict[str, list[float]] = {name: [] for name in readers}
        for _ in range(2):  # warm-up, then measure, alternating so noise hits both alike
            for name, read in readers.items():
                results[name] = timed(read, ids, args.reads)
        for name, times in results.items():
            times.sort()
            print(f"{name:<6} p50 {statistics.median(times):.3f} ms   "
                  f"p99 {times[int(len(times) * 0.99)]:.3f} ms   ({len(times)} reads)")


if __name__ == "__main__":
    main()
