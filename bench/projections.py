"""Read-side benchmark: rebuild rate next to the rate the log can be read at, live projection lag
under a steady command stream, and list-query latency over 1,000,000 tickets.

    uv run python bench/projections.py                      # everything, about 4 minutes
    uv run python bench/projections.py --events 100000 --ticket-rows 100000 --lag-seconds 10

Phases, on two dedicated databases of the server in --server (recreated every run):
1. seed: events from the real aggregates (users and projects, then tickets worked on ~2,000 at a
   time: status moves, comments, assignments, edits), encoded by the write side's own mapper and
   COPY'd into trail_events; every 997th is read back, decoded and compared; then the store is
   VACUUM ANALYZEd and checkpointed, as a running one would be.
2. read: the log's read rate layer by layer (server scan, COPY to this process, the runner's
   batch query as rows, and decoded through the mapper), in the same run as
3. rebuild: `projections.rebuild.rebuild` of every read model from position 0.
4. lag: `trail projector` in its own process; commands at a steady rate through the Trail app;
   lag = from a command's return to the NOTIFY of the last projection reaching its position.
5. queries: generated rows in the tickets read model (in SQL, straight into the live version's
   table, indexes built after), then `list_tickets` p50/p99 per query shape.
"""
from __future__ import annotations

import argparse
import bisect
import multiprocessing
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

# Run as a script, this file's directory comes first on sys.path, where this module would shadow
# the `projections` package and bench/email.py and bench/http.py the standard library's: psycopg
# then fails to load its C implementation and silently falls back to pure Python (5x slower
# reads). So the path is fixed before any third-party import.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import psycopg  # noqa: E402
from eventsourcing.domain import Aggregate  # noqa: E402
from eventsourcing.persistence import StoredEvent  # noqa: E402
from psycopg import sql  # noqa: E402
from psycopg.rows import dict_row  # noqa: E402

from commands.base import Trail  # noqa: E402
from commands.messages import CommentOnTicket, CreateTicket, EditTicket  # noqa: E402
from commands.services import Commands, build_commands  # noqa: E402
from domain.project import Project  # noqa: E402
from domain.ticket import Ticket  # noqa: E402
from domain.ticket_edit import TicketEdit  # noqa: E402
from domain.user import User  # noqa: E402
from domain.values import WORKFLOW, Priority, Role, Stamp, Status, TicketType, UserStatus  # noqa: E402
from domain.visibility import Viewer  # noqa: E402
from eventlog.codec import JsonEventMapper  # noqa: E402
from eventlog.reading import read_batch  # noqa: E402
from projections.base import POSITIONS_CHANNEL, open_view, schema_name  # noqa: E402
from projections.catalog import READ_MODELS  # noqa: E402
from projections.positions import wait_for_position  # noqa: E402
from projections.rebuild import install, rebuild  # noqa: E402
from projections.runner import tune_gc  # noqa: E402
from projections.tickets import (  # noqa: E402
    TicketFilters,
    TicketsProjection,
    list_tickets,
)
from projections.tickets.table import INDEXES  # noqa: E402
from runtime.embedded import postgres_env  # noqa: E402
from runtime.migrate import migrate  # noqa: E402

SERVER = "postgresql://postgres@127.0.0.1:5432"
EVENTS_DB = "trail_bench_projections"
QUERIES_DB = "trail_bench_queries"
WORDS = [f"w{i:03d}" for i in range(600)]
MAPPER = JsonEventMapper()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def fresh_database(server: str, name: str) -> str:
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        database = sql.Identifier(name)
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(database))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(database))
    migrate(f"{server}/{name}")
    return f"{server}/{name}"


# --- 1. seed ------------------------------------------------------------------------------------


class Seeder:
    """Events as the write side records them, from the real aggregates, interleaved in time."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.at = datetime(2025, 1, 1, tzinfo=UTC)
        self.admin = uuid.UUID(int=self.rng.getrandbits(128))
        self.developers: list[uuid.UUID] = []
        self.reporters: list[uuid.UUID] = []
        self.projects: list[uuid.UUID] = []

    def stamp(self, actor: uuid.UUID) -> Stamp:
        self.at += timedelta(seconds=self.rng.uniform(0, 16))
        return Stamp(actor_id=actor, command_id=self.new_id(), at=self.at)

    def new_id(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def people_and_projects(self) -> Iterator[Aggregate]:
        yield User.register(self.stamp(self.admin), user_id=self.admin, name="Ada Admin",
                            email="ada@example.com", role=Role.ADMIN, status=UserStatus.ACTIVE)
        for i in range(300):
            user_id = self.new_id()
            user = User.register(self.stamp(user_id), user_id=user_id, name=f"User {i}",
                                 email=f"user{i}@example.com", role=Role.REPORTER,
                                 status=UserStatus.ACTIVE)
            if i < 40:
                user.change_role(self.stamp(self.admin), Role.DEVELOPER)
                self.developers.append(user_id)
            else:
                self.reporters.append(user_id)
            yield user
        for i in range(50):
            project_id = self.new_id()
            self.projects.append(project_id)
            yield Project.start(self.stamp(self.admin), project_id=project_id, name=f"Project {i}",
                                key=f"P{i}", description=None)

    def tickets(self) -> Iterator[Ticket]:
        """The ticket each command touched; some 2,000 tickets are being worked on at once."""
        active: list[list[Any]] = []  # [ticket, changes still to come]
        number = 0
        while True:
            if len(active) < 2000 or self.rng.random() < 0.15:
                number += 1
                ticket = self.open_ticket(number)
                active.append([ticket, self.rng.randint(2, 12)])
            else:
                slot = self.rng.randrange(len(active))
                ticket = active[slot][0]
                self.change(ticket)
                active[slot][1] -= 1
                if active[slot][1] == 0:
                    active[slot] = active[-1]
                    active.pop()
            yield ticket

    def open_ticket(self, number: int) -> Ticket:
        rng = self.rng
        return Ticket.open(
            self.stamp(rng.choice(self.reporters + self.developers)),
            ticket_id=self.new_id(), project_id=rng.choice(self.projects), number=number,
            title=" ".join(rng.choices(WORDS, k=rng.randint(2, 6))),
            description=" ".join(rng.choices(WORDS, k=rng.randint(0, 25))) or None,
            priority=rng.choice(list(Priority)), type=rng.choice(list(TicketType)),
            tags=rng.sample(["ui", "db", "api", "docs", "perf", "infra"], rng.randint(0, 2)),
            assignee_ids=rng.sample(self.developers, rng.randint(0, 2)),
        )

    def change(self, ticket: Ticket) -> None:
        rng = self.rng
        stamp = self.stamp(rng.choice(self.developers))
        kind = rng.random()
        if kind < 0.3:
            # No ticket here blocks another: resolving and closing see no blockers.
            ticket.edit(stamp, TicketEdit(status=rng.choice(sorted(WORKFLOW[ticket.status]))), {})
        elif kind < 0.5:
            ticket.comment(stamp, self.new_id(), " ".join(rng.choices(WORDS, k=rng.randint(3, 15))))
        elif kind < 0.6:
            ticket.assign(stamp, rng.sample(self.developers, rng.randint(0, 3)))
        else:
            ticket.edit(stamp, TicketEdit(title=" ".join(rng.choices(WORDS, k=3)),
                                          priority=rng.choice(list(Priority)),
                                          tags=[rng.choice(["ui", "db"])]))


def seed_events(url: str, total: int) -> tuple[int, float]:
    seeder = Seeder(seed=42)
    started = time.perf_counter()
    samples: list[Any] = []
    written = 0
    with psycopg.connect(url) as conn:
        with conn.cursor().copy(
            "COPY trail_events (originator_id, originator_version, topic, state) "
            "FROM STDIN (FORMAT BINARY)"
        ) as copy:
            copy.set_types(["uuid", "int8", "text", "bytea"])
            sources = [seeder.people_and_projects(), seeder.tickets()]
            for source in sources:
                for aggregate in source:
                    for event in aggregate.collect_events():
                        stored = MAPPER.to_stored_event(event)
                        copy.write_row((stored.originator_id, stored.originator_version,
                                        stored.topic, stored.state))
                        written += 1
                        if written % 997 == 0:
                            samples.append((written, event))
                    if source is sources[1] and written >= total:
                        break
        conn.commit()
        verify_sample(conn, samples)
    settle(url)
    return written, time.perf_counter() - started


def settle(url: str) -> None:
    """Leave the store as a running one would be: vacuumed, analyzed and checkpointed.

    Otherwise the first rebuild measured competes with autovacuum's first pass over the freshly
    loaded table and with the checkpoint of the seed's WAL, and the planner has no statistics.
    """
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE trail_events")
        conn.execute("CHECKPOINT")


def verify_sample(conn: psycopg.Connection[Any], samples: list[tuple[int, Any]]) -> None:
    """Decode stored rows through the real mapper: they must be the events we generated."""
    for position, event in samples:
        row = conn.execute(
            "SELECT originator_id, originator_version, topic, state FROM trail_events "
            "WHERE notification_id = %s", (position,)).fetchone()
        assert row is not None
        decoded = MAPPER.to_domain_event(StoredEvent(row[0], row[1], row[2], bytes(row[3])))
        assert vars(decoded) == vars(event), (position, decoded, event)


# --- 2. raw read rate ---------------------------------------------------------------------------


def read_rates(url: str) -> dict[str, float]:
    """Events/s the log is read at, layer by layer: inside the server, streamed to this process
    without per-row work, as the runner's batch query returns rows, and decoded as well."""
    rates = {}
    with psycopg.connect(url) as conn:
        started = time.perf_counter()
        row = conn.execute("SELECT count(*), sum(length(state)) FROM trail_events").fetchone()
        assert row is not None
        count = row[0]
        rates["server scan"] = count / (time.perf_counter() - started)
        started = time.perf_counter()
        with conn.cursor().copy("COPY (SELECT notification_id, originator_id, originator_version,"
                                " topic, state FROM trail_events ORDER BY notification_id)"
                                " TO STDOUT") as copy:
            for _ in copy:
                pass
        rates["streamed to the client"] = count / (time.perf_counter() - started)
    for label, decode in (("batch query rows", False), ("batch query decoded", True)):
        rates[label] = _batch_read_rate(url, decode)
    return rates


def _batch_read_rate(url: str, decode: bool) -> float:
    with psycopg.connect(url, row_factory=dict_row) as conn, conn.cursor() as cur:
        position, count, started = 0, 0, time.perf_counter()
        while True:
            if decode:
                batch = read_batch(cur, position, (), 5000)
                events, new = len(batch.events), batch.position
            else:
                rows = cur.execute(
                    "SELECT notification_id, originator_id, originator_version, topic, state "
                    "FROM trail_events WHERE notification_id > %s ORDER BY notification_id "
                    "LIMIT 5000", (position,)).fetchall()
                events, new = len(rows), rows[-1]["notification_id"] if rows else position
            if new <= position:
                return count / (time.perf_counter() - started)
            position, count = new, count + events


# --- 4. lag -------------------------------------------------------------------------------------


def listen(url: str, ready: Any, stop: Any, out: Any) -> None:
    """In its own process: timestamp every position NOTIFY, free of the issuer's GIL."""
    seen = []
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(POSITIONS_CHANNEL)))
        ready.set()
        while not stop.is_set():
            for note in conn.notifies(timeout=0.2):
                # "name,name,…:position": the projector publishes its models together.
                names, _, at = note.payload.rpartition(":")
                now = time.monotonic()
                seen.extend((now, name, int(at)) for name in names.split(","))
    out.put(seen)


def start_projector(url: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": url}
    code = "from runtime.cli_projections import projector_command; projector_command()"
    return subprocess.Popen([sys.executable, "-c", code], env=env, stderr=subprocess.DEVNULL,
                            cwd=Path(__file__).resolve().parents[1])


def measure_lag(url: str, env: dict[str, str], rate: float, seconds: float) -> dict[str, Any]:
    app = build_commands(Trail(env))
    admin = app.accounts.actor(Seeder(seed=42).admin)
    with psycopg.connect(url, autocommit=True) as conn:
        projects = [r[0] for r in conn.execute(
            "SELECT id FROM projects ORDER BY seq LIMIT 10").fetchall()]
        # The seeded tickets were numbered by the seeder: new ones follow them.
        conn.execute(
            "INSERT INTO ticket_numbers (project_id, last_number) "
            "SELECT project_id, max(number) FROM tickets GROUP BY project_id "
            "ON CONFLICT (project_id) DO UPDATE SET last_number = EXCLUDED.last_number")
    projector = start_projector(url)
    names = [m.name for m in READ_MODELS]
    assert wait_for_position(url, names, app.store.current_position(), timeout=120)
    ctx = multiprocessing.get_context("spawn")
    ready, stop, out = ctx.Event(), ctx.Event(), ctx.Queue()
    listener = ctx.Process(target=listen, args=(url, ready, stop, out))
    listener.start()
    ready.wait()
    issued = issue_commands(app, admin, projects, rate, seconds)
    wait_for_position(url, names, app.store.current_position(), timeout=60)
    time.sleep(0.3)
    stop.set()
    seen = out.get()
    listener.join()
    projector.terminate()
    projector.wait()
    app.close()
    return lags(issued, seen, names)


def issue_commands(app: Commands, admin: Any, projects: list[uuid.UUID], rate: float,
                   seconds: float) -> list[tuple[float, int]]:
    """Commands at a steady rate: create, edit two fields, comment, move the status."""
    issued: list[tuple[float, int]] = []
    tickets: list[uuid.UUID] = []
    start = time.monotonic()
    for i in range(int(rate * seconds)):
        time.sleep(max(0.0, start + i / rate - time.monotonic()))
        if i % 4 == 0 or not tickets:
            outcome = app.tickets.create(admin, CreateTicket(
                project_id=projects[i % len(projects)], title=f"live {i}"))
            tickets.append(outcome.id)
        elif i % 4 == 1:
            outcome = app.tickets.edit(admin, EditTicket(
                ticket_id=tickets[-1], title=f"edited {i}", priority=Priority.HIGH))
        elif i % 4 == 2:
            outcome = app.tickets.comment(
                admin, CommentOnTicket(ticket_id=tickets[-1], body=f"c {i}")
            )
        else:
            outcome = app.tickets.edit(admin, EditTicket(ticket_id=tickets[-1],
                                                        status=Status.IN_PROGRESS))
        issued.append((time.monotonic(), outcome.position))
    return issued


def lags(issued: list[tuple[float, int]], seen: list[tuple[float, str, int]],
         names: list[str]) -> dict[str, Any]:
    # Each runner publishes increasing positions, so the first one >= p is found by bisection.
    published = {name: ([p for _, n, p in seen if n == name], [t for t, n, _ in seen if n == name])
                 for name in names}
    per_name: dict[str, list[float]] = {name: [] for name in names}
    overall = []
    for returned, position in issued:
        reached = []
        for name, (positions, times) in published.items():
            at = times[bisect.bisect_left(positions, position)]
            per_name[name].append(max(0.0, at - returned))
            reached.append(at)
        overall.append(max(0.0, max(reached) - returned))
    ms = 1000.0
    return {
        "commands": len(issued),
        "p50": statistics.median(overall) * ms,
        "p99": percentile(overall, 99) * ms,
        "max": max(overall) * ms,
        "per_projection_p99": {n: percentile(v, 99) * ms for n, v in per_name.items()},
    }


# --- 5. list queries over 1M tickets ----------------------------------------------------------


def load_ticket_rows(url: str, env: dict[str, str], rows: int) -> float:
    """Generated ticket rows straight into the live version's table; indexes built after."""
    install(TicketsProjection, env)
    schema = schema_name(TicketsProjection.name, 1)
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        for statement in INDEXES:
            conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(statement.split()[2])))
        conn.execute(WORDS_FUNCTION)
        conn.execute(GENERATE_TICKETS, {"rows": rows, "words": WORDS,
                                        "users": [str(uuid.uuid4()) for _ in range(300)],
                                        "projects": [str(uuid.uuid4()) for _ in range(50)]})
        view = open_view(TicketsProjection, env, 1)
        with view.transaction() as cur:
            view.create_indexes(cur)
        view.datastore.close()
        conn.execute("VACUUM ANALYZE tickets")
    return time.perf_counter() - started


# Words are drawn with a skew (a power of a uniform), so a few are common and most are rare.
WORDS_FUNCTION = """
CREATE FUNCTION pg_temp.words(n integer, vocabulary text[]) RETURNS text VOLATILE LANGUAGE sql AS
$$ SELECT string_agg(vocabulary[1 + floor(power(random(), 3) * cardinality(vocabulary))::int],
                     ' ') FROM generate_series(1, n) $$
"""

GENERATE_TICKETS = """
INSERT INTO tickets (id, seq, number, project_id, project_key, title, description, status,
    priority, type, tags, due_date, reporter_id, assignee_ids, version, created_at, updated_at,
    comment_bodies)
SELECT gen_random_uuid(), g, g, (%(projects)s::uuid[])[1 + mod(g, 50)], 'P' || mod(g, 50),
    pg_temp.words(2 + mod(g, 5), %(words)s), pg_temp.words(5 + mod(g, 20), %(words)s),
    (ARRAY['open','in_progress','resolved','closed'])[1 + floor(random() * 4)::int],
    (ARRAY['low','medium','high','urgent'])[1 + floor(random() * 4)::int],
    (ARRAY['bug','feature','task','support'])[1 + floor(random() * 4)::int],
    CASE WHEN random() < 0.5 THEN ARRAY[(ARRAY['ui','db','api','docs','perf','infra'])
        [1 + floor(random() * 6)::int]] ELSE ARRAY[]::text[] END,
    CASE WHEN random() < 0.3 THEN DATE '2026-01-01' + floor(random() * 365)::int END,
    (%(users)s::uuid[])[1 + floor(random() * 300)::int],
    CASE WHEN random() < 0.7 THEN ARRAY[(%(users)s::uuid[])[1 + floor(random() * 40)::int]]
         ELSE ARRAY[]::uuid[] END,
    1 + floor(random() * 10)::int,
    TIMESTAMPTZ '2024-01-01' + g * INTERVAL '30 seconds',
    CASE WHEN random() < 0.8 THEN TIMESTAMPTZ '2024-01-01' + g * INTERVAL '30 seconds'
        + random() * INTERVAL '60 days' END,
    CASE mod(g, 3)
        WHEN 0 THEN '{}'::jsonb
        WHEN 1 THEN jsonb_build_object(gen_random_uuid(), pg_temp.words(8, %(words)s))
        ELSE jsonb_build_object(gen_random_uuid(), pg_temp.words(6, %(words)s),
                                gen_random_uuid(), pg_temp.words(12, %(words)s))
    END
FROM generate_series(1, %(rows)s) AS g
"""


def _ticket_rows(url: str) -> int | None:
    try:
        with psycopg.connect(url) as conn:
            row = conn.execute("SELECT count(*) FROM tickets").fetchone()
    except psycopg.Error:
        return None
    return row[0] if row else None


def query_shapes(conn: psycopg.Connection[Any]) -> dict[str, Callable[[random.Random], Any]]:
    """Each shape draws its parameters afresh per run, from values present in the data."""
    users = [r["reporter_id"] for r in conn.execute(
        "SELECT DISTINCT reporter_id FROM tickets LIMIT 300").fetchall()]
    assignees = [r["a"] for r in conn.execute(
        "SELECT DISTINCT assignee_ids[1] AS a FROM tickets WHERE assignee_ids <> '{}' LIMIT 40")]
    projects = [r["project_id"] for r in conn.execute(
        "SELECT DISTINCT project_id FROM tickets").fetchall()]
    admin = Viewer(id=uuid.uuid4(), role=Role.ADMIN)

    def run(filters: TicketFilters, viewer: Viewer = admin, pages: int = 1) -> Any:
        page = list_tickets(conn, filters, viewer, 25)
        for _ in range(pages - 1):
            page = list_tickets(conn, filters, viewer, 25, page.next_cursor)
        return page

    return {
        "newest first (no filter)": lambda r: run(TicketFilters()),
        "project, newest first": lambda r: run(TicketFilters(project_id=r.choice(projects))),
        "project + status, by priority": lambda r: run(TicketFilters(
            project_id=r.choice(projects), status=r.choice(list(Status)), sort="priority")),
        "status + priority, recently updated": lambda r: run(TicketFilters(
            status=r.choice(list(Status)), priority=r.choice(list(Priority)),
            sort="-updated_at")),
        "assignee, newest first": lambda r: run(TicketFilters(assignee_id=r.choice(assignees))),
        "tag, due date": lambda r: run(TicketFilters(tag=r.choice(["ui", "db", "api"]),
                                                     sort="due_date")),
        "due before, oldest first": lambda r: run(TicketFilters(
            due_before=date(2026, 1, 1) + timedelta(days=r.randint(1, 365)), sort="created_at")),
        "reporter's own tickets (reporter viewer)": lambda r: run(
            TicketFilters(), Viewer(id=r.choice(users), role=Role.REPORTER)),
        "full text, common word": lambda r: run(TicketFilters(q=r.choice(WORDS[:5]))),
        "full text, rare word": lambda r: run(TicketFilters(q=r.choice(WORDS[300:]))),
        "full text two words + project": lambda r: run(TicketFilters(
            q=f"{r.choice(WORDS[:40])} {r.choice(WORDS[:40])}", project_id=r.choice(projects))),
        "page 5 via cursors, newest first": lambda r: run(TicketFilters(), pages=5),
    }


def measure_queries(url: str, runs: int) -> dict[str, tuple[float, float]]:
    rng = random.Random(3)
    results = {}
    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        shapes = query_shapes(conn)
        for name, shape in shapes.items():
            for _ in range(50):
                # Warm the caches as a serving system's are, with other draws than the measured.
                shape(rng)
            timings = []
            for _ in range(runs):
                started = time.perf_counter()
                shape(rng)
                timings.append((time.perf_counter() - started) * 1000)
            pages = 5 if name.startswith("page 5") else 1
            results[name] = (statistics.median(timings) / pages, percentile(timings, 99) / pages)
    return results


# --- report -------------------------------------------------------------------------------------


def main() -> None:
    assert psycopg.pq.__impl__ != "python", "psycopg's C implementation did not load"
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default=SERVER, help="PostgreSQL server URL, no database")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--ticket-rows", type=int, default=1_000_000)
    parser.add_argument("--lag-seconds", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=50.0, help="commands per second")
    parser.add_argument("--query-runs", type=int, default=200)
    parser.add_argument("--reuse", action="store_true",
                        help="keep the query database when it already holds --ticket-rows rows")
    parser.add_argument("--phases", default="events,queries",
                        help="events (seed, read, rebuild, lag), queries, or both")
    args = parser.parse_args()
    tune_gc()  # as `trail projector` and `trail projections rebuild` do
    phases = set(args.phases.split(","))
    if "events" in phases:
        event_phases(args)
    if "queries" in phases:
        query_phase(args)


def event_phases(args: argparse.Namespace) -> None:
    url = fresh_database(args.server, EVENTS_DB)
    env = postgres_env(url)
    written, seconds = seed_events(url, args.events)
    print(f"seeded {written:,} events in {seconds:.1f} s ({written / seconds:,.0f}/s)")
    for label, rate in read_rates(url).items():
        print(f"read the log, {label:<22} {rate:>10,.0f} events/s")
    total_started = time.perf_counter()
    for model in READ_MODELS:
        done = rebuild(model, env, show_progress=sys.stderr.isatty())
        print(f"rebuild {done.name:<9} {done.events:>9,} events applied, {written:,} read, "
              f"{done.seconds:6.1f} s: {written / done.seconds:>8,.0f} log events/s, "
              f"{done.rate:>8,.0f} applied/s")
    total = time.perf_counter() - total_started
    print(f"rebuild all: {total:.1f} s for {len(READ_MODELS)} projections")
    lag = measure_lag(url, env, args.rate, args.lag_seconds)
    print(f"lag over {lag['commands']} commands at {args.rate:.0f}/s: p50 {lag['p50']:.1f} ms, "
          f"p99 {lag['p99']:.1f} ms, max {lag['max']:.1f} ms; per projection p99 "
          + ", ".join(f"{n} {v:.1f}" for n, v in lag["per_projection_p99"].items()))


def query_phase(args: argparse.Namespace) -> None:
    url = f"{args.server}/{QUERIES_DB}"
    if not (args.reuse and _ticket_rows(url) == args.ticket_rows):
        url = fresh_database(args.server, QUERIES_DB)
        load = load_ticket_rows(url, postgres_env(url), args.ticket_rows)
        print(f"generated {args.ticket_rows:,} ticket rows and their indexes in {load:.0f} s")
    for name, (p50, p99) in measure_queries(url, args.query_runs).items():
        print(f"  {name:<42} p50 {p50:6.2f} ms   p99 {p99:6.2f} ms")


if __name__ == "__main__":
    main()
